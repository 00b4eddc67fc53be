package blobstore_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/blobstore"
	"github.com/agentdesk/agentdesk/blobstore/blobtest"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

var _ workspace.Blobs = (*blobstore.Folder)(nil)
var _ workspace.Blobs = (*blobstore.S3)(nil)

func TestFolder(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blobtest.Backend {
		dir := t.TempDir()
		store, err := blobstore.Open(t.Context(), "file://"+dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		return blobtest.Backend{Blobs: store, Residue: func(t *testing.T) []string { return folderFiles(t, dir) }}
	})
}

// folderFiles lists every file under dir, temporary ones included.
func folderFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// fakeS3 starts an in-process S3 fake on loopback with one empty bucket and returns the
// store's URL and a client of its own for looking beneath the port.
func fakeS3(t *testing.T, params string) (string, *s3.Client) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("attachments"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test-key")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	// gofakes3 merges a new version's metadata with the old one's (MergeMetadata) and echoes
	// the request headers it stored, so after an overwrite it serves the old x-amz-checksum-crc32
	// with the new bytes. Real stores do not; the SDK would reject those reads, so checksums of
	// responses are validated here only when requested.
	t.Setenv("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test-key", "test-secret", ""),
	})
	u := "s3://attachments?region=us-east-1&use_path_style=true&endpoint=" + url.QueryEscape(srv.URL)
	if params != "" {
		u += "&" + params
	}
	return u, client
}

func TestS3(t *testing.T) {
	testS3(t, "")
}

// TestS3NoChecksums runs the suite with request checksums only where S3 requires them, as
// some S3-compatible stores want (AWS_REQUEST_CHECKSUM_CALCULATION=when_required).
func TestS3NoChecksums(t *testing.T) {
	testS3(t, "when_required")
}

func testS3(t *testing.T, checksums string) {
	blobtest.Run(t, func(t *testing.T) blobtest.Backend {
		if checksums != "" {
			t.Setenv("AWS_REQUEST_CHECKSUM_CALCULATION", checksums)
		}
		u, client := fakeS3(t, "")
		store, err := blobstore.Open(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		return blobtest.Backend{Blobs: store, Residue: func(t *testing.T) []string { return s3Residue(t, client) }}
	})
}

// s3Residue lists the bucket's objects and its unfinished multipart uploads.
func s3Residue(t *testing.T, client *s3.Client) []string {
	t.Helper()
	ctx := t.Context()
	var names []string
	objs, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("attachments")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs.Contents {
		names = append(names, aws.ToString(o.Key))
	}
	ups, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("attachments")})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchUpload" {
		// gofakes3 answers so for a bucket that never had a multipart upload.
		return names
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups.Uploads {
		names = append(names, "unfinished upload of "+aws.ToString(u.Key))
	}
	return names
}

// TestS3SharedBuffers checks that a Put beyond the store's buffer count waits for one, and
// gives up when its ctx ends.
func TestS3SharedBuffers(t *testing.T) {
	u, client := fakeS3(t, "upload_buffers=1")
	store, err := blobstore.Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	// The first Put takes the only buffer and reads from a reader that blocks.
	r := &blockingReader{started: make(chan struct{}), release: make(chan struct{}), s: blobtest.Stream{Seed: 1, Size: 100}}
	first := make(chan error, 1)
	go func() {
		_, err := store.Put(t.Context(), "first", r)
		first <- err
	}()
	<-r.started
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	_, err = store.Put(ctx, "second", blobtest.Stream{Seed: 2, Size: 10}.Reader())
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Put while the only buffer is taken = %v, want its ctx's deadline", err)
	}
	close(r.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(t.Context(), "third", blobtest.Stream{Seed: 3, Size: 10}.Reader()); err != nil {
		t.Fatal(err)
	}
	if res := s3Residue(t, client); !slices.Equal(res, []string{"first", "third"}) {
		t.Fatalf("bucket holds %q, want first and third", res)
	}
}

// blockingReader says when it is first read, then waits for release before yielding s.
type blockingReader struct {
	started, release chan struct{}
	s                blobtest.Stream
	r                io.Reader
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if b.r == nil {
		close(b.started)
		<-b.release
		b.r = b.s.Reader()
	}
	return b.r.Read(p)
}

func TestOpenURLs(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{dir + "/plain", "file://" + dir + "/url", "file://localhost" + dir + "/local"} {
		s, err := blobstore.Open(t.Context(), u)
		if err != nil {
			t.Fatalf("Open(%q): %v", u, err)
		}
		if _, err := s.Put(t.Context(), "k", blobtest.Stream{Seed: 1, Size: 5}.Reader()); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	for _, u := range []string{"", "ftp://x/y", "file://host/x", "file:///x?y=1", "s3://attachments?upload_buffers=0"} {
		if s, err := blobstore.Open(t.Context(), u); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", u)
		}
	}
	// A bucket that does not exist is refused at Open, not at the first upload.
	u, _ := fakeS3(t, "")
	u2 := "s3://nosuchbucket" + u[len("s3://attachments"):]
	if s, err := blobstore.Open(t.Context(), u2); err == nil {
		s.Close()
		t.Errorf("Open(%q) succeeded, want an error", u2)
	}
}

// TestFolderRemovesStrandedTempFiles: a Put cut off by a killed process leaves its temporary
// file; the next OpenFolder removes it and keeps every stored key.
func TestFolderRemovesStrandedTempFiles(t *testing.T) {
	dir := t.TempDir()
	f, err := blobstore.OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Put(t.Context(), "attachments/ab/kept", strings.NewReader("kept")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	stranded := filepath.Join(dir, "attachments", "ab", "cut.0123abcd.tmp")
	if err := os.WriteFile(stranded, []byte("half a fi"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err = blobstore.OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := os.Stat(stranded); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the stranded temporary file is still there: %v", err)
	}
	rc, err := f.Open(t.Context(), "attachments/ab/kept")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "kept" {
		t.Fatalf("kept = %q", b)
	}
}
