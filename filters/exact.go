package filters

import "strings"

// ExactStringVerifier compares the extracted answer with the reference after
// trimming whitespace.
type ExactStringVerifier struct{}

// Name implements Verifier.
func (ExactStringVerifier) Name() string { return "exact" }

// Verify implements Verifier.
func (ExactStringVerifier) Verify(response, reference string) Verdict {
	got, ok := ExtractAnswer(response)
	if !ok {
		return Verdict{Reason: ReasonNoAnswer}
	}
	want := strings.TrimSpace(ReferenceAnswer(reference))
	if strings.TrimSpace(got) == want {
		return Verdict{Extracted: got, HasAnswer: true, Correct: true, Reason: "equal as strings"}
	}
	return Verdict{Extracted: got, HasAnswer: true, Reason: "not equal as strings"}
}

// MultipleChoiceVerifier compares the chosen option letter with the reference letter.
type MultipleChoiceVerifier struct{}

// Name implements Verifier.
func (MultipleChoiceVerifier) Name() string { return "multiple_choice" }

// Verify implements Verifier.
func (MultipleChoiceVerifier) Verify(response, reference string) Verdict {
	return ExactStringVerifier{}.Verify(response, reference)
}
