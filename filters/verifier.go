package filters

// Verdict explains one grading decision.
type Verdict struct {
	Extracted string // final answer as extracted from the response; "" when none
	HasAnswer bool   // false: nothing extractable (reason no_answer), not counted as wrong
	Correct   bool
	Reason    string // one line a person can read: why equal / why not
}

// ReasonNoAnswer is the stable rejection reason for a sample whose response
// holds no extractable final answer.
const ReasonNoAnswer = "no_answer"

// Verifier grades a response against a reference answer. Implementations are
// safe for concurrent use, finish in bounded time and never panic.
type Verifier interface {
	Name() string
	Verify(response, reference string) Verdict
}
