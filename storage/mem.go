package storage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
)

// Mem is a Store in memory, for tests and fault injection. It passes the
// same conformance suite as Local and S3.
type Mem struct {
	mu    sync.Mutex
	files map[string][]byte
}

// NewMem returns an empty in-memory store.
func NewMem() *Mem { return &Mem{files: map[string][]byte{}} }

func (m *Mem) key(p string) (string, error) {
	if strings.HasPrefix(p, "/") || hasDotDot(p) {
		return "", fmt.Errorf("storage: path %q leaves the store mem://", p)
	}
	clean := path.Clean(p)
	if clean == "." {
		return "", fmt.Errorf("storage: empty path in the store mem://")
	}
	return clean, nil
}

// URL implements Store.
func (m *Mem) URL(p string) string { return "mem://" + strings.TrimPrefix(path.Clean("/"+p), "/") }

// Put implements Store.
func (m *Mem) Put(_ context.Context, p string, data []byte) error {
	k, err := m.key(p)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[k] = bytes.Clone(data)
	if m.files[k] == nil {
		m.files[k] = []byte{}
	}
	return nil
}

// PutFile implements Store.
func (m *Mem) PutFile(ctx context.Context, p, local string) error {
	data, err := readLocal(local)
	if err != nil {
		return err
	}
	return m.Put(ctx, p, data)
}

// Get implements Store.
func (m *Mem) Get(_ context.Context, p string) ([]byte, error) {
	k, err := m.key(p)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.files[k]
	if !ok {
		return nil, fmt.Errorf("storage: reading %s: %w", m.URL(k), ErrNotExist)
	}
	return bytes.Clone(data), nil
}

// Open implements Store.
func (m *Mem) Open(ctx context.Context, p string) (File, int64, error) {
	data, err := m.Get(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	return memFile{bytes.NewReader(data)}, int64(len(data)), nil
}

type memFile struct{ *bytes.Reader }

func (memFile) Close() error { return nil }

// Create implements Store.
func (m *Mem) Create(ctx context.Context, p string) (Writer, error) {
	if _, err := m.key(p); err != nil {
		return nil, err
	}
	return &memWriter{ctx: ctx, m: m, path: p}, nil
}

type memWriter struct {
	ctx  context.Context
	m    *Mem
	path string
	buf  bytes.Buffer
	done bool
	err  error
}

func (w *memWriter) Write(b []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("storage: write to %s after Close or Abort", w.m.URL(w.path))
	}
	return w.buf.Write(b)
}

func (w *memWriter) Abort() {
	if !w.done {
		w.done, w.err = true, ErrAborted
	}
}

func (w *memWriter) Close() error {
	if w.done {
		return w.err
	}
	w.done = true
	if w.err = context.Cause(w.ctx); w.err == nil {
		w.err = w.m.Put(w.ctx, w.path, w.buf.Bytes())
	}
	return w.err
}

// Delete implements Store.
func (m *Mem) Delete(_ context.Context, p string) error {
	k, err := m.key(p)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, k)
	return nil
}

// List implements Store.
func (m *Mem) List(_ context.Context, prefix string) ([]string, error) {
	if hasDotDot(prefix) || strings.HasPrefix(prefix, "/") {
		return nil, fmt.Errorf("storage: list prefix %q leaves the store mem://", prefix)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.files {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

func readLocal(local string) ([]byte, error) {
	f, err := openLocal(local)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return data, nil
}

var _ Store = (*Mem)(nil)
