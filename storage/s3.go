package storage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// awsEndpoint is used when Options.S3Endpoint is empty.
const awsEndpoint = "s3.amazonaws.com"

// S3 is a Store under a prefix of an S3 bucket. Open returns one for an
// s3://bucket/prefix URL.
//
// Writes are atomic because S3 makes an object visible only once its PUT (or
// multipart upload) completes. Requests that fail with a network error or a
// retryable status (5xx, 408, 429, throttling codes) are retried by minio-go
// itself: up to 10 attempts, with jittered exponential backoff capped at one
// second between them, so callers need not add their own retry loop.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string // "" or ends with "/"
}

// openS3 opens the store for "bucket/prefix" (an s3:// URL without its scheme).
func openS3(bucketAndPrefix string, opts *Options) (Store, error) {
	bucket, prefix, _ := strings.Cut(bucketAndPrefix, "/")
	if bucket == "" {
		return nil, fmt.Errorf("storage: s3://%s: the URL names no bucket", bucketAndPrefix)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		clean := path.Clean(prefix)
		if clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, fmt.Errorf("storage: s3://%s: prefix %q leaves the bucket", bucketAndPrefix, prefix)
		}
		prefix = clean + "/"
	}
	client, err := newS3Client(opts)
	if err != nil {
		return nil, fmt.Errorf("storage: s3://%s: %w", bucketAndPrefix, err)
	}
	return &S3{client: client, bucket: bucket, prefix: prefix}, nil
}

// newS3Client makes a minio-go client for opts.S3Endpoint and opts.S3Region
// with credentials from the environment or the AWS shared credentials file.
func newS3Client(opts *Options) (*minio.Client, error) {
	host, secure, err := parseS3Endpoint(opts.S3Endpoint)
	if err != nil {
		return nil, err
	}
	region := opts.S3Region
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	lookup := minio.BucketLookupAuto
	if opts.S3Endpoint != "" {
		// Self-hosted servers rarely have a DNS name per bucket.
		lookup = minio.BucketLookupPath
	}
	return minio.New(host, &minio.Options{
		// The environment first (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
		// AWS_SESSION_TOKEN), then ~/.aws/credentials (or
		// AWS_SHARED_CREDENTIALS_FILE) with AWS_PROFILE; anonymous if neither
		// has keys. Deliberately no instance-metadata lookup: it would send
		// requests to a link-local address on every machine without keys.
		Creds: credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{},
		}),
		Secure:       secure,
		Region:       region,
		BucketLookup: lookup,
	})
}

// parseS3Endpoint splits an endpoint ("host:port", "https://host:port" or
// "http://host:port") into the host and whether to use TLS. A bare host uses
// TLS; http:// turns it off.
func parseS3Endpoint(endpoint string) (host string, secure bool, err error) {
	if endpoint == "" {
		return awsEndpoint, true, nil
	}
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", false, fmt.Errorf("s3_endpoint %q: %w", endpoint, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", false, fmt.Errorf("s3_endpoint %q: scheme must be http or https", endpoint)
	case u.Host == "":
		return "", false, fmt.Errorf("s3_endpoint %q: no host", endpoint)
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil:
		return "", false, fmt.Errorf("s3_endpoint %q: want host:port or scheme://host:port, with no path, query or user", endpoint)
	}
	return u.Host, u.Scheme == "https", nil
}

// key returns the object key of p, refusing paths that climb out of the
// prefix. Paths are cleaned the way Local cleans them, so "a//b" and "a/./b"
// name the same file in both backends.
func (s *S3) key(p string) (string, error) {
	if strings.HasPrefix(p, "/") || hasDotDot(p) {
		return "", fmt.Errorf("storage: path %q leaves the store %s", p, s.root())
	}
	clean := path.Clean(p)
	if clean == "." {
		return "", fmt.Errorf("storage: empty path in the store %s", s.root())
	}
	return s.prefix + clean, nil
}

// hasDotDot reports whether p climbs up: its cleaned form starts with "..".
func hasDotDot(p string) bool {
	c := path.Clean(p)
	return c == ".." || strings.HasPrefix(c, "../")
}

func (s *S3) root() string { return "s3://" + s.bucket + "/" + s.prefix }

// URL implements Store.
func (s *S3) URL(p string) string {
	if p = strings.TrimPrefix(path.Clean("/"+p), "/"); p == "" {
		return s.root()
	}
	return s.root() + p
}

// wrap names the object in err and turns S3's "no such key" into ErrNotExist.
func (s *S3) wrap(op, key string, err error) error {
	target := "s3://" + s.bucket + "/" + key
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey:
		return fmt.Errorf("storage: %s %s: %w", op, target, ErrNotExist)
	case minio.NoSuchBucket:
		return fmt.Errorf("storage: %s %s: no bucket %s: %w", op, target, s.bucket, ErrNotExist)
	}
	return fmt.Errorf("storage: %s %s: %w", op, target, err)
}

