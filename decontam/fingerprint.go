package decontam

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// fingerprints are what the index is built from: per benchmark item, a
// sample of its n-gram hashes with their rarity weights, and metadata. They
// hold no benchmark text, and not enough of each item's n-grams, nor their
// order, to rebuild it (TestFingerprintAttack), so they can ship inside the
// binary (see Builtin) and be merged.
type fingerprints struct {
	n     int
	sets  []BenchmarkInfo
	items []itemMeta
	parts []partPrint
}

type itemMeta struct {
	set int32 // index into sets
	id  string
}

// A part is the question or the solution of an item.
type partPrint struct {
	item  int32 // index into items
	kind  partKind
	words int32 // normalized words
	// grams are the part's sampled n-gram keys (see sampleGrams), ascending,
	// or, when the part is shorter than n words, the one key of all its
	// words. weights[i] is the rarity of grams[i] (see idfWeight).
	grams   []uint32
	weights []uint8
}

type partKind uint8

const (
	partQuestion partKind = iota
	partSolution
)

// Sampling: a part's n-grams, in text order, are cut into blocks of
// sampleBlock(m) consecutive positions, and each block keeps its rarest
// n-gram (fewest items, then smallest key) that does not overlap the
// previously kept one by n-1 words (so no two kept n-grams are neighbours
// and one-word chaining cannot join them; TestFingerprintAttack). Every part
// of an item is covered, so a copy truncated to 70% keeps about 70% of the
// sample, and a changed number, which breaks at most n consecutive n-grams,
// breaks at most two kept ones. The checked text is not sampled: every one of
// its n-grams is looked up, so any kept n-gram of an item the text contains
// is found.
const (
	// maxBlock is the block of parts of at least 5*maxBlock n-grams (a
	// fifth kept); shorter parts use smaller blocks to keep about
	// minSample n-grams, down to blocks of minBlock.
	maxBlock  = 5
	minBlock  = 2
	minSample = 8
)

// sampleBlock is the block size for a part of m n-grams.
func sampleBlock(m int) int {
	return min(max(m/minSample, minBlock), maxBlock)
}

// idfWeight quantizes the inverse document frequency ln(items/df) of an
// n-gram found in df of the corpus's items to 1/16ths, at least 1.
func idfWeight(items, df int) uint8 {
	w := math.Round(16 * math.Log(float64(items)/float64(df)))
	return uint8(min(max(w, 1), 255))
}

// fingerprint normalizes and hashes benchmark text, and samples and weighs
// the n-grams by their rarity across all items of sets.
func fingerprint(sets []Benchmark, n int) *fingerprints {
	fp := &fingerprints{n: n}
	var w words
	var g gramPrefix
	var all [][]uint32 // n-gram keys of each part in text order, as fp.parts
	for _, b := range sets {
		set := int32(len(fp.sets))
		fp.sets = append(fp.sets, BenchmarkInfo{Name: b.Name, Version: b.Version, Items: len(b.Items)})
		for _, it := range b.Items {
			item := int32(len(fp.items))
			fp.items = append(fp.items, itemMeta{set: set, id: it.ID})
			for kind, text := range [...]string{partQuestion: it.Question, partSolution: it.Solution} {
				w.tokenize(text)
				if w.len() == 0 {
					continue
				}
				g.set(&w)
				var keys []uint32 // in text order
				if w.len() < n {
					keys = []uint32{g.exactKey(0, w.len())}
				} else {
					keys = make([]uint32, w.len()-n+1)
					for i := range keys {
						keys[i] = g.ngramKey(i, n)
					}
				}
				all = append(all, keys)
				fp.parts = append(fp.parts, partPrint{item: item, kind: partKind(kind), words: int32(w.len())})
			}
		}
	}
	// Document frequency: the number of items with the n-gram in a part.
	df := map[uint32]int32{}
	lastItem := map[uint32]int32{} // a key repeated within an item counts once
	for i, keys := range all {
		it := fp.parts[i].item
		for _, k := range keys {
			if last, ok := lastItem[k]; !ok || last != it {
				df[k]++
				lastItem[k] = it
			}
		}
	}
	for i, keys := range all {
		p := &fp.parts[i]
		p.grams = sampleGrams(keys, n, func(k uint32) int { return int(df[k]) })
		p.weights = make([]uint8, len(p.grams))
		for j, k := range p.grams {
			p.weights[j] = idfWeight(len(fp.items), int(df[k]))
		}
	}
	return fp
}

