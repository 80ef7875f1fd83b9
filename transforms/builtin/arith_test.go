package builtin

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    Spec
		wantErr []string
	}{
		{name: "defaults", input: "builtin:arithmetic", want: Spec{Set: "arithmetic", N: 200, Seed: 1, MinSteps: 1, MaxSteps: 4, MaxNumber: 100, Distractors: 0.25}},
		{name: "all knobs", input: "builtin:arithmetic?n=5&seed=9&min_steps=2&max_steps=3&max_number=50&distractors=0", want: Spec{Set: "arithmetic", N: 5, Seed: 9, MinSteps: 2, MaxSteps: 3, MaxNumber: 50, Distractors: 0}},
		{name: "every problem reported", input: "builtin:algebra?n=0&colour=red&min_steps=5&max_steps=2", wantErr: []string{`unknown set "algebra"`, `unknown parameter "colour"`, "n must be", "min_steps (5) must not exceed max_steps (2)"}},
		{name: "bad probability", input: "builtin:arithmetic?distractors=2", wantErr: []string{"distractors must be a probability"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSpec(tt.input)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("ParseSpec(%q) = %+v, want error", tt.input, got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseSpec(%q) = %+v, want %+v", tt.input, got, tt.want)
			}
			back, err := ParseSpec(got.String())
			if err != nil || back != got {
				t.Errorf("round trip through String() = %+v, %v", back, err)
			}
		})
	}
}

// TestGenerateAnswersFollowSteps re-derives every answer from the worked
// steps, so a generator bug that desynchronizes text and answer fails here.
func TestGenerateAnswersFollowSteps(t *testing.T) {
	spec, _ := ParseSpec("builtin:arithmetic?n=2000&max_steps=6&max_number=500")
	ids := map[string]bool{}
	for _, p := range Generate(spec) {
		if ids[p.ID] {
			t.Fatalf("duplicate id %s", p.ID)
		}
		ids[p.ID] = true
		last := p.Steps[len(p.Steps)-2] // "a op b = c." or the starting sentence
		if len(p.Steps) > 2 {
			eq := strings.TrimSuffix(last[strings.LastIndex(last, "= ")+2:], ".")
			if eq != p.Answer {
				t.Fatalf("%s: last step %q does not give answer %s", p.ID, last, p.Answer)
			}
		}
		n, err := strconv.Atoi(p.Answer)
		if err != nil || n < 1 {
			t.Fatalf("%s: answer %q is not a positive whole number", p.ID, p.Answer)
		}
		if !strings.HasSuffix(p.Text, "have now?") || len(p.Skills) == 0 || strings.ContainsAny(p.Text, "{}%") {
			t.Fatalf("%s: malformed problem %q skills %v", p.ID, p.Text, p.Skills)
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	spec, _ := ParseSpec("builtin:arithmetic?n=50")
	a, b := Generate(spec), Generate(spec)
	for i := range a {
		if a[i].Text != b[i].Text || a[i].Answer != b[i].Answer {
			t.Fatalf("problem %d differs between two generations", i)
		}
	}
	spec.Seed = 2
	if Generate(spec)[0].Text == a[0].Text {
		t.Error("another seed gave the same first problem")
	}
}
