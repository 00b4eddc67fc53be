// Package blobtest is the contract every workspace.Blobs adapter passes. Adapters call Run
// from their own tests with a Factory that makes an empty store for one subtest.
//
// Streams are generated from a seed and compared by SHA-256, so no test holds a large file
// in memory.
package blobtest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/agentdesk/agentdesk/workspace"
)

// Backend is one empty store and a view of what it holds beneath the port.
type Backend struct {
	Blobs workspace.Blobs
	// Residue lists everything the backing store holds, by name: every file, object or
	// unfinished upload, including what the port cannot reach (temporary files, stored parts
	// of a multipart upload). The suite checks that failed Puts leave nothing there.
	Residue func(t *testing.T) []string
}

// Factory makes an empty store for one subtest; it releases it when t ends.
type Factory func(t *testing.T) Backend

// BigSize is the size of the large stream: several S3 parts, and far more than any buffer.
const BigSize = 12<<20 + 12345

// Run runs the whole contract against stores made by factory.
func Run(t *testing.T, factory Factory) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, factory(t)) })
	t.Run("Overwrite", func(t *testing.T) { testOverwrite(t, factory(t)) })
	t.Run("Missing", func(t *testing.T) { testMissing(t, factory(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, factory(t)) })
	t.Run("ReaderFails", func(t *testing.T) { testReaderFails(t, factory(t)) })
	t.Run("ContextCancelled", func(t *testing.T) { testContextCancelled(t, factory(t)) })
	t.Run("FailedOverwriteKeepsOld", func(t *testing.T) { testFailedOverwrite(t, factory(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, factory(t)) })
	t.Run("Slashes", func(t *testing.T) { testSlashes(t, factory(t)) })
	t.Run("BadKeys", func(t *testing.T) { testBadKeys(t, factory(t)) })
}

// Stream is a reproducible stream of Size pseudo-random bytes.
type Stream struct {
	Seed uint64
	Size int64
}

// Reader returns the stream's bytes.
func (s Stream) Reader() io.Reader {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], s.Seed)
	return io.LimitReader(rand.NewChaCha8(seed), s.Size)
}

// Sum is the SHA-256 of the stream.
func (s Stream) Sum() [32]byte {
	h := sha256.New()
	if _, err := io.Copy(h, s.Reader()); err != nil {
		panic(err)
	}
	return [32]byte(h.Sum(nil))
}

func put(t *testing.T, b workspace.Blobs, key string, s Stream) {
	t.Helper()
	n, err := b.Put(t.Context(), key, s.Reader())
	if err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, s.Size, err)
	}
	if n != s.Size {
		t.Fatalf("Put(%q) = %d bytes, want %d", key, n, s.Size)
	}
}

// check reads key and compares it with s by size and SHA-256.
func check(t *testing.T, b workspace.Blobs, key string, s Stream) {
	t.Helper()
	if err := readMatches(t.Context(), b, key, s); err != nil {
		t.Fatal(err)
	}
}

func readMatches(ctx context.Context, b workspace.Blobs, key string, s Stream) error {
	r, err := b.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("Open(%q): %w", key, err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return fmt.Errorf("reading %q: %w", key, err)
	}
	if n != s.Size || [32]byte(h.Sum(nil)) != s.Sum() {
		return fmt.Errorf("%q: read %d bytes with a different digest than the %d written", key, n, s.Size)
	}
	if err := r.Close(); err != nil {
		return fmt.Errorf("closing %q: %w", key, err)
	}
	return nil
}

func wantNotFound(t *testing.T, b workspace.Blobs, key string) {
	t.Helper()
	r, err := b.Open(t.Context(), key)
	if err == nil {
		r.Close()
		t.Fatalf("Open(%q) succeeded, want NOT_FOUND", key)
	}
	if code := workspace.ErrorCode(err); code != workspace.ENOTFOUND {
		t.Fatalf("Open(%q) = %v (code %s), want NOT_FOUND", key, err, code)
	}
}

