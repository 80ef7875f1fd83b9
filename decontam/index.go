package decontam

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// Match is one benchmark item a text overlaps.
type Match struct {
	Benchmark   string // set name, e.g. "gsm8k"
	BenchmarkID string // the item's id within the set
	// Score is the share of the item's sampled n-gram weight (rarity across
	// the benchmarks) that the text holds within one window of about the
	// item's length, in (0, 1].
	Score float64
	// MatchedNgrams are n-grams of the checked text (normalized) found in
	// the item, in text order, at most Config.MaxReportedNgrams of them.
	MatchedNgrams []string
}

// BenchmarkInfo describes one indexed set.
type BenchmarkInfo struct {
	Name    string
	Version string // hash of the set's file contents
	Items   int
}

// Index holds the sampled n-grams of benchmark items in an open-addressing
// hash table of 32-bit keys. An Index is immutable once built and safe for
// concurrent use by any number of goroutines.
type Index struct {
	cfg   Config
	fp    *fingerprints
	parts []indexedPart
	// slots is the table probed for every n-gram of a text (linear
	// probing, key 0 is empty); a slot holds its key's postings,
	// posts[r.a:r.b], next to the key, so a hit costs one cache miss.
	slots  []slot
	shift  uint // 32 - log2(len(slots))
	ngrams int  // occupied slots
	// filter has the bit of every key of slots set: 4 bits
	// per slot, at least 8 per key, so it is clear for about nine in ten
	// n-grams of a clean text, and an eighth of the table's size (256 KB
	// for the built-in fingerprints, within a core's L2 cache), so most
	// lookups stop there instead of probing the table in memory.
	filter keyFilter
	posts  []posting
	// shortLens are the word counts, below n, of indexed parts shorter than
	// n; such parts match only in full, through shortSlots.
	shortLens   []int
	shortSlots  []slot
	shortShift  uint
	shortFilter keyFilter // as filter, for shortSlots
}

type postRange struct{ a, b uint32 }

// A slot holds a key, the range of its postings in Index.posts, and a
// copy of the first of them: most keys have one, so a hit costs one cache
// miss.
type slot struct {
	key   uint32
	r     postRange
	first posting
}

// posting says an n-gram is in a part, with its weight (idfWeight units).
type posting struct {
	part   uint32
	weight uint32
}

type indexedPart struct {
	item  int32 // index into fp.items
	words int32
	// total is the weight of the part's indexed n-grams; need is the least
	// matched weight that is flagged: Threshold of total, and at least
	// MinMatchedWeight (or all of total, when smaller).
	total, need uint32
	// window is the span of text, in words, that one match may cover.
	window uint32
}

// Build indexes benchmark sets.
func Build(sets []Benchmark, cfg Config) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return build(fingerprint(sets, cfg.NgramSize), cfg)
}

