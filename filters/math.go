package filters

import (
	"fmt"
	"strings"
)

// MathOptions configures a MathVerifier. A zero field means its default.
type MathOptions struct {
	// RelTolerance is the relative tolerance for comparisons that cannot be
	// exact: when either side is irrational (\pi, \sqrt{2}, e^{16}) or an
	// exact result outgrew MaxRationalBits. Two exact rationals (integers,
	// decimals, fractions, percentages) are always compared exactly, so
	// 0.333 is not 1/3. Default 1e-4; it must be in (0, 1).
	RelTolerance float64
	// AbsTolerance is the absolute tolerance for the same comparisons, which
	// decides near zero (sin(\pi) against 0). Default 1e-12.
	AbsTolerance float64
	// MaxRationalBits bounds the size of an exact intermediate result (bits
	// of numerator plus denominator); a larger one continues as a float.
	// Default 1024. It bounds the time of one comparison.
	MaxRationalBits int
	// EvalPoints is how many points expressions with variables are evaluated
	// at; at least 3 must be defined on both sides. Default 8, at most 8.
	EvalPoints int
}

const (
	defaultRelTolerance    = 1e-4
	defaultAbsTolerance    = 1e-12
	defaultMaxRationalBits = 1024
	defaultEvalPoints      = 8
)

func (o MathOptions) withDefaults() MathOptions {
	if o.RelTolerance <= 0 || o.RelTolerance >= 1 {
		o.RelTolerance = defaultRelTolerance
	}
	if o.AbsTolerance <= 0 {
		o.AbsTolerance = defaultAbsTolerance
	}
	if o.MaxRationalBits <= 0 || o.MaxRationalBits > 1<<16 {
		o.MaxRationalBits = defaultMaxRationalBits
	}
	if o.EvalPoints < minDefinedPoints || o.EvalPoints > len(samplePoints) {
		o.EvalPoints = defaultEvalPoints
	}
	return o
}

// MathVerifier grades math answers by mathematical equivalence: it extracts
// the final answer (ExtractAnswer), normalizes both sides (NormalizeAnswer)
// and compares them (see the package documentation for the rules). It holds
// no mutable state and is safe for concurrent use.
type MathVerifier struct {
	opts MathOptions
}

// NewMathVerifier returns a MathVerifier; nil opts means defaults, and any
// zero or out-of-range field of opts takes its default.
func NewMathVerifier(opts *MathOptions) *MathVerifier {
	var o MathOptions
	if opts != nil {
		o = *opts
	}
	return &MathVerifier{opts: o.withDefaults()}
}

// Options returns the options in effect, defaults filled in.
func (v *MathVerifier) Options() MathOptions { return v.opts }

// Name implements Verifier.
func (v *MathVerifier) Name() string { return "math" }

// Verify implements Verifier. The reference may be a bare answer ("18",
// "\frac{3}{4}") or a solution ending in "#### 18" or holding a \boxed{}.
func (v *MathVerifier) Verify(response, reference string) (verdict Verdict) {
	defer func() {
		// Every path is bounded and panic-free by construction and fuzzed; a
		// bug must still not take a pipeline worker down.
		if r := recover(); r != nil {
			verdict.Correct = false
			verdict.Reason = fmt.Sprintf("not graded: internal error: %v", r)
		}
	}()
	got, ok := ExtractAnswer(response)
	if !ok {
		return Verdict{Reason: ReasonNoAnswer}
	}
	verdict = Verdict{Extracted: got, HasAnswer: true}
	verdict.Correct, verdict.Reason = v.equal(got, ReferenceAnswer(reference), response)
	return verdict
}

// roundingWords are how a response states that its decimals are rounded.
var roundingWords = []string{`\approx`, "≈", "approximately", "Approximately", "rounded", "Rounded", "Rounding", "round to", "rounding", "to the nearest", "decimal place", "significant figure", "significant digit"}

