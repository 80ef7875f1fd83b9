package filters

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Ranking rules for correct samples when there is no reward model.
const (
	RankFirst    = "first"    // draw order (the default; today's behaviour)
	RankShortest = "shortest" // fewest bytes first
	RankLongest  = "longest"  // most bytes first
	RankRandom   = "random"   // shuffled with RankingConfig.Seed and the prompt id
)

// GradedSample is one verified teacher sample of a prompt. Samples cut at
// max_tokens must not be passed in: they are never released.
type GradedSample struct {
	// Index is the sample's position among the prompt's samples.
	Index int
	// Text is the response, released byte for byte (never truncated).
	Text    string
	Correct bool
	// Reward is the reward model's score; nil without a reward model.
	Reward *float64
}

// PreferencePick is one (correct, incorrect) pair chosen for a prompt.
type PreferencePick struct {
	Chosen, Rejected GradedSample
}

// Margin is Chosen's reward minus Rejected's (0 unless both have one).
func (p PreferencePick) Margin() float64 {
	if p.Chosen.Reward == nil || p.Rejected.Reward == nil {
		return 0
	}
	return *p.Chosen.Reward - *p.Rejected.Reward
}

// RankingConfig is how many rows a prompt gives and in which order.
// Start from DefaultRankingConfig.
type RankingConfig struct {
	// MaxCorrect is m, the most correct samples kept as SFT rows.
	MaxCorrect int `yaml:"max_correct" json:"max_correct"`
	// MaxPairs is p, the most (correct, incorrect) preference pairs.
	MaxPairs int `yaml:"max_pairs" json:"max_pairs"`
	// Rule orders correct samples without rewards: first, shortest,
	// longest or random.
	Rule string `yaml:"rank_by" json:"rank_by"`
	// Seed seeds the random rule (mixed with the prompt id, so prompts get
	// different but reproducible orders).
	Seed int64 `yaml:"seed" json:"seed"`
	// MaxSimilarity is the word 3-shingle Jaccard similarity at or above
	// which two rationales count as near-identical (default 0.9; 1 drops
	// only rationales equal after normalization).
	MaxSimilarity float64 `yaml:"max_similarity" json:"max_similarity"`
}

// DefaultRankingConfig returns m = 1, p = 1, draw order, similarity 0.9.
func DefaultRankingConfig() RankingConfig {
	return RankingConfig{MaxCorrect: 1, MaxPairs: 1, Rule: RankFirst, MaxSimilarity: 0.9}
}

// Validate reports every bad field at once, each named as in the recipe.
func (c RankingConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.MaxCorrect < 1 {
		bad("sampling.max_correct must be >= 1, got %d", c.MaxCorrect)
	}
	if c.MaxPairs < 0 {
		bad("sampling.max_pairs must be >= 0, got %d", c.MaxPairs)
	}
	switch c.Rule {
	case RankFirst, RankShortest, RankLongest, RankRandom:
	default:
		bad("sampling.rank_by %q is not a rule (first, shortest, longest, random)", c.Rule)
	}
	if !(c.MaxSimilarity > 0 && c.MaxSimilarity <= 1) {
		bad("sampling.max_similarity must be in (0, 1], got %v", c.MaxSimilarity)
	}
	return errors.Join(errs...)
}

// Ranking is what Rank kept of a prompt's samples.
type Ranking struct {
	// SFT holds at most MaxCorrect correct, distinct samples, best first.
	SFT []GradedSample
	// Pairs holds at most MaxPairs pairs, largest reward margin first.
	Pairs []PreferencePick
	// NearDuplicates counts correct samples dropped as near-identical to
	// a better-ranked one.
	NearDuplicates int
}

// Rank keeps what a prompt's verified samples give:
//
// SFT: the correct samples, best first, near-identical ones dropped (the
// better-ranked of two is kept), at most MaxCorrect. Best is the highest
// reward (best-of-N) when samples carry rewards; samples without one rank
// after those with one; ties and reward-less samples follow the rule.
//
// Pairs: each pair is a correct (chosen) and an incorrect (rejected)
// sample, each sample in at most one pair. With rewards, pairs are picked
// greedily by largest margin (chosen reward minus rejected reward), so the
// first pair is the best correct against the worst-scored incorrect one;
// without, the i-th ranked distinct correct sample goes with the i-th
// distinct incorrect sample in draw order.
//
// Near-identical: two texts are near-identical when they are equal after
// lowercasing and collapsing white space and punctuation runs, or when the
// Jaccard similarity of their word 3-shingles is at least MaxSimilarity.
// Texts are never modified or truncated. promptID seeds the random rule.
func Rank(promptID string, samples []GradedSample, cfg RankingConfig) Ranking {
	var correct, wrong []GradedSample
	for _, s := range samples {
		if s.Correct {
			correct = append(correct, s)
		} else {
			wrong = append(wrong, s)
		}
	}
	orderByRule(promptID, correct, cfg)
	slices.SortStableFunc(correct, byReward)
	var out Ranking
	var dropped int
	correct, dropped = distinct(correct, cfg.MaxSimilarity)
	out.NearDuplicates = dropped
	out.SFT = slices.Clone(correct[:min(len(correct), cfg.MaxCorrect)])

	slices.SortStableFunc(wrong, func(a, b GradedSample) int { return cmp.Compare(a.Index, b.Index) })
	wrong, _ = distinct(wrong, cfg.MaxSimilarity)
	out.Pairs = pickPairs(correct, wrong, cfg.MaxPairs)
	return out
}

