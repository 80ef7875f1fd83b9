package decontam

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns the words of s as the index compares them, joined by
// single spaces. The steps undo what people do to a problem before it lands in
// a training set:
//
//   - Unicode NFKC (full-width digits, ligatures, compatibility forms) and
//     simple case folding;
//   - every character that is not a letter, digit or combining mark separates
//     words, so punctuation, quotes (straight or curly), dashes, operators and
//     whitespace of any kind and amount do not matter;
//   - LaTeX markup is dropped: $, \( \) \[ \], braces, and formatting or
//     operator commands (\left, \frac, \cdot, \text, \times, \le, ...);
//     commands naming mathematical objects (\pi, \sqrt, \sin, \alpha, ...)
//     become words;
//   - Greek letters and the symbols √ ∞ ∑ ∏ ∫ ∠ △ become the words of their
//     LaTeX commands (π and \pi are both "pi", √ and \sqrt "sqrt"), while
//     operator symbols (× ÷ ≤ ≥ ≠ ...) separate words like \times \div \le
//     \ge \ne and ASCII operators;
//   - digits and letters are split ("2x" and "2 x" are the same), and a comma
//     between digits is dropped ("1,000" and "1000" are the same);
//   - CJK ideographs, kana and the like are words of one character each, so
//     Chinese text, which has no spaces, gets n-grams too.
//
// Normalize is deterministic and idempotent: Normalize(Normalize(s)) ==
// Normalize(s).
func Normalize(s string) string {
	var w words
	w.tokenize(s)
	var b strings.Builder
	b.Grow(len(w.text) + len(w.ends))
	start := int32(0)
	for i, end := range w.ends {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.Write(w.text[start:end])
		start = end
	}
	return b.String()
}

// words is the normalized form of a text: its words in order, with a hash of
// each. A words value is reused across texts to avoid allocation.
type words struct {
	text   []byte   // the words' bytes, concatenated
	ends   []int32  // ends[i] is the end of word i in text
	hashes []uint64 // wordHash of each word
	number []bool   // whether each word is a number (digits)
	start  int      // start of the word being built
	h      uint64   // FNV-1a state of the word being built (see wordHash)
	class  byte     // class of the last byte appended: classLetter or classDigit
}

const (
	classNone byte = iota
	classLetter
	classDigit
)

func (w *words) reset() {
	w.text = w.text[:0]
	w.ends = w.ends[:0]
	w.hashes = w.hashes[:0]
	w.number = w.number[:0]
	w.start = 0
	w.h = fnvOffset
	w.class = classNone
}

// len is the number of words.
func (w *words) len() int { return len(w.ends) }

// word returns word i.
func (w *words) word(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = w.ends[i-1]
	}
	return w.text[start:w.ends[i]]
}

// join returns words [i, j) joined by single spaces.
func (w *words) join(i, j int) string {
	var b strings.Builder
	for k := i; k < j; k++ {
		if k > i {
			b.WriteByte(' ')
		}
		b.Write(w.word(k))
	}
	return b.String()
}

// endWord closes the word being built, if any.
func (w *words) endWord() {
	if len(w.text) > w.start {
		w.ends = append(w.ends, int32(len(w.text)))
		w.hashes = append(w.hashes, mix64(w.h))
		w.number = append(w.number, w.class == classDigit)
		w.start = len(w.text)
		w.h = fnvOffset
	}
	w.class = classNone
}

// appendByte appends an ASCII letter or digit of the given class, starting a
// new word where letters and digits meet.
func (w *words) appendByte(c, class byte) {
	if w.class != class && w.class != classNone {
		w.endWord()
	}
	w.text = append(w.text, c)
	w.h = (w.h ^ uint64(c)) * fnvPrime
	w.class = class
}

