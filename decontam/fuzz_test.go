package decontam

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var fuzzSeeds = []string{
	"", "Janet’s ducks lay 16 eggs", `$\left(\frac{1}{2}\right)$ \`, "\\", "1,000,000,", "芳芳买了99页", "ＡＢＣ",
	"e\u0301", "a \u0301b", "x\u0308\u0323y", "\u1100\u1161\u11a8 k\u1161", "ﬁ Ⅻ ½ 1\u2044", "\xff\xfe", "2x^{10}y", `\sqrt{\pi}`, "İstanbul ß ǅ", "2πr√3×4≤Σ",
}

// FuzzNormalize: Normalize never panics, is idempotent, and yields single
// spaces between non-empty words of valid UTF-8 when given valid UTF-8; nfkc,
// which checks only the non-ASCII runs of a text, agrees with norm.NFKC.
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
		if utf8.ValidString(s) {
			if got, want := nfkc(s), norm.NFKC.String(s); got != want {
				t.Fatalf("nfkc(%q) = %q, norm.NFKC gives %q", s, got, want)
			}
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

// TestNFKCAgreesWithNorm: nfkc gives what norm.NFKC.String gives on random
// mixes of ASCII and the characters that change under NFKC or combine
// with their neighbours (combining marks, Hangul jamo, compatibility forms,
// CJK), 20,000 of them.
func TestNFKCAgreesWithNorm(t *testing.T) {
	alphabet := []rune("ab Z1,\\\u0301\u0308\u0323\u0345\u1100\u1161\u11a8\u3099\u304b\uac00ﬁⅫ½\u2044ＡÅé\u212b\u0f73\u09cb漢。")
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		rs := make([]rune, r.IntN(12))
		for i := range rs {
			rs[i] = alphabet[r.IntN(len(alphabet))]
		}
		s := string(rs)
		if got, want := nfkc(s), norm.NFKC.String(s); got != want {
			t.Fatalf("nfkc(%q) = %q, norm.NFKC gives %q", s, got, want)
		}
	}
}
