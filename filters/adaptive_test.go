package filters

import (
	"fmt"
	"strings"
	"testing"
)

func TestFixedPolicy(t *testing.T) {
	p := FixedPolicy{K: 8}
	if n, stop := p.Next(0, 0, 0); n != 8 || stop != DrawMore {
		t.Errorf("Next(0) = %d, %q; want 8 more", n, stop)
	}
	if n, stop := p.Next(8, 8, 0); n != 0 || stop != StopMaxSamples {
		t.Errorf("Next(8) = %d, %q; want stop at k", n, stop)
	}
}

func TestAdaptivePolicyNext(t *testing.T) {
	p, err := NewAdaptivePolicy(DefaultAdaptiveConfig()) // k 8, rounds of 2, m 1, p 1, half-width 0.25
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name                      string
		drawn, correct, incorrect int
		wantN                     int
		wantStop                  string
	}{
		{"start", 0, 0, 0, 2, DrawMore},
		{"2 of 2: interval [0.34, 1] not settled", 2, 2, 0, 2, DrawMore},
		{"4 of 4: quotas met or out of reach, [0.51, 1] settled", 4, 4, 0, 0, StopSettled},
		{"none correct: always up to k", 6, 0, 6, 2, DrawMore},
		{"none correct at k", 8, 0, 8, 0, StopMaxSamples},
		{"no answer is not correct", 6, 0, 0, 2, DrawMore},
		{"pairs met, 3 of 4 [0.30, 0.95] not settled", 4, 3, 1, 2, DrawMore},
		{"3 of 4 wrong: pair met, not settled", 4, 1, 3, 2, DrawMore},
		{"k reached", 8, 4, 4, 0, StopMaxSamples},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, stop := p.Next(c.drawn, c.correct, c.incorrect)
			if n != c.wantN || stop != c.wantStop {
				t.Errorf("Next(%d, %d, %d) = %d, %q; want %d, %q", c.drawn, c.correct, c.incorrect, n, stop, c.wantN, c.wantStop)
			}
		})
	}

	// A pair quota that the samples left can still serve keeps drawing:
	// 1 wrong in 4 means about 1 more wrong in the 4 left, enough for the
	// second pair.
	two, _ := NewAdaptivePolicy(AdaptiveConfig{MaxSamples: 8, RoundSize: 2, MaxCorrect: 1, MaxPairs: 2, SettledHalfWidth: 0.5})
	if n, _ := two.Next(4, 3, 1); n != 2 {
		t.Errorf("pair quota in reach: Next = %d, want 2", n)
	}
	// Rounds never pass k.
	odd, _ := NewAdaptivePolicy(AdaptiveConfig{MaxSamples: 5, RoundSize: 2, MaxCorrect: 4, MaxPairs: 0, SettledHalfWidth: 0.25})
	if n, _ := odd.Next(4, 3, 1); n != 1 {
		t.Errorf("last round: Next = %d, want 1 (k = 5)", n)
	}
}

func TestAdaptiveConfigValidate(t *testing.T) {
	err := AdaptiveConfig{SettledHalfWidth: 0.9, MaxPairs: -1}.Validate()
	for _, w := range []string{"sampling.samples_per_prompt", "sampling.round_size", "sampling.max_correct", "sampling.max_pairs", "sampling.settled_half_width must be in (0, 0.5], got 0.9"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate error %v does not name %s", err, w)
		}
	}
	if _, err := NewAdaptivePolicy(AdaptiveConfig{}); err == nil {
		t.Error("NewAdaptivePolicy accepted a zero config")
	}
}

// replayedPrompt is one recorded prompt: its samples in recorded order.
type replayedPrompt struct {
	correct []bool
	tokens  []int
}

func loadReplay(tb testing.TB) []replayedPrompt {
	tb.Helper()
	tok, err := NewTokenizer(DefaultEncoding)
	if err != nil {
		tb.Fatal(err)
	}
	var out []replayedPrompt
	for _, p := range readRecordings(tb) {
		var r replayedPrompt
		for _, s := range p.Samples {
			r.correct = append(r.correct, s.QwenCorrect)
			r.tokens = append(r.tokens, tok.Count(s.Response))
		}
		out = append(out, r)
	}
	return out
}

// replayResult is what a policy spent and kept over the recordings.
type replayResult struct {
	prompts, kept, samples, tokens int
	stoppedEarly                   int
}

func (r replayResult) tokensPerKept() float64 { return float64(r.tokens) / float64(r.kept) }