func pickPairs(correct, wrong []GradedSample, limit int) []PreferencePick {
	var pairs []PreferencePick
	allScored := true
	for _, s := range append(slices.Clone(correct), wrong...) {
		allScored = allScored && s.Reward != nil
	}
	if !allScored {
		for i := 0; i < limit && i < len(correct) && i < len(wrong); i++ {
			pairs = append(pairs, PreferencePick{correct[i], wrong[i]})
		}
		return pairs
	}
	var all []PreferencePick
	for _, c := range correct {
		for _, w := range wrong {
			all = append(all, PreferencePick{c, w})
		}
	}
	slices.SortStableFunc(all, func(a, b PreferencePick) int {
		if c := cmp.Compare(b.Margin(), a.Margin()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Chosen.Index, b.Chosen.Index); c != 0 {
			return c
		}
		return cmp.Compare(a.Rejected.Index, b.Rejected.Index)
	})
	usedC, usedW := map[int]bool{}, map[int]bool{}
	for _, p := range all {
		if len(pairs) >= limit {
			break
		}
		if usedC[p.Chosen.Index] || usedW[p.Rejected.Index] {
			continue
		}
		usedC[p.Chosen.Index], usedW[p.Rejected.Index] = true, true
		pairs = append(pairs, p)
	}
	return pairs
}

// byReward puts samples with a higher reward first and samples without one
// last, keeping the existing order among equals (a stable sort).
func byReward(a, b GradedSample) int {
	switch {
	case a.Reward == nil && b.Reward == nil:
		return 0
	case a.Reward == nil:
		return 1
	case b.Reward == nil:
		return -1
	}
	return cmp.Compare(*b.Reward, *a.Reward)
}

func orderByRule(promptID string, s []GradedSample, cfg RankingConfig) {
	byIndex := func(a, b GradedSample) int { return cmp.Compare(a.Index, b.Index) }
	slices.SortStableFunc(s, byIndex)
	switch cfg.Rule {
	case RankShortest:
		slices.SortStableFunc(s, func(a, b GradedSample) int { return cmp.Compare(len(a.Text), len(b.Text)) })
	case RankLongest:
		slices.SortStableFunc(s, func(a, b GradedSample) int { return cmp.Compare(len(b.Text), len(a.Text)) })
	case RankRandom:
		h := fnv.New64a()
		h.Write([]byte(promptID))
		r := rand.New(rand.NewPCG(uint64(cfg.Seed), h.Sum64()))
		r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	}
}

// distinct keeps samples in order, dropping each one near-identical to a
// sample already kept; it returns the kept ones and how many it dropped.
func distinct(s []GradedSample, maxSim float64) ([]GradedSample, int) {
	type seen struct {
		norm     string
		shingles []uint64
	}
	var kept []GradedSample
	var keptSeen []seen
	dropped := 0
next:
	for _, x := range s {
		n := normalizeRationale(x.Text)
		sh := shingles(n)
		for _, k := range keptSeen {
			if n == k.norm || jaccard(sh, k.shingles) >= maxSim {
				dropped++
				continue next
			}
		}
		kept = append(kept, x)
		keptSeen = append(keptSeen, seen{n, sh})
	}
	return kept, dropped
}

// normalizeRationale lowercases text and turns every run of white space or
// punctuation into one space.
func normalizeRationale(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	space := false
	for _, r := range text {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
		} else {
			r = unicode.ToLower(r)
		}
		if unicode.IsSpace(r) || unicode.IsPunct(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// shingles returns the set of word 3-grams of normalized text (the words
// themselves when there are fewer than 3), each as a 64-bit FNV-1a hash of
// the words joined by spaces, sorted: comparing two sets is then a merge,
// not a map lookup of a concatenated string per 3-gram. (A collision of
// two 64-bit hashes among one prompt's samples is negligible.)
func shingles(norm string) []uint64 {
	w := strings.Fields(norm)
	var out []uint64
	if len(w) < 3 {
		out = []uint64{hashWords(w)}
	} else {
		out = make([]uint64, 0, len(w)-2)
		for i := 0; i+3 <= len(w); i++ {
			out = append(out, hashWords(w[i:i+3]))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// hashWords is the FNV-1a hash of words joined by single spaces.
func hashWords(words []string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i, w := range words {
		if i > 0 {
			h = (h ^ ' ') * prime
		}
		for j := 0; j < len(w); j++ {
			h = (h ^ uint64(w[j])) * prime
		}
	}
	return h
}

// jaccard is |a ∩ b| / |a ∪ b| of two sorted sets without repeats.
func jaccard(a, b []uint64) float64 {
	inter := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			inter++
			i++
			j++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}
