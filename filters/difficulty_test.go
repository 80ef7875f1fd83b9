package filters

import (
	"math"
	"strings"
	"testing"
)

func TestWilsonInterval(t *testing.T) {
	// References computed independently from the closed form
	// (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), z = 1.95996.
	cases := []struct {
		name       string
		correct, n int
		low, high  float64
	}{
		{"none of 8", 0, 8, 0, 0.324408},
		{"all of 8", 8, 8, 0.675592, 1},
		{"half of 8", 4, 8, 0.215216, 0.784784},
		{"one of 8", 1, 8, 0.022417, 0.470888},
		{"all of 4", 4, 4, 0.510109, 1},
		{"3 of 4", 3, 4, 0.300642, 0.954413},
		{"81 of 263", 81, 263, 0.255289, 0.366210},
		{"nothing drawn", 0, 0, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lo, hi := WilsonInterval(c.correct, c.n, WilsonZ)
			if math.Abs(lo-c.low) > 1e-6 || math.Abs(hi-c.high) > 1e-6 {
				t.Errorf("WilsonInterval(%d, %d) = [%.6f, %.6f], want [%.6f, %.6f]", c.correct, c.n, lo, hi, c.low, c.high)
			}
		})
	}
}

func TestWilsonIntervalProperties(t *testing.T) {
	for n := 1; n <= 64; n++ {
		for k := 0; k <= n; k++ {
			lo, hi := WilsonInterval(k, n, WilsonZ)
			p := float64(k) / float64(n)
			if lo < 0 || hi > 1 || lo > p || hi < p {
				t.Fatalf("WilsonInterval(%d, %d) = [%v, %v] does not hold %v inside [0, 1]", k, n, lo, hi, p)
			}
			// Symmetric: k successes and n-k failures mirror each other.
			lo2, hi2 := WilsonInterval(n-k, n, WilsonZ)
			if math.Abs(lo-(1-hi2)) > 1e-12 || math.Abs(hi-(1-lo2)) > 1e-12 {
				t.Fatalf("WilsonInterval(%d, %d) not the mirror of (%d, %d)", k, n, n-k, n)
			}
		}
		// More samples, narrower interval at the same pass rate.
		if n%2 == 0 && n >= 4 {
			a, b := WilsonInterval(n/2, n, WilsonZ)
			c, d := WilsonInterval(n/4, n/2, WilsonZ)
			if n%4 == 0 && b-a >= d-c {
				t.Fatalf("interval of %d/%d (%v) not narrower than %d/%d (%v)", n/2, n, b-a, n/4, n/2, d-c)
			}
		}
	}
}

func TestDifficultyBucket(t *testing.T) {
	def := DefaultDifficultyConfig()
	custom := DifficultyConfig{Hard: 0.2, Medium: 0.5}
	cases := []struct {
		cfg  DifficultyConfig
		rate float64
		want string
	}{
		{def, 0, BucketUnsolved},
		{def, 0.125, BucketHard},
		{def, 0.3, BucketHard},
		{def, 0.375, BucketMedium},
		{def, 0.7, BucketMedium},
		{def, 0.75, BucketEasy},
		{def, 0.875, BucketEasy},
		{def, 1, BucketTrivial},
		{custom, 0.25, BucketMedium},
		{custom, 0.625, BucketEasy},
	}
	for _, c := range cases {
		if got := c.cfg.Bucket(c.rate); got != c.want {
			t.Errorf("%+v.Bucket(%v) = %s, want %s", c.cfg, c.rate, got, c.want)
		}
	}
}

func TestDifficultyEstimate(t *testing.T) {
	e := DefaultDifficultyConfig().Estimate(6, 8)
	if e.PassRate != 0.75 || e.Difficulty != BucketEasy || math.Abs(e.PassRateLow-0.409275) > 1e-6 || math.Abs(e.PassRateHigh-0.928521) > 1e-6 {
		t.Errorf("Estimate(6, 8) = %+v", e)
	}
	if e := DefaultDifficultyConfig().Estimate(0, 0); e.PassRate != 0 || e.PassRateLow != 0 || e.PassRateHigh != 1 || e.Difficulty != BucketUnsolved {
		t.Errorf("Estimate(0, 0) = %+v", e)
	}
}

func TestDifficultyConfigValidate(t *testing.T) {
	if err := DefaultDifficultyConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	cases := []struct {
		name string
		cfg  DifficultyConfig
		want []string
	}{
		{"zero", DifficultyConfig{}, []string{"difficulty.hard must be in (0, 1)", "difficulty.medium must be in (0, 1)", "must be below"}},
		{"inverted", DifficultyConfig{Hard: 0.7, Medium: 0.3}, []string{"difficulty.hard (0.7) must be below difficulty.medium (0.3)"}},
		{"medium is one", DifficultyConfig{Hard: 0.3, Medium: 1}, []string{"difficulty.medium must be in (0, 1), got 1"}},
		{"NaN", DifficultyConfig{Hard: math.NaN(), Medium: 0.7}, []string{"difficulty.hard must be in (0, 1), got NaN"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if err == nil {
				t.Fatal("Validate accepted a bad config")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
