// Package blobstore holds the adapters of the blob store port (workspace.Blobs): the data
// folder, the embedded default, and an S3-compatible store for several nodes that share their
// files. Open picks one by URL (the -blob-url setting).
//
// Both adapters stream: a Put never holds a whole file in memory, and a Put that fails, whose
// reader fails or whose ctx ends leaves nothing readable under its key (the folder writes a
// temporary file and renames it; S3 makes an object visible only when its upload completes,
// and an unfinished multipart upload is aborted).
package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/agentdesk/agentdesk/workspace"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Store is a blob store adapter: the port, and Close to release what it holds.
type Store interface {
	workspace.Blobs
	Close() error
}

// Open opens the blob store that rawURL names:
//
//   - file:///abs/path, or a plain folder path: the data folder (created if missing);
//   - s3://bucket?region=…&endpoint=http://host:port&use_path_style=true: an S3-compatible
//     store, with credentials from the standard AWS environment variables (or shared config).
//     upload_buffers=N (default 6) bounds how many 5 MiB upload buffers all Puts share.
func Open(ctx context.Context, rawURL string) (Store, error) {
	if rawURL == "" {
		return nil, errors.New("blobstore: empty URL")
	}
	if !strings.Contains(rawURL, "://") {
		return OpenFolder(rawURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("blobstore: file URL %q names a host; use file:///absolute/path", rawURL)
		}
		if u.RawQuery != "" {
			return nil, fmt.Errorf("blobstore: file URL %q takes no parameters", rawURL)
		}
		return OpenFolder(u.Path)
	case "s3":
		return OpenS3(ctx, u)
	default:
		return nil, fmt.Errorf("blobstore: unsupported URL scheme %q (want file or s3)", u.Scheme)
	}
}

// MaxKeyLen is the longest key, in bytes (S3's limit).
const MaxKeyLen = 1024

// CheckKey returns an INVALID error unless key is one both adapters store under the same
// name: one or more segments separated by '/', each made of ASCII letters, digits, '-', '_'
// and '.', none of them "." or "..", with no "__" (gocloud.dev's escape marker: without it,
// gocloud.dev stores every key under its own name, so the S3 adapter's own Put and s3blob's
// Open agree), not ending in ".tmp" (the folder's temporary files end so, and must never be
// reachable through the port).
func CheckKey(key string) error {
	bad := func(why string) error {
		return workspace.Errorf(workspace.EINVALID, "blob key %q: %s", key, why)
	}
	switch {
	case key == "":
		return bad("empty")
	case len(key) > MaxKeyLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxKeyLen))
	case !utf8.ValidString(key):
		return bad("not UTF-8")
	case strings.Contains(key, "__"):
		return bad(`"__" is reserved`)
	case strings.HasSuffix(key, ".tmp"):
		return bad("the suffix .tmp is reserved for temporary files")
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return bad("empty segment (absolute, trailing or doubled '/')")
		case ".", "..":
			return bad("'.' and '..' segments are not allowed")
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return bad(fmt.Sprintf("character %q is not allowed", c))
			}
		}
	}
	return nil
}

// openReader opens key in b, mapping a missing key to NOT_FOUND.
func openReader(ctx context.Context, b *blob.Bucket, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	r, err := b.NewReader(ctx, key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, workspace.Errorf(workspace.ENOTFOUND, "No file %q.", key)
	}
	if err != nil {
		return nil, fmt.Errorf("blobstore: open %q: %w", key, err)
	}
	return r, nil
}

// deleteKey deletes key from b; a missing key is not an error.
func deleteKey(ctx context.Context, b *blob.Bucket, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	err := b.Delete(ctx, key)
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("blobstore: delete %q: %w", key, err)
	}
	return nil
}

// ctxReader fails with ctx's error once ctx ends, so a cancelled Put stops reading at the
// next chunk instead of copying the rest of the stream.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// absPath makes dir absolute and clean.
func absPath(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("blobstore: empty folder path")
	}
	return filepath.Abs(dir)
}
