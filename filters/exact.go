package filters

import (
	"fmt"
	"strings"
)

// ExactStringVerifier compares the extracted answer with the reference
// answer as strings, after trimming spaces, math delimiters and trailing
// punctuation; nothing else is normalized. Use it for answers that are
// names or codes, where mathematical equivalence would be wrong.
type ExactStringVerifier struct{}

// Name implements Verifier.
func (ExactStringVerifier) Name() string { return "exact" }

// Verify implements Verifier.
func (ExactStringVerifier) Verify(response, reference string) Verdict {
	got, ok := ExtractAnswer(response)
	if !ok {
		return Verdict{Reason: ReasonNoAnswer}
	}
	want := ReferenceAnswer(reference)
	if got == want {
		return Verdict{Extracted: got, HasAnswer: true, Correct: true, Reason: fmt.Sprintf("equal as strings: %q", got)}
	}
	return Verdict{Extracted: got, HasAnswer: true, Reason: fmt.Sprintf("not equal as strings: %q vs %q", got, want)}
}

// MultipleChoiceVerifier compares option letters (A to Z): the response's
// final answer "(B)", "B", "B) 42", "\text{(B)}" or "B: the third" is the
// letter B. A response whose final answer names no letter has no answer.
type MultipleChoiceVerifier struct{}

// Name implements Verifier.
func (MultipleChoiceVerifier) Name() string { return "multiple_choice" }

// Verify implements Verifier.
func (MultipleChoiceVerifier) Verify(response, reference string) Verdict {
	got, ok := ExtractChoice(response)
	if !ok {
		return Verdict{Reason: ReasonNoAnswer}
	}
	want, ok := choiceLetter(ReferenceAnswer(reference))
	if !ok {
		return Verdict{Extracted: got, HasAnswer: true, Reason: fmt.Sprintf("reference %q names no option letter", ReferenceAnswer(reference))}
	}
	if got == want {
		return Verdict{Extracted: got, HasAnswer: true, Correct: true, Reason: "same option " + got}
	}
	return Verdict{Extracted: got, HasAnswer: true, Reason: fmt.Sprintf("option %s, reference %s", got, want)}
}

// ExtractChoice returns the option letter a response settles on, or
// ok=false.
func ExtractChoice(response string) (letter string, ok bool) {
	a, ok := ExtractAnswer(response)
	if !ok {
		return "", false
	}
	return choiceLetter(a)
}

// choiceLetter reads an option letter from an answer: an upper-case letter
// alone or followed by ")", ".", ":" or a space, optionally in parentheses
// or brackets; a lower-case letter only when it stands alone.
func choiceLetter(a string) (string, bool) {
	a = trimAnswer(a)
	for _, cmd := range []string{`\text`, `\textbf`, `\mathrm`, `\mathbf`} {
		if strings.Contains(a, cmd) {
			a = unwrapCommand(a, cmd)
		}
	}
	a = strings.Trim(strings.TrimSpace(a), "*")
	if a == "" {
		return "", false
	}
	if len(a) == 1 && isLetter(a[0]) {
		return strings.ToUpper(a), true
	}
	if a[0] == '(' || a[0] == '[' {
		a = a[1:]
		if a == "" || !isLetter(a[0]) || len(a) < 2 || (a[1] != ')' && a[1] != ']') {
			return "", false
		}
		if a[0] >= 'a' && a[0] <= 'z' && len(a) > 2 {
			return "", false
		}
		return strings.ToUpper(a[:1]), true
	}
	if a[0] >= 'A' && a[0] <= 'Z' && strings.IndexByte(").: ", a[1]) >= 0 {
		return a[:1], true
	}
	return "", false
}
