package filters

import (
	"slices"
	"strings"
)

// MaxResponseBytes bounds the part of a response that ExtractAnswer reads:
// only its last MaxResponseBytes bytes are searched, so a hostile multi-
// megabyte response costs no more than this many bytes of scanning.
const MaxResponseBytes = 1 << 20

// MaxAnswerBytes bounds the length of an extracted answer. A longer
// candidate (a runaway \boxed{...}, a "The answer is" followed by a page of
// text) is not an answer: ExtractAnswer reports none.
const MaxAnswerBytes = 2048

// ExtractAnswer returns the final answer of a model response, or ok=false
// when the response states none (the sample is then rejected with reason
// ReasonNoAnswer, not counted as wrong).
//
// Leaked chat-template tokens (<|im_start|>, <|im_end|>, <|endoftext|>,
// <|eot_id|>, ...) end the response: what follows them is another turn.
// Then it looks, in this order of precedence, for:
//
//  1. the boxes of the final statement: the last brace-matched \boxed{...}
//     or \fbox{...} (also "\boxed 5") and the boxes before it that are
//     joined to it only by punctuation, "and", "or", spacing or a few words
//     ("\boxed{1} and \boxed{2}", "\boxed{(2, 2)} \quad \text{and} \quad
//     \boxed{(6, 2)}"), returned as a list "1, 2" (a box repeated verbatim
//     counts once); a sentence end or a word of revision ("wait", "but",
//     "then", "actually") separates final statements. When the last box is
//     unclosed (a truncated response) there is no answer;
//  2. otherwise whichever of these comes last in the text: "The (final)
//     answer is ...", a GSM8K "#### n" line, a final "Answer: ..." line
//     (also "**Final Answer:** ..."). When what follows such a marker is
//     prose ("The volume is 120"), the answer is what follows its last
//     " is " or " are ", or else its last math span;
//  3. otherwise the last math span ($...$, $$...$$, \(...\), \[...\]) of the
//     final statement, when only a short clause follows it ("Therefore $x
//     \geq 5$ is the solution."); inline spans do not cross a line break;
//  4. otherwise the whole response, when it is a short single-line answer
//     with no prose ("-5", "\frac{10}{9}", "28 percent").
//
// The answer is returned as written (trimmed of surrounding spaces, $ and
// trailing sentence punctuation), not normalized; see NormalizeAnswer.
// ExtractAnswer never pulls a bare number out of free text that has no
// final-answer marker ("so the number is 12 apples" has no answer).
func ExtractAnswer(response string) (answer string, ok bool) {
	parts, ok := extractAnswers(response)
	if !ok {
		return "", false
	}
	return finishAnswer(strings.Join(parts, ", "), true)
}

// extractAnswers is ExtractAnswer before the parts of the final statement
// (several boxes) are joined; each part is a substring of the response.
func extractAnswers(response string) ([]string, bool) {
	if len(response) > MaxResponseBytes {
		response = response[len(response)-MaxResponseBytes:]
	}
	response = cutChatTemplate(response)
	if boxes, found, ok := finalBoxes(response); found {
		if !ok {
			return nil, false
		}
		return finishParts(boxes)
	}
	best, bestPos := "", -1
	if a, pos := lastAnswerIs(response); pos > bestPos {
		best, bestPos = a, pos
	}
	if a, pos := lastHashes(response); pos > bestPos {
		best, bestPos = a, pos
	}
	if a, pos := lastAnswerLine(response); pos > bestPos {
		best, bestPos = a, pos
	}
	if bestPos >= 0 {
		return finishParts([]string{predicate(best)})
	}
	if a, ok := finalMath(response); ok {
		return finishParts([]string{a})
	}
	if a, ok := bareAnswer(response); ok {
		return finishParts([]string{a})
	}
	return nil, false
}

func finishParts(parts []string) ([]string, bool) {
	out := parts[:0]
	total := 0
	for _, p := range parts {
		p = trimAnswer(p)
		if p == "" {
			return nil, false
		}
		total += len(p) + 2
		out = append(out, p)
	}
	if len(out) == 0 || total > MaxAnswerBytes+2 {
		return nil, false
	}
	return out, true
}

// chatTokens end a response: a model that runs on past its turn writes
// them before the next turn it invents.
var chatTokens = []string{"<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|start_header_id|>", "<|end|>", "<|user|>", "<|assistant|>", "<end_of_turn>", "<start_of_turn>", "</s>"}

// cutChatTemplate returns s up to its first chat-template token.
func cutChatTemplate(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	for _, t := range chatTokens {
		if i := strings.Index(s, t); i >= 0 {
			s = s[:i]
		}
	}
	return s
}