func wantResidue(t *testing.T, be Backend, want ...string) {
	t.Helper()
	got := be.Residue(t)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the backing store holds %q, want exactly %q", got, want)
	}
}

func testRoundTrip(t *testing.T, be Backend) {
	for _, s := range []Stream{{1, 0}, {2, 1}, {3, 1000}, {4, BigSize}} {
		key := fmt.Sprintf("rt-%d", s.Size)
		put(t, be.Blobs, key, s)
		check(t, be.Blobs, key, s)
	}
	// A second reader of the same key, opened while the first is open, reads it whole too.
	s := Stream{4, BigSize}
	key := fmt.Sprintf("rt-%d", s.Size)
	r, err := be.Blobs.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	check(t, be.Blobs, key, s)
	wantResidue(t, be, "rt-0", "rt-1", "rt-1000", key)
}

func testOverwrite(t *testing.T, be Backend) {
	put(t, be.Blobs, "k", Stream{10, 3 << 20})
	put(t, be.Blobs, "k", Stream{11, 7 << 20})
	check(t, be.Blobs, "k", Stream{11, 7 << 20})
	put(t, be.Blobs, "k", Stream{12, 10})
	check(t, be.Blobs, "k", Stream{12, 10})
	wantResidue(t, be, "k")
}

func testMissing(t *testing.T, be Backend) {
	wantNotFound(t, be.Blobs, "never-written")
	wantNotFound(t, be.Blobs, "no/such/dir/file")
	if err := be.Blobs.Delete(t.Context(), "never-written"); err != nil {
		t.Fatalf("Delete of a missing key = %v, want nil", err)
	}
	if err := be.Blobs.Delete(t.Context(), "no/such/dir/file"); err != nil {
		t.Fatalf("Delete of a missing key = %v, want nil", err)
	}
	wantResidue(t, be)
}

func testDelete(t *testing.T, be Backend) {
	put(t, be.Blobs, "gone", Stream{20, 2000})
	put(t, be.Blobs, "kept", Stream{21, 2000})
	if err := be.Blobs.Delete(t.Context(), "gone"); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, be.Blobs, "gone")
	check(t, be.Blobs, "kept", Stream{21, 2000})
	if err := be.Blobs.Delete(t.Context(), "gone"); err != nil {
		t.Fatalf("second Delete = %v, want nil", err)
	}
	wantResidue(t, be, "kept")
}

// failingReader yields n bytes of a stream, then fails with err (after calling before, if set).
type failingReader struct {
	r      io.Reader
	n      int64
	err    error
	before func()
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		if f.before != nil {
			f.before()
		}
		return 0, f.err
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

var errBroken = errors.New("upload cut off")

func testReaderFails(t *testing.T, be Backend) {
	// At several points: inside what would be the first buffer, right at a 5 MiB part
	// boundary and past it, so both single and multipart uploads are cut off.
	for _, at := range []int64{0, 1000, 5 << 20, 7 << 20} {
		key := fmt.Sprintf("broken-%d", at)
		r := &failingReader{r: Stream{30, 1 << 30}.Reader(), n: at, err: errBroken}
		n, err := be.Blobs.Put(t.Context(), key, r)
		if !errors.Is(err, errBroken) {
			t.Fatalf("Put of a stream failing after %d bytes = %d, %v; want the reader's error", at, n, err)
		}
		wantNotFound(t, be.Blobs, key)
	}
	wantResidue(t, be)
}

// cancellingReader cancels ctx after n bytes and goes on yielding bytes, like a client whose
// request was cancelled while its body was still arriving.
type cancellingReader struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func testContextCancelled(t *testing.T, be Backend) {
	for _, at := range []int64{1000, 6 << 20} {
		key := fmt.Sprintf("cancelled-%d", at)
		ctx, cancel := context.WithCancel(t.Context())
		r := &cancellingReader{r: Stream{40, 64 << 20}.Reader(), n: at, cancel: cancel}
		n, err := be.Blobs.Put(ctx, key, r)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put cancelled after %d bytes = %d, %v; want context.Canceled", at, n, err)
		}
		wantNotFound(t, be.Blobs, key)
	}
	// A Put whose ctx has already ended stores nothing.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := be.Blobs.Put(ctx, "dead", Stream{41, 10}.Reader()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with an ended ctx = %v, want context.Canceled", err)
	}
	wantNotFound(t, be.Blobs, "dead")
	wantResidue(t, be)
}

