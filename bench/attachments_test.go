package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// uploadMB is the size of each measured upload.
const uploadMB = 10

// BenchmarkUploadThroughput measures attachment uploads (issue 12): a 10 MB file posted
// over loopback HTTP with the GraphQL multipart request spec, from the request to the
// stored, sniffed, hashed draft, without a scanner. The floor is a raw write of the same
// bytes to a file on the same disk, fsynced as the blob store fsyncs, measured in the same
// run. Ratios are floor-time over upload-time (MB/s against MB/s). Run with -benchtime=1x.
func BenchmarkUploadThroughput(b *testing.B) {
	ctx := b.Context()
	m := startNode(b)
	defer m.Close()
	c := newClient(m)
	var login struct {
		Login struct{ Token string }
	}
	if err := c.do(ctx, "", `mutation { login(input:{username:"alice", password:"demo"}) { token userErrors { code } } }`, nil, &login); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, uploadMB<<20)
	copy(data, "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") // sniffed as PNG
	if _, err := rand.Read(data[16:]); err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(m.Config.DataDir, "floor")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		b.Fatal(err)
	}
	i := 0
	floor, err := Measure(2, 10, func() error {
		i++
		f, err := os.Create(filepath.Join(dir, fmt.Sprint(i)))
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
			return err
		}
		return f.Sync()
	})
	if err != nil {
		b.Fatal(err)
	}
	upload, err := Measure(2, 10, func() error { return uploadOnce(ctx, m.URL(), login.Login.Token, data) })
	if err != nil {
		b.Fatal(err)
	}
	w := os.Stdout
	fmt.Fprintf(w, "\nUpload throughput (%d MB files, no scanner)\n", uploadMB)
	Row(w, "floor: raw write + fsync of the bytes", floor)
	Row(w, "uploadAttachment over loopback HTTP", upload)
	mbps := func(d time.Duration) float64 { return float64(uploadMB) / d.Seconds() }
	fmt.Fprintf(w, "  %-44s p50 %8.0f MB/s (floor %.0f MB/s): %.2f of the floor\n", "throughput",
		mbps(upload.Percentile(50)), mbps(floor.Percentile(50)), mbps(upload.Percentile(50))/mbps(floor.Percentile(50)))
}

// uploadOnce posts data as one upload and checks that a draft came back.
func uploadOnce(ctx context.Context, base, token string, data []byte) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	ops, _ := json.Marshal(map[string]any{"query": `mutation($f: Upload!) { uploadAttachment(input:{file:$f}) { attachment { id size } userErrors { code message } } }`,
		"variables": map[string]any{"f": nil}})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0": ["variables.f"]}`)
	part, _ := mw.CreateFormFile("0", "bench.png")
	_, _ = part.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/query", bytes.NewReader(buf.Bytes()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("GraphQL-Require-Preflight", "1")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var out struct {
		Data struct {
			UploadAttachment struct {
				Attachment *struct{ Size int }
				UserErrors []struct{ Code, Message string }
			}
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return err
	}
	if a := out.Data.UploadAttachment.Attachment; a == nil || a.Size != len(data) {
		return fmt.Errorf("upload: %+v", out.Data.UploadAttachment)
	}
	return nil
}