// statesRounding reports whether a response says that its numbers are
// rounded; only then is a short decimal (0.33) taken for the exact value
// it rounds (1/3). See the package documentation.
func statesRounding(response string) bool {
	if len(response) > MaxResponseBytes {
		response = response[len(response)-MaxResponseBytes:]
	}
	for _, w := range roundingWords {
		if strings.Contains(response, w) {
			return true
		}
	}
	return false
}

// Equal reports whether two answers (already extracted) are mathematically
// equal, with a one-line reason. With no response to read, a decimal is
// taken for a rounded value only when it has at least MinFloatDecimals
// digits after the point.
func (v *MathVerifier) Equal(got, want string) (bool, string) {
	return v.equal(got, want, "")
}

// equal compares two answers; response, when known, is read for a stated
// rounding only if a short decimal needs it.
func (v *MathVerifier) equal(got, want, response string) (bool, string) {
	ug, uw := normalizeNotation(got), normalizeNotation(want)
	ng, nw := dropLeadingVariable(ug), dropLeadingVariable(uw)
	if nw == "" || ng == "" {
		return false, "not equal: an answer is empty after normalization"
	}
	if ng == nw {
		return true, fmt.Sprintf("equal after normalization: %s", ng)
	}
	c := comparer{
		relTol:   v.opts.RelTolerance,
		absTol:   v.opts.AbsTolerance,
		points:   v.opts.EvalPoints,
		ev:       evaluator{maxBits: v.opts.MaxRationalBits},
		response: response,
	}
	pg, pw := parseAnswer(ng, 0), parseAnswer(nw, 0)
	ok, why := c.equal(pg, pw)
	if ok || (ug == ng && uw == nw && pg.kind != kindRelation && pw.kind != kindRelation) {
		return ok, why
	}
	// A leading "y =" was dropped from one side, or one side is a relation:
	// compare the relations as written (y = 2x+3 against 2x - y + 3 = 0),
	// then a relation with a lone variable side against the other answer
	// (2x + 3 = y against 2x + 3).
	rg, rw := pg, pw
	if ug != ng {
		rg = parseAnswer(ug, 0)
	}
	if uw != nw {
		rw = parseAnswer(uw, 0)
	}
	if rg.kind == kindRelation && rw.kind == kindRelation {
		if ok, why := c.equal(rg, rw); ok {
			return ok, why
		}
	}
	if side := loneVariableSide(pg); side != nil && pw.kind == kindScalar {
		if ok, why := c.equal(side, pw); ok {
			return ok, why
		}
	}
	if side := loneVariableSide(pw); side != nil && pg.kind == kindScalar {
		if ok, why := c.equal(pg, side); ok {
			return ok, why
		}
	}
	return false, why
}

// loneVariableSide returns the other side of a relation "expr = y", or nil.
func loneVariableSide(a *answer) *answer {
	if a.kind != kindRelation || a.rel != "=" {
		return nil
	}
	switch {
	case a.rhs.op == opVar:
		return &answer{kind: kindScalar, src: a.src, expr: a.lhs}
	case a.lhs.op == opVar:
		return &answer{kind: kindScalar, src: a.src, expr: a.rhs}
	}
	return nil
}

// ReferenceAnswer returns the final answer of a reference: the part after
// the last "####" of a GSM8K solution, the boxes of the final statement of a
// MATH solution (as a list when there are several: "\boxed{1} and
// \boxed{2}" is "1, 2"), the final answer of a worked solution without a
// box (read as ExtractAnswer reads a response), or else the whole
// reference, trimmed.
func ReferenceAnswer(reference string) string {
	if strings.Contains(reference, "####") {
		if a, pos := lastHashes(reference); pos >= 0 {
			return trimAnswer(a)
		}
	}
	if boxes, found, ok := finalBoxes(reference); found && ok {
		if parts, ok := finishParts(boxes); ok {
			return strings.Join(parts, ", ")
		}
	}
	if len(reference) > 200 && proseWords(reference) >= 5 {
		// A worked solution without a box: its final answer, read as a
		// response's would be.
		if a, ok := ExtractAnswer(reference); ok {
			return a
		}
	}
	return trimAnswer(reference)
}
