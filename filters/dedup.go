package filters

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// DedupText is the form of a prompt that exact deduplication compares: two
// prompts with the same DedupText are one prompt.
//
// It folds only what never changes a problem: Unicode compatibility forms
// (NFKC: full-width digits, ligatures, non-breaking spaces), letter case,
// and whitespace (runs become one space; a space next to anything but a
// letter or digit goes, so "x^2 + 5x" and "x^2+5x" are one text while
// "12 3" and "123" stay two). It keeps every operator, sign, digit,
// exponent, bracket, relation and LaTeX command: "4-(-1)" and "(-4)+(-1)",
// "2^{10}" and "2^{-10}", "7 > 5" and "7 < 5" stay apart.
func DedupText(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	var b strings.Builder
	b.Grow(len(s))
	space := false // a space is pending between two runs
	var prev rune  // the last rune written
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space && isWordRune(prev) && isWordRune(r) {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
