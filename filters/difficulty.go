package filters

import (
	"errors"
	"fmt"
	"math"
)

// Difficulty buckets of DifficultyConfig.Bucket.
const (
	BucketUnsolved = "unsolved" // pass rate 0
	BucketHard     = "hard"     // 0 < pass rate <= Hard
	BucketMedium   = "medium"   // Hard < pass rate <= Medium
	BucketEasy     = "easy"     // Medium < pass rate < 1
	BucketTrivial  = "trivial"  // pass rate 1
)

// WilsonZ is the normal quantile of the 95 % Wilson score interval.
const WilsonZ = 1.959963984540054

// DifficultyConfig is the recipe section "difficulty": the cut points that
// bucket a pass rate. Start from DefaultDifficultyConfig.
type DifficultyConfig struct {
	// Hard is the highest pass rate still "hard" (default 0.3, the
	// OpenMathReasoning cut).
	Hard float64 `yaml:"hard" json:"hard"`
	// Medium is the highest pass rate still "medium" (default 0.7); above
	// it and below 1 is "easy".
	Medium float64 `yaml:"medium" json:"medium"`
}

// DefaultDifficultyConfig returns the default cut points: unsolved 0,
// hard <= 0.3, medium <= 0.7, easy < 1, trivial 1.
func DefaultDifficultyConfig() DifficultyConfig {
	return DifficultyConfig{Hard: 0.3, Medium: 0.7}
}

// Validate reports every bad field at once, each named as in the recipe.
func (c DifficultyConfig) Validate() error {
	var errs []error
	if !(c.Hard > 0 && c.Hard < 1) {
		errs = append(errs, fmt.Errorf("difficulty.hard must be in (0, 1), got %v", c.Hard))
	}
	if !(c.Medium > 0 && c.Medium < 1) {
		errs = append(errs, fmt.Errorf("difficulty.medium must be in (0, 1), got %v", c.Medium))
	}
	if c.Hard >= c.Medium {
		errs = append(errs, fmt.Errorf("difficulty.hard (%v) must be below difficulty.medium (%v)", c.Hard, c.Medium))
	}
	return errors.Join(errs...)
}

// Bucket names the difficulty of a pass rate.
func (c DifficultyConfig) Bucket(passRate float64) string {
	switch {
	case passRate <= 0:
		return BucketUnsolved
	case passRate >= 1:
		return BucketTrivial
	case passRate <= c.Hard:
		return BucketHard
	case passRate <= c.Medium:
		return BucketMedium
	default:
		return BucketEasy
	}
}

// PassRateEstimate is what the samples drawn for a prompt say about how
// hard it is: the pass rate with its 95 % Wilson score interval and bucket.
type PassRateEstimate struct {
	// Correct of Drawn samples verified.
	Correct, Drawn int
	// PassRate is Correct / Drawn (0 when nothing was drawn).
	PassRate float64
	// PassRateLow and PassRateHigh bound the true pass rate with 95 %
	// confidence (Wilson score interval): 8 of 8 correct is [0.68, 1],
	// 4 of 8 is [0.22, 0.78]. Nothing drawn is [0, 1].
	PassRateLow, PassRateHigh float64
	// Difficulty is the bucket of PassRate.
	Difficulty string
}

// HalfWidth is half the width of the interval: how far, at worst, the true
// pass rate may be from the middle of the interval.
func (e PassRateEstimate) HalfWidth() float64 { return (e.PassRateHigh - e.PassRateLow) / 2 }

// Estimate measures a prompt from correct verified samples out of drawn.
// It panics if correct < 0 or correct > drawn (a caller bug).
func (c DifficultyConfig) Estimate(correct, drawn int) PassRateEstimate {
	if correct < 0 || correct > drawn {
		panic(fmt.Sprintf("filters: Estimate(%d, %d): correct must be in [0, drawn]", correct, drawn))
	}
	e := PassRateEstimate{Correct: correct, Drawn: drawn}
	if drawn > 0 {
		e.PassRate = float64(correct) / float64(drawn)
	}
	e.PassRateLow, e.PassRateHigh = WilsonInterval(correct, drawn, WilsonZ)
	e.Difficulty = c.Bucket(e.PassRate)
	return e
}

// WilsonInterval returns the Wilson score interval of a binomial
// proportion: successes of n trials, at normal quantile z (WilsonZ for
// 95 %). Unlike the normal approximation it stays inside [0, 1] and is not
// empty at 0 or n successes, which is where pass rates over a few samples
// mostly are. n = 0 gives [0, 1].
func WilsonInterval(successes, n int, z float64) (low, high float64) {
	if n <= 0 {
		return 0, 1
	}
	nf := float64(n)
	p := float64(successes) / nf
	z2 := z * z
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / denom
	low, high = math.Max(0, center-half), math.Min(1, center+half)
	// Exact at the ends: no sample correct cannot rule out 0, all correct
	// cannot rule out 1 (rounding would otherwise leave 1e-17).
	if successes == 0 {
		low = 0
	}
	if successes == n {
		high = 1
	}
	return low, high
}