func (w *words) appendRune(r rune, class byte) {
	if w.class != class && w.class != classNone {
		w.endWord()
	}
	n := len(w.text)
	w.text = utf8.AppendRune(w.text, r)
	for _, c := range w.text[n:] {
		w.h = (w.h ^ uint64(c)) * fnvPrime
	}
	w.class = class
}

// appendLetters appends the run of ASCII letters at the start of s, lower
// cased, to the word being built (a new word if the last was digits), and
// returns its length.
func (w *words) appendLetters(s string) int {
	if w.class == classDigit {
		w.endWord()
	}
	text, h := w.text, w.h
	i := 0
	for ; i < len(s); i++ {
		c := asciiLetter[s[i]]
		if c == 0 {
			break
		}
		text = append(text, c)
		h = (h ^ uint64(c)) * fnvPrime
	}
	w.text, w.h, w.class = text, h, classLetter
	return i
}

// appendDigits appends the run of ASCII digits at the start of s to the word
// being built (a new word if the last was letters), dropping a comma between
// two digits, and returns the run's length.
func (w *words) appendDigits(s string) int {
	if w.class == classLetter {
		w.endWord()
	}
	text, h := w.text, w.h
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c == ',' && i+1 < len(s) && isDigit(s[i+1]) {
			continue // thousands separator: 1,000 is 1000
		}
		if !isDigit(c) {
			break
		}
		text = append(text, c)
		h = (h ^ uint64(c)) * fnvPrime
	}
	w.text, w.h, w.class = text, h, classDigit
	return i
}

// asciiLetter maps an ASCII letter to its lower case, any other byte to 0.
var asciiLetter = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = byte(c), byte(c)
	}
	return t
}()

// tokenize replaces w's contents with the words of s (see Normalize).
func (w *words) tokenize(s string) {
	w.reset()
	if !isASCII(s) {
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD") // a symbol: separates words
		}
		s = nfkc(s)
	}
	// Letters and digits map to themselves, lower-cased: the words of an
	// ASCII text take at most its length.
	if len(s) > cap(w.text) {
		w.text = make([]byte, 0, len(s)+len(s)/4)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case asciiLetter[c] != 0:
				i += w.appendLetters(s[i:])
			case isDigit(c):
				i += w.appendDigits(s[i:])
			case c == ',' && w.class == classDigit && i+1 < len(s) && isDigit(s[i+1]):
				i++ // thousands separator: 1,000 is 1000
			case c == '\\':
				i = w.latexCommand(s, i)
			default:
				w.endWord()
				i++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case symbolWord(r) != "":
			w.appendWord(symbolWord(r))
		case isIdeographic(r):
			w.endWord()
			w.appendRune(r, classLetter)
			w.endWord()
		case unicode.IsLetter(r):
			w.appendRune(unicode.ToLower(r), classLetter)
		case unicode.IsDigit(r):
			w.appendRune(r, classDigit)
		case unicode.In(r, unicode.Mn, unicode.Mc) && w.class != classNone:
			w.appendRune(r, w.class)
		default:
			w.endWord()
		}
	}
	w.endWord()
}

// latexCommand handles the backslash at s[i] and returns the index after the
// command: a command naming a mathematical object becomes a word, any other
// command or escaped character separates words.
func (w *words) latexCommand(s string, i int) int {
	w.endWord()
	j := i + 1
	for j < len(s) && isASCIILetter(s[j]) {
		j++
	}
	if j == i+1 {
		// \( \) \[ \] \{ \} \, \\ \$ \% ...: an escaped character, dropped.
		if j < len(s) && s[j] < utf8.RuneSelf {
			j++
		}
		return j
	}
	name := s[i+1 : j]
	if word, ok := latexWords[name]; ok {
		w.appendWord(word)
	} else if hasUpper(name) {
		if word, ok := latexWords[strings.ToLower(name)]; ok {
			w.appendWord(word)
		}
	}
	return j
}

