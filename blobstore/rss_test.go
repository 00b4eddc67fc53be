package blobstore_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/agentdesk/agentdesk/blobstore"
	"github.com/agentdesk/agentdesk/blobstore/blobtest"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"
)

// The memory bound: ten 25 MB uploads at once grow the server's RSS by less than
// 64 MB. These tests measure the adapters' share, the growth of this process's peak RSS
// (VmHWM, reset through /proc/self/clear_refs) over ten concurrent 25 MB Puts. The S3 fake
// runs in a child process, since gofakes3 keeps objects in memory.

const (
	uploads    = 10
	uploadSize = 25_000_000
	rssBound   = 64 << 20
)

func TestRSSFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 250 MB memory test")
	}
	store, err := blobstore.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	growth := measure(t, store.Put)
	t.Logf("folder: ten concurrent 25 MB Puts grew peak RSS by %.1f MiB", mib(growth))
	if growth > rssBound {
		t.Fatalf("peak RSS grew by %.1f MiB, over %d MiB", mib(growth), rssBound>>20)
	}
}

func TestRSSS3(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 250 MB memory test")
	}
	endpoint := childFakeS3(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test-key")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")
	u := "s3://attachments?region=us-east-1&use_path_style=true&endpoint=" + url.QueryEscape(endpoint)

	store, err := blobstore.Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	growth := measure(t, store.Put)
	t.Logf("S3 adapter (%d shared 5 MiB buffers): ten concurrent 25 MB Puts grew peak RSS by %.1f MiB",
		blobstore.DefaultUploadBuffers, mib(growth))
	if growth > rssBound {
		t.Fatalf("peak RSS grew by %.1f MiB, over %d MiB", mib(growth), rssBound>>20)
	}

	// For comparison, not a requirement: s3blob's own writer (the AWS transfer manager) with
	// 5 MiB parts and a concurrency of 1, which the adapter does not use for Put.
	if os.Getenv("AGENTDESK_RSS_S3BLOB") == "1" {
		pu, _ := url.Parse(u)
		b, err := (&s3blob.URLOpener{}).OpenBucketURL(t.Context(), pu)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		growth := measure(t, func(ctx context.Context, key string, r io.Reader) (int64, error) {
			err := b.Upload(ctx, key, r, &blob.WriterOptions{ContentType: "application/octet-stream", BufferSize: 5 << 20, MaxConcurrency: 1})
			return 0, err
		})
		t.Logf("s3blob writer (5 MiB parts, concurrency 1): ten concurrent 25 MB Puts grew peak RSS by %.1f MiB", mib(growth))
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// measure runs ten concurrent 25 MB Puts and returns how much the peak RSS grew.
func measure(t *testing.T, put func(context.Context, string, io.Reader) (int64, error)) int64 {
	t.Helper()
	// Warm up: one small Put loads code and connections, so only buffers are measured.
	if _, err := put(t.Context(), "warm-up", blobtest.Stream{Seed: 1, Size: 1000}.Reader()); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	before := status(t, "VmRSS")
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, uploads)
	for i := range uploads {
		wg.Go(func() {
			_, err := put(t.Context(), fmt.Sprintf("big/%d", i), blobtest.Stream{Seed: uint64(i), Size: uploadSize}.Reader())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	peak := status(t, "VmHWM")
	return peak - before
}

// status reads a size in bytes from /proc/self/status.
func status(t *testing.T, field string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// childFakeS3 runs this test binary again as an S3 fake (TestFakeS3Child) and returns its URL.
func childFakeS3(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakeS3Child$")
	cmd.Env = append(os.Environ(), "BLOBSTORE_FAKES3_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
			go io.Copy(io.Discard, stdout)
			return u
		}
	}
	t.Fatal("the S3 fake did not start")
	return ""
}

// TestFakeS3Child is the S3 fake of childFakeS3; it does nothing in a normal run. It serves
// until its standard input closes.
func TestFakeS3Child(t *testing.T) {
	if os.Getenv("BLOBSTORE_FAKES3_CHILD") != "1" {
		return
	}
	backend := s3mem.New()
	if err := backend.CreateBucket("attachments"); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: gofakes3.New(backend).Server()}
	l, err := listenLoopback()
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	fmt.Printf("LISTENING http://%s\n", l.Addr())
	io.Copy(io.Discard, os.Stdin)
	srv.Close()
}

func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