func finishAnswer(a string, ok bool) (string, bool) {
	if !ok {
		return "", false
	}
	a = trimAnswer(a)
	if a == "" || len(a) > MaxAnswerBytes {
		return "", false
	}
	return a, true
}

// trimAnswer removes what surrounds an answer in running text: spaces, math
// delimiters, bold markers and trailing sentence punctuation.
func trimAnswer(a string) string {
	for {
		before := a
		a = strings.TrimSpace(a)
		a = strings.TrimRight(a, ".,;:") // not "!": 5! is a factorial
		a = strings.TrimSuffix(a, "\\.")
		a = strings.TrimSuffix(a, "\\,")
		for _, p := range [][2]string{{"$", "$"}, {"\\(", "\\)"}, {"\\[", "\\]"}, {"**", "**"}} {
			if strings.HasPrefix(a, p[0]) && strings.HasSuffix(a, p[1]) && len(a) >= len(p[0])+len(p[1]) {
				a = a[len(p[0]) : len(a)-len(p[1])]
			}
		}
		a = strings.TrimPrefix(a, "$")
		a = strings.TrimSuffix(a, "$")
		a = strings.TrimPrefix(a, "**")
		a = strings.TrimSuffix(a, "**")
		a = strings.TrimSuffix(a, "\\)")
		a = strings.TrimSuffix(a, "\\]")
		a = strings.TrimPrefix(a, "\\(")
		a = strings.TrimPrefix(a, "\\[")
		if a == before {
			return a
		}
	}
}

// boxArg reads the argument of the box command at s[i:]; end is where the
// argument ends. ok is false when it is incomplete or not a box argument.
func boxArg(s string, i int) (arg string, end int, ok bool) {
	rest := s[i:]
	if strings.HasPrefix(rest, `\boxed`) {
		rest = rest[len(`\boxed`):]
	} else {
		rest = rest[len(`\fbox`):]
	}
	trimmed := strings.TrimLeft(rest, " \t")
	start := len(s) - len(trimmed)
	if strings.HasPrefix(trimmed, "{") {
		inner, ok := braceGroup(trimmed)
		return inner, start + len(inner) + 2, ok
	}
	if len(trimmed) == len(rest) {
		// "\boxedx" is some other command; treat as unusable.
		return "", 0, false
	}
	// "\boxed 5": the argument runs to the next space or math delimiter.
	n := strings.IndexAny(trimmed, " \t\n$")
	if n < 0 {
		n = len(trimmed)
	}
	return trimmed[:n], start + n, true
}

// lastBox returns the index of the last \boxed or \fbox command in s, or
// -1, in one backward scan.
func lastBox(s string) int {
	for end := len(s); end > 0; {
		j := strings.LastIndex(s[:end], "box")
		if j < 0 {
			return -1
		}
		switch {
		case j >= 1 && s[j-1] == '\\' && strings.HasPrefix(s[j:], "boxed") && (j+5 >= len(s) || !isLetter(s[j+5])):
			return j - 1
		case j >= 2 && s[j-2] == '\\' && s[j-1] == 'f' && (j+3 >= len(s) || !isLetter(s[j+3])):
			return j - 2
		}
		end = j
	}
	return -1
}

// maxBoxes bounds the boxes read from one final statement.
const maxBoxes = 16

// finalBoxes returns the boxes of the final statement, in order (see
// ExtractAnswer). found reports whether there was a box at all; ok whether
// the last one is complete.
func finalBoxes(s string) (boxes []string, found, ok bool) {
	i := lastBox(s)
	if i < 0 {
		return nil, false, false
	}
	arg, _, ok := boxArg(s, i)
	if !ok {
		return nil, true, false
	}
	boxes = []string{arg}
	for len(boxes) < maxBoxes {
		// A box joined to this one ends within the longest connective gap
		// before it: a brace, or a "\boxed 5" argument, in that window.
		window := s[max(0, i-maxGap):i]
		if !strings.Contains(window, "}") && !strings.Contains(window, "box") {
			break
		}
		j := lastBox(s[max(0, i-maxGap-MaxAnswerBytes-16):i])
		if j >= 0 {
			j += max(0, i-maxGap-MaxAnswerBytes-16)
		}
		if j < 0 {
			break
		}
		prev, end, ok := boxArg(s, j)
		if !ok || end > i || !connective(s[end:i]) {
			break // incomplete, nested in the later box, or another statement
		}
		if !slices.Contains(boxes, prev) {
			boxes = append(boxes, prev)
		}
		i = j
	}
	slices.Reverse(boxes)
	return boxes, true, true
}

// revisionWords mark a new statement between two boxes: the earlier box
// was a step or is being taken back.
var revisionWords = map[string]bool{
	"wait": true, "but": true, "then": true, "so": true, "actually": true,
	"however": true, "therefore": true, "thus": true, "hence": true,
	"not": true, "no": true, "instead": true, "correct": true, "check": true,
	"recheck": true, "verify": true, "hmm": true, "step": true, "if": true,
	"gives": true, "get": true, "becomes": true, "since": true,
}