// A failed Put over an existing key leaves the old bytes whole: readers see the old file or
// the new one, never a part.
func testFailedOverwrite(t *testing.T, be Backend) {
	old := Stream{50, 6 << 20}
	put(t, be.Blobs, "k", old)
	r := &failingReader{r: Stream{51, 1 << 30}.Reader(), n: 6 << 20, err: errBroken}
	if _, err := be.Blobs.Put(t.Context(), "k", r); !errors.Is(err, errBroken) {
		t.Fatalf("Put = %v, want the reader's error", err)
	}
	check(t, be.Blobs, "k", old)
	wantResidue(t, be, "k")
}

func testConcurrent(t *testing.T, be Backend) {
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	var keys []string
	for i := range n {
		key := fmt.Sprintf("c/%d", i)
		keys = append(keys, key)
		s := Stream{uint64(100 + i), int64(i) << 19} // 0 to 3.5 MiB
		if i == n-1 {
			s.Size = 6 << 20 // and one multipart upload
		}
		wg.Go(func() {
			if _, err := be.Blobs.Put(t.Context(), key, s.Reader()); err != nil {
				errs <- err
				return
			}
			errs <- readMatches(t.Context(), be.Blobs, key, s)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	wantResidue(t, be, keys...)
}

func testSlashes(t *testing.T, be Backend) {
	keys := map[string]Stream{
		"a/b/c.bin":                 {60, 100},
		"a/b/d.bin":                 {61, 200},
		"a/e":                       {62, 300},
		"attachments/2026/12/x-y_z": {63, 400},
	}
	for key, s := range keys {
		put(t, be.Blobs, key, s)
	}
	for key, s := range keys {
		check(t, be.Blobs, key, s)
	}
	wantNotFound(t, be.Blobs, "a/b")
	wantNotFound(t, be.Blobs, "a")
	if err := be.Blobs.Delete(t.Context(), "a/b/c.bin"); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, be.Blobs, "a/b/c.bin")
	check(t, be.Blobs, "a/b/d.bin", keys["a/b/d.bin"])
	wantResidue(t, be, "a/b/d.bin", "a/e", "attachments/2026/12/x-y_z")
}

// BadKeys are keys every adapter refuses as INVALID.
var BadKeys = []string{
	"", "/abs", "/etc/passwd", "..", "../x", "a/../b", "a/..", ".", "./a", "a/./b", "a//b",
	"a/", "a\x00b", "a\nb", `a\b`, "a b", "é", "k.tmp", "a/b.tmp", "a__0x2f__b",
	string(make([]byte, 1025)),
}

func testBadKeys(t *testing.T, be Backend) {
	for _, key := range BadKeys {
		if _, err := be.Blobs.Put(t.Context(), key, Stream{70, 10}.Reader()); workspace.ErrorCode(err) != workspace.EINVALID {
			t.Errorf("Put(%q) = %v, want INVALID", key, err)
		}
		if r, err := be.Blobs.Open(t.Context(), key); workspace.ErrorCode(err) != workspace.EINVALID {
			if err == nil {
				r.Close()
			}
			t.Errorf("Open(%q) = %v, want INVALID", key, err)
		}
		if err := be.Blobs.Delete(t.Context(), key); workspace.ErrorCode(err) != workspace.EINVALID {
			t.Errorf("Delete(%q) = %v, want INVALID", key, err)
		}
	}
	wantResidue(t, be)
}
