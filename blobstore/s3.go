package blobstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"
)

// PartSize is the size of one S3 upload buffer and of each part of a multipart upload: S3's
// smallest part. A file up to PartSize goes in one PutObject, a larger one in parts.
const PartSize = 5 << 20

// DefaultUploadBuffers is how many PartSize buffers all Puts of one S3 store share by default:
// at most 30 MiB of upload buffers, however many uploads run at once.
const DefaultUploadBuffers = 6

// S3 is the adapter for an S3-compatible store (AWS S3, MinIO, Ceph, R2…). Open and Delete go
// through gocloud.dev's s3blob; Put drives the same S3 client itself, because s3blob's
// uploader (the AWS transfer manager) cannot be bounded enough: it reads the first 16 MiB of
// every upload into one growing slice (its multipart threshold, which s3blob does not expose)
// and then allocates Concurrency+1 part buffers up front, about 26 MiB per Put even with 5 MiB
// parts and a concurrency of 1, so ten 25 MB uploads would hold some 260 MiB.
//
// Put instead fills one PartSize buffer taken from a pool shared by the whole store (so all
// uploads together hold at most upload_buffers × 5 MiB, and a Put waits, honouring its ctx,
// while none is free), sends it as the whole object if the stream ended within it, and
// otherwise as part 1 of a multipart upload, refilling the same buffer for each next part,
// one part at a time. Parts are sent from a bytes.Reader, so the SDK signs and checksums them
// without copying. An object becomes visible only when PutObject or CompleteMultipartUpload
// succeeds; on any error (the reader's, the ctx's, the store's) the multipart upload is
// aborted, so neither an object nor stored parts are left behind.
type S3 struct {
	bucket   *blob.Bucket
	client   *s3.Client
	name     string
	checksum types.ChecksumAlgorithm // "" unless the client computes checksums when supported
	buffers  chan []byte
}

// OpenS3 opens the store of an s3:// URL; see Open. It checks that the bucket is reachable.
func OpenS3(ctx context.Context, u *url.URL) (*S3, error) {
	q := u.Query()
	nbuf := DefaultUploadBuffers
	if v := q.Get("upload_buffers"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("blobstore: upload_buffers=%q: want a positive integer", v)
		}
		nbuf = n
	}
	q.Del("upload_buffers")
	u2 := *u
	u2.RawQuery = q.Encode()
	b, err := (&s3blob.URLOpener{}).OpenBucketURL(ctx, &u2)
	if err != nil {
		return nil, fmt.Errorf("blobstore: open %s: %w", redact(u), err)
	}
	var client *s3.Client
	if !b.As(&client) {
		_ = b.Close()
		return nil, errors.New("blobstore: s3blob did not expose its S3 client")
	}
	ok, err := b.IsAccessible(ctx)
	if err == nil && !ok {
		err = errors.New("bucket not found")
	}
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("blobstore: bucket %q at %s: %w", u.Host, redact(u), err)
	}
	s := &S3{bucket: b, client: client, name: u.Host, buffers: make(chan []byte, nbuf)}
	if client.Options().RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired {
		s.checksum = types.ChecksumAlgorithmCrc32 // what the SDK computes by default
	}
	for range nbuf {
		s.buffers <- nil // allocated on first use
	}
	return s, nil
}

// redact drops a URL's user info, which must not reach logs.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

func (s *S3) getBuffer(ctx context.Context) ([]byte, error) {
	select {
	case buf := <-s.buffers:
		if buf == nil {
			buf = make([]byte, PartSize)
		}
		return buf, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Put implements workspace.Blobs.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	buf, err := s.getBuffer(ctx)
	if err != nil {
		return 0, fmt.Errorf("blobstore: put %q: waiting for an upload buffer: %w", key, err)
	}
	defer func() { s.buffers <- buf }()
	n, err := s.put(ctx, key, ctxReader{ctx, r}, buf)
	if err != nil {
		return 0, fmt.Errorf("blobstore: put %q: %w", key, err)
	}
	return n, nil
}

func (s *S3) put(ctx context.Context, key string, r io.Reader, buf []byte) (int64, error) {
	n, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.name, Key: &key, Body: bytes.NewReader(buf[:n]),
			ContentLength: aws.Int64(int64(n)), ContentType: aws.String("application/octet-stream"),
			ChecksumAlgorithm: s.checksum,
		})
		return int64(n), err
	}
	if err != nil {
		return 0, err
	}

	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.name, Key: &key, ContentType: aws.String("application/octet-stream"),
		ChecksumAlgorithm: s.checksum,
	})
	if err != nil {
		return 0, err
	}
	var parts []types.CompletedPart
	var total int64
	fail := func(err error) (int64, error) {
		// Abort even when ctx has ended, so the store frees the parts sent so far.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, aerr := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: &s.name, Key: &key, UploadId: created.UploadId,
		}); aerr != nil {
			return 0, fmt.Errorf("%w (and aborting the multipart upload failed: %v)", err, aerr)
		}
		return 0, err
	}
	for num := int32(1); ; num++ {
		if num > 10000 {
			return fail(errors.New("more than 10000 parts"))
		}
		up, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &s.name, Key: &key, UploadId: created.UploadId, PartNumber: aws.Int32(num),
			Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
			ChecksumAlgorithm: s.checksum,
		})
		if err != nil {
			return fail(err)
		}
		parts = append(parts, types.CompletedPart{
			PartNumber: aws.Int32(num), ETag: up.ETag,
			ChecksumCRC32: up.ChecksumCRC32, ChecksumCRC32C: up.ChecksumCRC32C,
			ChecksumCRC64NVME: up.ChecksumCRC64NVME, ChecksumSHA1: up.ChecksumSHA1,
			ChecksumSHA256: up.ChecksumSHA256,
		})
		total += int64(n)
		if n < len(buf) {
			break // that was the short last part
		}
		n, err = io.ReadFull(r, buf)
		if err == io.EOF {
			break
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			return fail(err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if _, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.name, Key: &key, UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		return fail(err)
	}
	return total, nil
}

// Open implements workspace.Blobs.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return openReader(ctx, s.bucket, key)
}

// Delete implements workspace.Blobs.
func (s *S3) Delete(ctx context.Context, key string) error {
	return deleteKey(ctx, s.bucket, key)
}

// Close releases the store.
func (s *S3) Close() error { return s.bucket.Close() }