// maxGap is the longest text that joins two boxes into one statement.
const maxGap = 120

// connective reports whether the text between two boxes joins them into
// one statement: punctuation, spacing, "and", "or", a label, a few words,
// but no sentence end, paragraph break or word of revision.
func connective(gap string) bool {
	if len(gap) > maxGap || strings.Contains(gap, "\n\n") {
		return false
	}
	words := 0
	for k := 0; k < len(gap); {
		c := gap[k]
		switch {
		case c == '.' || c == '!' || c == '?' || c == ':':
			if k+1 < len(gap) && isDigit(gap[k+1]) {
				k++
				continue
			}
			if k > 0 && gap[k-1] == '\\' { // \. \! are LaTeX spacing
				k++
				continue
			}
			return false
		case isLetter(c):
			j := k
			for j < len(gap) && isLetter(gap[j]) {
				j++
			}
			w := strings.ToLower(gap[k:j])
			if k == 0 || gap[k-1] != '\\' { // not a command name
				if revisionWords[w] {
					return false
				}
				if w != "and" && w != "or" {
					words++
				}
			}
			k = j
		default:
			k++
		}
	}
	return words <= 5
}

// braceGroup returns the content of the brace group that opens s[0]=='{',
// honouring \{ and \}; ok is false when the group is unclosed or longer than
// MaxAnswerBytes.
func braceGroup(s string) (inner string, ok bool) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++ // skip the escaped character
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return s[1:i], true
			}
		}
		if i > MaxAnswerBytes+1 {
			return "", false
		}
	}
	return "", false
}

