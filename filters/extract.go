package filters

import (
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
// It looks, in this order of precedence, for:
//
//  1. the last brace-matched \boxed{...} or \fbox{...} (also "\boxed 5");
//     when that last box is unclosed (a truncated response) there is no
//     answer, even if an earlier box is complete;
//  2. otherwise whichever of these comes last in the text: "The (final)
//     answer is ...", a GSM8K "#### n" line, a final "Answer: ..." line
//     (also "**Final Answer:** ...").
//
// The answer is returned as written (trimmed of surrounding spaces, $ and
// trailing sentence punctuation), not normalized; see NormalizeAnswer.
// ExtractAnswer never guesses from a bare last number.
func ExtractAnswer(response string) (answer string, ok bool) {
	if len(response) > MaxResponseBytes {
		response = response[len(response)-MaxResponseBytes:]
	}
	if a, found, ok := lastBoxed(response); found {
		return finishAnswer(a, ok)
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
	if bestPos < 0 {
		return "", false
	}
	return finishAnswer(best, true)
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

// lastBoxed finds the last \boxed or \fbox. found reports whether there was
// one at all; ok whether its argument is complete.
func lastBoxed(s string) (arg string, found, ok bool) {
	i := max(lastCommand(s, `\boxed`), lastCommand(s, `\fbox`))
	if i < 0 {
		return "", false, false
	}
	rest := s[i:]
	if strings.HasPrefix(rest, `\boxed`) {
		rest = rest[len(`\boxed`):]
	} else {
		rest = rest[len(`\fbox`):]
	}
	trimmed := strings.TrimLeft(rest, " \t")
	if strings.HasPrefix(trimmed, "{") {
		inner, ok := braceGroup(trimmed)
		return inner, true, ok
	}
	if len(trimmed) == len(rest) {
		// "\boxedx" is some other command; treat as unusable.
		return "", true, false
	}
	// "\boxed 5": the argument runs to the next space or math delimiter.
	end := strings.IndexAny(trimmed, " \t\n$")
	if end < 0 {
		end = len(trimmed)
	}
	return trimmed[:end], true, true
}

// lastCommand returns the index of the last occurrence of the LaTeX command
// cmd in s that is not a prefix of a longer command name, or -1.
func lastCommand(s, cmd string) int {
	for end := len(s); end > 0; {
		i := strings.LastIndex(s[:end], cmd)
		if i < 0 {
			return -1
		}
		j := i + len(cmd)
		if j >= len(s) || !isLetter(s[j]) {
			return i
		}
		end = i
	}
	return -1
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
	const phrase = "answer is"
	for i := len(s) - len(phrase); i >= 0; i-- {
		if hasPrefixFold(s[i:], phrase) {
			rest := strings.TrimLeft(s[i+len(phrase):], ": \t")
			return sentence(rest), i
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