// sampleGrams returns the sample of a part's n-gram keys (in text order)
// that the fingerprints keep, distinct and ascending (see sampleBlock).
func sampleGrams(keys []uint32, n int, df func(uint32) int) []uint32 {
	block := sampleBlock(len(keys))
	out := make([]uint32, 0, (len(keys)+block-1)/block)
	last := -n // position of the last kept n-gram
	for start := 0; start < len(keys); start += block {
		best, bestDF := -1, 0
		for i := max(start, last+2); i < min(start+block, len(keys)); i++ {
			d := df(keys[i])
			if best < 0 || d < bestDF || d == bestDF && keys[i] < keys[best] {
				best, bestDF = i, d
			}
		}
		if best >= 0 {
			out = append(out, keys[best])
			last = best
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// merge returns fp with the sets of other added; a set of other replaces a
// set of fp with the same name.
func (fp *fingerprints) merge(other *fingerprints) (*fingerprints, error) {
	if fp.n != other.n {
		return nil, fmt.Errorf("%w: merging %d-gram and %d-gram fingerprints", ErrNgramSize, fp.n, other.n)
	}
	replaced := map[string]bool{}
	for _, s := range other.sets {
		replaced[s.Name] = true
	}
	out := &fingerprints{n: fp.n}
	for _, src := range []*fingerprints{fp, other} {
		setMap := make([]int32, len(src.sets))
		for i, s := range src.sets {
			setMap[i] = -1
			if src == fp && replaced[s.Name] {
				continue
			}
			setMap[i] = int32(len(out.sets))
			out.sets = append(out.sets, s)
		}
		itemMap := make([]int32, len(src.items))
		for i, it := range src.items {
			itemMap[i] = -1
			if setMap[it.set] < 0 {
				continue
			}
			itemMap[i] = int32(len(out.items))
			out.items = append(out.items, itemMeta{set: setMap[it.set], id: it.id})
		}
		for _, p := range src.parts {
			if itemMap[p.item] < 0 {
				continue
			}
			p.item = itemMap[p.item]
			out.parts = append(out.parts, p)
		}
	}
	return out, nil
}

// ErrNgramSize is returned when fingerprints made with one n-gram size are
// used with another.
var ErrNgramSize = errors.New("decontam: n-gram size mismatch")

// ErrFingerprintFormat is returned for a fingerprint file this version cannot read.
var ErrFingerprintFormat = errors.New("decontam: bad fingerprint file")

const fingerprintMagic = "syllabus-decontam-fingerprints-v3\n"

// WriteFingerprints writes the fingerprints of sets, for n-grams of n words,
// in the format Builtin embeds and LoadFingerprints reads: gzip over a magic
// line, then varints. The file holds set names, versions and item ids; per
// question and solution its word count and a sample of its n-grams as
// 32-bit hashes, ascending (so not in text order), each with a one-byte
// rarity weight; no text. See the package documentation for what that
// reveals.
func WriteFingerprints(w io.Writer, sets []Benchmark, n int) error {
	if n < 1 || n > maxNgramSize {
		return fmt.Errorf("%w: n = %d", ErrNgramSize, n)
	}
	return fingerprint(sets, n).write(w)
}

func (fp *fingerprints) write(w io.Writer) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(zw)
	var buf [binary.MaxVarintLen64]byte
	uvarint := func(x uint64) { bw.Write(buf[:binary.PutUvarint(buf[:], x)]) }
	str := func(s string) { uvarint(uint64(len(s))); bw.WriteString(s) }
	bw.WriteString(fingerprintMagic)
	uvarint(uint64(fp.n))
	uvarint(uint64(len(fp.sets)))
	for _, s := range fp.sets {
		str(s.Name)
		str(s.Version)
		uvarint(uint64(s.Items))
	}
	uvarint(uint64(len(fp.items)))
	for _, it := range fp.items {
		uvarint(uint64(it.set))
		str(it.id)
	}
	uvarint(uint64(len(fp.parts)))
	for _, p := range fp.parts {
		uvarint(uint64(p.item))
		uvarint(uint64(p.kind))
		uvarint(uint64(p.words))
		uvarint(uint64(len(p.grams)))
		prev := uint32(0)
		for _, g := range p.grams {
			uvarint(uint64(g - prev))
			prev = g
		}
		bw.Write(p.weights)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

func readFingerprints(r io.Reader) (fp *fingerprints, err error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFingerprintFormat, err)
	}
	br := bufio.NewReader(zr)
	magic := make([]byte, len(fingerprintMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != fingerprintMagic {
		return nil, fmt.Errorf("%w: not a v3 fingerprint file (regenerate it with decontam/cmd/fingerprints)", ErrFingerprintFormat)
	}
	var readErr error
	uvarint := func(limit uint64) uint64 {
		if readErr != nil {
			return 0
		}
		x, err := binary.ReadUvarint(br)
		if err != nil {
			readErr = err
		} else if x > limit {
			readErr = fmt.Errorf("value %d out of range", x)
		}
		return x
	}
	str := func() string {
		n := uvarint(1 << 20)
		if readErr != nil {
			return ""
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			readErr = err
		}
		return string(b)
	}
	fp = &fingerprints{n: int(uvarint(maxNgramSize))}
	if fp.n < 1 && readErr == nil {
		readErr = errors.New("n-gram size 0")
	}
	nsets := uvarint(1 << 16)
	for i := uint64(0); i < nsets && readErr == nil; i++ {
		fp.sets = append(fp.sets, BenchmarkInfo{Name: str(), Version: str(), Items: int(uvarint(1 << 31))})
	}
	nitems := uvarint(1 << 31)
	for i := uint64(0); i < nitems && readErr == nil; i++ {
		fp.items = append(fp.items, itemMeta{set: int32(uvarint(nsets - 1)), id: str()})
	}
	nparts := uvarint(1 << 31)
	for i := uint64(0); i < nparts && readErr == nil; i++ {
		p := partPrint{item: int32(uvarint(nitems - 1)), kind: partKind(uvarint(1)), words: int32(uvarint(1 << 30))}
		ngrams := int(uvarint(uint64(max(p.words, 1))))
		if (p.words < 1 || ngrams < 1) && readErr == nil {
			readErr = errors.New("part with no words or no n-grams")
		}
		if readErr != nil {
			break
		}
		p.grams = make([]uint32, ngrams)
		prev := uint64(0)
		for j := range p.grams {
			d := uvarint(math.MaxUint32)
			if j > 0 && d == 0 && readErr == nil {
				readErr = errors.New("n-gram keys not ascending")
			}
			prev += d
			if prev > math.MaxUint32 && readErr == nil {
				readErr = errors.New("n-gram key out of range")
			}
			p.grams[j] = uint32(prev)
		}
		p.weights = make([]uint8, ngrams)
		if readErr == nil {
			if _, err := io.ReadFull(br, p.weights); err != nil {
				readErr = err
			}
		}
		fp.parts = append(fp.parts, p)
	}
	if readErr == nil {
		readErr = fp.check()
	}
	if readErr != nil {
		return nil, fmt.Errorf("%w: %v", ErrFingerprintFormat, readErr)
	}
	return fp, nil
}

// check reports references out of range.
func (fp *fingerprints) check() error {
	for _, it := range fp.items {
		if it.set < 0 || int(it.set) >= len(fp.sets) {
			return fmt.Errorf("item %q: set %d out of range", it.id, it.set)
		}
	}
	for _, p := range fp.parts {
		if p.item < 0 || int(p.item) >= len(fp.items) {
			return fmt.Errorf("part: item %d out of range", p.item)
		}
		if !slices.IsSortedFunc(p.grams, cmp.Compare[uint32]) {
			return errors.New("part: n-gram keys not ascending")
		}
	}
	return nil
}

// LoadFingerprints builds an index from a fingerprint file written by
// WriteFingerprints. cfg.NgramSize must be the file's n.
func LoadFingerprints(r io.Reader, cfg Config) (*Index, error) {
	fp, err := readFingerprints(r)
	if err != nil {
		return nil, err
	}
	return build(fp, cfg)
}
