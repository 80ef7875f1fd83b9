package teacher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
)

// Cache stores teacher samples by content: the key of a sample is a hash of
// the model id, the messages, the sampling parameters (temperature, top_p,
// max_tokens, stop, extra fields), the seed and the sample's index — never
// the server URL, so moving to another server of the same model keeps the
// cache. Each sample is its own entry, written as soon as its call returns,
// so a run killed at any point and restarted repeats no completed call, and
// raising the number of samples per prompt only asks for the new ones.
//
// Entries live in a storage.Store (a local directory or an S3 prefix), one
// file per sample at <first two hex digits>/<key>, written through the
// store's atomic write: a process killed mid-write (even by SIGKILL) leaves
// no entry or a complete one, and concurrent workers sharing the store
// write the same bytes for the same key.
type Cache struct {
	store storage.Store
}

// NewCache returns a cache kept in store.
func NewCache(store storage.Store) *Cache { return &Cache{store: store} }

// entryPath is where the entry of key lives in the store.
func entryPath(key string) string { return key[:2] + "/" + key }

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
	b, err := c.store.Get(ctx, entryPath(key))
	if errors.Is(err, storage.ErrNotExist) {
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
	if err := c.store.Put(ctx, entryPath(key), b); err != nil {
		return fmt.Errorf("cache put: %w", err)
	}
	return nil
}
