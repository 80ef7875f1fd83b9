package decontam

import "slices"

// Hashes are part of the fingerprint format: changing any constant or step
// here (or in Normalize) changes every fingerprint, and the freshness test
// fails until decontam/fingerprints.bin is regenerated.

const (
	fnvOffset = 14695039346656037925
	fnvPrime  = 1099511628211
	// rollBase is the base of the polynomial over word hashes that makes an
	// n-gram hash; odd, so multiplication by it is invertible mod 2^64.
	rollBase = 0x9E3779B97F4A7C15
	lenSalt  = 0xC2B2AE3D27D4EB4F
)

// mix64 is the splitmix64 finalizer: a bijection that spreads every input
// bit over the output.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return x
}

// wordHash hashes one normalized word (FNV-1a, then mixed).
func wordHash(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return mix64(h)
}

// Numbers are masked in the n-grams of n words that hold exactly
// maskedNumbers (two) of them: such an n-gram is hashed with one
// placeholder, numberHash, in place of each number, so "x 2 y 3 find" and
// "x 5 y 17 find" are one n-gram, and a copy of a formula item with a
// number changed still matches. Two numbers in five
// words is a formula or a list of quantities, where a changed number would
// otherwise break every n-gram there is (short College Math, CARP and
// MATH-500 items). Every other n-gram is hashed with its numbers as they
// are; the choice was made on TestRecall's tuning half and the clean sets
// (see the package documentation for the figures):
//
//   - one number: word problems say most things with one number ("a length
//     of 3 inches", "10 years from now"); masked too (one or two numbers),
//     those become stock phrases: number-changed recall is 0.981/0.981
//     (tuning/held-out), but two clean recorded MATH questions are flagged
//     ("What is the least common multiple of 51, 68 and 85?" as MMLU-STEM's
//     "... of 4 and 10?", a rectangle "with a length of 6 inches and a width
//     of 10 inches" as an ASDiv one-sentence item), GSM8K-train prompts
//     flagged grow from 6 to 21 (12 of them unreviewed, so false positives
//     to the test), and
//     the attack of TestFingerprintAttack, which seeds with GSM8K-train
//     n-grams, rebuilds 6.1% of the GSM8K words and 6.7% of SVAMP's, over
//     its 5% gate. Word problems do not need it: the n-grams between their
//     numbers carry the match (GSM8K, SVAMP and ASDiv number-changed recall
//     is 0.99 to 1.00 without any masking);
//   - three or more numbers ("simplify 10 8 n 5", "the expression 2 3 4") is
//     mostly numbers: masked, it is any exercise of that shape. Masking
//     three as well lifts number-changed recall to 0.976/0.989 but flags
//     two clean recorded MATH questions as MATH-500 prealgebra/1747 ("What
//     is .0\overline{3} \div .\overline{03}?" is "what is 0 3 03"), and
//     ranks unrelated College Math items first for a MATH-500 one;
//
// Parts shorter than n words are keyed whole, numbers as they are.
const maskedNumbers = 2

// numberHash stands for every number in a masked n-gram: the wordHash of
// "#", which Normalize never yields as a word.
var numberHash = wordHash([]byte("#"))

// gramPrefix holds the prefix hashes that key any run of a text's words.
// It is reused across texts.
type gramPrefix struct {
	exact  []uint64 // prefixHashes of the word hashes
	masked []uint64 // the same with numberHash for every number
	nums   []int32  // nums[k] is the count of numbers among the first k words
}

// set computes the prefix hashes of w's words.
func (g *gramPrefix) set(w *words) {
	n := len(w.hashes)
	exact := slices.Grow(g.exact[:0], n+1)[:n+1]
	masked := slices.Grow(g.masked[:0], n+1)[:n+1]
	nums := slices.Grow(g.nums[:0], n+1)[:n+1]
	number := w.number[:n]
	var e, m uint64
	var c int32
	exact[0], masked[0], nums[0] = 0, 0, 0
	for i, h := range w.hashes {
		e = e*rollBase + h
		mh := h
		if number[i] {
			mh = numberHash
			c++
		}
		m = m*rollBase + mh
		exact[i+1], masked[i+1], nums[i+1] = e, m, c
	}
	g.exact, g.masked, g.nums = exact, masked, nums
}

// exactKey is the key of the L words at word i, numbers as they are.
func (g *gramPrefix) exactKey(i, L int) uint32 { return gramKey(gramHash(g.exact, i, L)) }

// ngramKey is the key of the n-gram (n = L) at word i: its numbers masked
// when it holds maskedNumbers of them.
func (g *gramPrefix) ngramKey(i, L int) uint32 {
	p := g.exact
	if g.nums[i+L]-g.nums[i] == maskedNumbers {
		p = g.masked
	}
	return gramKey(gramHash(p, i, L))
}

// rollPow[L] is rollBase^L mod 2^64.
var rollPow = func() [maxNgramSize + 1]uint64 {
	var p [maxNgramSize + 1]uint64
	p[0] = 1
	for i := 1; i <= maxNgramSize; i++ {
		p[i] = p[i-1] * rollBase
	}
	return p
}()

// prefixHashes sets prefix[k] to the polynomial hash of the first k words, so
// that gramHash can hash any run of words in O(1).
func prefixHashes(prefix []uint64, hashes []uint64) []uint64 {
	prefix = append(prefix[:0], 0)
	var s uint64
	for _, h := range hashes {
		s = s*rollBase + h
		prefix = append(prefix, s)
	}
	return prefix
}

// gramBits is the width of n-gram hashes as computed; gramKey keeps 32 of
// those bits in the fingerprints and the index. With under a million indexed
// n-grams, a text's n-gram equals one by chance with probability below
// 2.4e-4, and a match needs rare n-grams of one item together in a window,
// so chance collisions do not produce reports.
const (
	gramBits = 48
	gramMask = 1<<gramBits - 1
)

// gramKey is the 32-bit key of an n-gram hash, never 0 (an empty table slot).
func gramKey(g uint64) uint32 {
	if k := uint32(g); k != 0 {
		return k
	}
	return 1
}

// gramHash is the hash of the L words starting at word i, given prefix from
// prefixHashes. L <= maxNgramSize.
func gramHash(prefix []uint64, i, L int) uint64 {
	return finishGram(prefix[i+L]-prefix[i]*rollPow[L], L)
}

// finishGram turns the polynomial over the word hashes of L words into their
// n-gram hash.
func finishGram(raw uint64, L int) uint64 {
	return mix64(raw^uint64(L)*lenSalt) & gramMask
}
