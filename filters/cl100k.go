package filters

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// bpeCounter counts cl100k_base tokens without tiktoken-go's regular
// expression. tiktoken-go splits text into pieces with a backtracking
// regexp (dlclark/regexp2) of cl100k_base's pattern
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// which was most of the CPU time of curation; cl100kPiece finds the same
// pieces by hand, and count merges each piece by the BPE ranks as tiktoken
// does. Counts equal tiktoken-go's (TestCL100KCountsMatchTiktoken and
// FuzzCL100KCount check every recorded response and fuzzed text).
type bpeCounter struct {
	ranks map[string]int
}

// count returns the number of tokens of text, which must be valid UTF-8
// (tiktoken-go reads invalid bytes as U+FFFD; Count leaves such text to it).
func (c *bpeCounter) count(text string) int {
	n := 0
	for text != "" {
		k := cl100kPiece(text)
		if _, ok := c.ranks[text[:k]]; ok {
			n++
		} else {
			n += c.merge(text[:k])
		}
		text = text[k:]
	}
	return n
}

// merge returns the number of tokens byte-pair merging leaves of piece:
// the adjacent pair of lowest rank is merged first, the leftmost on ties,
// until no adjacent pair is a token.
func (c *bpeCounter) merge(piece string) int {
	if len(piece) == 1 {
		return 1
	}
	type part struct{ start, rank int }
	var stack [64]part
	parts := stack[:0]
	if len(piece)+1 > len(stack) {
		parts = make([]part, 0, len(piece)+1)
	}
	for i := 0; i <= len(piece); i++ {
		parts = append(parts, part{i, math.MaxInt})
	}
	// rank is the rank of the parts i .. i+skip+1 merged into one, or
	// MaxInt if that is no token.
	rank := func(i, skip int) int {
		if i+skip+2 < len(parts) {
			if r, ok := c.ranks[piece[parts[i].start:parts[i+skip+2].start]]; ok {
				return r
			}
		}
		return math.MaxInt
	}
	for i := 0; i < len(parts)-2; i++ {
		parts[i].rank = rank(i, 0)
	}
	for len(parts) > 1 {
		lowest, at := math.MaxInt, -1
		for i := 0; i < len(parts)-1; i++ {
			if parts[i].rank < lowest {
				lowest, at = parts[i].rank, i
			}
		}
		if at < 0 {
			break
		}
		parts[at].rank = rank(at, 1)
		if at > 0 {
			parts[at-1].rank = rank(at-1, 1)
		}
		parts = append(parts[:at+1], parts[at+2:]...)
	}
	return len(parts) - 1
}

// cl100kPiece returns the length in bytes of the piece cl100k_base's
// pattern matches at the start of s (non-empty, valid UTF-8): the first of
// its alternatives that matches, as a backtracking matcher takes it. Every
// rune starts some alternative, so pieces tile the text.
func cl100kPiece(s string) int {
	r0, n0 := utf8.DecodeRuneInString(s)
	r1, n1 := utf8.DecodeRuneInString(s[n0:]) // RuneError, 0 at the end
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if r0 == '\'' && n1 == 1 {
		switch r1 | 0x20 {
		case 's', 't', 'm', 'd':
			return 2
		case 'r', 'v', 'l':
			if len(s) > 2 {
				want := byte('e')
				if r1|0x20 == 'l' {
					want = 'l'
				}
				if s[2]|0x20 == want {
					return 3
				}
			}
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if pieceLetter(r0) {
		return n0 + pieceLetters(s[n0:])
	}
	if r0 != '\r' && r0 != '\n' && !pieceNumber(r0) && n1 > 0 && pieceLetter(r1) {
		return n0 + n1 + pieceLetters(s[n0+n1:])
	}
	// \p{N}{1,3}
	if pieceNumber(r0) {
		k := n0
		for i := 1; i < 3 && k < len(s); i++ {
			r, n := utf8.DecodeRuneInString(s[k:])
			if !pieceNumber(r) {
				break
			}
			k += n
		}
		return k
	}
	// ?[^\s\p{L}\p{N}]+[\r\n]*
	start := 0
	if r0 == ' ' && n1 > 0 && pieceSymbol(r1) {
		start = n0
	}
	if r, _ := utf8.DecodeRuneInString(s[start:]); pieceSymbol(r) {
		k := start
		for k < len(s) {
			r, n := utf8.DecodeRuneInString(s[k:])
			if !pieceSymbol(r) {
				break
			}
			k += n
		}
		for k < len(s) && (s[k] == '\r' || s[k] == '\n') {
			k++
		}
		return k
	}
	// r0 is white space: the run of it ends at end, its last rune starts
	// at last, its last line break ends at afterBreak.
	end, last, afterBreak := 0, 0, -1
	for end < len(s) {
		r, n := utf8.DecodeRuneInString(s[end:])
		if !unicode.IsSpace(r) {
			break
		}
		last = end
		end += n
		if r == '\r' || r == '\n' {
			afterBreak = end
		}
	}
	switch {
	case afterBreak > 0: // \s*[\r\n]+
		return afterBreak
	case end == len(s) || last == 0: // \s+(?!\S), or else \s+
		return end
	default: // \s+(?!\S) backs off one rune so that white space follows
		return last
	}
}

func pieceLetters(s string) int {
	k := 0
	for k < len(s) {
		r, n := utf8.DecodeRuneInString(s[k:])
		if !pieceLetter(r) {
			break
		}
		k += n
	}
	return k
}

func pieceLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r|0x20 && r|0x20 <= 'z'
	}
	return unicode.IsLetter(r)
}

func pieceNumber(r rune) bool {
	if r < utf8.RuneSelf {
		return '0' <= r && r <= '9'
	}
	return unicode.IsNumber(r)
}

// pieceSymbol reports whether r is in [^\s\p{L}\p{N}].
func pieceSymbol(r rune) bool {
	return !unicode.IsSpace(r) && !pieceLetter(r) && !pieceNumber(r)
}
