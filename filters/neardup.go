package filters

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ReasonNearDuplicate is the rejection reason of a prompt removed as a
// near-duplicate of another (dedup.near: remove).
const ReasonNearDuplicate = "near_duplicate"

// Near-duplicate detection defaults, measured on GSM8K train (see
// TestNearDupGSM8K): copies with a word changed, a clause appended or two
// sentences swapped score 0.64–0.95, while template siblings (the same
// story with other numbers) begin around 0.7.
const (
	// DefaultNearThreshold is the Jaccard similarity of word shingles at
	// or above which two prompts are near-duplicates.
	DefaultNearThreshold = 0.7
	// DefaultNearShingle is the shingle length in tokens.
	DefaultNearShingle = 3
	// DefaultNearBands and DefaultNearRows shape the LSH index: a
	// signature of Bands×Rows MinHash values, cut into Bands bands of Rows
	// values; two prompts are compared when any band is equal. The
	// chance a pair of similarity s becomes a candidate is
	// 1-(1-s^Rows)^Bands: 0.975 at s=0.7, 0.9997 at 0.8, 0.18 at 0.4.
	DefaultNearBands = 20
	DefaultNearRows  = 5
)

// NearDupOptions configure a NearDup; zero fields take the defaults.
type NearDupOptions struct {
	Threshold float64
	Shingle   int
	Bands     int
	Rows      int
}

// NearDup finds near-duplicate prompts: MinHash signatures over shingles
// of tokens of the prompt's DedupText, LSH banding to find candidate pairs,
// and the signatures' agreement (an estimate of the shingle sets' Jaccard
// similarity, standard error about 0.04 at 100 hash functions) to verify
// them.
//
// Tokens keep what makes a problem: a run of letters and digits (with the
// decimal point or thousands comma inside a number), a LaTeX command, and
// each other character (operator, sign, bracket, relation) on its own. The
// hashes are seeded constants, so a signature is the same on every worker
// and in every run: results do not depend on the runner.
//
// A pair found is "near"; whether one of the two may be removed as a copy
// of the other is SameProblem (see ProblemKeys): two prompts whose math
// tokens (numbers, operators, signs, brackets, relations, LaTeX commands)
// differ in value or order are different problems however similar their
// words ("Tom has 5 apples" and "Tom has 7 apples"), and are reported,
// never removed, unless one is the other's sentences reordered.
type NearDup struct {
	threshold            float64
	shingle, bands, rows int
	seeds                []uint64
}

// NewNearDup checks opts (nil means defaults) and returns a NearDup.
func NewNearDup(opts *NearDupOptions) (*NearDup, error) {
	o := NearDupOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Threshold == 0 {
		o.Threshold = DefaultNearThreshold
	}
	if o.Shingle == 0 {
		o.Shingle = DefaultNearShingle
	}
	if o.Bands == 0 {
		o.Bands = DefaultNearBands
	}
	if o.Rows == 0 {
		o.Rows = DefaultNearRows
	}
	if o.Threshold <= 0 || o.Threshold > 1 {
		return nil, fmt.Errorf("near-duplicate threshold must be in (0, 1], got %g", o.Threshold)
	}
	if o.Shingle < 1 || o.Bands < 1 || o.Rows < 1 || o.Bands*o.Rows > 1024 {
		return nil, fmt.Errorf("near-duplicate shingle, bands and rows must be >= 1 with bands×rows <= 1024, got %d, %d, %d", o.Shingle, o.Bands, o.Rows)
	}
	n := &NearDup{threshold: o.Threshold, shingle: o.Shingle, bands: o.Bands, rows: o.Rows}
	state := uint64(0x53796c6c61627573) // "Syllabus": fixed, so signatures are the same everywhere
	for range o.Bands * o.Rows {
		state += 0x9e3779b97f4a7c15
		n.seeds = append(n.seeds, mix64(state))
	}
	return n, nil
}

// Threshold is the similarity at or above which a pair is near.
func (n *NearDup) Threshold() float64 { return n.threshold }

// Signature is a prompt's MinHash signature: one minimum per hash function.
type Signature []uint32

