package decontam

import (
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"", "Janet’s ducks lay 16 eggs", `$\left(\frac{1}{2}\right)$ \`, "\\", "1,000,000,", "芳芳买了99页", "ＡＢＣ",
	"e\u0301", "\xff\xfe", "2x^{10}y", `\sqrt{\pi}`, "İstanbul ß ǅ", "2πr√3×4≤Σ",
}

// FuzzNormalize: Normalize never panics, is idempotent, and yields single
// spaces between non-empty words of valid UTF-8 when given valid UTF-8.
func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if n2 := Normalize(n); n2 != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, n2)
		}
		if strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "  ") {
			t.Fatalf("bad spacing: %q", n)
		}
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Fatalf("invalid UTF-8 from %q: %q", s, n)
		}
	})
}

// FuzzNgrams: word hashes, computed while tokenizing, are wordHash of the
// words; n-gram hashes of a text match the hashes of its normalized words,
// however the text is spaced; and Check never panics.
func FuzzNgrams(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, 3)
	}
	ix, err := Build(tinySets, DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = 1 + (n%maxNgramSize+maxNgramSize)%maxNgramSize
		var a, b words
		a.tokenize(s)
		b.tokenize(strings.ReplaceAll(Normalize(s), " ", "\n\t "))
		if a.len() != b.len() {
			t.Fatalf("%d words vs %d after normalizing %q", a.len(), b.len(), s)
		}
		for i := range a.len() {
			if a.hashes[i] != wordHash(a.word(i)) {
				t.Fatalf("word %d %q of %q: hash %x, wordHash %x", i, a.word(i), s, a.hashes[i], wordHash(a.word(i)))
			}
		}
		pa, pb := prefixHashes(nil, a.hashes), prefixHashes(nil, b.hashes)
		for i := 0; i+n <= a.len(); i++ {
			if gramHash(pa, i, n) != gramHash(pb, i, n) {
				t.Fatalf("gram %d of %q differs", i, s)
			}
			if gramHash(pa, i, n) > gramMask {
				t.Fatal("gram hash wider than gramBits")
			}
		}
		for _, m := range ix.Check(s) {
			if m.Score <= 0 || m.Score > 1 {
				t.Fatalf("score %v", m.Score)
			}
		}
	})
}
