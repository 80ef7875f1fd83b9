package teacher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/syllabus-dev/syllabus/schemas"
)

// Blobs is the storage a Cache keeps its entries in: a flat key/value store.
// Backends (DirBlobs, MemBlobs, an S3 prefix) implement it and pass the
// conformance suite in teacher/blobtest. Implementations must be safe for
// concurrent use, including by several processes sharing the same store:
// Put is atomic (a reader sees the old value, the whole new value, or
// nothing) and last writer wins.
type Blobs interface {
	// Get returns the value under key, or an error wrapping fs.ErrNotExist.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores value under key.
	Put(ctx context.Context, key string, value []byte) error
}

// DirBlobs keeps each blob in its own file under a local directory, named
// by key and fanned out by the key's first two characters. Writes go to a
// temporary file renamed into place, so a process killed mid-write (even by
// SIGKILL) leaves either no entry or a complete one.
type DirBlobs struct {
	dir string
}

// NewDirBlobs returns a DirBlobs rooted at dir, creating it if needed.
func NewDirBlobs(dir string) (*DirBlobs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("teacher: cache dir: %w", err)
	}
	return &DirBlobs{dir: dir}, nil
}

func (d *DirBlobs) path(key string) (string, error) {
	if len(key) < 3 || !fs.ValidPath(key) || filepath.Base(key) != key {
		return "", fmt.Errorf("teacher: bad cache key %q", key)
	}
	return filepath.Join(d.dir, key[:2], key), nil
}

// Get implements Blobs.
func (d *DirBlobs) Get(_ context.Context, key string) ([]byte, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// Put implements Blobs.
func (d *DirBlobs) Put(_ context.Context, key string, value []byte) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// MemBlobs keeps blobs in memory; for tests.
type MemBlobs struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemBlobs returns an empty MemBlobs.
func NewMemBlobs() *MemBlobs { return &MemBlobs{m: map[string][]byte{}} }

// Get implements Blobs.
func (b *MemBlobs) Get(_ context.Context, key string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[key]
	if !ok {
		return nil, fmt.Errorf("teacher: blob %s: %w", key, fs.ErrNotExist)
	}
	return append([]byte(nil), v...), nil
}

// Put implements Blobs.
func (b *MemBlobs) Put(_ context.Context, key string, value []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[key] = append([]byte(nil), value...)
	return nil
}

// Len returns the number of blobs stored.
func (b *MemBlobs) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}

// Cache stores teacher samples by content: the key of a sample is a hash of
// the model id, the messages, the sampling parameters (temperature, top_p,
// max_tokens, stop, extra fields), the seed and the sample's index — never
// the server URL, so moving to another server of the same model keeps the
// cache. Each sample is its own entry, written as soon as its call returns,
// so a run killed at any point and restarted repeats no completed call, and
// raising the number of samples per prompt only asks for the new ones.
type Cache struct {
	blobs Blobs
}

// NewCache returns a cache over blobs.
func NewCache(blobs Blobs) *Cache { return &Cache{blobs: blobs} }

// cacheEntry is the stored form of one sample.
type cacheEntry struct {
	Version      int    `json:"v"`
	Model        string `json:"model"`
	Text         string `json:"text"`
	Reasoning    string `json:"reasoning,omitempty"`
	FinishReason string `json:"finish_reason"`
	// PromptTokens is the prompt cost of the call that produced the sample
	// (charged once per call); CompletionTokens this sample's share.
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
}

const cacheVersion = 1

// cacheKeyFields is what a sample's key hashes. Changing it invalidates
// every cache, so bump cacheVersion with it.
type cacheKeyFields struct {
	Version     int               `json:"v"`
	Model       string            `json:"model"`
	Messages    []schemas.Message `json:"messages"`
	Temperature float64           `json:"temperature"`
	TopP        float64           `json:"top_p"`
	MaxTokens   int               `json:"max_tokens"`
	Seed        *int64            `json:"seed"`
	Stop        []string          `json:"stop"`
	Extra       map[string]any    `json:"extra"`
	Index       int               `json:"index"`
}

// SampleKey returns the cache key of sample index of req (a hex SHA-256).
// N is not part of it: sample 3 of a request for 4 samples is sample 3 of
// a request for 8.
func SampleKey(req Request, index int) string {
	stop := req.Stop
	if len(stop) == 0 {
		stop = nil
	}
	extra := req.Extra
	if len(extra) == 0 {
		extra = nil
	}
	b, err := json.Marshal(cacheKeyFields{cacheVersion, req.Model, req.Messages, req.Temperature, req.TopP,
		req.MaxTokens, req.Seed, stop, extra, index})
	if err != nil {
		// Extra holds a value JSON cannot encode; encodeRequest rejects
		// such requests before any cache lookup matters.
		b = fmt.Appendf(nil, "%#v", req)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Cached returns how many of req's samples are already in the cache: the
// samples a run would not pay for. A dry run uses it to forecast only what
// is left to pay.
func (c *Cache) Cached(ctx context.Context, req Request) (int, error) {
	n := 0
	for i := range req.samples() {
		_, ok, err := c.get(ctx, SampleKey(req, i))
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// get returns the cached sample, or ok=false when there is none (a corrupt
// entry counts as none and will be overwritten).
func (c *Cache) get(ctx context.Context, key string) (cacheEntry, bool, error) {
	b, err := c.blobs.Get(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return cacheEntry{}, false, nil
	}
	if err != nil {
		return cacheEntry{}, false, fmt.Errorf("cache get: %w", err)
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || e.Version != cacheVersion {
		return cacheEntry{}, false, nil
	}
	return e, true, nil
}

func (c *Cache) put(ctx context.Context, key string, e cacheEntry) error {
	e.Version = cacheVersion
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := c.blobs.Put(ctx, key, b); err != nil {
		return fmt.Errorf("cache put: %w", err)
	}
	return nil
}
