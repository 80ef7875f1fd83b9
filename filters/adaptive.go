package filters

import (
	"errors"
	"fmt"
)

// Why a SamplingPolicy stopped drawing for a prompt.
const (
	StopMaxSamples = "max_samples" // k samples drawn
	StopSettled    = "quotas_met"  // quotas met and the pass rate settled
	DrawMore       = ""            // the policy wants another round
	PolicyFixed    = "fixed"       // sampling.policy: always k samples
	PolicyAdaptive = "adaptive"    // sampling.policy: rounds, stop when settled
)

// SamplingPolicy decides, from the samples drawn so far for one prompt,
// whether to draw more and how many.
type SamplingPolicy interface {
	// Next returns how many samples to draw next (0 = stop) and, when it
	// stops, why. drawn counts every sample drawn so far; correct and
	// incorrect those the verifier graded so (drawn - correct - incorrect
	// had no answer or were truncated).
	Next(drawn, correct, incorrect int) (n int, stop string)
}

// FixedPolicy draws K samples in one round: today's behaviour.
type FixedPolicy struct{ K int }

// Next implements SamplingPolicy.
func (p FixedPolicy) Next(drawn, _, _ int) (int, string) {
	if drawn >= p.K {
		return 0, StopMaxSamples
	}
	return p.K - drawn, DrawMore
}

// AdaptiveConfig configures AdaptivePolicy (recipe section "sampling").
// Start from DefaultAdaptiveConfig.
type AdaptiveConfig struct {
	// MaxSamples is k, the most samples drawn for a prompt.
	MaxSamples int `yaml:"samples_per_prompt" json:"samples_per_prompt"`
	// RoundSize is how many samples each round draws (default 2).
	RoundSize int `yaml:"round_size" json:"round_size"`
	// MaxCorrect is m, the SFT quota: verified samples wanted per prompt.
	MaxCorrect int `yaml:"max_correct" json:"max_correct"`
	// MaxPairs is p, the preference-pair quota per prompt.
	MaxPairs int `yaml:"max_pairs" json:"max_pairs"`
	// SettledHalfWidth is how narrow the 95 % Wilson interval of the pass
	// rate must be (half its width) to call the pass rate settled (default
	// 0.25: 4 of 4 correct is [0.51, 1], settled; 2 of 2 is [0.34, 1], not).
	SettledHalfWidth float64 `yaml:"settled_half_width" json:"settled_half_width"`
}

// DefaultAdaptiveConfig returns k = 8 in rounds of 2, m = 1, p = 1 and a
// settled half-width of 0.25.
func DefaultAdaptiveConfig() AdaptiveConfig {
	return AdaptiveConfig{MaxSamples: 8, RoundSize: 2, MaxCorrect: 1, MaxPairs: 1, SettledHalfWidth: 0.25}
}

// Validate reports every bad field at once, each named as in the recipe.
func (c AdaptiveConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.MaxSamples < 1 {
		bad("sampling.samples_per_prompt must be >= 1, got %d", c.MaxSamples)
	}
	if c.RoundSize < 1 {
		bad("sampling.round_size must be >= 1, got %d", c.RoundSize)
	}
	if c.MaxCorrect < 1 {
		bad("sampling.max_correct must be >= 1, got %d", c.MaxCorrect)
	}
	if c.MaxPairs < 0 {
		bad("sampling.max_pairs must be >= 0, got %d", c.MaxPairs)
	}
	if !(c.SettledHalfWidth > 0 && c.SettledHalfWidth <= 0.5) {
		bad("sampling.settled_half_width must be in (0, 0.5], got %v", c.SettledHalfWidth)
	}
	return errors.Join(errs...)
}

// AdaptivePolicy draws samples in rounds and stops a prompt early once
// more samples would not change what is released from it:
//
//   - the SFT quota is met: at least MaxCorrect correct samples;
//   - the pair quota is met (min(correct, incorrect) >= MaxPairs) or out
//     of reach: at the observed pass rate, the samples left to k are
//     expected to add fewer incorrect ones than the pairs missing (a
//     prompt solved every time so far yields no rejected side);
//   - the pass rate is settled: its 95 % Wilson interval over the samples
//     drawn has a half-width of at most SettledHalfWidth.
//
// Otherwise it draws another RoundSize samples (fewer if k is near). A
// prompt with no correct sample yet is always drawn up to k: stopping it
// early would lose the prompts whose first correct sample comes late. So
// the savings come from prompts the teacher solves reliably, and the pass
// rate of a stopped prompt is over the samples drawn (its interval says
// how sure it is).
//
// AdaptivePolicy holds only its config and is safe for concurrent use.
type AdaptivePolicy struct{ cfg AdaptiveConfig }

// NewAdaptivePolicy validates cfg and returns its policy.
func NewAdaptivePolicy(cfg AdaptiveConfig) (*AdaptivePolicy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &AdaptivePolicy{cfg: cfg}, nil
}

// Next implements SamplingPolicy.
func (p *AdaptivePolicy) Next(drawn, correct, incorrect int) (int, string) {
	c := p.cfg
	if drawn >= c.MaxSamples {
		return 0, StopMaxSamples
	}
	if drawn > 0 && p.settled(drawn, correct, incorrect) {
		return 0, StopSettled
	}
	return min(c.RoundSize, c.MaxSamples-drawn), DrawMore
}

func (p *AdaptivePolicy) settled(drawn, correct, incorrect int) bool {
	c := p.cfg
	if correct < c.MaxCorrect {
		return false
	}
	if pairs := min(correct, incorrect); pairs < c.MaxPairs {
		failRate := float64(incorrect) / float64(drawn)
		expected := failRate * float64(c.MaxSamples-drawn)
		if expected >= float64(c.MaxPairs-pairs) {
			return false
		}
	}
	lo, hi := WilsonInterval(correct, drawn, WilsonZ)
	return (hi-lo)/2 <= c.SettledHalfWidth
}
