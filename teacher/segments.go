package teacher

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/syllabus-dev/syllabus/storage"
)

// CacheOptions tune how a Cache packs entries into segment files.
type CacheOptions struct {
	// FlushEntries and FlushInterval bound the entries an object store
	// (S3) holds back before writing them as one segment object: a segment
	// is written when FlushEntries entries wait or the oldest has waited
	// FlushInterval, whichever comes first (defaults 100 and 2s). A process
	// killed with SIGKILL loses at most these; a local directory loses none.
	FlushEntries  int
	FlushInterval time.Duration
	// SegmentBytes is the size past which a local segment file is closed
	// and a new one started (default 256 MiB).
	SegmentBytes int64
}

func (o *CacheOptions) withDefaults() CacheOptions {
	d := CacheOptions{FlushEntries: 100, FlushInterval: 2 * time.Second, SegmentBytes: 256 << 20}
	if o != nil {
		if o.FlushEntries > 0 {
			d.FlushEntries = o.FlushEntries
		}
		if o.FlushInterval > 0 {
			d.FlushInterval = o.FlushInterval
		}
		if o.SegmentBytes > 0 {
			d.SegmentBytes = o.SegmentBytes
		}
	}
	return d
}

// SegmentDir is the folder of the cache's store that holds segments.
const SegmentDir = "seg"

// segmentLine is one entry of a segment: a JSON line led by its key.
type segmentLine struct {
	Key string `json:"key"`
	cacheEntry
}

// shortKey indexes an entry: the first 128 bits of its key (the whole key
// is checked when the entry is read).
type shortKey [16]byte

func parseKey(key string) (shortKey, bool) {
	var k shortKey
	if len(key) < 2*len(k) {
		return k, false
	}
	_, err := hex.Decode(k[:], []byte(key[:2*len(k)]))
	return k, err == nil
}

// entryLoc is where an entry lives: bytes [off, off+n) of segment seg, or
// (n < 0) the whole of a one-entry file of the first cache format.
type entryLoc struct {
	seg int32
	n   int32
	off int64
}

var legacyEntry = regexp.MustCompile(`^[0-9a-f]{2}/[0-9a-f]{64}$`)

// load lists the store and indexes every segment (and every entry of the
// one-file-per-sample format). It is called with c.mu held.
func (c *Cache) load(ctx context.Context) error {
	if c.index != nil {
		return nil
	}
	names, err := c.store.List(ctx, "")
	if err != nil {
		return fmt.Errorf("cache: listing %s: %w", c.store.URL(""), err)
	}
	index := map[shortKey]entryLoc{}
	var segs []string
	for _, name := range names {
		switch {
		case strings.HasPrefix(name, SegmentDir+"/"):
			if err := c.scan(ctx, name, int32(len(segs)), index); err != nil {
				return err
			}
			segs = append(segs, name)
		case legacyEntry.MatchString(name):
			if k, ok := parseKey(name[3:]); ok {
				index[k] = entryLoc{seg: int32(len(segs)), n: -1}
				segs = append(segs, name)
			}
		}
	}
	c.index, c.segs = index, segs
	return nil
}

