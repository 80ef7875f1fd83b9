// Package storage is where releases and caches live: a local directory or an
// S3-compatible bucket, behind one small interface that every backend passes
// the same conformance suite for.
//
// Guarantees: a file written with Put, PutFile or Create is visible whole or
// not at all (local: write to a temporary name, fsync, then rename; S3: one
// PUT, or for a big or streamed file a multipart upload, which S3 shows only
// once it completes), so a reader never sees a half-written shard. This is
// the project's one atomic-write path: the release writer, the teacher's
// response cache and the grade command all write through it. Paths use forward slashes, are
// relative to the store's root and are cleaned ("a//b" is "a/b"); a path that
// climbs out of the root ("../x", "/x") is refused. Reading a path that holds
// no file fails with an error that wraps ErrNotExist, in every backend.
//
// Conditional writes (PutIfAbsent, GetTagged and PutIfMatch) are what runs
// that share a store coordinate with: PutIfAbsent creates a file only if
// none is there (S3 If-None-Match: *, a hard link locally), and PutIfMatch
// replaces a file only if it still holds what the caller read (S3 If-Match
// on the ETag; locally a compare and rename under a lock on the folder).
// Of any number of concurrent callers, in any number of processes, exactly
// one wins; the others fail with errors that wrap ErrExist or ErrChanged.
//
// s3:// URLs take their credentials from the standard AWS environment
// variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
// AWS_REGION), then from the AWS shared credentials file (AWS_PROFILE).
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNotExist is returned (wrapped) when a path holds no file.
var ErrNotExist = fs.ErrNotExist

// ErrExist is returned (wrapped) by PutIfAbsent when the path already holds
// a file.
var ErrExist = fs.ErrExist

// ErrChanged is returned (wrapped) by PutIfMatch when the file is no longer
// the one its tag names: another writer replaced it since it was read.
var ErrChanged = errors.New("storage: file changed since it was read")

// Store is a tree of files under a root.
type Store interface {
	// Put writes data to path, replacing what was there, atomically.
	Put(ctx context.Context, path string, data []byte) error
	// PutFile copies the local file at local to path, atomically.
	PutFile(ctx context.Context, path, local string) error
	// Get reads the file at path.
	Get(ctx context.Context, path string) ([]byte, error)
	// Open opens the file at path for reading, with random access, and
	// returns its size.
	Open(ctx context.Context, path string) (File, int64, error)
	// Create starts writing the file at path. What is written becomes
	// visible at path, atomically, only when Close returns nil; Abort (or a
	// cancelled ctx) discards it. Memory use does not grow with the file.
	Create(ctx context.Context, path string) (Writer, error)
	// Delete removes the file at path. Deleting a missing file is not an
	// error.
	Delete(ctx context.Context, path string) error
	// List returns the paths under prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// PutIfAbsent writes data to path, atomically, only if path holds no
	// file, and returns the new file's tag. If path holds a file it writes
	// nothing and fails with an error wrapping ErrExist. Of concurrent
	// callers for one path exactly one succeeds.
	PutIfAbsent(ctx context.Context, path string, data []byte) (tag string, err error)
	// GetTagged reads the file at path with its tag: an opaque string that
	// changes whenever the file's content does (S3's ETag; a SHA-256 of the
	// content locally and in memory).
	GetTagged(ctx context.Context, path string) (data []byte, tag string, err error)
	// PutIfMatch replaces the file at path with data, atomically, only if
	// its tag is still tag, and returns the new tag. Otherwise it writes
	// nothing and fails with an error wrapping ErrChanged, or ErrNotExist
	// when path holds no file. Of concurrent callers holding the same tag
	// at most one succeeds.
	PutIfMatch(ctx context.Context, path string, data []byte, tag string) (newTag string, err error)
	// URL returns how a person would name path: a local path or s3:// URL.
	URL(path string) string
}

// File is an opened file of a Store.
type File interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

// Writer is a file being written by Store.Create. Close publishes it; Abort
// throws it away. After either, further calls do nothing (Close after Abort
// returns ErrAborted).
type Writer interface {
	io.Writer
	Close() error
	Abort()
}

// ErrAborted is returned by Writer.Close after Abort.
var ErrAborted = errors.New("storage: write aborted")

