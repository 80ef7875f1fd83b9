package filters

import (
	"strings"
	"testing"
)

// equivalenceCases pairs an answer as a model writes it with a reference,
// one named case per rule and direction.
var equivalenceCases = []struct {
	name      string
	got, want string
	equal     bool
}{
	// Normalization of notation.
	{"dfrac is frac", `\dfrac{3}{4}`, `\frac{3}{4}`, true},
	{"tfrac is frac", `\tfrac{3}{4}`, `\frac34`, true},
	{"frac without braces", `\frac12`, `\frac{1}{2}`, true},
	{"frac without braces differs", `\frac13`, `\frac{1}{2}`, false},
	{"left right dropped", `\left(1, 2\right)`, `(1,2)`, true},
	{"left right keep brackets", `\left[1, 2\right)`, `(1,2)`, false},
	{"text unwrapped", `\text{Devon}`, `Devon`, true},
	{"text case-insensitive", `\textbf{devon}`, `\text{Devon}`, true},
	{"text differs", `\text{Devon}`, `\text{Leo}`, false},
	{"unit dropped", `12 \text{ cm}`, `12`, true},
	{"unit plural dropped", `12\text{ minutes}`, `12`, true},
	{"unit squared dropped", `50 \text{ cm}^2`, `50`, true},
	{"unit does not rescue wrong number", `13 \text{ cm}`, `12`, false},
	{"time keeps a.m./p.m.", `4:30 \text{ p.m.}`, `\text{4:30 p.m.}`, true},
	{"time a.m. is not p.m.", `4:30 \text{ a.m.}`, `\text{4:30 p.m.}`, false},
	{"degrees circ", `120^\circ`, `120`, true},
	{"degrees braced circ", `120^{\circ}`, `120^\circ`, true},
	{"degrees word", `120 degrees`, `120^\circ`, true},
	{"degrees differ", `60^\circ`, `120^\circ`, false},
	{"percent sign", `25\%`, `25`, true},
	{"percent word", `25 percent`, `25\%`, true},
	{"percent as fraction", `0.25`, `25\%`, true},
	{"percent differs", `12.5`, `25\%`, false},
	{"thousands comma", `3,250`, `3,\!250`, true},
	{"thousands braced comma", `10000`, `10{,}000`, true},
	{"thousands many groups", `900,000,000`, `900,\!000,\!000`, true},
	{"thousands differ", `9999`, `10{,}000`, false},
	{"thin space separator", `6\,290\,000`, `6290000`, true},
	{"dollar signs", `$18$`, `18`, true},
	{"currency dollar", `\$18.50`, `18.5`, true},
	{"leading x =", `x = 3400`, `3400`, true},
	{"leading x_1 =", `x_1 = 5`, `5`, true},
	{"leading theta =", `\theta = \frac{\pi}{2}`, `\frac{\pi}{2}`, true},
	{"leading x = wrong", `x = 3401`, `3400`, false},
	{"trailing period", `18.`, `18`, true},
	{"infinity word", `infinity`, `\infty`, true},
	{"infinity unicode", `∞`, `\infty`, true},
	{"minus infinity is not infinity", `-\infty`, `\infty`, false},
	{"sqrt without braces", `\sqrt2`, `\sqrt{2}`, true},
	{"sqrt without braces differs", `\sqrt3`, `\sqrt{2}`, false},
	{"leading point", `.5`, `0.5`, true},
	{"trailing zeros", `0.50`, `\frac{1}{2}`, true},
	{"spacing commands", `1\!\,000`, `1000`, true},
	{"unicode minus", `−4`, `-4`, true},
	{"cdot and times", `2 \cdot 3 \times 4`, `24`, true},

	// Exact rational arithmetic.
	{"integer", `18`, `18`, true},
	{"integer differs", `17`, `18`, false},
	{"fraction vs decimal", `\frac{3}{4}`, `0.75`, true},
	{"fraction vs close decimal", `0.333`, `\frac{1}{3}`, false},
	{"unreduced fraction", `\frac{6}{8}`, `\frac{3}{4}`, true},
	{"negative fraction forms", `\frac{-40}{153}`, `-\frac{40}{153}`, true},
	{"negative fraction sign", `\frac{40}{153}`, `-\frac{40}{153}`, false},
	{"slash fraction", `3/4`, `\frac{3}{4}`, true},
	{"mixed number", `12\frac{3}{5}`, `\frac{63}{5}`, true},
	{"mixed number decimal", `12.6`, `12\frac{3}{5}`, true},
	{"mixed number with space", `9999 \frac{6}{7}`, `\frac{69999}{7}`, true},
	{"negative mixed number", `-1\frac{1}{2}`, `-1.5`, true},
	{"mixed number differs", `1\frac{1}{9}`, `1\frac{1}{10}`, false},
	{"arithmetic", `2 + 3 \cdot 4`, `14`, true},
	{"power", `2^{10}`, `1024`, true},
	{"power differs", `2^{10}`, `1000`, false},
	{"negative power", `2^{-2}`, `\frac{1}{4}`, true},
	{"exact square root", `\sqrt{\frac{9}{4}}`, `1.5`, true},
	{"exact cube root", `\sqrt[3]{-8}`, `-2`, true},
	{"factorial", `5!`, `120`, true},
	{"binomial", `\binom{5}{2}`, `10`, true},
	{"big integers exact", `2^{100}`, `1267650600228229401496703205376`, true},
	{"big integers differ by one", `2^{100}`, `1267650600228229401496703205377`, false},
	{"huge power stays bounded", `10^{100000}`, `10^{100000}+1`, true}, // beyond MaxRationalBits both are +Inf as floats

	// Irrational values: float with relative tolerance.
	{"pi multiple", `7\pi`, `7 \pi`, true},
	{"pi decimal close", `21.99115`, `7\pi`, true},
	{"pi decimal close enough", `21.99`, `7\pi`, true}, // 5e-5 relative error
	{"pi decimal far", `21.9`, `7\pi`, false},
	{"pi two decimals", `3.14`, `\pi`, false},
	{"pi over 2", `\pi/2`, `\frac{\pi}{2}`, true},
	{"e power", `e^{16}`, `\exp(16)`, true},
	{"e power differs", `e^{15}`, `e^{16}`, false},
	{"sqrt product", `2\sqrt{3}`, `\sqrt{12}`, true},
	{"sqrt sum differs", `\sqrt{34}+3\sqrt{10}`, `28`, false},
	{"rationalized denominator", `\frac{1}{\sqrt{2}}`, `\frac{\sqrt{2}}{2}`, true},
	{"trig", `\sin(\pi/6)`, `\frac{1}{2}`, true},
	{"log base", `\log_2 8`, `3`, true},

	// Expressions with variables: evaluation at rational points.
	{"linear expression", `4a-2`, `-2+4a`, true},
	{"linear expression differs", `4a+2`, `4a-2`, false},
	{"implicit product", `4t`, `4 t`, true},
	{"expanded polynomial", `(x+1)^2`, `x^2+2x+1`, true},
	{"polynomial differs", `(x+1)^2`, `x^2+1`, false},
	{"two variables", `2xy`, `2yx`, true},
	{"abs is not identity", `|x|`, `x`, false},
	{"sqrt of square is abs", `\sqrt{x^2}`, `|x|`, true},
	{"rational function", `\frac{x^2-1}{x-1}`, `x+1`, true},
	{"pi r squared", `\pi r^2`, `r^2\pi`, true},
	{"subscripted variables", `a_1 + a_2`, `a_2 + a_1`, true},

	// Equations and inequalities: compared by sides.
	{"equation sides swapped", `y = 2x+3`, `2x + 3 = y`, true},
	{"equation rearranged", `2x - y + 3 = 0`, `y = 2x + 3`, true},
	{"equation scaled", `4x + 2y = 6`, `2x + y = 3`, true},
	{"equation differs", `y = 2x + 4`, `y = 2x + 3`, false},
	{"inequality flipped", `3 > x`, `x < 3`, true},
	{"inequality scaled by negative", `-x < -3`, `x < 3`, false},
	{"inequality strictness", `x \le 3`, `x < 3`, false},

	// Tuples, intervals, sets and lists: element by element.
	{"tuple", `(1, 2)`, `(1,2)`, true},
	{"tuple order matters", `(2, 1)`, `(1,2)`, false},
	{"tuple elements by value", `(\frac{1}{2}, 0.25)`, `(0.5, \frac14)`, true},
	{"tuple length", `(1, 2, 3)`, `(1,2)`, false},
	{"open interval vs closed", `[1, 2]`, `(1, 2)`, false},
	{"half-open interval", `[0, \infty)`, `[0,\infty)`, true},
	{"half-open interval brackets differ", `(0, \infty)`, `[0,\infty)`, false},
	{"union of intervals", `(-\infty, -1) \cup (1, \infty)`, `(1,\infty)\cup(-\infty,-1)`, true},
	{"union differs", `(-\infty, -1] \cup (1, \infty)`, `(-\infty,-1)\cup(1,\infty)`, false},
	{"set any order", `\{3, 1, 2\}`, `\{1,2,3\}`, true},
	{"set differs", `\{3, 1, 4\}`, `\{1,2,3\}`, false},
	{"list any order", `2, -3`, `-3, 2`, true},
	{"list with variables", `x = 2, x = -3`, `-3, 2`, true},
	{"list vs set", `1, 2`, `\{1,2\}`, true},
	{"list vs tuple", `1, 2`, `(1,2)`, false},
	{"plus minus", `1 \pm \sqrt{2}`, `1+\sqrt{2}, 1-\sqrt{2}`, true},
	{"multiset counts", `1, 1, 2`, `1, 2, 2`, false},
	{"matrix", `\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}`, `\begin{pmatrix}1&2\\3&\frac{8}{2}\end{pmatrix}`, true},
	{"matrix differs", `\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}`, `\begin{pmatrix}1&3\\2&4\end{pmatrix}`, false},

	// Kinds that never match.
	{"number vs tuple", `1`, `(1, 2)`, false},
	{"number vs equation", `3`, `x + y = 3`, false},
	{"word vs anagram", `no`, `on`, false},
	{"empty set", `\emptyset`, `\varnothing`, true},
	{"multiple choice letter", `(B)`, `B`, true},
	{"multiple choice letter differs", `(C)`, `B`, false},
}

