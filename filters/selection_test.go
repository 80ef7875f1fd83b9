package filters

import (
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/schemas"
)

func gen(answer string, samples ...string) schemas.Generation {
	g := schemas.Generation{
		Prompt:   schemas.Prompt{ID: "p1", Text: "What is 6 times 7?", Answer: answer, Source: "t.jsonl", Line: 3, Skills: []string{"multiplication"}},
		Messages: []schemas.Message{{Role: schemas.RoleUser, Content: "What is 6 times 7?"}},
	}
	for i, s := range samples {
		smp := schemas.Sample{PromptID: "p1", Index: i, Text: s, Model: "m"}
		if s == "TRUNCATED" {
			smp.Truncated, smp.FinishReason = true, "length"
		}
		g.Samples = append(g.Samples, smp)
	}
	return g
}

func TestSelect(t *testing.T) {
	right, wrong, none := `6 × 7 = 42, so \boxed{42}`, `I get \boxed{41}`, "I am not sure."
	tests := []struct {
		name                 string
		g                    schemas.Generation
		sampling             SelectionConfig
		wantSFT, wantPairs   int
		wantRLVR             int
		wantReason           string
		wantDifficulty       string
		wantChosen, wantRej  int32
		wantGraded           map[string]int
		wantPassRateAtLeast0 float64
	}{
		{name: "keeps at most m correct", g: gen("42", right, right, right, wrong), sampling: SelectionConfig{MaxCorrect: 2, MaxPairs: 1},
			wantSFT: 2, wantPairs: 1, wantRLVR: 1, wantDifficulty: "easy", wantChosen: 0, wantRej: 3,
			wantGraded: map[string]int{"correct": 3, "incorrect": 1}},
		{name: "all correct has no pair and no RLVR signal", g: gen("42", right, right), sampling: SelectionConfig{MaxCorrect: 1, MaxPairs: 1},
			wantSFT: 1, wantDifficulty: "easy", wantGraded: map[string]int{"correct": 2}},
		{name: "hard prompt", g: gen("42", wrong, none, wrong, right), sampling: SelectionConfig{MaxCorrect: 1, MaxPairs: 2},
			wantSFT: 1, wantPairs: 1, wantRLVR: 1, wantDifficulty: "hard", wantChosen: 3, wantRej: 0,
			wantGraded: map[string]int{"correct": 1, "incorrect": 2, "no_answer": 1}},
		{name: "no correct sample", g: gen("42", wrong, none), sampling: SelectionConfig{MaxCorrect: 1},
			wantReason: ReasonNoCorrect, wantDifficulty: "unsolved", wantGraded: map[string]int{"incorrect": 1, "no_answer": 1}},
		{name: "no answer is not a wrong answer", g: gen("42", none, none), sampling: SelectionConfig{MaxCorrect: 1},
			wantReason: ReasonNoAnswer, wantDifficulty: "unsolved", wantGraded: map[string]int{"no_answer": 2}},
		{name: "truncated samples are never kept", g: gen("42", "TRUNCATED", "TRUNCATED"), sampling: SelectionConfig{MaxCorrect: 1},
			wantReason: ReasonTruncated, wantDifficulty: "unsolved", wantGraded: map[string]int{"truncated": 2}},
		{name: "no reference", g: gen("", right), sampling: SelectionConfig{MaxCorrect: 1},
			wantReason: ReasonNoReference, wantDifficulty: "unsolved", wantGraded: map[string]int{"ungraded": 1}},
		{name: "GSM8K-style reference", g: gen("6 * 7 = <<6*7=42>>42\n#### 42", right, wrong), sampling: SelectionConfig{MaxCorrect: 1, MaxPairs: 1},
			wantSFT: 1, wantPairs: 1, wantRLVR: 1, wantDifficulty: "medium", wantRej: 1, wantGraded: map[string]int{"correct": 1, "incorrect": 1}},
	}
	v := NewMathVerifier(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Select(tt.g, v, tt.sampling)
			if len(o.SFT) != tt.wantSFT || len(o.Pairs) != tt.wantPairs || len(o.RLVR) != tt.wantRLVR {
				t.Fatalf("got %d sft, %d pairs, %d rlvr; want %d, %d, %d", len(o.SFT), len(o.Pairs), len(o.RLVR), tt.wantSFT, tt.wantPairs, tt.wantRLVR)
			}
			if o.Difficulty != tt.wantDifficulty {
				t.Errorf("difficulty = %q, want %q", o.Difficulty, tt.wantDifficulty)
			}
			for k, n := range tt.wantGraded {
				if o.Graded[k] != n {
					t.Errorf("graded[%s] = %d, want %d (all: %v)", k, o.Graded[k], n, o.Graded)
				}
			}
			if tt.wantReason != "" {
				if o.Rejection == nil || o.Rejection.Reason != tt.wantReason {
					t.Fatalf("rejection = %+v, want reason %s", o.Rejection, tt.wantReason)
				}
				if o.Rejection.PromptID != "p1" || o.Rejection.Line != 3 || o.Rejection.Detail == "" {
					t.Errorf("rejection lacks lineage or detail: %+v", o.Rejection)
				}
				return
			}
			if o.Rejection != nil {
				t.Fatalf("unexpected rejection %+v", o.Rejection)
			}
			sft := o.SFT[0]
			last := sft.Messages[len(sft.Messages)-1]
			if last.Role != schemas.RoleAssistant || !strings.Contains(last.Content, "42") || sft.Extracted != "42" || sft.Verdict == "" {
				t.Errorf("sft row = %+v", sft)
			}
			if sft.PromptID != "p1" || sft.Skills[0] != "multiplication" || sft.TeacherModel != "m" {
				t.Errorf("sft row lacks lineage: %+v", sft)
			}
			if tt.wantPairs > 0 {
				p := o.Pairs[0]
				if p.ChosenIndex != tt.wantChosen || p.RejectedIndex != tt.wantRej || p.Chosen[0].Role != schemas.RoleAssistant || p.Prompt[0].Role != schemas.RoleUser {
					t.Errorf("pair = %+v", p)
				}
			}
		})
	}
}

func TestDifficulty(t *testing.T) {
	for rate, want := range map[float64]string{1: "easy", 0.75: "easy", 0.5: "medium", 0.25: "hard", 0: "unsolved"} {
		if got := Difficulty(rate); got != want {
			t.Errorf("Difficulty(%v) = %s, want %s", rate, got, want)
		}
	}
}
