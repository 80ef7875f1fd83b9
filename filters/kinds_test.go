package filters

import "testing"

// kindsCases are our own cases for competition-style and reasoning-model
// answers (issue 14), each kind with false friends that must stay wrong.
var kindsCases = []struct {
	name                string
	response, reference string
	correct             bool
}{
	// Several boxes in the final statement.
	{"two boxed pairs", `So \boxed{(1, 4)} \quad \text{and} \quad \boxed{(4, 1)}.`, `(4, 1), (1, 4)`, true},
	{"boxes with commas", `\boxed{2},\boxed{5},\boxed{9}`, `\{2, 5, 9\}`, true},
	{"false friend: a different pair", `\boxed{(1, 4)} and \boxed{(4, 2)}`, `(4, 1), (1, 4)`, false},
	{"false friend: one box of two", `\boxed{2} and \boxed{5}`, `2, 5, 9`, false},
	{"reference with boxes", `$\boxed{3, -1}$`, `\(\boxed{-1}\) and \(\boxed{3}\).`, true},
	// Labels on either side.
	{"labelled tuple reference", `\boxed{(5, 1)}`, `(m,n)=(5,1)`, true},
	{"labelled tuple swapped is wrong", `\boxed{(1, 5)}`, `(m,n)=(5,1)`, false},
	{"labelled list", `\boxed{a = 3} \quad \text{and} \quad \boxed{b = 7}`, `a = 3, b = 7`, true},
	{"names as labels", `\boxed{6, 8}`, `PQ=6,RS=8`, true},
	{"ratio label", `\boxed{3:5}`, `S_{1}:S_{2}=3:5`, true},
	{"ratio differs", `\boxed{5:3}`, `S_{1}:S_{2}=3:5`, false},
	{"subscripted labels", `\boxed{x_{1}=2, x_{2}=-3}`, `2, -3`, true},
	// Separators.
	{"and between numbers", `\boxed{4 \text{ and } 9}`, `4, 9`, true},
	{"or between pairs", `\boxed{(2,3) \text{ or } (3,2)}`, `(3,2),(2,3)`, true},
	{"semicolons", `\boxed{-3;-2;5}`, `\{-3, -2, 5\}`, true},
	{"semicolons in a tuple", `\boxed{(1;0;2)}`, `(1, 0, 2)`, true},
	{"semicolon tuple differs", `\boxed{(1;2;0)}`, `(1, 0, 2)`, false},
	// No box.
	{"final display math", "Thus the solution set is\n$$(2, +\\infty)$$", `(2, \infty)`, true},
	{"answer dollar", `Answer $ 14 $`, `14`, true},
	{"answer display", `Answer \[ 14 \]`, `14`, true},
	{"text answer", `$even$`, `\text{even}`, true},
	{"text answer differs", `$even$`, `\text{odd}`, false},
	{"chat tokens cut", `The final answer is $6$. I hope it is correct.<|im_end|><|im_start|>user Now the answer is 7`, `6`, true},
	{"free text is no answer", `so we get 14 apples in all`, `14`, false},
	// Relations and intervals.
	{"geq spelled two ways", `$\boxed{y \geq 2}$`, `y >= 2`, true},
	{"flipped inequality is wrong", `$\boxed{y \leq 2}$`, `y >= 2`, false},
	{"neq spelled two ways", `$\boxed{t \neq 4}$`, `t != 4`, true},
	{"chain last side", `$\boxed{n = 3 \cdot 4 + 1 = 13}$`, `13`, true},
	{"chain last side differs", `$\boxed{n = 3 \cdot 4 + 1 = 12}$`, `13`, false},
	{"double inequality is an interval", `\boxed{(-4, 9)}`, `-4 < b < 9`, true},
	{"closed ends matter", `\boxed{[-4, 9)}`, `-4 < b < 9`, false},
	{"half-open from inequalities", `\boxed{-4 \le b < 9}`, `[-4, 9)`, true},
	{"set membership", `\boxed{t \in [0, 3]}`, `0 \le t \le 3`, true},
	// Matrices.
	{"pmatrix and bmatrix", `\boxed{\begin{bmatrix} 2 & 0 \\ -1 & 3 \end{bmatrix}}`, `\begin{pmatrix} 2 & 0 \\ -1 & 3 \end{pmatrix}`, true},
	{"array in brackets", `\boxed{\left[\begin{array}{cc} 2 & 0 \\ -1 & 3 \end{array}\right]}`, `\begin{pmatrix} 2 & 0 \\ -1 & 3 \end{pmatrix}`, true},
	{"matrix with one entry changed", `\boxed{\begin{pmatrix} 2 & 0 \\ 1 & 3 \end{pmatrix}}`, `\begin{pmatrix} 2 & 0 \\ -1 & 3 \end{pmatrix}`, false},
	{"matrix of values", `\boxed{\begin{pmatrix} 0.5 \\ \frac{6}{4} \end{pmatrix}}`, `\begin{pmatrix} \frac{1}{2} \\ \frac{3}{2} \end{pmatrix}`, true},
	// Rounded decimals.
	{"printed float", `\boxed{0.1428571428571}`, `\frac{1}{7}`, true},
	{"wrong printed float", `\boxed{0.1428571528571}`, `\frac{1}{7}`, false},
	{"short decimal without a stated rounding", `\boxed{0.14}`, `\frac{1}{7}`, false},
	{"stated rounding", `Rounded to two decimal places, \boxed{0.14}`, `\frac{1}{7}`, true},
	{"stated rounding, wrongly rounded", `Rounded to two decimal places, \boxed{0.15}`, `\frac{1}{7}`, false},
	{"approx states rounding", `$p \approx \boxed{0.667}$`, `\frac{2}{3}`, true},
	{"approx, truncated not rounded", `$p \approx \boxed{0.666}$`, `\frac{2}{3}`, false},
	{"rounded interval end", `Approximately \boxed{(0.6, 2.67]}`, `(\frac{3}{5}, \frac{8}{3}]`, true},
}

func TestKinds(t *testing.T) {
	v := NewMathVerifier(nil)
	for _, tt := range kindsCases {
		t.Run(tt.name, func(t *testing.T) {
			got := v.Verify(tt.response, tt.reference)
			if got.Correct != tt.correct {
				t.Errorf("Verify(%q, %q) = %+v, want correct=%v", tt.response, tt.reference, got, tt.correct)
			}
		})
	}
}
