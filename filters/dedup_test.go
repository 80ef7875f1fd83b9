package filters

import "testing"

// TestDedupTextKeepsProblemsApart: pairs that differ only in an operator,
// a sign, an exponent or a relation are different problems and must keep
// different dedup texts; copies that differ only in spacing, case or
// Unicode form must get the same one.
func TestDedupTextKeepsProblemsApart(t *testing.T) {
	apart := problemsApart
	for _, p := range apart {
		if a, b := DedupText(p[0]), DedupText(p[1]); a == b {
			t.Errorf("%q and %q merged (both %q)", p[0], p[1], a)
		}
	}
	same := [][2]string{
		{"What is 2 + 3?", "what is 2+3?"},
		{"Factor  x^2 + 5x + 6.", "FACTOR x^2+5x+6."},
		{"Compute\t4 - ( -1 ).\n", "compute 4-(-1)."},
		{"What is １２ + ３?", "What is 12 + 3?"}, // full-width digits (NFKC)
		{"Evaluate 2^{10}.", "  evaluate 2^{10} . "},
		{"a\u00a0b", "A B"}, // a non-breaking space
	}
	for _, p := range same {
		if a, b := DedupText(p[0]), DedupText(p[1]); a != b {
			t.Errorf("%q and %q not merged: %q vs %q", p[0], p[1], a, b)
		}
	}
}

// problemsApart are pairs of different problems that differ only in an
// operator, a sign, a digit, an exponent, a relation or a LaTeX command:
// neither exact nor near-duplicate removal may merge them.
var problemsApart = [][2]string{
	{"Compute 4-(-1).", "Compute (-4)+(-1)."},
	{"Factor x^2+5x+6.", "Factor x^2-5x+6."},
	{"What is 12÷4?", "What is 12×4?"},
	{"Evaluate 2^{10}.", "Evaluate 2^{-10}."},
	{"Is 7 > 5?", "Is 7 < 5?"},
	{"Find $\\sqrt{16}$.", "Find $\\sqrt[3]{16}$."},
	{"Compute \\sin(\\pi/2).", "Compute \\cos(\\pi/2)."},
	{"What is 3*4?", "What is 3+4?"},
	{"What is 12 3?", "What is 123?"},
	{"Solve x = 2.5", "Solve x = 25"},
	{"What is -5 + 3?", "What is 5 + 3?"},
	{"Compute e^{x}", "Compute e_{x}"},
	{"Is 7 ≥ 5?", "Is 7 ≤ 5?"},
}