func putOptions(key string) minio.PutObjectOptions {
	ct := mime.TypeByExtension(path.Ext(key))
	if ct == "" {
		ct = "application/octet-stream"
	}
	return minio.PutObjectOptions{ContentType: ct}
}

// Put implements Store with one PutObject.
func (s *S3) Put(ctx context.Context, p string, data []byte) error {
	key, err := s.key(p)
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)), putOptions(key))
	if err != nil {
		return s.wrap("writing", key, err)
	}
	return nil
}

// PutFile implements Store. Files larger than a part (16 MiB) go up as a
// multipart upload, which S3 makes visible only when it completes.
func (s *S3) PutFile(ctx context.Context, p, local string) error {
	key, err := s.key(p)
	if err != nil {
		return err
	}
	if _, err := os.Stat(local); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if _, err := s.client.FPutObject(ctx, s.bucket, key, local, putOptions(key)); err != nil {
		return s.wrap("writing "+local+" to", key, err)
	}
	return nil
}

// streamPartSize is the part size of a streamed upload (Create): the memory
// one open writer holds. minio-go would otherwise size parts for a 5 TiB
// object of unknown length, about 550 MB each.
const streamPartSize = 16 << 20

// Create implements Store: the data streams to S3 as a multipart upload,
// which S3 makes visible only when Close completes it. Abort, a failed write
// or a cancelled ctx aborts the upload, leaving nothing.
func (s *S3) Create(ctx context.Context, p string) (Writer, error) {
	key, err := s.key(p)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	pr, pw := io.Pipe()
	w := &s3Writer{pw: pw, cancel: cancel, done: make(chan error, 1), name: s.URL(p)}
	opts := putOptions(key)
	opts.PartSize = streamPartSize
	go func() {
		_, err := s.client.PutObject(ctx, s.bucket, key, pr, -1, opts)
		if err != nil {
			err = s.wrap("writing", key, err)
		}
		pr.CloseWithError(err) // unblocks a writer when the upload failed early
		w.done <- err
	}()
	return w, nil
}

// s3Writer feeds a streamed PutObject through a pipe.
type s3Writer struct {
	pw     *io.PipeWriter
	cancel context.CancelCauseFunc
	done   chan error
	name   string
	closed bool
	err    error
}

func (w *s3Writer) Write(b []byte) (int, error) {
	if w.closed {
		return 0, fmt.Errorf("storage: write to %s after Close or Abort", w.name)
	}
	return w.pw.Write(b)
}

func (w *s3Writer) Abort() {
	if w.closed {
		return
	}
	w.closed, w.err = true, ErrAborted
	w.cancel(ErrAborted)
	w.pw.CloseWithError(ErrAborted)
	<-w.done
}

func (w *s3Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	w.pw.Close()
	w.err = <-w.done
	w.cancel(nil)
	return w.err
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, p string) error {
	key, err := s.key(p)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil
		}
		return s.wrap("deleting", key, err)
	}
	return nil
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, p string) ([]byte, error) {
	key, err := s.key(p)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap("reading", key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, s.wrap("reading", key, err)
	}
	return data, nil
}

// Open implements Store. Reads are ranged GETs made under ctx, so ctx must
// stay live until the file is closed.
func (s *S3) Open(ctx context.Context, p string) (File, int64, error) {
	key, err := s.key(p)
	if err != nil {
		return nil, 0, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, s.wrap("opening", key, err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, 0, s.wrap("opening", key, err)
	}
	return &s3File{obj: obj, name: s.root() + strings.TrimPrefix(key, s.prefix)}, info.Size, nil
}

// s3File names its object in read errors.
type s3File struct {
	obj  *minio.Object
	name string
}

func (f *s3File) Read(b []byte) (int, error) {
	n, err := f.obj.Read(b)
	return n, f.wrap(err)
}

func (f *s3File) ReadAt(b []byte, off int64) (int, error) {
	n, err := f.obj.ReadAt(b, off)
	return n, f.wrap(err)
}

func (f *s3File) Close() error { return f.obj.Close() }

func (f *s3File) wrap(err error) error {
	if err == nil || err == io.EOF {
		return err // io.EOF must stay unwrapped for io.Reader callers
	}
	return fmt.Errorf("storage: reading %s: %w", f.name, err)
}

// List implements Store: every object whose path starts with prefix, sorted
// by path.
func (s *S3) List(ctx context.Context, prefix string) ([]string, error) {
	if hasDotDot(prefix) || strings.HasPrefix(prefix, "/") {
		return nil, fmt.Errorf("storage: list prefix %q leaves the store %s", prefix, s.root())
	}
	var out []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{
		Prefix:    s.prefix + prefix,
		Recursive: true,
	}) {
		if obj.Err != nil {
			return nil, s.wrap("listing", s.prefix+prefix, obj.Err)
		}
		if strings.HasSuffix(obj.Key, "/") {
			continue // a "folder" marker made by some consoles, not a file
		}
		out = append(out, strings.TrimPrefix(obj.Key, s.prefix))
	}
	sort.Strings(out)
	return out, nil
}

var _ Store = (*S3)(nil)