// replay draws each prompt's recorded samples in order as the policy asks
// (the teacher's samples are independent draws, so the first n recorded
// are what a run drawing n would have got). A prompt is kept when at least
// one drawn sample is correct. Completion tokens are the cl100k_base
// counts of the responses drawn.
func replay(prompts []replayedPrompt, policy SamplingPolicy) replayResult {
	res := replayResult{prompts: len(prompts)}
	for _, p := range prompts {
		drawn, correct, incorrect := 0, 0, 0
		for {
			n, stop := policy.Next(drawn, correct, incorrect)
			if n == 0 {
				if stop != StopMaxSamples {
					res.stoppedEarly++
				}
				break
			}
			for i := drawn; i < drawn+n && i < len(p.correct); i++ {
				res.tokens += p.tokens[i]
				if p.correct[i] {
					correct++
				} else {
					incorrect++
				}
			}
			drawn += n
			if drawn >= len(p.correct) {
				break // the recording holds no more samples
			}
		}
		res.samples += min(drawn, len(p.correct))
		if correct > 0 {
			res.kept++
		}
	}
	return res
}

// TestAdaptiveSavesTokensOnRecordings replays the 60 recorded prompts × 8
// real Qwen2.5-Math samples under fixed k = 8 and under the default
// adaptive policy (rounds of 2, m = 1, p = 1) and holds the goal:
// at least 30 % fewer completion tokens per kept prompt, with at least
// 98 % of the prompts kept.
func TestAdaptiveSavesTokensOnRecordings(t *testing.T) {
	prompts := loadReplay(t)
	ad, err := NewAdaptivePolicy(DefaultAdaptiveConfig())
	if err != nil {
		t.Fatal(err)
	}
	fixed := replay(prompts, FixedPolicy{K: 8})
	adaptive := replay(prompts, ad)
	saving := 1 - adaptive.tokensPerKept()/fixed.tokensPerKept()
	keptShare := float64(adaptive.kept) / float64(fixed.kept)
	t.Logf("fixed k=8: %d/%d prompts kept, %d samples, %d tokens, %.0f tokens per kept prompt",
		fixed.kept, fixed.prompts, fixed.samples, fixed.tokens, fixed.tokensPerKept())
	t.Logf("adaptive:  %d/%d prompts kept, %d samples, %d tokens, %.0f tokens per kept prompt, %d stopped early",
		adaptive.kept, adaptive.prompts, adaptive.samples, adaptive.tokens, adaptive.tokensPerKept(), adaptive.stoppedEarly)
	t.Logf("adaptive: %.1f %% fewer tokens per kept prompt, %.1f %% of the prompts kept", 100*saving, 100*keptShare)
	if fixed.prompts != 60 || fixed.samples != 480 {
		t.Fatalf("replayed %d prompts, %d samples; want the 60 × 8 recorded", fixed.prompts, fixed.samples)
	}
	if saving < 0.30 {
		t.Errorf("adaptive saves %.1f %% of the tokens per kept prompt; goal >= 30 %%", 100*saving)
	}
	if keptShare < 0.98 {
		t.Errorf("adaptive keeps %.1f %% of the prompts fixed k = 8 keeps; goal >= 98 %%", 100*keptShare)
	}
}

// BenchmarkSamplingPolicy replays the recordings under each policy and
// reports completion tokens per kept prompt, prompts kept and samples
// drawn, side by side in one run (b.Loop times the policy itself, which is
// negligible next to a teacher call).
func BenchmarkSamplingPolicy(b *testing.B) {
	prompts := loadReplay(b)
	policies := []struct {
		name string
		p    SamplingPolicy
	}{{"fixed_k8", FixedPolicy{K: 8}}}
	for _, cfg := range []AdaptiveConfig{
		DefaultAdaptiveConfig(),
		{MaxSamples: 8, RoundSize: 2, MaxCorrect: 2, MaxPairs: 1, SettledHalfWidth: 0.25},
		{MaxSamples: 8, RoundSize: 4, MaxCorrect: 1, MaxPairs: 1, SettledHalfWidth: 0.25},
		{MaxSamples: 8, RoundSize: 2, MaxCorrect: 1, MaxPairs: 1, SettledHalfWidth: 0.2},
	} {
		p, err := NewAdaptivePolicy(cfg)
		if err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("adaptive_round%d_m%d_p%d_hw%.2f", cfg.RoundSize, cfg.MaxCorrect, cfg.MaxPairs, cfg.SettledHalfWidth)
		policies = append(policies, struct {
			name string
			p    SamplingPolicy
		}{name, p})
	}
	for _, pc := range policies {
		b.Run(pc.name, func(b *testing.B) {
			var r replayResult
			for b.Loop() {
				r = replay(prompts, pc.p)
			}
			b.ReportMetric(r.tokensPerKept(), "tokens/kept_prompt")
			b.ReportMetric(float64(r.kept), "prompts_kept")
			b.ReportMetric(float64(r.samples), "samples")
		})
	}
}
