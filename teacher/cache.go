package teacher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
)

// Cache stores teacher samples by content: the key of a sample is a hash of
// the model id, the messages, the sampling parameters (temperature, top_p,
// max_tokens, stop, extra fields), the seed and the sample's index — never
// the server URL, so moving to another server of the same model keeps the
// cache. Each sample is its own entry, written as soon as its call returns
// (held back briefly on S3, see below), so a run killed at any point and
// restarted repeats (almost) no completed call, and raising the number of
// samples per prompt only asks for the new ones.
//
// Entries live in a storage.Store (a local directory or an S3 prefix),
// packed into append-only segment files under seg/: JSON lines, each led by
// its key, so a 100,000-prompt run keeps a handful of files rather than one
// per sample. Each writer (one Cache, so one worker process) writes only its
// own segments, named so that workers and machines sharing the store never
// collide, and reads everyone's: on first use it lists the store and
// indexes every segment's complete lines (about 50 bytes of memory per
// entry). Entries other workers write later are seen by the next run.
//
// In a local directory an entry is appended to the writer's open segment in
// one write call as soon as its call returns: a process killed at any
// point, even by SIGKILL, loses no completed entry and leaves at most one
// line cut short, which the index skips. S3 objects cannot be appended to,
// so there a writer holds entries back and writes each batch as a new
// segment object (every CacheOptions.FlushEntries entries or FlushInterval,
// and on Flush or Close): a killed process loses at most one batch.
// Entries of the first format (one file per sample at <2 hex digits>/<key>)
// are still read.
type Cache struct {
	store storage.Store
	local *storage.Local // the store, when it is a local directory
	opts  CacheOptions
	errs  *atomic.Int64 // entries lost to failed segment writes

	mu      sync.Mutex
	index   map[shortKey]entryLoc // nil until loaded
	segs    []string
	readers map[int32]storage.File
	// pending entries wait to be written as one segment (object stores).
	pending     map[shortKey][]byte
	pendingKeys []shortKey
	timer       *time.Timer
	// appendFile is this writer's open segment (local directories).
	appendFile *os.File
	appendSeg  int32
	appendOff  int64
	writer     string
	seq        int
}

// NewCache returns a cache kept in store, with default options.
func NewCache(store storage.Store) *Cache { return NewCacheWithOptions(store, nil) }

// NewCacheWithOptions returns a cache kept in store; nil opts means defaults.
func NewCacheWithOptions(store storage.Store, opts *CacheOptions) *Cache {
	c := &Cache{store: store, opts: opts.withDefaults(), readers: map[int32]storage.File{}}
	c.local, _ = store.(*storage.Local)
	return c
}

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
	// Reward is set on a reward model's entry (RewardClient) instead of
	// the text of a sample.
	Reward *float64 `json:"reward,omitempty"`
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
		_, ok, err := c.get(ctx, SampleKey(req, req.First+i))
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}