// Signature computes text's MinHash signature.
func (n *NearDup) Signature(text string) Signature {
	sig := make(Signature, len(n.seeds))
	for i := range sig {
		sig[i] = ^uint32(0)
	}
	tokens := NearTokens(text)
	k := min(n.shingle, len(tokens))
	for i := 0; k > 0 && i+k <= len(tokens); i++ {
		x := uint64(fnvOffset)
		for _, t := range tokens[i : i+k] {
			x = fnvString(x, t)
		}
		for j, seed := range n.seeds {
			if v := uint32(mix64(x ^ seed)); v < sig[j] {
				sig[j] = v
			}
		}
	}
	return sig
}

// BandKeys are the LSH bucket keys of sig, one per band: two signatures
// sharing a key are a candidate pair. A key names its band, so equal
// values in different bands never collide.
func (n *NearDup) BandKeys(sig Signature) []string {
	keys := make([]string, n.bands)
	for b := range n.bands {
		var buf [10]byte
		binary.BigEndian.PutUint16(buf[:2], uint16(b))
		binary.BigEndian.PutUint64(buf[2:], n.bandHash(sig, b))
		keys[b] = hex.EncodeToString(buf[:])
	}
	return keys
}

func (n *NearDup) bandHash(sig Signature, b int) uint64 {
	x := uint64(fnvOffset)
	for _, v := range sig[b*n.rows : (b+1)*n.rows] {
		for range 4 {
			x = (x ^ uint64(v&0xff)) * fnvPrime
			v >>= 8
		}
	}
	return x
}

// FNV-1a, inlined: hash/fnv allocates per use.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(x uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		x = (x ^ uint64(s[i])) * fnvPrime
	}
	return x * fnvPrime // a zero byte after each token separates tokens
}

// FirstSharedBand is the first band in which a and b agree, or -1. A
// pair found in several buckets is handled only in this one, so it is
// counted once.
func (n *NearDup) FirstSharedBand(a, b Signature) int {
	for band := range n.bands {
		lo, hi := band*n.rows, (band+1)*n.rows
		if slices.Equal(a[lo:hi], b[lo:hi]) {
			return band
		}
	}
	return -1
}

// Near reports the estimated Jaccard similarity of a and b and whether it
// reaches the threshold.
func (n *NearDup) Near(a, b Signature) (float64, bool) {
	s := Similarity(a, b)
	return s, s >= n.threshold
}

// Similarity is the share of hash functions on which a and b agree: an
// unbiased estimate of the Jaccard similarity of their shingle sets.
func Similarity(a, b Signature) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / float64(len(a))
}

// NearPair is a near-duplicate pair found by Find: indexes A < B into the
// texts, their similarity, and whether they state the same problem (only
// then may one be removed as a copy of the other).
type NearPair struct {
	A, B        int
	Similarity  float64
	SameProblem bool
}

// Find returns every near-duplicate pair among texts, in order of A then
// B: the in-memory form of what the pipeline does with a GroupByKey per
// band, for tests, benchmarks and small inputs.
func (n *NearDup) Find(texts []string) []NearPair {
	sigs := make([]Signature, len(texts))
	keys := make([]ProblemKey, len(texts))
	type bucket struct {
		band int
		hash uint64
	}
	buckets := make(map[bucket][]int, len(texts)*n.bands)
	for i, t := range texts {
		sigs[i] = n.Signature(t)
		keys[i] = ProblemKeys(t)
		for b := range n.bands {
			k := bucket{b, n.bandHash(sigs[i], b)}
			buckets[k] = append(buckets[k], i)
		}
	}
	var pairs []NearPair
	for key, members := range buckets {
		band := key.band
		for x, a := range members {
			for _, b := range members[x+1:] {
				if n.FirstSharedBand(sigs[a], sigs[b]) != band {
					continue // counted in an earlier band
				}
				if s, ok := n.Near(sigs[a], sigs[b]); ok {
					pairs = append(pairs, NearPair{A: min(a, b), B: max(a, b), Similarity: s, SameProblem: keys[a].Same(keys[b])})
				}
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].A != pairs[j].A {
			return pairs[i].A < pairs[j].A
		}
		return pairs[i].B < pairs[j].B
	})
	return pairs
}

