package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/minio/minio-go/v7"
)

// contentTag is the tag of a Local or Mem file: the SHA-256 of its content,
// so that, as with S3's ETag of a single PUT, the tag changes whenever the
// content does and the same content read twice has the same tag.
func contentTag(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// PutIfAbsent implements Store: the data goes to a temporary file, synced,
// which is then hard-linked to path. link(2) fails if path exists, as
// O_EXCL does, and unlike O_EXCL it never shows a reader a half-written file.
func (l *Local) PutIfAbsent(ctx context.Context, p string, data []byte) (string, error) {
	dst, err := l.path(p)
	if err != nil {
		return "", err
	}
	tmp, err := l.writeTemp(ctx, dst, data)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("storage: creating %s: %w", dst, ErrExist)
		}
		return "", fmt.Errorf("storage: creating %s: %w", dst, err)
	}
	return contentTag(data), nil
}

// writeTemp writes data to a synced temporary file beside dst (which List
// skips) and returns its name.
func (l *Local) writeTemp(ctx context.Context, dst string, data []byte) (string, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("storage: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("storage: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(os.FileMode(0o666 &^ processUmask))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = context.Cause(ctx)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("storage: writing %s: %w", dst, err)
	}
	return f.Name(), nil
}

// GetTagged implements Store.
func (l *Local) GetTagged(ctx context.Context, p string) ([]byte, string, error) {
	data, err := l.Get(ctx, p)
	if err != nil {
		return nil, "", err
	}
	return data, contentTag(data), nil
}

// PutIfMatch implements Store: under an exclusive lock on path's folder
// (flock(2), which the kernel releases if the process dies), it compares the
// file's tag and renames a new file into place. Every PutIfMatch of the
// folder, in any process, takes the same lock.
func (l *Local) PutIfMatch(ctx context.Context, p string, data []byte, tag string) (string, error) {
	dst, err := l.path(p)
	if err != nil {
		return "", err
	}
	tmp, err := l.writeTemp(ctx, dst, data)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	unlock, err := lockDir(filepath.Dir(dst))
	if err != nil {
		return "", fmt.Errorf("storage: locking the folder of %s: %w", dst, err)
	}
	defer unlock()
	cur, err := os.ReadFile(dst)
	if err != nil {
		return "", fmt.Errorf("storage: replacing %s: %w", dst, err)
	}
	if contentTag(cur) != tag {
		return "", fmt.Errorf("storage: replacing %s: %w", dst, ErrChanged)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", fmt.Errorf("storage: replacing %s: %w", dst, err)
	}
	return contentTag(data), nil
}

// PutIfAbsent implements Store.
func (m *Mem) PutIfAbsent(_ context.Context, p string, data []byte) (string, error) {
	k, err := m.key(p)
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[k]; ok {
		return "", fmt.Errorf("storage: creating %s: %w", m.URL(k), ErrExist)
	}
	m.files[k] = append([]byte{}, data...)
	return contentTag(data), nil
}

// GetTagged implements Store.
func (m *Mem) GetTagged(ctx context.Context, p string) ([]byte, string, error) {
	data, err := m.Get(ctx, p)
	if err != nil {
		return nil, "", err
	}
	return data, contentTag(data), nil
}

// PutIfMatch implements Store.
func (m *Mem) PutIfMatch(_ context.Context, p string, data []byte, tag string) (string, error) {
	k, err := m.key(p)
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.files[k]
	switch {
	case !ok:
		return "", fmt.Errorf("storage: replacing %s: %w", m.URL(k), ErrNotExist)
	case contentTag(cur) != tag:
		return "", fmt.Errorf("storage: replacing %s: %w", m.URL(k), ErrChanged)
	}
	m.files[k] = append([]byte{}, data...)
	return contentTag(data), nil
}

// conflictRetries bounds the retries of a conditional PUT that S3 answered
// with 409 ConditionalRequestConflict: another conditional write of the same
// key was in flight, and AWS asks the client to try again.
const conflictRetries = 5

// conditionalPut sends one PUT of data with opts' conditions, retrying on
// ConditionalRequestConflict, and returns the new ETag.
func (s *S3) conditionalPut(ctx context.Context, key string, data []byte, opts minio.PutObjectOptions) (string, error) {
	for attempt := 0; ; attempt++ {
		info, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)), opts)
		if err == nil {
			return info.ETag, nil
		}
		if minio.ToErrorResponse(err).Code != "ConditionalRequestConflict" || attempt == conflictRetries {
			return "", err
		}
	}
}

// PutIfAbsent implements Store with one PUT carrying If-None-Match: *.
//
// minio-go retries a request whose answer was lost; if the first attempt
// had in fact created the file, the retry fails with ErrExist. A caller
// that needs to know can read the file back (the lease does: it finds its
// own token there).
func (s *S3) PutIfAbsent(ctx context.Context, p string, data []byte) (string, error) {
	key, err := s.key(p)
	if err != nil {
		return "", err
	}
	opts := putOptions(key)
	opts.SetMatchETagExcept("*")
	tag, err := s.conditionalPut(ctx, key, data, opts)
	if err != nil {
		if minio.ToErrorResponse(err).Code == minio.PreconditionFailed {
			return "", s.wrap("creating", key, ErrExist)
		}
		return "", s.wrap("creating", key, err)
	}
	return tag, nil
}

// GetTagged implements Store: one GET, whose body and ETag come from the
// same response (minio-go's Object would pin later reads to the ETag of its
// first request and fail if the file was replaced in between).
func (s *S3) GetTagged(ctx context.Context, p string) ([]byte, string, error) {
	key, err := s.key(p)
	if err != nil {
		return nil, "", err
	}
	body, info, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", s.wrap("reading", key, err)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, "", s.wrap("reading", key, err)
	}
	return data, info.ETag, nil
}

// PutIfMatch implements Store with one PUT carrying If-Match: "tag".
func (s *S3) PutIfMatch(ctx context.Context, p string, data []byte, tag string) (string, error) {
	key, err := s.key(p)
	if err != nil {
		return "", err
	}
	opts := putOptions(key)
	opts.SetMatchETag(tag)
	newTag, err := s.conditionalPut(ctx, key, data, opts)
	if err == nil {
		return newTag, nil
	}
	switch minio.ToErrorResponse(err).Code {
	case minio.PreconditionFailed:
		// Some servers answer a missing object with 412 rather than 404.
		if _, serr := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{}); minio.ToErrorResponse(serr).Code == minio.NoSuchKey {
			return "", s.wrap("replacing", key, ErrNotExist)
		}
		return "", s.wrap("replacing", key, ErrChanged)
	}
	return "", s.wrap("replacing", key, err)
}