func build(fp *fingerprints, cfg Config) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if fp.n != cfg.NgramSize {
		return nil, fmt.Errorf("%w: fingerprints are of %d-grams, decontam.ngram_size is %d (load the benchmark text with --benchmarks instead)", ErrNgramSize, fp.n, cfg.NgramSize)
	}
	ix := &Index{cfg: cfg, fp: fp}
	type entry struct {
		key    uint32
		part   uint32
		weight uint8
	}
	var entries, shortEntries []entry
	short := map[int]bool{}
	for _, p := range fp.parts {
		if int(p.words) < cfg.MinItemWords || p.kind == partSolution && !cfg.MatchSolutions {
			continue
		}
		part := uint32(len(ix.parts))
		ix.parts = append(ix.parts, indexedPart{item: p.item, words: p.words})
		for i, g := range p.grams {
			e := entry{g, part, p.weights[i]}
			if int(p.words) < fp.n {
				shortEntries = append(shortEntries, e)
				short[int(p.words)] = true
			} else {
				entries = append(entries, e)
			}
		}
	}
	for L := range short {
		ix.shortLens = append(ix.shortLens, L)
	}
	sort.Ints(ix.shortLens)
	// group sorts entries by key and fills a table with their postings,
	// dropping keys found in more than MaxItemsPerNgram items.
	group := func(entries []entry) (slots []slot, shift uint, used int) {
		slices.SortFunc(entries, func(a, b entry) int {
			if c := cmp.Compare(a.key, b.key); c != 0 {
				return c
			}
			return cmp.Compare(a.part, b.part)
		})
		type kv struct {
			key uint32
			r   postRange
		}
		var kept []kv
		for i := 0; i < len(entries); {
			j, items, last := i, 0, int32(-1)
			for ; j < len(entries) && entries[j].key == entries[i].key; j++ {
				if it := ix.parts[entries[j].part].item; it != last {
					items, last = items+1, it
				}
			}
			if items <= cfg.MaxItemsPerNgram {
				r := postRange{uint32(len(ix.posts)), 0}
				for _, e := range entries[i:j] {
					ix.posts = append(ix.posts, posting{e.part, uint32(e.weight)})
					ix.parts[e.part].total += uint32(e.weight)
				}
				r.b = uint32(len(ix.posts))
				kept = append(kept, kv{entries[i].key, r})
			}
			i = j
		}
		// Load factor at most 1/2: a miss, the common case, reads about
		// 1.5 keys, nearly always in one cache line.
		size, bits := 8, uint(3)
		for size < 2*len(kept) {
			size, bits = size*2, bits+1
		}
		slots, shift = make([]slot, size), 32-bits
		for _, e := range kept {
			i := slotOf(e.key, shift)
			for slots[i].key != 0 {
				i = (i + 1) & uint32(size-1)
			}
			slots[i] = slot{e.key, e.r, ix.posts[e.r.a]}
		}
		return slots, shift, len(kept)
	}
	ix.slots, ix.shift, ix.ngrams = group(entries)
	ix.shortSlots, ix.shortShift, _ = group(shortEntries)
	ix.filter = newKeyFilter(ix.slots, 4*len(ix.slots))
	// The short table is small and probed at every position of a text for
	// each short length: a sparse filter keeps its branch predictable.
	ix.shortFilter = newKeyFilter(ix.shortSlots, 64*len(ix.shortSlots))
	for i := range ix.parts {
		p := &ix.parts[i]
		p.need = uint32(cfg.Threshold*float64(p.total) + 0.999999)
		p.need = max(p.need, min(uint32(cfg.MinMatchedWeight*16), p.total), 1)
		p.window = uint32(p.words) + uint32(p.words)/4 + uint32(2*cfg.NgramSize)
	}
	return ix, nil
}

// slotOf is the home slot of key in a table of 2^(32-shift) slots
// (Fibonacci hashing, so keys that differ only in high bits spread).
func slotOf(key uint32, shift uint) uint32 { return key * 0x9E3779B1 >> shift }

// keyFilter is a bitmap with the bit of every key of a table set: a one-hash
// Bloom filter that answers most misses from a small, cached array.
type keyFilter struct {
	bits  []uint64
	shift uint // 32 - log2(bits)
}

// newKeyFilter returns a filter of size bits (a power of two, at least 64)
// holding the non-zero keys of table.
func newKeyFilter(table []slot, size int) keyFilter {
	f := keyFilter{shift: 32 - 6}
	for n := 64; n < size; n *= 2 {
		f.shift--
	}
	f.bits = make([]uint64, 1<<(32-f.shift)/64)
	for _, sl := range table {
		if k := sl.key; k != 0 {
			b := f.bit(k)
			f.bits[b>>6] |= 1 << (b & 63)
		}
	}
	return f
}

// bit is key's bit. It uses other bits of the key than slotOf, so a filter
// hit does not predict a probe.
func (f keyFilter) bit(key uint32) uint32 { return key * 0x85EBCA77 >> f.shift }

// has reports whether key may be in the table.
func (f keyFilter) has(key uint32) bool {
	b := f.bit(key)
	return f.bits[b>>6]&(1<<(b&63)) != 0
}

// find returns the slot of key, or nil.
func find(slots []slot, shift uint, key uint32) *slot {
	mask := uint32(len(slots) - 1)
	for i := slotOf(key, shift); ; i = (i + 1) & mask {
		switch slots[i].key {
		case key:
			return &slots[i]
		case 0:
			return nil
		}
	}
}

// Merge returns an index over the sets of ix and other, built with ix's
// config; a set of other replaces a set of ix with the same name (so
// --benchmarks can override a built-in set).
func (ix *Index) Merge(other *Index) (*Index, error) {
	fp, err := ix.fp.merge(other.fp)
	if err != nil {
		return nil, err
	}
	return build(fp, ix.cfg)
}

// Benchmarks lists the indexed sets in the order they were added.
func (ix *Index) Benchmarks() []BenchmarkInfo {
	return slices.Clone(ix.fp.sets)
}

// Config returns the config ix was built with.
func (ix *Index) Config() Config { return ix.cfg }

// IndexStats describes an index's size.
type IndexStats struct {
	Items    int // benchmark items
	Parts    int // indexed questions and solutions
	Ngrams   int // distinct indexed n-grams (the sample the fingerprints keep)
	Postings int // (n-gram, part) entries
	// Bytes is the memory the index's lookup structures hold.
	Bytes int64
}