// hasUpper reports whether the ASCII letters s hold a capital.
func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// appendWord appends word, lower-case ASCII letters, as a word of its own.
func (w *words) appendWord(word string) {
	w.endWord()
	for k := 0; k < len(word); k++ {
		w.appendByte(word[k], classLetter)
	}
	w.endWord()
}

// symbolWord returns the word of the LaTeX command for a Greek letter or a
// mathematical symbol (π: "pi", √: "sqrt"), or "".
func symbolWord(r rune) string {
	if r < 0x0370 || r > 0x25FF {
		return "" // below Greek, or above geometric shapes (CJK and the like)
	}
	return symbolWords[unicode.ToLower(r)]
}

// symbolWords maps lower-case Greek letters and symbols to words of
// latexWords. Omicron has no command and stays a letter.
var symbolWords = map[rune]string{
	'α': "alpha", 'β': "beta", 'γ': "gamma", 'δ': "delta", 'ε': "epsilon", 'ϵ': "epsilon", 'ζ': "zeta",
	'η': "eta", 'θ': "theta", 'ϑ': "theta", 'ι': "iota", 'κ': "kappa", 'λ': "lambda", 'μ': "mu", 'ν': "nu",
	'ξ': "xi", 'π': "pi", 'ϖ': "pi", 'ρ': "rho", 'ϱ': "rho", 'σ': "sigma", 'ς': "sigma", 'τ': "tau",
	'υ': "upsilon", 'φ': "phi", 'ϕ': "phi", 'χ': "chi", 'ψ': "psi", 'ω': "omega",
	'√': "sqrt", '∞': "infty", '∑': "sum", '∏': "prod", '∫': "int", '∠': "angle", '△': "triangle", '∆': "triangle",
}

// latexWords are the LaTeX commands that name something a plain-text rewrite
// would also name; the value is the word they become. Every other command
// (\left, \frac, \cdot, \text, \mathrm, \quad, \le, ...) is markup or an
// operator and is dropped like punctuation.
var latexWords = func() map[string]string {
	m := map[string]string{"pmod": "mod", "bmod": "mod", "varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varpi": "pi", "varrho": "rho", "varsigma": "sigma"}
	for _, name := range strings.Fields(`alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon phi chi psi omega
		sqrt sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh log ln lg exp lim sum prod int infty min max gcd lcm det mod
		angle triangle degree`) {
		m[name] = name
	}
	return m
}()

// nfkc returns s (valid UTF-8) in Unicode NFKC: s itself when it already
// is, as norm.NFKC.String would. ASCII characters are NFKC-stable and never
// combine with what precedes them, so a text is in NFKC when each of its
// runs of non-ASCII characters is and starts a normalization segment: only
// those runs are checked, and the ASCII between them is skipped 8 bytes at
// a time (norm's own check walks it byte by byte).
func nfkc(s string) string {
	for i := 0; ; {
		i += asciiPrefix(s[i:])
		if i == len(s) {
			return s
		}
		j := i + 1
		for j < len(s) && s[j] >= utf8.RuneSelf {
			j++
		}
		run := s[i:j]
		if !norm.NFKC.IsNormalString(run) || i > 0 && !norm.NFKC.PropertiesString(run).BoundaryBefore() {
			return norm.NFKC.String(s)
		}
		i = j
	}
}

// asciiPrefix returns the length of the run of ASCII bytes s starts with.
func asciiPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if load64(s[i:i+8])&0x8080808080808080 != 0 {
			break
		}
	}
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	return i
}

// load64 reads 8 bytes little-endian: one load, no bounds checks.
func load64(t string) uint64 {
	_ = t[7]
	return uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
		uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
}

func isASCII(s string) bool {
	for ; len(s) >= 8; s = s[8:] {
		t := s[:8] // one 8-byte load, no bounds checks
		x := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		if x&0x8080808080808080 != 0 {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool       { return '0' <= c && c <= '9' }
func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isIdeographic reports whether r belongs to a script written without spaces
// between words, whose characters are therefore words of their own.
func isIdeographic(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}
