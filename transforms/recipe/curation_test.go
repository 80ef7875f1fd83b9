package recipe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCurationKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.yaml")
	yaml := `
input: {path: "builtin:arithmetic?n=5", difficulty_field: lvl}
sampling: {policy: adaptive, round_size: 3, rank_by: shortest, max_response_tokens: 2048, max_pairs: 2}
reward: {url: "http://rm:8000", model: Qwen/Qwen2.5-Math-RM-72B, timeout: 30s, max_retries: 2}
difficulty: {hard: 0.2, medium: 0.6}
rlvr: {min_pass_rate: 0.1, max_pass_rate: 0.9}
refusal: {enabled: true}
`
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	r.Output.Path = "/out"
	r.Resolve(time.Now())
	if !r.UsesReward() || r.Reward.Timeout != 30*time.Second || r.Reward.MaxConcurrency != 64 || r.Reward.CacheDir != "/out/.cache/teacher" {
		t.Errorf("reward = %+v; want the timeout read, defaults kept, scores cached beside the responses", r.Reward)
	}
	if a := r.Sampling.Adaptive(); a.RoundSize != 3 || a.MaxPairs != 2 || a.SettledHalfWidth != 0.25 {
		t.Errorf("adaptive = %+v", a)
	}
	c := r.Curation()
	if c.Ranking.Rule != "shortest" || c.MaxResponseTokens != 2048 || c.Difficulty.Hard != 0.2 || c.RLVR.MinPassRate != 0.1 || !c.Refusal.Enabled || c.Refusal.Message == "" {
		t.Errorf("curation = %+v", c)
	}
	if r.Input.Difficulty != "lvl" {
		t.Errorf("input.difficulty_field = %q", r.Input.Difficulty)
	}
	if l := r.Lineage(map[string]string{"gsm8k": "sha256:1"}); l.RewardModel != "Qwen/Qwen2.5-Math-RM-72B" || !strings.HasPrefix(l.PromptTemplateHash, "sha256:") {
		t.Errorf("lineage = %+v", l)
	}

	bad := Default()
	bad.Sampling.Policy = "greedy"
	bad.Sampling.RankBy = "best"
	bad.Sampling.MaxResponseTokens = -1
	bad.Reward.URL = "http://rm:8000/v1"
	bad.Difficulty.Hard = 0.9
	bad.RLVR.MaxPassRate = 2
	err = bad.Validate()
	for _, want := range []string{"sampling.policy", "sampling.rank_by", "sampling.max_response_tokens", "reward.url", "reward.model", "difficulty.hard", "rlvr.max_pass_rate"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error does not name %s: %v", want, err)
		}
	}
}
