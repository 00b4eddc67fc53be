package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
)

// Folder is the data-folder adapter: each key is a file under the folder ('/' makes
// subfolders), written through gocloud.dev's fileblob.
//
// fileblob writes a Put to a temporary file beside its target ("<key>.<hex>.tmp", so the
// rename never crosses file systems) and renames it over the target on Close; it removes the
// temporary file, without renaming, when the writer's ctx has ended by then. Folder adds what
// fileblob leaves to its caller: it cancels that ctx when the reader fails (fileblob would
// otherwise publish the part read so far), and it fsyncs the file before the rename, so
// after a crash the key holds the old bytes or the new ones, never a prefix. A process killed
// mid-Put can strand a temporary file; CheckKey refuses the .tmp suffix, so no key ever
// reaches one, and OpenFolder removes those a killed process left (one process owns a data
// folder). No sidecar metadata files are written: metadata lives in the database.
type Folder struct {
	dir    string
	bucket *blob.Bucket
}

// OpenFolder opens (and creates, if missing) the data folder dir.
func OpenFolder(dir string) (*Folder, error) {
	dir, err := absPath(dir)
	if err != nil {
		return nil, err
	}
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{
		CreateDir:   true,
		DirFileMode: 0o750,
		NoTempDir:   true,
		Metadata:    fileblob.MetadataDontWrite,
	})
	if err != nil {
		return nil, fmt.Errorf("blobstore: open folder %s: %w", dir, err)
	}
	if err := removeStranded(dir); err != nil {
		return nil, err
	}
	return &Folder{dir: dir, bucket: b}, nil
}

// removeStranded deletes the temporary files of Puts a killed process never finished.
func removeStranded(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(d.Name(), ".tmp") {
			return err
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("blobstore: removing the stranded temporary file %s: %w", p, err)
		}
		return nil
	})
}

// Dir is the folder's absolute path.
func (f *Folder) Dir() string { return f.dir }

// Put implements workspace.Blobs.
func (f *Folder) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	// Cancelling wctx is how a fileblob write is aborted: its Close then removes the
	// temporary file instead of renaming it.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var file *os.File
	w, err := f.bucket.NewWriter(wctx, key, &blob.WriterOptions{
		ContentType: "application/octet-stream", // skips fileblob's content sniffing buffer
		BeforeWrite: func(as func(any) bool) error {
			as(&file)
			return nil
		},
	})
	if err != nil {
		return 0, fmt.Errorf("blobstore: put %q: %w", key, err)
	}
	n, err := io.Copy(w, ctxReader{ctx, r})
	if err == nil && file != nil {
		err = file.Sync()
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		_ = w.Close()
		return 0, fmt.Errorf("blobstore: put %q: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return 0, fmt.Errorf("blobstore: put %q: %w", key, err)
	}
	return n, nil
}

// Open implements workspace.Blobs.
func (f *Folder) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return openReader(ctx, f.bucket, key)
}

// Delete implements workspace.Blobs.
func (f *Folder) Delete(ctx context.Context, key string) error {
	return deleteKey(ctx, f.bucket, key)
}

// Close releases the folder.
func (f *Folder) Close() error { return f.bucket.Close() }
