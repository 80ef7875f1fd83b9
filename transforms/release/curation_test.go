package release

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

func TestSummarizeHistogramMatchesLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 100, 1001} {
		var lengths []int
		h := map[int]int64{}
		for range n {
			v := r.IntN(300)
			lengths = append(lengths, v)
			h[v]++
		}
		if got, want := SummarizeHistogram(h), filters.SummarizeLengths(lengths); got != want {
			t.Errorf("n=%d: histogram %+v, lengths %+v", n, got, want)
		}
	}
}

func TestManifestCuration(t *testing.T) {
	r := recipe.Default()
	r.Sampling.Policy = filters.PolicyAdaptive
	r.Reward.URL, r.Reward.Model = "http://rm", "rm-1"
	tallies := map[string]int64{
		LengthKey("sft", 10): 3, LengthKey("sft", 40): 1, TallyRLVRExcluded + filters.ReasonRLVRSolved: 2,
		TallySamplingPrompts: 4, TallySamplingMax: 32, "samples": 20, TallySamplingSaved: 12, TallySamplingStopped: 3,
		TallySamplingTokensSaved: 600, "tokens:m:completion": 1400, TallyRewardScored: 9,
	}
	m := BuildManifest(Info{Recipe: r, Benchmarks: []BenchmarkSummary{{Name: "gsm8k", Version: "sha256:ab"}}}, tallies)
	c := m.Curation
	if s := c.ResponseTokens["sft"]; s.Count != 4 || s.P50 != 10 || s.Max != 40 {
		t.Errorf("sft lengths %+v", s)
	}
	if c.Sampling.SavedShare != 0.3 || c.Sampling.SamplesSaved != 12 || c.RLVRExcluded[filters.ReasonRLVRSolved] != 2 {
		t.Errorf("sampling %+v, rlvr excluded %v", c.Sampling, c.RLVRExcluded)
	}
	if c.Reward == nil || c.Reward.Scored != 9 || c.Lineage.RewardModel != "rm-1" || c.Lineage.TeacherModel != "m" || c.Lineage.Decontam["benchmarks"].(map[string]string)["gsm8k"] != "sha256:ab" {
		t.Errorf("reward %+v, lineage %+v", c.Reward, c.Lineage)
	}
	card := DatasetCard(m, r)
	for _, want := range []string{"| sft | 4 | 10 | 10 |", "saving 12 samples and about 600 completion tokens (30.0 %)", "best-of-N by `rm-1`", "| reward model | `rm-1` |"} {
		if !strings.Contains(card, want) {
			t.Errorf("card lacks %q", want)
		}
	}
}
