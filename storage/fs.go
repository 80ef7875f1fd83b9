package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"
)

// FS returns a read-only fs.FS view of store, for readers written against
// io/fs (benchmark sets, globbed inputs). Directories are implied by the
// paths under them, as in S3. Reads run under ctx, which must outlive the
// view's use.
func FS(ctx context.Context, store Store) fs.FS { return storeFS{ctx, store} }

type storeFS struct {
	ctx   context.Context
	store Store
}

func (s storeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name != "." {
		f, size, err := s.store.Open(s.ctx, name)
		if err == nil {
			return &fsFile{File: f, info: fileInfo{name: path.Base(name), size: size}}, nil
		}
		if !isNotExist(err) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
	}
	entries, err := s.ReadDir(name)
	if err != nil {
		return nil, err
	}
	return &fsDir{info: fileInfo{name: path.Base(name), dir: true}, entries: entries}, nil
}

// ReadDir implements fs.ReadDirFS from one listing.
func (s storeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	prefix := ""
	if name != "." {
		prefix = name + "/"
	}
	paths, err := s.store.List(s.ctx, prefix)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	if len(paths) == 0 && name != "." {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var entries []fs.DirEntry
	seen := map[string]bool{}
	for _, p := range paths {
		rest := strings.TrimPrefix(p, prefix)
		child, _, isDir := strings.Cut(rest, "/")
		if seen[child] {
			continue
		}
		seen[child] = true
		info := fileInfo{name: child, dir: isDir}
		if !isDir {
			if f, size, err := s.store.Open(s.ctx, p); err == nil {
				f.Close()
				info.size = size
			}
		}
		entries = append(entries, fs.FileInfoToDirEntry(info))
	}
	return entries, nil // List is sorted, so entries are too
}

// ReadFile implements fs.ReadFileFS with one GET.
func (s storeFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	data, err := s.store.Get(s.ctx, name)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

func isNotExist(err error) bool { return errors.Is(err, ErrNotExist) }

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64  { return i.size }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }

type fsFile struct {
	File
	info fileInfo
}

func (f *fsFile) Stat() (fs.FileInfo, error) { return f.info, nil }

type fsDir struct {
	info    fileInfo
	entries []fs.DirEntry
	off     int
}

func (d *fsDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *fsDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: fmt.Errorf("is a directory")}
}
func (d *fsDir) Close() error { return nil }

// ReadDir implements fs.ReadDirFile.
func (d *fsDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}
