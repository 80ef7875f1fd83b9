package filters

import (
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/schemas"
)

func curateConfig() CurateConfig {
	return CurateConfig{Ranking: RankingConfig{MaxCorrect: 2, MaxPairs: 1, Rule: RankFirst, MaxSimilarity: 0.9},
		Difficulty: DefaultDifficultyConfig(), RLVR: DefaultRLVRConfig(), Refusal: DefaultRefusalConfig()}
}

func generation(answer string, samples ...schemas.Sample) schemas.Generation {
	for i := range samples {
		samples[i].Index = i
		samples[i].Model = "m"
	}
	return schemas.Generation{Prompt: schemas.Prompt{ID: "p", Text: "q", Answer: answer, SourceDifficulty: "Level 3"},
		Messages: []schemas.Message{{Role: schemas.RoleUser, Content: "q"}}, Samples: samples, Model: "m"}
}

func scored(text string, r float64) schemas.Sample {
	return schemas.Sample{Text: text, Reward: r, Scored: true}
}

func TestCurateBestOfNAndPairs(t *testing.T) {
	g := generation("4",
		scored("first, so \\boxed{4}", 0.2),
		scored("wrong, \\boxed{5}", -1.5),
		scored("the best way: 2+2 gives \\boxed{4}", 3.0),
		scored("again wrong \\boxed{7}", 0.5),
	)
	tok, err := NewTokenizer("")
	if err != nil {
		t.Fatal(err)
	}
	cfg := curateConfig()
	c := Curate(g, GradeSamples(g, NewMathVerifier(nil), tok, "", 0), cfg)
	if c.Rejection != nil {
		t.Fatalf("rejected: %+v", c.Rejection)
	}
	if len(c.SFT) != 2 || c.SFT[0].SampleIndex != 2 || *c.SFT[0].Reward != 3.0 || c.SFT[1].SampleIndex != 0 {
		t.Fatalf("SFT = %+v; want samples 2 then 0, best reward first", c.SFT)
	}
	if c.SFT[0].ResponseTokens != int32(tok.Count(g.Samples[2].Text)) || c.SFT[0].SourceDifficulty != "Level 3" {
		t.Errorf("SFT row tokens %d, source difficulty %q", c.SFT[0].ResponseTokens, c.SFT[0].SourceDifficulty)
	}
	// Largest margin: best correct (3.0) against the worst incorrect (-1.5).
	if len(c.Pairs) != 1 || c.Pairs[0].ChosenIndex != 2 || c.Pairs[0].RejectedIndex != 1 ||
		*c.Pairs[0].ChosenReward != 3.0 || *c.Pairs[0].RejectedReward != -1.5 {
		t.Fatalf("pairs = %+v", c.Pairs)
	}
	// 2 of 4: medium, Wilson [0.15, 0.85].
	e := c.Estimate
	if e.Difficulty != BucketMedium || e.PassRate != 0.5 || e.PassRateLow < 0.14 || e.PassRateLow > 0.16 || len(c.RLVR) != 1 || c.RLVR[0].Correct != 2 || c.RLVR[0].SamplesDrawn != 4 {
		t.Errorf("estimate %+v, rlvr %+v", e, c.RLVR)
	}
}

func TestCurateRejectionsAndExclusions(t *testing.T) {
	v := NewMathVerifier(nil)
	tok, err := NewTokenizer("")
	if err != nil {
		t.Fatal(err)
	}
	long := "a long winded rationale " + strings.Repeat("and so on ", 40) + "\\boxed{4}"
	cases := []struct {
		name       string
		g          schemas.Generation
		maxTokens  int
		refusal    bool
		reject     string
		rlvr       string
		refusalRow bool
	}{
		{"all solved: SFT, no RLVR", generation("4", schemas.Sample{Text: "\\boxed{4}"}, schemas.Sample{Text: "so \\boxed{4}."}), 0, false, "", ReasonRLVRSolved, false},
		{"none solved", generation("4", schemas.Sample{Text: "\\boxed{5}"}, schemas.Sample{Text: "\\boxed{6}"}), 0, false, ReasonNoCorrect, ReasonRLVRUnsolved, false},
		{"too long", generation("4", schemas.Sample{Text: long}, schemas.Sample{Text: "no answer here"}), 20, false, ReasonTooLong, ReasonRLVRUnsolved, false},
		{"no reference", generation("", schemas.Sample{Text: "\\boxed{4}"}), 0, false, ReasonNoReference, "", false},
		{"refusal row for an unsolved prompt", generation("4", schemas.Sample{Text: "\\boxed{5}"}, schemas.Sample{Text: "\\boxed{6}"}, schemas.Sample{Text: "\\boxed{7}"}, schemas.Sample{Text: "\\boxed{8}"}), 0, true, "", ReasonRLVRUnsolved, true},
		{"too few samples for a refusal", generation("4", schemas.Sample{Text: "\\boxed{5}"}), 0, true, ReasonNoCorrect, ReasonRLVRUnsolved, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := curateConfig()
			cfg.MaxResponseTokens = c.maxTokens
			cfg.Refusal.Enabled = c.refusal
			cur := Curate(c.g, GradeSamples(c.g, v, tok, "", c.maxTokens), cfg)
			gotReject := ""
			if cur.Rejection != nil {
				gotReject = cur.Rejection.Reason
			}
			if gotReject != c.reject || (c.reject == "" && cur.RLVRExcluded != c.rlvr) || (len(cur.Refusal) == 1) != c.refusalRow {
				t.Errorf("rejection %q (want %q), rlvr excluded %q (want %q), refusal rows %d", gotReject, c.reject, cur.RLVRExcluded, c.rlvr, len(cur.Refusal))
			}
			if c.refusalRow && cur.Refusal[0].Messages[1].Content != DefaultRefusalMessage {
				t.Errorf("refusal row %+v", cur.Refusal[0])
			}
		})
	}
}

func TestRLVRConfigRange(t *testing.T) {
	c := RLVRConfig{MinPassRate: 0.2, MaxPassRate: 0.8}
	for rate, want := range map[float64]string{0: ReasonRLVRUnsolved, 0.1: ReasonRLVRRange, 0.2: "", 0.8: "", 0.9: ReasonRLVRRange, 1: ReasonRLVRSolved} {
		if got := c.Exclude(rate); got != want {
			t.Errorf("Exclude(%v) = %q, want %q", rate, got, want)
		}
	}
	c.KeepZeroVariance = true
	if got := c.Exclude(1); got != ReasonRLVRRange {
		t.Errorf("keep_zero_variance, pass rate 1 outside [0.2, 0.8]: %q", got)
	}
	if err := (RLVRConfig{MinPassRate: 0.9, MaxPassRate: 0.1}).Validate(); err == nil || !strings.Contains(err.Error(), "rlvr.min_pass_rate") {
		t.Errorf("Validate = %v", err)
	}
}