// scan indexes the complete lines of one segment. A line cut short by a
// killed writer has no newline and is skipped.
func (c *Cache) scan(ctx context.Context, name string, seg int32, index map[shortKey]entryLoc) error {
	f, _, err := c.store.Open(ctx, name)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	const lead = `{"key":"`
	var off int64
	for {
		line, err := r.ReadSlice('\n')
		n := int64(len(line))
		for errors.Is(err, bufio.ErrBufferFull) { // a line longer than the buffer
			var more []byte
			more, err = r.ReadSlice('\n')
			n += int64(len(more))
			if len(line) < len(lead)+64 {
				line = append(append([]byte(nil), line...), more...)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cache: reading %s: %w", name, err)
		}
		if bytes.HasPrefix(line, []byte(lead)) && len(line) >= len(lead)+64 {
			if k, ok := parseKey(string(line[len(lead) : len(lead)+64])); ok {
				index[k] = entryLoc{seg: seg, n: int32(n), off: off}
			}
		}
		off += n
	}
}

// get returns the cached sample, or ok=false when there is none (a corrupt
// entry counts as none).
func (c *Cache) get(ctx context.Context, key string) (cacheEntry, bool, error) {
	k, ok := parseKey(key)
	if !ok {
		return cacheEntry{}, false, nil
	}
	c.mu.Lock()
	if err := c.load(ctx); err != nil {
		c.mu.Unlock()
		return cacheEntry{}, false, err
	}
	if line, ok := c.pending[k]; ok {
		c.mu.Unlock()
		return decodeLine(line, key)
	}
	loc, ok := c.index[k]
	if !ok {
		c.mu.Unlock()
		return cacheEntry{}, false, nil
	}
	name := c.segs[loc.seg]
	if loc.n < 0 {
		c.mu.Unlock()
		return c.getLegacy(ctx, name)
	}
	f, ok := c.readers[loc.seg]
	if !ok {
		var err error
		if f, _, err = c.store.Open(ctx, name); err != nil {
			c.mu.Unlock()
			return cacheEntry{}, false, fmt.Errorf("cache get: %w", err)
		}
		c.readers[loc.seg] = f
	}
	c.mu.Unlock()
	line := make([]byte, loc.n)
	// io.ReaderAt may report io.EOF along with the last bytes of a file.
	if n, err := f.ReadAt(line, loc.off); err != nil && (n < len(line) || !errors.Is(err, io.EOF)) {
		return cacheEntry{}, false, fmt.Errorf("cache get: %s: %w", name, err)
	}
	return decodeLine(line, key)
}

func decodeLine(line []byte, key string) (cacheEntry, bool, error) {
	var l segmentLine
	if json.Unmarshal(line, &l) != nil || l.Key != key || l.Version != cacheVersion {
		return cacheEntry{}, false, nil
	}
	return l.cacheEntry, true, nil
}

func (c *Cache) getLegacy(ctx context.Context, name string) (cacheEntry, bool, error) {
	b, err := c.store.Get(ctx, name)
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

// put adds an entry: appended to this writer's segment file at once in a
// local directory; held back and written with others as one new segment
// object elsewhere (see CacheOptions).
func (c *Cache) put(ctx context.Context, key string, e cacheEntry) error {
	k, ok := parseKey(key)
	if !ok {
		return fmt.Errorf("cache put: bad key %q", key)
	}
	e.Version = cacheVersion
	line, err := json.Marshal(segmentLine{Key: key, cacheEntry: e})
	if err != nil {
		return err
	}
	line = append(line, '\n')
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.local != nil {
		return c.appendLocal(ctx, k, line)
	}
	if c.pending == nil {
		c.pending = map[shortKey][]byte{}
	}
	if len(c.pending) == 0 {
		c.timer = time.AfterFunc(c.opts.FlushInterval, func() { c.Flush(context.Background()) })
	}
	c.pending[k] = line
	c.pendingKeys = append(c.pendingKeys, k)
	if len(c.pendingKeys) >= c.opts.FlushEntries {
		return c.flushLocked(ctx)
	}
	return nil
}

// appendLocal appends line to this writer's open segment file: one write
// call, so a killed process leaves whole lines and at most one cut short.
func (c *Cache) appendLocal(ctx context.Context, k shortKey, line []byte) error {
	if c.appendFile == nil || c.appendOff >= c.opts.SegmentBytes {
		if err := c.closeAppend(); err != nil {
			return err
		}
		name := c.newSegmentName()
		full := c.local.URL(name)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("cache put: %w", err)
		}
		f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("cache put: %w", err)
		}
		if err := c.load(ctx); err != nil {
			f.Close()
			return err
		}
		c.appendFile, c.appendOff, c.appendSeg = f, 0, int32(len(c.segs))
		c.segs = append(c.segs, name)
	}
	if _, err := c.appendFile.Write(line); err != nil {
		// The segment may now end in a cut line: start another.
		c.closeAppend()
		return fmt.Errorf("cache put: %w", err)
	}
	c.index[k] = entryLoc{seg: c.appendSeg, n: int32(len(line)), off: c.appendOff}
	c.appendOff += int64(len(line))
	return nil
}

func (c *Cache) closeAppend() error {
	if c.appendFile == nil {
		return nil
	}
	err := c.appendFile.Close()
	c.appendFile = nil
	return err
}

var writerSeq atomic.Int64

// newSegmentName names a new segment of this writer: unique across
// processes and machines sharing the store.
func (c *Cache) newSegmentName() string {
	if c.writer == "" {
		var b [6]byte
		rand.Read(b[:])
		c.writer = fmt.Sprintf("%s-%d-%d-%s", time.Now().UTC().Format("20060102T150405"), os.Getpid(), writerSeq.Add(1), hex.EncodeToString(b[:]))
	}
	c.seq++
	return fmt.Sprintf("%s/%s-%06d.jsonl", SegmentDir, c.writer, c.seq)
}

// Flush writes the entries held back as a new segment. A failed write
// loses them (a rerun pays for them again) and is counted as a cache error
// per entry.
func (c *Cache) Flush(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked(ctx)
}

func (c *Cache) flushLocked(ctx context.Context) error {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if len(c.pendingKeys) == 0 {
		return nil
	}
	keys := c.pendingKeys
	c.pendingKeys = nil
	var buf bytes.Buffer
	locs := make([]entryLoc, len(keys))
	for i, k := range keys {
		line := c.pending[k]
		locs[i] = entryLoc{n: int32(len(line)), off: int64(buf.Len())}
		buf.Write(line)
	}
	name := c.newSegmentName()
	err := c.store.Put(ctx, name, buf.Bytes())
	if err == nil {
		err = c.load(ctx)
	}
	if err != nil {
		clear(c.pending)
		if c.errs != nil {
			c.errs.Add(int64(len(keys)))
		}
		return fmt.Errorf("cache: writing %d entries to %s: %w", len(keys), c.store.URL(name), err)
	}
	seg := int32(len(c.segs))
	c.segs = append(c.segs, name)
	for i, k := range keys {
		locs[i].seg = seg
		c.index[k] = locs[i]
		delete(c.pending, k)
	}
	return nil
}

// Close writes the entries held back and closes the files the cache opened.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.flushLocked(context.Background())
	for seg, f := range c.readers {
		f.Close()
		delete(c.readers, seg)
	}
	return errors.Join(err, c.closeAppend())
}

// FlushCache writes the response-cache entries the client holds back (on
// S3, entries are written in batches; see Cache) so that a rerun finds them.
func (c *Client) FlushCache(ctx context.Context) error {
	if c.cache == nil {
		return nil
	}
	return c.cache.Flush(ctx)
}