// Stats reports the index's size.
func (ix *Index) Stats() IndexStats {
	return IndexStats{
		Items:    len(ix.fp.items),
		Parts:    len(ix.parts),
		Ngrams:   ix.ngrams,
		Postings: len(ix.posts),
		Bytes: int64(len(ix.slots)+len(ix.shortSlots))*20 + int64(len(ix.filter.bits)+len(ix.shortFilter.bits))*8 + int64(len(ix.posts))*8 +
			int64(len(ix.parts))*20,
	}
}

// scratch is the per-call working memory of Check, pooled.
type scratch struct {
	words  words
	prefix []uint64
	hits   []hit
	// partWeight[p] sums the weights of the hits on part p during one
	// Check, an upper bound of its score (zero between calls); touched
	// lists the parts with hits.
	partWeight []uint32
	touched    []uint32
	// postCount[post] counts the hits of one posting in the sliding window.
	postCount []uint16
	// partCount[p] counts the hits on part p while grouping them; sorted
	// and keptParts are groupByPart's buffers.
	partCount []uint32
	sorted    []hit
	keptParts []uint32
	// ends and buf are match's buffers.
	ends []int
	buf  []byte
}

type hit struct {
	part uint32 // indexed part
	post uint32 // posting, which identifies the n-gram within the part
	cpos uint32 // where in the checked text (word index)
	// weight is the posting's weight.
	weight uint32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// Check returns the benchmark items text overlaps with a score at or above
// the threshold, best first (ties by benchmark and id); nil when clean.
func (ix *Index) Check(text string) []Match {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.words.tokenize(text)
	nwords := sc.words.len()
	if nwords == 0 || len(ix.parts) == 0 {
		return nil
	}
	sc.prefix = prefixHashes(sc.prefix, sc.words.hashes)
	sc.hits = sc.hits[:0]
	n := ix.cfg.NgramSize
	if ix.ngrams > 0 {
		slots, mask, shift := ix.slots, uint32(len(ix.slots)-1), ix.shift
		filter := ix.filter
		for i := 0; i+n <= nwords; i++ {
			key := gramKey(gramHash(sc.prefix, i, n))
			if !filter.has(key) {
				continue
			}
			for s := slotOf(key, shift); slots[s].key != 0; s = (s + 1) & mask {
				if slots[s].key == key {
					ix.addHits(sc, &slots[s], i)
					break
				}
			}
		}
	}
	for _, L := range ix.shortLens {
		for i := 0; i+L <= nwords; i++ {
			key := gramKey(gramHash(sc.prefix, i, L))
			if !ix.shortFilter.has(key) {
				continue
			}
			if sl := find(ix.shortSlots, ix.shortShift, key); sl != nil {
				ix.addHits(sc, sl, i)
			}
		}
	}
	if !ix.keepScorable(sc) {
		return nil
	}
	return ix.score(sc)
}

// addHits records the postings of sl as hits at word cpos of the text.
func (ix *Index) addHits(sc *scratch, sl *slot, cpos int) {
	sc.hits = append(sc.hits, hit{sl.first.part, sl.r.a, uint32(cpos), sl.first.weight})
	for p := sl.r.a + 1; p < sl.r.b; p++ {
		sc.hits = append(sc.hits, hit{ix.posts[p].part, p, uint32(cpos), ix.posts[p].weight})
	}
}

// keepScorable drops the hits on parts whose hits weigh less than the part
// needs, which cannot be flagged, and reports whether any hit is left. Most
// texts are clean and stop here, before the sort.
func (ix *Index) keepScorable(sc *scratch) bool {
	if len(sc.hits) == 0 {
		return false
	}
	if len(sc.partWeight) < len(ix.parts) {
		sc.partWeight = make([]uint32, len(ix.parts))
		sc.partCount = make([]uint32, len(ix.parts))
	}
	sc.touched = sc.touched[:0]
	for _, h := range sc.hits {
		if sc.partCount[h.part] == 0 {
			sc.touched = append(sc.touched, h.part)
		}
		sc.partWeight[h.part] += h.weight
		sc.partCount[h.part]++
	}
	scorable := false
	for _, p := range sc.touched {
		if sc.partWeight[p] >= ix.parts[p].need {
			scorable = true
			break
		}
	}
	if scorable {
		ix.groupByPart(sc)
	}
	for _, p := range sc.touched {
		sc.partWeight[p], sc.partCount[p] = 0, 0
	}
	return scorable
}

// groupByPart keeps the hits on parts whose hits weigh at least what the
// part needs and orders them by part, then by position (a counting sort:
// the hits of one part were found in text order, and few parts are left).
// sc.partWeight still holds the weights of the touched parts.
func (ix *Index) groupByPart(sc *scratch) {
	parts := sc.keptParts[:0]
	for _, p := range sc.touched {
		if sc.partWeight[p] >= ix.parts[p].need {
			parts = append(parts, p)
		}
	}
	slices.Sort(parts)
	// partWeight becomes, per kept part, the offset of its first hit + 1.
	for _, p := range sc.touched {
		sc.partWeight[p] = 0
	}
	n := uint32(0)
	for _, p := range parts {
		sc.partWeight[p] = n + 1
		n += sc.partCount[p]
	}
	sc.sorted = slices.Grow(sc.sorted[:0], int(n))[:n]
	for _, h := range sc.hits {
		if at := sc.partWeight[h.part]; at > 0 {
			sc.sorted[at-1] = h
			sc.partWeight[h.part]++
		}
	}
	sc.hits, sc.sorted = sc.sorted, sc.hits
	sc.keptParts = parts
}

// score turns hits into matches. Per benchmark part, a window of
// part.window words slides over the text; the part's score is the most
// weight of distinct n-grams of the part found in one window (so matches
// scattered over a long document do not add up, and a repeated phrase
// counts once), over the weight of all its indexed n-grams. An item's score
// is its best part's.
func (ix *Index) score(sc *scratch) []Match {
	hits := sc.hits // by part, then cpos (groupByPart)
	if len(sc.postCount) < len(ix.posts) {
		sc.postCount = make([]uint16, len(ix.posts))
	}
	var matches []Match
	curItem, best := int32(-1), 0.0
	var bestHits []hit
	flush := func() {
		if curItem >= 0 && best > 0 {
			matches = append(matches, ix.match(sc, curItem, best, bestHits))
		}
	}
	for i := 0; i < len(hits); {
		j := i + 1
		for j < len(hits) && hits[j].part == hits[i].part {
			j++
		}
		part := ix.parts[hits[i].part]
		if part.item != curItem {
			flush()
			curItem, best, bestHits = part.item, 0, nil
		}
		w, lo, hi := ix.bestWindow(sc, hits[i:j], part.window)
		if w >= part.need {
			if s := float64(w) / float64(part.total); s > best {
				best, bestHits = s, hits[i+lo:i+hi]
			}
		}
		i = j
	}
	flush()
	slices.SortFunc(matches, func(a, b Match) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Benchmark, b.Benchmark); c != 0 {
			return c
		}
		return cmp.Compare(a.BenchmarkID, b.BenchmarkID)
	})
	return matches
}

