package decontam

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
	raw := prefix[i+L] - prefix[i]*rollPow[L]
	return mix64(raw^uint64(L)*lenSalt) & gramMask
}
