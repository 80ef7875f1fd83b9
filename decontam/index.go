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

// Index holds the sampled n-grams of benchmark items in open-addressing
// hash tables of 32-bit keys. An Index is immutable once built and safe for
// concurrent use by any number of goroutines.
type Index struct {
	cfg   Config
	fp    *fingerprints
	parts []indexedPart
	// long holds the n-grams of parts of at least n words; it is probed
	// for every n-gram of a text.
	long   table
	ngrams int // distinct n-grams in long
	// posts holds the postings of the keys that have more than one (a
	// slot holds a key with one whole); postBase + i identifies posts[i]
	// in a hit, a slot's index a key with one posting.
	posts     []posting
	postBase  uint32
	nPostings int // all postings, for Stats
	// shortLens are the word counts, below n, of indexed parts shorter than
	// n; such parts match only in full, through short.
	shortLens []int
	short     table
}

// A table maps 32-bit keys to postings (linear probing, key 0 is empty).
// A slot holds its key and the key's first posting, so that a hit, which
// misses the cache in a text that holds benchmark items, reads one cache
// line, not a key and then a value in another array.
type table struct {
	slots []slot
	shift uint // 32 - log2(len(slots))
	// filter has the bit of every key set. For long it has at least 8
	// bits per key, so it is clear for about nine in ten n-grams of a
	// clean text, and is small (256 KB for the built-in fingerprints,
	// within a core's L2 cache), so most lookups stop there instead of
	// probing the table in memory. The short table is small and probed at
	// every position of a text for each short length: a sparse filter (64
	// bits per key) keeps its branch predictable.
	filter keyFilter
}

// A slot holds a key and, when the key has one posting (most do), the
// posting: v is its part<<8 | weight. Otherwise v is morePostings | the
// index in Index.posts of the first of the key's postings.
type slot struct {
	key, v uint32
}

const (
	morePostings = 1 << 31
	maxParts     = 1 << 23 // parts fit in v
)

// posting says an n-gram is in a part, with its weight (idfWeight units);
// last marks the last posting of a key.
type posting struct {
	part   uint32
	weight uint8
	last   bool
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
	if len(ix.parts) > maxParts {
		return nil, fmt.Errorf("decontam: %d benchmark questions and solutions to index, more than %d", len(ix.parts), maxParts)
	}
	for L := range short {
		ix.shortLens = append(ix.shortLens, L)
	}
	sort.Ints(ix.shortLens)
	// group sorts entries by key and fills a table with their postings,
	// dropping keys found in more than MaxItemsPerNgram items.
	group := func(entries []entry, filterBitsPerKey int) (t table, used int) {
		slices.SortFunc(entries, func(a, b entry) int {
			if c := cmp.Compare(a.key, b.key); c != 0 {
				return c
			}
			return cmp.Compare(a.part, b.part)
		})
		type kv struct{ key, v uint32 }
		var kept []kv
		for i := 0; i < len(entries); {
			j, items, last := i, 0, int32(-1)
			for ; j < len(entries) && entries[j].key == entries[i].key; j++ {
				if it := ix.parts[entries[j].part].item; it != last {
					items, last = items+1, it
				}
			}
			if items <= cfg.MaxItemsPerNgram {
				e := entries[i]
				v := e.part<<8 | uint32(e.weight)
				if j-i > 1 {
					v = morePostings | uint32(len(ix.posts))
					for k, e := range entries[i:j] {
						ix.posts = append(ix.posts, posting{e.part, e.weight, k == j-i-1})
					}
				}
				for _, e := range entries[i:j] {
					ix.parts[e.part].total += uint32(e.weight)
				}
				ix.nPostings += j - i
				kept = append(kept, kv{e.key, v})
			}
			i = j
		}
		// Load factor at most 3/4: a hit reads about 2.5 slots, nearly
		// always in one cache line; a miss, which the filter leaves to
		// about one n-gram in ten of a clean text, about 8.
		size, bits := 8, uint(3)
		for 3*size < 4*len(kept) {
			size, bits = size*2, bits+1
		}
		t = table{slots: make([]slot, size), shift: 32 - bits}
		for _, e := range kept {
			i := slotOf(e.key, t.shift)
			for t.slots[i].key != 0 {
				i = (i + 1) & uint32(size-1)
			}
			t.slots[i] = slot(e)
		}
		t.filter = newKeyFilter(t.slots, filterBitsPerKey*len(kept))
		return t, len(kept)
	}
	ix.long, ix.ngrams = group(entries, 8)
	ix.short, _ = group(shortEntries, 64)
	ix.postBase = uint32(max(len(ix.long.slots), len(ix.short.slots)))
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
// holding the keys of the non-empty slots.
func newKeyFilter(slots []slot, size int) keyFilter {
	f := keyFilter{shift: 32 - 6}
	for n := 64; n < size; n *= 2 {
		f.shift--
	}
	f.bits = make([]uint64, 1<<(32-f.shift)/64)
	for _, s := range slots {
		if k := s.key; k != 0 {
			b := f.bit(k)
			f.bits[b>>6] |= 1 << (b & 63)
		}
	}
	return f
}

// bit is key's bit. It uses other bits of the key than slotOf, so a filter
// hit does not predict a probe.
func (f keyFilter) bit(key uint32) uint32 { return key * filterMul >> f.shift }

const filterMul = 0x85EBCA77

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
		Postings: ix.nPostings,
		Bytes: int64(len(ix.long.slots)+len(ix.short.slots))*8 + int64(len(ix.long.filter.bits)+len(ix.short.filter.bits))*8 + int64(len(ix.posts))*8 +
			int64(len(ix.parts))*20,
	}
}