// lastAnswerIs finds the last "answer is" / "answer:" phrase inside a line
// and returns the rest of its sentence.
func lastAnswerIs(s string) (string, int) {
	for i := len(s) - len("answer is"); i >= 0; i-- {
		for _, phrase := range []string{"answer is", "final answer:"} {
			if hasPrefixFold(s[i:], phrase) {
				rest := strings.TrimLeft(s[i+len(phrase):], ": \t*")
				if a := sentence(rest); strings.TrimSpace(a) != "" || phrase == "answer is" {
					return a, i
				}
			}
		}
	}
	return "", -1
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case; unlike
// strings.ToLower it keeps byte offsets of invalid UTF-8 intact.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// lastHashes finds the last GSM8K "#### n" marker.
func lastHashes(s string) (string, int) {
	i := strings.LastIndex(s, "####")
	if i < 0 {
		return "", -1
	}
	rest := strings.TrimLeft(s[i:], "#")
	return line(rest), i
}

// lastAnswerLine finds the last line that starts with "Answer:" (optionally
// "Final Answer:", in bold, or as a Markdown heading).
func lastAnswerLine(s string) (string, int) {
	end := len(s)
	for end > 0 {
		start := strings.LastIndexByte(s[:end], '\n') + 1
		l := strings.TrimLeft(s[start:end], " \t#*>-")
		if hasPrefixFold(l, "final ") {
			l = l[len("final "):]
		}
		if hasPrefixFold(l, "answer") {
			rest := strings.TrimLeft(l[len("answer"):], "* \t")
			if strings.HasPrefix(rest, ":") {
				rest = strings.TrimLeft(rest[1:], "* \t")
				if strings.TrimSpace(rest) == "" {
					// "Answer:" alone: the answer is on the next non-empty line.
					rest = line(strings.TrimLeft(s[end:], " \t\r\n"))
				}
				return line(rest), start
			}
		}
		end = start - 1
	}
	return "", -1
}

// line returns s up to its first line break.
func line(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// sentence returns s up to the end of its first sentence: a line break, or
// a period followed by a space or the end (so decimals like 0.5 survive).
// Periods inside $...$ or \(...\) do not end the sentence.
func sentence(s string) string {
	s = line(s)
	inMath := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '$':
			inMath = !inMath
		case '\\':
			if i+1 < len(s) && (s[i+1] == '(' || s[i+1] == '[') {
				inMath = true
			} else if i+1 < len(s) && (s[i+1] == ')' || s[i+1] == ']') {
				inMath = false
			}
			i++
		case '.':
			if !inMath && (i+1 == len(s) || s[i+1] == ' ') {
				return s[:i]
			}
		}
	}
	return s
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// predicate returns the answer inside a marker's sentence when it is prose:
// "The volume of $ABCDEFGH$ is 120" gives "120". Otherwise a unchanged.
func predicate(a string) string {
	if proseWords(a) < 2 {
		return a
	}
	a = sentence(a)
	for _, verb := range []string{" is ", " are ", " equals ", " was "} {
		// ASCII case folding keeps byte offsets of invalid UTF-8 intact.
		for i := len(a) - len(verb); i >= 0; i-- {
			if !hasPrefixFold(a[i:], verb) {
				continue
			}
			if rest := strings.TrimSpace(a[i+len(verb):]); rest != "" && proseWords(rest) < 2 {
				return rest
			}
			break
		}
	}
	if m, ok := lastMathSpan(a); ok {
		return m.content
	}
	return a
}

// proseWords counts the words of three letters or more outside math and
// LaTeX commands, other than words an answer may hold (units, and, or).
func proseWords(s string) int {
	n := 0
	inMath := false
	for k := 0; k < len(s); {
		c := s[k]
		switch {
		case c == '$':
			inMath = !inMath
			k++
		case c == '\\':
			k++
			for k < len(s) && isLetter(s[k]) {
				k++
			}
		case isLetter(c):
			j := k
			for j < len(s) && isLetter(s[j]) {
				j++
			}
			w := strings.ToLower(s[k:j])
			if !inMath && j-k >= 3 && !answerWords[w] && !isUnit(w) {
				n++
			}
			k = j
		default:
			k++
		}
	}
	return n
}

var answerWords = map[string]bool{
	"and": true, "percent": true, "pct": true, "inf": true, "infinity": true,
	"sqrt": true, "frac": true, "sin": true, "cos": true, "tan": true,
	"log": true, "exp": true,
}

type mathSpan struct {
	content    string
	start, end int // of the whole span, delimiters included
}

// lastMathSpan returns the last math span of s: $...$ and \(...\) on one
// line, $$...$$ and \[...\] across lines; \$ is an escaped dollar. It runs
// in time linear in len(s).
func lastMathSpan(s string) (mathSpan, bool) {
	var last mathSpan
	found := false
	noDisplayDollar, noBracket, noParen := false, false, false
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			var closer string
			switch s[i+1] {
			case '[':
				if noBracket {
					i += 2
					continue
				}
				closer = `\]`
			case '(':
				if noParen {
					i += 2
					continue
				}
				closer = `\)`
			default:
				i += 2
				continue
			}
			j := strings.Index(s[i+2:], closer)
			if j < 0 {
				if closer == `\]` {
					noBracket = true
				} else {
					noParen = true
				}
				i += 2
				continue
			}
			content := s[i+2 : i+2+j]
			if closer == `\)` && strings.ContainsAny(content, "\n") {
				i += 2
				continue
			}
			last, found = mathSpan{content, i, i + 2 + j + 2}, true
			i = last.end
			continue
		}
		if c != '$' {
			i++
			continue
		}
		if strings.HasPrefix(s[i:], "$$") && !noDisplayDollar {
			j := indexUnescaped(s[i+2:], "$$")
			if j < 0 {
				noDisplayDollar = true
				i += 2
				continue
			}
			last, found = mathSpan{s[i+2 : i+2+j], i, i + 2 + j + 2}, true
			i = last.end
			continue
		}
		lineEnd := strings.IndexByte(s[i+1:], '\n')
		if lineEnd < 0 {
			lineEnd = len(s)
		} else {
			lineEnd += i + 1
		}
		j := indexUnescaped(s[i+1:lineEnd], "$")
		if j < 0 {
			i = lineEnd
			continue
		}
		last, found = mathSpan{s[i+1 : i+1+j], i, i + 1 + j + 1}, true
		i = last.end
	}
	return last, found
}

// indexUnescaped is strings.Index skipping occurrences preceded by \.
func indexUnescaped(s, sub string) int {
	for off := 0; ; {
		j := strings.Index(s[off:], sub)
		if j < 0 {
			return -1
		}
		if off+j > 0 && s[off+j-1] == '\\' {
			off += j + 1
			continue
		}
		return off + j
	}
}

// finalMath returns the last math span when it ends the final statement:
// at most a short clause without numbers or math follows it.
func finalMath(s string) (string, bool) {
	m, ok := lastMathSpan(s)
	if !ok {
		return "", false
	}
	after := strings.TrimSpace(s[m.end:])
	if len(after) > 80 || strings.ContainsAny(after, "0123456789$\\\n") {
		return "", false
	}
	if strings.TrimSpace(m.content) == "" {
		return "", false
	}
	return m.content, true
}

// bareAnswer returns the whole response when it is nothing but a short
// answer: one line, no prose.
func bareAnswer(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if t == "" || len(t) > 100 || strings.ContainsAny(t, "\n\r") {
		return "", false
	}
	if proseWords(t) > 0 || strings.Contains(t, `\boxed`) || strings.Contains(t, `\fbox`) {
		return "", false
	}
	return t, true
}