// Options configure Open.
type Options struct {
	// S3Endpoint is the endpoint of an S3-compatible server: "host:port"
	// or "https://host:port" (TLS), or "http://host:port" (plain HTTP, for a
	// server on loopback or a private network). Giving one also selects
	// path-style requests (http://host/bucket/key). Empty means AWS S3.
	S3Endpoint string
	// S3Region is the bucket's region. Empty means $AWS_REGION, then
	// $AWS_DEFAULT_REGION, and if both are unset the client asks the server
	// for the bucket's location once.
	S3Region string
}

// Open returns the store rooted at url: s3://bucket/prefix or a local path.
func Open(url string, opts *Options) (Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	if rest, ok := strings.CutPrefix(url, "s3://"); ok {
		return openS3(rest, opts)
	}
	return NewLocal(url)
}

// Local is a Store in a local directory.
type Local struct{ root string }

// NewLocal returns the store rooted at dir, creating dir if needed.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return &Local{root: dir}, nil
}

func (l *Local) path(p string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(p))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("storage: path %q leaves the store %s", p, l.root)
	}
	if clean == "." {
		return "", fmt.Errorf("storage: empty path in the store %s", l.root)
	}
	return filepath.Join(l.root, clean), nil
}

// URL implements Store.
func (l *Local) URL(p string) string { return filepath.Join(l.root, filepath.FromSlash(p)) }

// Put implements Store.
func (l *Local) Put(_ context.Context, p string, data []byte) error {
	return l.write(p, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// PutFile implements Store.
func (l *Local) PutFile(_ context.Context, p, local string) error {
	src, err := os.Open(local)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer src.Close()
	return l.write(p, func(w io.Writer) error {
		_, err := io.Copy(w, src)
		return err
	})
}

// write runs fill on a file created with Create and publishes it.
func (l *Local) write(p string, fill func(io.Writer) error) error {
	w, err := l.Create(context.Background(), p)
	if err != nil {
		return err
	}
	if err := fill(w); err != nil {
		w.Abort()
		return fmt.Errorf("storage: writing %s: %w", l.URL(p), err)
	}
	return w.Close()
}

// Create implements Store: a temporary file beside path, synced and renamed
// into place by Close. Files are created 0644 less the process umask, so a
// trainer running under another account can read a release.
func (l *Local) Create(ctx context.Context, p string) (Writer, error) {
	dst, err := l.path(p)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return &localWriter{ctx: ctx, f: tmp, dst: dst}, nil
}

// localWriter is a Local file being written.
type localWriter struct {
	ctx  context.Context
	f    *os.File
	dst  string
	done bool
	err  error
}

func (w *localWriter) Write(b []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("storage: write to %s after Close or Abort", w.dst)
	}
	return w.f.Write(b)
}

func (w *localWriter) Abort() {
	if w.done {
		return
	}
	w.done, w.err = true, ErrAborted
	w.f.Close()
	os.Remove(w.f.Name())
}

func (w *localWriter) Close() error {
	if w.done {
		return w.err
	}
	w.done = true
	err := context.Cause(w.ctx)
	if err == nil {
		err = w.f.Chmod(os.FileMode(0o666 &^ processUmask))
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.dst)
	}
	if err != nil {
		os.Remove(w.f.Name())
		w.err = fmt.Errorf("storage: writing %s: %w", w.dst, err)
	}
	return w.err
}

// Delete implements Store.
func (l *Local) Delete(_ context.Context, p string) error {
	full, err := l.path(p)
	if err != nil {
		return err
	}
	if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// Get implements Store.
func (l *Local) Get(_ context.Context, p string) ([]byte, error) {
	full, err := l.path(p)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(full)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return data, nil
}

// Open implements Store.
func (l *Local) Open(_ context.Context, p string) (File, int64, error) {
	full, err := l.path(p)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(full)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("storage: %w", err)
	}
	if info.IsDir() {
		// A folder is not a file, as in S3, where folders are only prefixes.
		f.Close()
		return nil, 0, fmt.Errorf("storage: %s is a folder, not a file: %w", full, ErrNotExist)
	}
	return f, info.Size(), nil
}

// List implements Store. Temporary files of writes in progress are skipped.
func (l *Local) List(_ context.Context, prefix string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(l.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.Contains(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, prefix) {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: listing %s: %w", l.root, err)
	}
	sort.Strings(out)
	return out, nil
}

func openLocal(p string) (*os.File, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return f, nil
}
