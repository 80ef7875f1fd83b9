package skills

import "github.com/syllabus-dev/syllabus/filters"

// SolveAttempts is how many times STAT-Syn has the teacher solve a
// synthesized problem, and MinAgreeing how many of those final answers
// must agree for the problem to be kept.
const (
	SolveAttempts = 3
	MinAgreeing   = 2
)

// Agreement is the outcome of Agree.
type Agreement struct {
	// Answer is the agreed final answer (as the first agreeing solution
	// wrote it); empty when fewer than the needed solutions agree.
	Answer string
	// Agreeing is the size of the largest group of equivalent answers;
	// Answered the number of solutions with an extractable answer.
	Agreeing, Answered int
	Kept               bool
}

// Agree extracts the final answer of each solution and keeps the problem
// when at least need of them are equivalent under the math verifier's
// equivalence (so 0.5, 1/2 and \frac{1}{2} agree). A solution with no
// extractable answer agrees with nothing.
func Agree(solutions []string, need int) Agreement {
	v := filters.NewMathVerifier(nil)
	var answers []string
	for _, s := range solutions {
		if a, ok := filters.ExtractAnswer(s); ok && a != "" {
			answers = append(answers, a)
		}
	}
	out := Agreement{Answered: len(answers)}
	for i, a := range answers {
		n := 0
		for _, b := range answers {
			if eq, _ := v.Equal(b, a); eq {
				n++
			}
		}
		if n > out.Agreeing {
			out.Agreeing, out.Answer = n, answers[i]
		}
	}
	out.Kept = out.Agreeing >= need
	if !out.Kept {
		out.Answer = ""
	}
	return out
}
