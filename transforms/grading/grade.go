package grading

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/syllabus-dev/syllabus/filters"
)

// GradedResponse is the verdict on one Response.
type GradedResponse struct {
	// ID is the id as written in the input, as JSON (see Response.ID).
	ID        string
	Line      int
	Extracted string
	HasAnswer bool
	Correct   bool
	// Reason is the verifier's one-line explanation.
	Reason string
}

// GradeResponse grades r with v.
func GradeResponse(v filters.Verifier, r Response) GradedResponse {
	verdict := v.Verify(r.Response, r.Reference)
	return GradedResponse{ID: r.ID, Line: r.Line, Extracted: verdict.Extracted, HasAnswer: verdict.HasAnswer, Correct: verdict.Correct, Reason: verdict.Reason}
}

// OutputLine is one line of the output file. id, extracted and correct are
// the contract; has_answer and reason explain the verdict.
type OutputLine struct {
	ID        json.RawMessage `json:"id"`
	Extracted string          `json:"extracted"`
	Correct   bool            `json:"correct"`
	HasAnswer bool            `json:"has_answer"`
	Reason    string          `json:"reason"`
}

// Output returns g as a line of the output file.
func (g GradedResponse) Output() OutputLine {
	return OutputLine{ID: json.RawMessage(g.ID), Extracted: g.Extracted, Correct: g.Correct, HasAnswer: g.HasAnswer, Reason: g.Reason}
}

// Summary counts a run. Lines = Graded + DeadLetters and
// Graded = Correct + Incorrect + NoAnswer.
type Summary struct {
	Lines       int64 // non-blank input lines read
	Graded      int64
	Correct     int64
	Incorrect   int64 // an answer was extracted and it is wrong
	NoAnswer    int64 // no final answer could be extracted
	DeadLetters int64

	Output         string
	DeadLetterFile string
}

// add counts one graded response.
func (s *Summary) add(g GradedResponse) {
	s.Graded++
	switch {
	case g.Correct:
		s.Correct++
	case !g.HasAnswer:
		s.NoAnswer++
	default:
		s.Incorrect++
	}
}

// Accuracy is Correct / Graded (a response with no answer is not correct);
// 0 when nothing was graded.
func (s Summary) Accuracy() float64 {
	if s.Graded == 0 {
		return 0
	}
	return float64(s.Correct) / float64(s.Graded)
}

// Reconciles reports whether the counts add up.
func (s Summary) Reconciles() bool {
	return s.Lines == s.Graded+s.DeadLetters && s.Graded == s.Correct+s.Incorrect+s.NoAnswer
}

// String is the summary printed on stderr at the end of a run.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "grade: read %d lines = %d graded + %d dead letters", s.Lines, s.Graded, s.DeadLetters)
	if !s.Reconciles() {
		b.WriteString(" (COUNTS DO NOT RECONCILE)")
	}
	fmt.Fprintf(&b, "\ngrade: correct %d, incorrect %d, no_answer %d\n", s.Correct, s.Incorrect, s.NoAnswer)
	if s.Graded == 0 {
		b.WriteString("grade: accuracy n/a (nothing graded)\n")
	} else {
		fmt.Fprintf(&b, "grade: accuracy %.4f (%d/%d; no_answer counts as not correct)\n", s.Accuracy(), s.Correct, s.Graded)
	}
	fmt.Fprintf(&b, "grade: wrote %s", s.Output)
	if s.DeadLetters > 0 {
		fmt.Fprintf(&b, "; dead letters in %s", s.DeadLetterFile)
	} else {
		fmt.Fprintf(&b, "; no dead letters (%s is empty)", s.DeadLetterFile)
	}
	return b.String()
}