// bestWindow returns the most weight of distinct postings among hits (of
// one part, by cpos) whose positions lie within window words, and the hits
// [lo, hi) of that window.
func (ix *Index) bestWindow(sc *scratch, hits []hit, window uint32) (best uint32, lo, hi int) {
	var sum uint32
	start := 0
	for end, h := range hits {
		if sc.postCount[h.post] == 0 {
			sum += h.weight
		}
		sc.postCount[h.post]++
		for h.cpos-hits[start].cpos >= window {
			p := hits[start].post
			if sc.postCount[p]--; sc.postCount[p] == 0 {
				sum -= hits[start].weight
			}
			start++
		}
		if sum > best {
			best, lo, hi = sum, start, end+1
		}
	}
	for _, h := range hits[start:] {
		sc.postCount[h.post] = 0
	}
	return best, lo, hi
}

func (ix *Index) match(sc *scratch, item int32, score float64, hits []hit) Match {
	meta := ix.fp.items[item]
	m := Match{Benchmark: ix.fp.sets[meta.set].Name, BenchmarkID: meta.id, Score: min(score, 1)}
	if ix.cfg.MaxReportedNgrams == 0 || len(hits) == 0 {
		return m
	}
	span := min(ix.cfg.NgramSize, int(ix.parts[hits[0].part].words))
	// The reported n-grams are cut from one string: one allocation.
	ends, b := sc.ends[:0], sc.buf[:0]
	defer func() { sc.ends, sc.buf = ends, b }()
	last := -1
	for _, h := range hits {
		if len(ends) == ix.cfg.MaxReportedNgrams {
			break
		}
		if int(h.cpos) == last {
			continue
		}
		last = int(h.cpos)
		for k := int(h.cpos); k < int(h.cpos)+span; k++ {
			if k > int(h.cpos) {
				b = append(b, ' ')
			}
			b = append(b, sc.words.word(k)...)
		}
		ends = append(ends, len(b))
	}
	all := string(b)
	m.MatchedNgrams = make([]string, len(ends))
	start := 0
	for i, end := range ends {
		m.MatchedNgrams[i], start = all[start:end], end
	}
	return m
}