func TestEquivalence(t *testing.T) {
	v := NewMathVerifier(nil)
	for _, tt := range equivalenceCases {
		t.Run(tt.name, func(t *testing.T) {
			for _, pair := range [][2]string{{tt.got, tt.want}, {tt.want, tt.got}} {
				ok, why := v.Equal(pair[0], pair[1])
				if ok != tt.equal {
					t.Errorf("Equal(%q, %q) = %v (%s), want %v", pair[0], pair[1], ok, why, tt.equal)
				}
				if why == "" || strings.Contains(why, "\n") {
					t.Errorf("Equal(%q, %q): reason %q must be one non-empty line", pair[0], pair[1], why)
				}
			}
		})
	}
}

func TestNormalizeAnswer(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "18", "18"},
		{"dfrac", `\dfrac{3}{4}`, `\frac{3}{4}`},
		{"frac braces", `\frac12`, `\frac{1}{2}`},
		{"sqrt braces", `\sqrt2`, `\sqrt{2}`},
		{"sqrt command argument", `\sqrt\pi`, `\sqrt{\pi}`},
		{"left right", `\left( 1, 2 \right)`, `(1,2)`},
		{"text", `\text{4:30 p.m.}`, `4:30p.m`},
		{"units", `12 \text{ cm}^2`, `12`},
		{"unit alone stays", `\text{cm}`, `cm`},
		{"degrees", `120^{\circ}`, `120`},
		{"percent", `25\%`, `25%`},
		{"thousands", `900,\!000,\!000`, `900000000`},
		{"thousands braced", `10{,}000`, `10000`},
		{"tuple is not thousands", `(1,2)`, `(1,2)`},
		{"four digits are not a group", `1,0000`, `1,0000`},
		{"decimal is not thousands", `0.5,000`, `0.5,000`},
		{"spaces", `2 x + 1`, `2x+1`},
		{"space between letters kept", `\pi r`, `\pi r`},
		{"dollars", `$\$18$`, `18`},
		{"leading variable", `x = 5`, `5`},
		{"equation kept", `x + y = 5`, `x+y=5`},
		{"chain keeps its last side", `x = y = 5`, `5`},
		{"trailing punctuation", `18.`, `18`},
		{"leading zero", `-.5`, `-0.5`},
		{"infinity", `infinity`, `\infty`},
		{"times", `2\times 3`, `2*3`},
		{"nested boxed", `\boxed{5}`, `5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeAnswer(tt.in); got != tt.want {
				t.Errorf("NormalizeAnswer(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
