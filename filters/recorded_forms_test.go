package filters

import (
	"strings"
	"testing"
)

// recordedForms are real worked forms from the MATH reference solutions
// (the `solution` field) of the recorded problems in
// testdata/recordings/qwen25-math-instruct-math-8samples.jsonl: the side the
// solution writes just before its boxed answer, which differs from the
// reference in notation. Each must reach the equivalence engine (not be
// equal after normalization) and be graded equal; the false friends beside
// them are earlier steps of the same solutions that are not the answer.
// The recorded problems hold no intervals or tuples, which the
// equivalenceCases and kindsCases tables cover.
var recordedForms = []struct {
	idx        int
	form, want string
	equal      bool
}{
	{4, `\frac{1}{31} \cdot 93`, `3`, true},
	{4, `93 \div 31`, `3`, true},
	{7, `3\cdot 3\cdot 2\cdot 1`, `18`, true},
	{8, `\frac{22}{16}-\frac{6}{16}`, `1`, true},
	{8, `\frac{11}{8}-\frac{6}{16}`, `1`, true},
	{18, `\frac{1000}{100}`, `10`, true},
	{19, `\frac{7+21}{14+42}`, `\frac{1}{2}`, true},
	{19, `\frac{28}{56}`, `\frac{1}{2}`, true},
	{22, `a+a+a+a+1-2+3-4`, `4a-2`, true},
	{24, `12 + \frac{3}{5}`, `12\frac{3}{5}`, true},
	{32, `(-63)(63)`, `-3969`, true},
	{33, `(3t -6t +7t) + (4-4)`, `4t`, true},
	{37, `\frac{33}{30}`, `1\frac{1}{10}`, true},
	{37, `\frac{10+1}{10}`, `1\frac{1}{10}`, true},
	{39, `2^2\cdot3\cdot5\cdot17`, `1020`, true},
	{42, `\frac{1}{2}(9)(4)`, `18`, true},
	{43, `20\pi-13\pi`, `7\pi`, true},
	{49, `\frac{3^3}{2\cdot 4^3}`, `\frac{27}{128}`, true},
	{53, `9 \cdot 10^8`, `900,\!000,\!000`, true},
	{54, `\frac{\frac{1}{4}}{1}`, `25\%`, true},
	{59, `26 \times 5 \times 25`, `3,\!250`, true},
	{68, `\frac{2^{4}}{3^{3}}`, `\frac{16}{27}`, true},
	{69, `\sqrt{576}`, `24`, true},
	{72, `70{,}000\div 7`, `10{,}000`, true},
	{77, `\frac{-5\cdot 8}{9\cdot 17}`, `-\frac{40}{153}`, true},
	{79, `10 \times \frac {9}{6}`, `15`, true},
	{83, `\frac{2\cdot5\cdot13}{3\cdot7\cdot 11}`, `\frac{130}{231}`, true},
	{87, `1 + \frac{9}{10}`, `1\frac{9}{10}`, true},
	{97, `\dfrac{6}{100}`, `\dfrac{3}{50}`, true},
	{98, `15^4`, `50,\!625`, true},
	{99, `(1/4)/(1/12)`, `3`, true},
	// False friends: earlier steps of the same solutions.
	{8, `\frac{11}{8}`, `1`, false},
	{29, `13x`, `\frac{11}{13}`, false},
	{37, `\frac{33}{3}`, `1\frac{1}{10}`, false},
	{49, `\frac{3}{4}`, `\frac{27}{128}`, false},
	{54, `\frac{1}{2}\cdot 1`, `25\%`, false},
	{64, `\frac{1}{2}`, `25\%`, false},
	{69, `576`, `24`, false},
	{97, `\frac{6}{10}`, `\dfrac{3}{50}`, false},
}

func TestRecordedFormsReachEquivalence(t *testing.T) {
	problems := map[int]recordedProblem{}
	for _, p := range readRecordings(t) {
		problems[p.Idx] = p
	}
	v := NewMathVerifier(nil)
	for _, tt := range recordedForms {
		t.Run(tt.form, func(t *testing.T) {
			p, ok := problems[tt.idx]
			if !ok {
				t.Fatalf("idx %d is not in the recordings", tt.idx)
			}
			if p.Answer != tt.want {
				t.Fatalf("idx %d: reference is %q, the table says %q", tt.idx, p.Answer, tt.want)
			}
			if tt.equal && !strings.Contains(strings.ReplaceAll(p.Solution, " ", ""), strings.ReplaceAll(tt.form, " ", "")) {
				t.Fatalf("idx %d: %q is not written in the recorded solution", tt.idx, tt.form)
			}
			if NormalizeAnswer(tt.form) == NormalizeAnswer(p.Answer) {
				t.Fatalf("%q is equal to %q after normalization: it does not reach the equivalence engine", tt.form, p.Answer)
			}
			got, why := v.Equal(tt.form, p.Answer)
			if got != tt.equal {
				t.Errorf("Equal(%q, %q) = %v (%s), want %v", tt.form, p.Answer, got, why, tt.equal)
			}
		})
	}
}
