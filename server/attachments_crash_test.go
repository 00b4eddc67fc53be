package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// uploadAt posts a file of size bytes to base's /query as the multipart request spec says,
// with its Content-Length, and returns the payload.
func uploadAt(ctx context.Context, t *testing.T, base, token, name string, file io.Reader, size int) (map[string]any, error) {
	ct, body, n := multipartUpload(t, name, file, size)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/query", body)
	req.ContentLength = n
	req.Header.Set("Content-Type", ct)
	req.Header.Set("GraphQL-Require-Preflight", "1")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out struct {
		Data struct {
			Upload map[string]any `json:"uploadAttachment"`
		} `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, err
	}
	return out.Data.Upload, nil
}

// finalBlobs lists the files of a blob folder that a key could name (not temporary ones).
func finalBlobs(t *testing.T, dir string) []string {
	var out []string
	for _, f := range blobFiles(t, dir) {
		if !strings.HasSuffix(f, ".tmp") {
			out = append(out, f)
		}
	}
	return out
}

// TestUploadSurvivesKill9: the binary is killed with SIGKILL in the middle of an upload's body
// and again just after a body was sent whole; after each restart no part of a file exists
// under a key (mid-body: nothing; after the body: nothing, or the whole file if the upload
// finished first), so no half file can ever be served; temporary files are gone, and uploads
// work again.
func TestUploadSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildAgentdesk(t)
	data := t.TempDir()
	blobs := filepath.Join(data, "blobs")
	for _, when := range []string{"mid-body", "after the body"} {
		node := startAgentdesk(t, bin, data)
		alice := loginAt(t, node.url, "alice")
		before := finalBlobs(t, blobs)
		pr, pw := io.Pipe()
		sent := make(chan struct{})
		go func() {
			_, _ = pw.Write(pngBytes(0))
			chunk := bytes.Repeat([]byte{7}, 1<<20)
			for i := range 20 {
				if when == "mid-body" && i == 8 {
					close(sent)
					time.Sleep(time.Hour) // never finishes: the process dies first
				}
				if _, err := pw.Write(chunk); err != nil {
					return
				}
			}
			close(sent)
			pw.Close()
		}()
		go func() {
			_, _ = uploadAt(context.Background(), t, node.url, alice, "big.png", pr, len(pngBytes(0))+20<<20)
		}()
		<-sent
		time.Sleep(50 * time.Millisecond)
		node.kill(t)
		pw.CloseWithError(io.ErrClosedPipe)

		again := startAgentdesk(t, bin, data)
		// Killed mid-body, the upload left nothing under a key. Killed after the body, it may
		// have finished first: then its blob is whole. A prefix under a key is never there.
		for _, f := range finalBlobs(t, blobs) {
			if slices.Contains(before, f) {
				continue
			}
			info, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if when == "mid-body" || info.Size() != int64(len(pngBytes(0))+20<<20) {
				t.Fatalf("%s: a blob of %d bytes is under a key after the kill: %s", when, info.Size(), f)
			}
		}
		if tmp := len(blobFiles(t, blobs)) - len(finalBlobs(t, blobs)); tmp != 0 {
			t.Fatalf("%s: %d temporary files left after the restart", when, tmp)
		}
		p, err := uploadAt(t.Context(), t, again.url, loginAt(t, again.url, "alice"), "after.png", bytes.NewReader(pngBytes(1000)), len(pngBytes(1000)))
		if err != nil || dig(p, "attachment.id") == nil {
			t.Fatalf("%s: an upload after the restart: %v %v", when, p, err)
		}
		again.kill(t)
	}
}

// rssKiB is a process's resident set size in KiB, from /proc.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestTenUploadsOf25MB: ten 25 MB uploads at once grow the server's resident memory by less
// than 64 MB: the bytes are streamed to disk, never held whole.
func TestTenUploadsOf25MB(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildAgentdesk(t)
	node := startAgentdesk(t, bin, t.TempDir())
	alice := loginAt(t, node.url, "alice")
	// Warm up: one small upload, so the baseline includes what any upload loads once.
	if p, err := uploadAt(t.Context(), t, node.url, alice, "warm.png", bytes.NewReader(pngBytes(1000)), len(pngBytes(1000))); err != nil || dig(p, "attachment.id") == nil {
		t.Fatalf("warm-up: %v %v", p, err)
	}
	base := rssKiB(t, node.cmd.Process.Pid)
	var peak int // the sampler's alone until it has returned
	stop := make(chan struct{})
	sampled := make(chan struct{}) // the sampler has returned: peak is final
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			r := rssKiB(t, node.cmd.Process.Pid)
			peak = max(peak, r)
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Random bytes after a PNG signature: incompressible, no two alike.
			body := io.MultiReader(bytes.NewReader(pngBytes(0)), io.LimitReader(rand.Reader, 25<<20-int64(len(pngBytes(0)))))
			p, err := uploadAt(t.Context(), t, node.url, alice, fmt.Sprintf("big-%d.png", i), body, 25<<20)
			if err == nil && dig(p, "attachment.size") != float64(25<<20) {
				err = fmt.Errorf("upload %d: %v", i, p)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	grew := peak - base
	t.Logf("RSS %d KiB before, peak %d KiB during ten 25 MB uploads: grew %.1f MB", base, peak, float64(grew)/1024)
	if grew >= 64<<10 {
		t.Fatalf("resident memory grew by %.1f MB (limit 64 MB)", float64(grew)/1024)
	}
}