// NearTokens splits text into the tokens that shingles are made of,
// after folding what DedupText folds (Unicode form, case, spacing): runs
// of letters and digits (a number keeps its decimal point and thousands
// commas: "2.5", "1,000"), LaTeX commands ("\frac"), and every other
// character alone ("+", "-", "^", "(", "?"). Spaces only separate tokens,
// so "x^2 + 5x" and "x^2+5x" give the same tokens, while "$100. 10 weeks"
// and "$100.10 weeks" do not.
func NearTokens(text string) []string {
	s := strings.ToLower(norm.NFKC.String(text))
	var tokens []string
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
		case r == '\\':
			j := i + size
			for j < len(s) {
				c, n := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(c) {
					if j == i+size && !unicode.IsSpace(c) { // "\{", "\,": the backslash and one character
						j += n
					}
					break
				}
				j += n
			}
			tokens = append(tokens, s[i:j])
			i = j
		case isWordRune(r) || unicode.IsMark(r):
			j := i
			for j < len(s) {
				c, n := utf8.DecodeRuneInString(s[j:])
				if isWordRune(c) || unicode.IsMark(c) {
					j += n
					continue
				}
				// A point or comma between digits is part of the number.
				if (c == '.' || c == ',') && isDigitByte(s[j-1]) && j+1 < len(s) && isDigitByte(s[j+1]) {
					j += n
					continue
				}
				break
			}
			tokens = append(tokens, s[i:j])
			i = j
		default:
			tokens = append(tokens, s[i:i+size])
			i += size
		}
	}
	return tokens
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

// isMathToken reports whether a token carries mathematical content: a
// number (any token with a digit), a LaTeX command, or an operator, sign,
// bracket or relation. Prose punctuation (. , ; : ? ' " and the dollar
// of LaTeX math or of prices) is not.
func isMathToken(t string) bool {
	if strings.HasPrefix(t, "\\") {
		return true
	}
	r, size := utf8.DecodeRuneInString(t)
	if size == len(t) && !isWordRune(r) {
		return !strings.ContainsRune(".,;:?'\"$`", r)
	}
	return strings.IndexFunc(t, unicode.IsDigit) >= 0
}

// MathTokens are text's math tokens in order (see isMathToken): two
// prompts with different MathTokens are different problems.
func MathTokens(text string) []string {
	var out []string
	for _, t := range NearTokens(text) {
		if isMathToken(t) {
			out = append(out, t)
		}
	}
	return out
}

// ProblemKey tells, without carrying the texts, whether two near
// prompts state the same problem (Same).
type ProblemKey struct {
	// Math hashes MathTokens: numbers, operators, signs, brackets,
	// relations and LaTeX commands in order.
	Math uint64
	// Sentences hashes the sorted list of the text's sentences.
	Sentences uint64
}

// ProblemKeys computes text's ProblemKey.
func ProblemKeys(text string) ProblemKey {
	m := uint64(fnvOffset)
	for _, t := range MathTokens(text) {
		m = fnvString(m, t)
	}
	sentences := Sentences(text)
	sort.Strings(sentences)
	h := uint64(fnvOffset)
	for _, s := range sentences {
		h = fnvString(h, s)
	}
	return ProblemKey{Math: m, Sentences: h}
}

// Same reports whether two near prompts state the same problem: their
// math tokens are the same in the same order (the words around them may
// differ: "Josie received $50" and "Amanda received $50"), or one is the
// other's sentences in another order. "Tom has 5 apples. Ann has 7." and
// "Tom has 7 apples. Ann has 5." are not the same problem.
func (k ProblemKey) Same(o ProblemKey) bool { return k.Math == o.Math || k.Sentences == o.Sentences }

// Sentences splits text after each '.', '?' or '!' that ends a sentence
// (followed by a space or the end), each sentence in its DedupText form.
func Sentences(text string) []string {
	var out []string
	add := func(t string) {
		if t = DedupText(t); t != "" {
			out = append(out, t)
		}
	}
	start := 0
	for i := 0; i < len(text); i++ {
		if c := text[i]; (c == '.' || c == '?' || c == '!') && (i+1 == len(text) || unicode.IsSpace(rune(text[i+1]))) {
			add(text[start : i+1])
			start = i + 1
		}
	}
	add(text[start:])
	return out
}

// mix64 is SplitMix64's finalizer: a bijection that spreads every input
// bit over the output, used as a seeded hash function family.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
