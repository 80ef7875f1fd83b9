package decontam

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/bits-and-blooms/bloom/v3"
)

// Match is one benchmark item a text overlaps.
type Match struct {
	Benchmark   string  // set name, e.g. "gsm8k"
	BenchmarkID string  // the item's id within the set
	Score       float64 // fraction of the item's words covered by shared n-grams, in (0, 1]
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

// Index holds the n-grams of benchmark items: a bloom filter in front of an
// exact hash table, so a bloom false positive costs one table lookup and is
// never reported. An Index is immutable once built and safe for concurrent
// use by any number of goroutines.
type Index struct {
	cfg   Config
	fp    *fingerprints
	parts []indexedPart
	// table is an open-addressing hash table (linear probing) of the
	// distinct indexed n-gram hashes with their postings, so a lookup
	// touches one cache line, or two for an n-gram with several postings.
	table     []slot
	tableMask uint64
	ngrams    int // occupied slots
	nposts    int // postings, inline or in posts
	// posts are the postings of n-grams that have more than one.
	posts       []posting
	bloom       *bloom.BloomFilter
	bloomBlocks uint64 // 512-bit blocks
	bloomK      uint32
	// bloomWords are the filter's bits (bloom.BitSet().Bytes()), read
	// directly on the hot path.
	bloomWords []uint64
	// shortLens are the word counts, below n, of indexed parts shorter than
	// n; such parts match only in full.
	shortLens []int
	// shortTable is a small open-addressing table of the hashes of those
	// parts (the whole part is its one n-gram), probed for every run of
	// shortLens words of a text instead of the bloom filter and the big
	// table: there are few of them, so it stays in the L1 cache.
	shortTable []slot
	shortMask  uint64
}

// slot is an entry of an index table: an n-gram hash and where its
// postings are.
type slot struct {
	// key is the n-gram hash | slotUsed, | slotInline when the n-gram has
	// one posting; 0 is an empty slot.
	key uint64
	// a, b are the posting (part, pos) when inline, else the range
	// posts[a:b].
	a, b uint32
}

const (
	slotUsed   = 1 << 62
	slotInline = 1 << 63
)

func (s slot) gram() uint64 { return s.key & gramMask }

type indexedPart struct {
	item  int32 // index into fp.items
	words int32
	// minHits is the fewest hits on the part that can make a score at or
	// above the threshold: a chain of c hits covers at most c*min(n, words)
	// words. Parts with fewer hits are not scored.
	minHits int32
}

// posting says an n-gram starts at word pos of a part.
type posting struct {
	part uint32
	pos  uint32
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
		gram      uint64
		part, pos uint32
	}
	var entries []entry
	var kept []slot
	short := map[int]bool{}
	for _, p := range fp.parts {
		if int(p.words) < cfg.MinItemWords || p.kind == partSolution && !cfg.MatchSolutions {
			continue
		}
		part := uint32(len(ix.parts))
		ix.parts = append(ix.parts, indexedPart{item: p.item, words: p.words, minHits: minHits(int(p.words), cfg)})
		for pos, g := range p.grams {
			entries = append(entries, entry{g, part, uint32(pos)})
		}
		if int(p.words) < fp.n {
			short[int(p.words)] = true
		}
	}
	for L := range short {
		ix.shortLens = append(ix.shortLens, L)
	}
	sort.Ints(ix.shortLens)
	slices.SortFunc(entries, func(a, b entry) int {
		if c := cmp.Compare(a.gram, b.gram); c != 0 {
			return c
		}
		if c := cmp.Compare(a.part, b.part); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	for i := 0; i < len(entries); {
		j, items, last := i, 0, int32(-1)
		for ; j < len(entries) && entries[j].gram == entries[i].gram; j++ {
			if it := ix.parts[entries[j].part].item; it != last {
				items, last = items+1, it
			}
		}
		if items <= cfg.MaxItemsPerNgram {
			s := slot{key: entries[i].gram | slotUsed}
			if j == i+1 {
				s.key |= slotInline
				s.a, s.b = entries[i].part, entries[i].pos
			} else {
				s.a = uint32(len(ix.posts))
				for _, e := range entries[i:j] {
					ix.posts = append(ix.posts, posting{e.part, e.pos})
				}
				s.b = uint32(len(ix.posts))
			}
			kept = append(kept, s)
			ix.nposts += j - i
		}
		i = j
	}
	ix.ngrams = len(kept)
	// Load factor at most 2/3: a successful lookup reads 1.5 slots on
	// average, four to a cache line.
	ix.table, ix.tableMask = newTable(kept, len(kept)*3/2)
	ix.buildShortTable(fp)
	// The filter is sized by bloom/v3 from the data and the configured
	// false-positive rate, and stored in its bitset. Its keys are already
	// uniform hashes, so the bit locations come from them directly instead
	// of hashing them again with murmur3, and all k bits of a key lie in one
	// 512-bit block (one cache line), so a lookup touches one line instead
	// of k. Blocking costs a little false-positive rate at equal size, which
	// the 20% extra bits below pay back (TestBloomFalsePositiveRate).
	m, k := bloom.EstimateParameters(uint(max(ix.ngrams, 1)), cfg.BloomFalsePositiveRate)
	m = (m*6/5 + 511) / 512 * 512
	ix.bloom = bloom.New(min(m, 1<<40), min(k, 7)) // k*9 bits of one hash pick the bits in a block
	ix.bloomBlocks, ix.bloomK = uint64(ix.bloom.Cap()/512), uint32(ix.bloom.K())
	bits := ix.bloom.BitSet()
	ix.bloomWords = bits.Bytes()
	for _, s := range kept {
		block, h := ix.bloomHashes(s.gram())
		for i := uint32(0); i < ix.bloomK; i++ {
			bit := h & 511
			ix.bloomWords[block+bit>>6] |= 1 << (bit & 63)
			h >>= 9
		}
	}
	return ix, nil
}

// minHits returns the fewest hits on a part of the given number of words
// whose chain can score at or above cfg.Threshold with at least
// cfg.MinMatchedWords covered; it uses the same arithmetic as score, so
// skipping parts with fewer hits changes no result.
func minHits(words int, cfg Config) int32 {
	span := min(cfg.NgramSize, words)
	for c := 1; ; c++ {
		covered := min(c*span, words)
		if float64(covered)/float64(words) >= cfg.Threshold && covered >= min(cfg.MinMatchedWords, words) {
			return int32(c)
		}
		if covered == words {
			return int32(c) // score 1: every threshold in (0, 1] is met
		}
	}
}

// newTable returns an open-addressing table of slots with at least
// minSize entries (a power of two, at least 8), and its index mask.
func newTable(slots []slot, minSize int) ([]slot, uint64) {
	size := uint64(8)
	for size < uint64(minSize) {
		size <<= 1
	}
	table := make([]slot, size)
	mask := size - 1
	for _, s := range slots {
		i := s.gram() & mask
		for table[i].key != 0 {
			i = (i + 1) & mask
		}
		table[i] = s
	}
	return table, mask
}

// find returns the slot of n-gram hash g in table, or an empty slot.
func find(table []slot, mask, g uint64) slot {
	for i := g & mask; ; i = (i + 1) & mask {
		s := table[i]
		if s.key == 0 || s.key&(gramMask|slotUsed) == g|slotUsed {
			return s
		}
	}
}

// buildShortTable fills ix.shortTable with the indexed hashes of parts
// shorter than n words.
func (ix *Index) buildShortTable(fp *fingerprints) {
	var short []slot
	for _, p := range fp.parts {
		if int(p.words) >= fp.n || len(p.grams) != 1 {
			continue
		}
		if s := ix.lookup(p.grams[0]); s.key != 0 && !slices.Contains(short, s) {
			short = append(short, s)
		}
	}
	ix.shortTable, ix.shortMask = newTable(short, 4*len(short))
}

// bloomHashes returns the first word of g's block and the hash whose 9-bit
// slices pick g's bits in it.
func (ix *Index) bloomHashes(g uint64) (block uint64, h uint64) {
	return (g & 0xFFFFFFFF) * ix.bloomBlocks >> 32 * 8, mix64(g)
}

// bloomHas reports whether g may be indexed (false: certainly not).
func (ix *Index) bloomHas(g uint64) bool {
	block, h := ix.bloomHashes(g)
	words := ix.bloomWords[block : block+8]
	for i := uint32(0); i < ix.bloomK; i++ {
		bit := h & 511
		if words[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
		h >>= 9
	}
	return true
}

// lookup returns the slot of g in the index, or an empty slot.
func (ix *Index) lookup(g uint64) slot { return find(ix.table, ix.tableMask, g) }

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
	Items       int // benchmark items
	Parts       int // indexed questions and solutions
	Ngrams      int // distinct indexed n-grams
	Postings    int // (n-gram, item, position) entries
	BloomBits   uint
	BloomHashes uint
	// BloomFalsePositiveRate is the bloom filter's false-positive rate,
	// measured on keys not in the index (a false positive only costs an
	// exact lookup, it is never reported).
	BloomFalsePositiveRate float64
	// Bytes is the memory the index's lookup structures hold.
	Bytes int64
}

// Stats reports the index's size.
func (ix *Index) Stats() IndexStats {
	s := IndexStats{
		Items:       len(ix.fp.items),
		Parts:       len(ix.parts),
		Ngrams:      ix.ngrams,
		Postings:    ix.nposts,
		BloomBits:   ix.bloom.Cap(),
		BloomHashes: ix.bloom.K(),
	}
	s.BloomFalsePositiveRate = ix.measureFalsePositiveRate(100_000)
	s.Bytes = int64(len(ix.table))*16 + int64(len(ix.posts))*8 + int64(len(ix.shortTable))*16 +
		int64(len(ix.parts))*12 + int64(s.BloomBits/8)
	return s
}

// measureFalsePositiveRate tests the bloom filter with n pseudo-random keys
// that are not indexed.
func (ix *Index) measureFalsePositiveRate(n int) float64 {
	fp, tested := 0, 0
	for i := uint64(1); tested < n; i++ {
		g := mix64(i*0x9E3779B97F4A7C15) & gramMask
		if ix.lookup(g).key != 0 {
			continue
		}
		tested++
		if ix.bloomHas(g) {
			fp++
		}
	}
	return float64(fp) / float64(n)
}

// scratch is the per-call working memory of Check, pooled.
type scratch struct {
	words  words
	prefix []uint64
	hits   []hit
	chain  []hit
	best   []hit
	tails  []int32
	parent []int32
	// partHits[p] counts the hits on part p during one Check (zero between
	// calls); touched lists the parts with hits.
	partHits []int32
	touched  []uint32
}

type hit struct {
	part, pos uint32 // where in the benchmark part
	cpos      uint32 // where in the checked text
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// Check returns the benchmark items text overlaps with a score at or above
// the threshold, best first (ties by benchmark and id); nil when clean.
func (ix *Index) Check(text string) []Match {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.words.tokenize(text)
	nwords := sc.words.len()
	if nwords == 0 || ix.ngrams == 0 {
		return nil
	}
	sc.prefix = prefixHashes(sc.prefix, sc.words.hashes)
	sc.hits = sc.hits[:0]
	n := ix.cfg.NgramSize
	for i := 0; i+n <= nwords; i++ {
		g := gramHash(sc.prefix, i, n)
		if !ix.bloomHas(g) {
			continue
		}
		if s := ix.lookup(g); s.key != 0 {
			ix.addHits(sc, s, i)
		}
	}
	for _, L := range ix.shortLens {
		for i := 0; i+L <= nwords; i++ {
			if s := find(ix.shortTable, ix.shortMask, gramHash(sc.prefix, i, L)); s.key != 0 {
				ix.addHits(sc, s, i)
			}
		}
	}
	if !ix.keepScorable(sc) {
		return nil
	}
	return ix.score(sc)
}

// addHits records the postings of s as hits at word cpos of the text.
func (ix *Index) addHits(sc *scratch, s slot, cpos int) {
	if s.key&slotInline != 0 {
		sc.hits = append(sc.hits, hit{s.a, s.b, uint32(cpos)})
		return
	}
	for _, p := range ix.posts[s.a:s.b] {
		sc.hits = append(sc.hits, hit{p.part, p.pos, uint32(cpos)})
	}
}

// keepScorable drops the hits on parts with fewer hits than their minHits,
// which cannot score at or above the threshold, and reports whether any hit
// is left. Most texts are clean and stop here, before the sort.
func (ix *Index) keepScorable(sc *scratch) bool {
	if len(sc.hits) == 0 {
		return false
	}
	if len(sc.partHits) < len(ix.parts) {
		sc.partHits = make([]int32, len(ix.parts))
	}
	sc.touched = sc.touched[:0]
	for _, h := range sc.hits {
		if sc.partHits[h.part] == 0 {
			sc.touched = append(sc.touched, h.part)
		}
		sc.partHits[h.part]++
	}
	scorable := false
	for _, p := range sc.touched {
		if sc.partHits[p] >= ix.parts[p].minHits {
			scorable = true
			break
		}
	}
	if scorable {
		kept := sc.hits[:0]
		for _, h := range sc.hits {
			if sc.partHits[h.part] >= ix.parts[h.part].minHits {
				kept = append(kept, h)
			}
		}
		sc.hits = kept
	}
	for _, p := range sc.touched {
		sc.partHits[p] = 0
	}
	return scorable
}

// score turns hits into matches. Per benchmark part, the hits are chained:
// the longest run of hits that advance together in the part and in the text
// (a longest increasing subsequence), so one phrase of the text cannot count
// for several places of the part, and repeated phrases count once. The
// part's score is the fraction of its words the chain covers; an item's is
// its best part's.
func (ix *Index) score(sc *scratch) []Match {
	hits := sc.hits
	slices.SortFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(a.part, b.part); c != 0 {
			return c
		}
		if c := cmp.Compare(a.pos, b.pos); c != 0 {
			return c
		}
		return cmp.Compare(b.cpos, a.cpos) // at most one hit per pos in a chain
	})
	var matches []Match
	curItem, best := int32(-1), 0.0
	flush := func() {
		if curItem >= 0 && best >= ix.cfg.Threshold {
			matches = append(matches, ix.match(sc, curItem, best))
		}
	}
	for i := 0; i < len(hits); {
		j := i + 1
		for j < len(hits) && hits[j].part == hits[i].part {
			j++
		}
		part := ix.parts[hits[i].part]
		span := uint32(min(ix.cfg.NgramSize, int(part.words)))
		chain := sc.chainOf(hits[i:j])
		covered, end := uint32(0), uint32(0)
		for _, h := range chain {
			if e := h.pos + span; e > end {
				covered += e - max(h.pos, end)
				end = e
			}
		}
		score := float64(covered) / float64(part.words)
		if covered < uint32(min(ix.cfg.MinMatchedWords, int(part.words))) {
			score = 0
		}
		if part.item != curItem {
			flush()
			curItem, best = part.item, -1
		}
		if score > best {
			best = score
			sc.best = append(sc.best[:0], chain...)
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

// chainOf returns the longest subsequence of hits (sorted by pos, then cpos
// descending) whose pos and cpos both strictly increase.
func (sc *scratch) chainOf(hits []hit) []hit {
	if len(hits) == 1 {
		sc.chain = append(sc.chain[:0], hits[0])
		return sc.chain
	}
	// Patience sorting: tails[k] is the index of the hit ending the best
	// chain of length k+1 found so far; parent links chains back.
	sc.tails = sc.tails[:0]
	sc.parent = slices.Grow(sc.parent[:0], len(hits))[:len(hits)]
	for i, h := range hits {
		k, _ := slices.BinarySearchFunc(sc.tails, h.cpos, func(t int32, c uint32) int {
			return cmp.Compare(hits[t].cpos, c)
		})
		if k > 0 {
			sc.parent[i] = sc.tails[k-1]
		} else {
			sc.parent[i] = -1
		}
		if k == len(sc.tails) {
			sc.tails = append(sc.tails, int32(i))
		} else {
			sc.tails[k] = int32(i)
		}
	}
	sc.chain = sc.chain[:0]
	for t := sc.tails[len(sc.tails)-1]; t >= 0; t = sc.parent[t] {
		sc.chain = append(sc.chain, hits[t])
	}
	slices.Reverse(sc.chain)
	return sc.chain
}

func (ix *Index) match(sc *scratch, item int32, score float64) Match {
	meta := ix.fp.items[item]
	m := Match{Benchmark: ix.fp.sets[meta.set].Name, BenchmarkID: meta.id, Score: score}
	if ix.cfg.MaxReportedNgrams == 0 || len(sc.best) == 0 {
		return m
	}
	span := min(ix.cfg.NgramSize, int(ix.parts[sc.best[0].part].words))
	for _, h := range sc.best[:min(len(sc.best), ix.cfg.MaxReportedNgrams)] {
		m.MatchedNgrams = append(m.MatchedNgrams, sc.words.join(int(h.cpos), int(h.cpos)+span))
	}
	return m
}
