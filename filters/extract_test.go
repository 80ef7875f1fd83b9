package filters

import (
	"strings"
	"testing"
)

func TestExtractAnswer(t *testing.T) {
	tests := []struct {
		name, response, want string
		ok                   bool
	}{
		{"boxed", `so the answer is \(\boxed{18}\).`, "18", true},
		{"last boxed wins", `first \boxed{1} then \boxed{2}`, "2", true},
		{"nested braces", `\boxed{\frac{1}{2}}`, `\frac{1}{2}`, true},
		{"escaped braces", `\boxed{\{1, 2\}}`, `\{1, 2\}`, true},
		{"fbox", `\fbox{7}`, "7", true},
		{"boxed without braces", `$\boxed 5$`, "5", true},
		{"boxed in display math", "\\[\n\\boxed{3400}\n\\]", "3400", true},
		{"unclosed last box is no answer", `\boxed{1} and \boxed{2`, "", false},
		{"empty box is no answer", `\boxed{}`, "", false},
		{"boxed beats answer is", `\boxed{4}. The answer is 5.`, "4", true},
		{"boxedx is another command", `\boxedx{4}`, "", false},
		{"the answer is", "So the answer is 42.", "42", true},
		{"the final answer is with math", "The final answer is $\\frac{3}{4}$.", `\frac{3}{4}`, true},
		{"answer is keeps decimals", "The answer is 0.5. Done", "0.5", true},
		{"answer is keeps math periods", `The answer is $x = 1.5$. Done`, "x = 1.5", true},
		{"gsm8k hashes", "She has 3 + 15 = <<3+15=18>>18 apples.\n#### 18", "18", true},
		{"gsm8k hashes with comma", "#### 1,000", "1,000", true},
		{"answer line", "Work...\nAnswer: 12", "12", true},
		{"final answer bold", "Work...\n**Final Answer:** $7$", "7", true},
		{"answer line on next line", "Work...\nFinal Answer:\n$\\frac{1}{2}$\n", `\frac{1}{2}`, true},
		{"multiple choice", "Therefore the answer is (B).", "(B)", true},
		{"latest text marker wins", "The answer is 3.\nWait.\nAnswer: 4", "4", true},
		{"nothing", "I think it is probably about 12 or so", "", false},
		{"bare last number is not an answer", "We get x = 5 after some work", "", false},
		{"number in free text is not an answer", "so the number is 10 which is 1,000.99 dollars", "", false},
		{"whole response is a bare answer", "x = 5", "x = 5", true},
		{"bare answer with a unit word", "28 percent", "28 percent", true},
		{"several boxes of one statement", `\boxed{(2, 2)} \quad \text{and} \quad \boxed{(6, 2)}`, "(2, 2), (6, 2)", true},
		{"boxes separated by commas", `\boxed{1},\boxed{2},\boxed{3}`, "1, 2, 3", true},
		{"repeated box counts once", `so \boxed{5} and \boxed{5}`, "5", true},
		{"sentence end separates boxes", `first \boxed{1}. Then \boxed{2}`, "2", true},
		{"revision separates boxes", `\boxed{1} wait \boxed{2}`, "2", true},
		{"nested box is one box", `\boxed{\boxed{1}}`, "1", true},
		{"final inline math", "Therefore $x \\geq 5$ is the solution.", `x \geq 5`, true},
		{"final display math", "Answer \\[ \n 9 \n \\]", "9", true},
		{"answer dollar math", "Answer $ 9 $", "9", true},
		{"inline math does not cross lines", "Answer $ \n 9 \n $", "", false},
		{"text answer in math", "$odd$", "odd", true},
		{"math followed by more reasoning is no answer", "We have $x = 2$ and then 5 more steps with 7 items", "", false},
		{"chat template tokens cut", "So the answer is 12. I hope it is correct. <|im_start|>user\nThe answer is 13.", "12", true},
		{"prose after a marker", "Final Answer: The volume of $ABCDEFGH$ is 120. I hope it is correct.", "120", true},
		{"empty", "", "", false},
		{"runaway box", `\boxed{` + strings.Repeat("1", MaxAnswerBytes+10) + "}", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ExtractAnswer(tt.response)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ExtractAnswer(%q) = %q, %v; want %q, %v", tt.response, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestReferenceAnswer(t *testing.T) {
	tests := []struct{ name, ref, want string }{
		{"bare", ` \frac{3}{4} `, `\frac{3}{4}`},
		{"gsm8k solution", "Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 72", "72"},
		{"math solution", `So $x = \boxed{3400}$.`, "3400"},
		{"dollar wrapped", `$18$`, "18"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReferenceAnswer(tt.ref); got != tt.want {
				t.Errorf("ReferenceAnswer(%q) = %q, want %q", tt.ref, got, tt.want)
			}
		})
	}
}

func FuzzExtractAnswer(f *testing.F) {
	for _, s := range []string{
		`\boxed{\frac{1}{2}}`, `\boxed{`, `\boxed{\}`, "#### 18", "Answer:\n", "The answer is $1.5$.",
		`\fbox 3`, `\boxed{{{{}}}`, "answer is \\(", `\boxed{\boxed{1}}`,
		`\boxed{1} and \boxed{2}`, `\boxed{1},\boxed{2`, "Answer $ 9 $", "Answer \\[ \n 9 \n \\]", "$$ $$ $",
		"\\( x \\) \\[", "x <|im_start|>user", "Final Answer: The volume is 120.", "-5", `$\$ = 1$`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := ExtractAnswer(s)
		if ok != (a != "") {
			t.Fatalf("ExtractAnswer(%q) = %q, %v: ok must mean non-empty", s, a, ok)
		}
		if len(a) > MaxAnswerBytes {
			t.Fatalf("answer of %d bytes exceeds MaxAnswerBytes", len(a))
		}
		parts, _ := extractAnswers(s)
		for _, p := range parts {
			if !strings.Contains(s, p) {
				// Only trimming is allowed: each part is a substring.
				t.Fatalf("answer part %q is not taken from the response %q", p, s)
			}
		}
		if ok && len(parts) == 1 && a != parts[0] {
			t.Fatalf("ExtractAnswer(%q) = %q, but its one part is %q", s, a, parts[0])
		}
	})
}