// scratch is the per-call working memory of Check, pooled.
type scratch struct {
	words words
	grams gramPrefix
	hits  []hit
	cands []candidate // lookup's buffer
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
	// ends, starts and buf are match's buffers; slab holds the
	// MatchedNgrams of the matches of one Check (Check clears it: the
	// matches own it).
	ends   []int
	starts []int
	buf    []byte
	slab   []string
}

type hit struct {
	part uint32 // indexed part
	post uint32 // identifies the posting, so the n-gram within the part (see Index.posts)
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
	sc.grams.set(&sc.words)
	sc.hits = sc.hits[:0]
	if ix.ngrams > 0 {
		ix.lookup(sc, &ix.long, ix.cfg.NgramSize, nwords, true)
	}
	for _, L := range ix.shortLens {
		ix.lookup(sc, &ix.short, L, nwords, false)
	}
	if !ix.keepScorable(sc) {
		return nil
	}
	sc.slab = nil
	ms := ix.score(sc)
	sc.slab = nil
	return ms
}

// lookup adds the hits of the L-word n-grams of the text in sc on t. It
// works in two passes so that the memory reads of one do not wait on each
// other: the first hashes every n-gram and keeps those whose filter bit is
// set (without a branch), the second probes the table for them, a loop
// short enough that the processor keeps many of its cache misses in flight.
func (ix *Index) lookup(sc *scratch, t *table, L, nwords int, masked bool) {
	m := nwords - L + 1
	if m <= 0 {
		return
	}
	cands := slices.Grow(sc.cands[:0], m)[:m]
	exact := sc.grams.exact[:nwords+1]
	// The n-grams of n words with maskedNumbers numbers take their hash
	// from masked (ngramKey), without a branch; the others, and all the
	// shorter runs of the short table, from exact.
	other, nums, maskNums := exact, sc.grams.nums[:nwords+1], int32(-1)
	if masked {
		other, maskNums = sc.grams.masked[:nwords+1], maskedNumbers
	}
	pow := rollPow[L]
	bits, fshift := t.filter.bits, t.filter.shift
	k := 0
	for i := range m {
		raw := exact[i+L] - exact[i]*pow
		if nums[i+L]-nums[i] == maskNums {
			raw = other[i+L] - other[i]*pow
		}
		key := gramKey(finishGram(raw, L))
		b := key * filterMul >> fshift
		cands[k] = candidate{key, uint32(i)}
		k += int(bits[b>>6] >> (b & 63) & 1)
	}
	// The found keys overwrite the candidates, each with its slot in
	// place of its key; their postings are read in a third pass, again
	// reads that do not wait on each other.
	slots, mask, shift := t.slots, uint32(len(t.slots)-1), t.shift
	found := cands[:0]
	for _, c := range cands[:k] {
		for s := slotOf(c.key, shift); slots[s].key != 0; s = (s + 1) & mask {
			if slots[s].key == c.key {
				found = append(found, candidate{s, c.pos})
				break
			}
		}
	}
	for _, f := range found {
		ix.addHits(sc, slots[f.key].v, f.key, f.pos)
	}
	sc.cands = cands
}

// A candidate is an n-gram of a text whose filter bit is set.
type candidate struct {
	key uint32
	pos uint32 // word index in the text
}

// addHits records the postings of the key in slot s (whose v is given) as
// hits at word cpos of the text.
func (ix *Index) addHits(sc *scratch, v, s, cpos uint32) {
	if v&morePostings == 0 {
		sc.hits = append(sc.hits, hit{v >> 8, s, cpos, v & 0xFF})
		return
	}
	for p := v &^ morePostings; ; p++ {
		q := ix.posts[p]
		sc.hits = append(sc.hits, hit{q.part, ix.postBase + p, cpos, uint32(q.weight)})
		if q.last {
			return
		}
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
	if n := int(ix.postBase) + len(ix.posts); len(sc.postCount) < n {
		sc.postCount = make([]uint16, n)
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
	// The reported n-grams start at these words, in text order.
	at := sc.ends[:0]
	defer func() { sc.ends = at }()
	for _, h := range hits {
		if len(at) == ix.cfg.MaxReportedNgrams {
			break
		}
		if len(at) == 0 || int(h.cpos) != at[len(at)-1] {
			at = append(at, int(h.cpos))
		}
	}
	// They are cut from one string: the words from the first reported to
	// the end of the last, joined by single spaces (each copied once; the
	// n-grams overlap), into the slab of strings the matches of this
	// Check share.
	w := &sc.words
	first, end := at[0], at[len(at)-1]+span
	starts := slices.Grow(sc.starts[:0], end-first)
	b := sc.buf[:0]
	for k := first; k < end; k++ {
		if k > first {
			b = append(b, ' ')
		}
		starts = append(starts, len(b))
		b = append(b, w.word(k)...)
	}
	all := string(b)
	sc.buf, sc.starts = b, starts
	if cap(sc.slab)-len(sc.slab) < len(at) {
		sc.slab = make([]string, 0, max(2*ix.cfg.MaxReportedNgrams, len(at)))
	}
	n := len(sc.slab)
	for _, p := range at {
		e := len(all)
		if p+span < end {
			e = starts[p+span-first] - 1
		}
		sc.slab = append(sc.slab, all[starts[p-first]:e])
	}
	m.MatchedNgrams = sc.slab[n:len(sc.slab):len(sc.slab)]
	return m
}
