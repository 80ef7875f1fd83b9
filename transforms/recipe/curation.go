package recipe

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/syllabus-dev/syllabus/filters"
)

// CurationFields are the sampling section's keys for the stage after
// verification: how samples are drawn (policy), which are kept (rank_by,
// max_similarity, max_response_tokens) and how they are measured.
type CurationFields struct {
	// Policy is "fixed" (default: always samples_per_prompt) or "adaptive"
	// (rounds of round_size, stopping a prompt once its quotas are met and
	// its pass rate is settled; --sampling_policy).
	Policy string `yaml:"policy" json:"policy"`
	// RoundSize is the samples an adaptive round draws (default 2).
	RoundSize int `yaml:"round_size" json:"round_size"`
	// SettledHalfWidth is how narrow the pass rate's 95 % Wilson interval
	// must be (half its width) for an adaptive prompt to stop (default 0.25).
	SettledHalfWidth float64 `yaml:"settled_half_width" json:"settled_half_width"`
	// RankBy orders correct samples when there is no reward model: first
	// (default), shortest, longest or random (with Seed).
	RankBy string `yaml:"rank_by" json:"rank_by"`
	Seed   int64  `yaml:"seed" json:"seed"`
	// MaxSimilarity is the word 3-shingle Jaccard similarity at which two
	// rationales are near-identical and only the better is kept (default 0.9).
	MaxSimilarity float64 `yaml:"max_similarity" json:"max_similarity"`
	// MaxResponseTokens drops samples whose assistant turn is longer, in
	// tokens of TokenEncoding (0, the default: no limit); a prompt left
	// with no correct sample is rejected as response_too_long.
	MaxResponseTokens int `yaml:"max_response_tokens" json:"max_response_tokens"`
	// TokenEncoding is the tiktoken encoding that measures lengths:
	// cl100k_base (default) or o200k_base.
	TokenEncoding string `yaml:"token_encoding" json:"token_encoding"`
}

// DefaultCurationFields: fixed k, rounds of 2 when adaptive, draw order,
// similarity 0.9, no length limit, cl100k_base.
func DefaultCurationFields() CurationFields {
	a := filters.DefaultAdaptiveConfig()
	return CurationFields{Policy: filters.PolicyFixed, RoundSize: a.RoundSize, SettledHalfWidth: a.SettledHalfWidth,
		RankBy: filters.RankFirst, MaxSimilarity: 0.9, TokenEncoding: filters.DefaultEncoding}
}

// UsesReward reports whether a reward model scores samples (reward.url or
// reward.model set).
func (r Recipe) UsesReward() bool { return r.Reward.URL != "" || r.Reward.Model != "" }

// UsesSimReward reports whether the recipe asks for the simulated reward
// model (reward.model "sim" and no reward.url), which the simulated
// teacher serves: the offline quickstart's best-of-N.
func (r Recipe) UsesSimReward() bool { return r.Reward.Model == SimTeacher && r.Reward.URL == "" }

// Ranking is the filters' view of which correct samples and pairs to keep.
func (s SamplingConfig) Ranking() filters.RankingConfig {
	return filters.RankingConfig{MaxCorrect: s.MaxCorrect, MaxPairs: s.MaxPairs, Rule: s.RankBy, Seed: s.Seed, MaxSimilarity: s.MaxSimilarity}
}

// Adaptive is the adaptive sampling policy's config.
func (s SamplingConfig) Adaptive() filters.AdaptiveConfig {
	return filters.AdaptiveConfig{MaxSamples: s.SamplesPerPrompt, RoundSize: s.RoundSize, MaxCorrect: s.MaxCorrect,
		MaxPairs: s.MaxPairs, SettledHalfWidth: s.SettledHalfWidth}
}

// Curation is what filters.Curate needs from the recipe.
func (r Recipe) Curation() filters.CurateConfig {
	return filters.CurateConfig{Ranking: r.Sampling.Ranking(), Difficulty: r.Difficulty, RLVR: r.RLVR, Refusal: r.Refusal,
		Reasoning: r.Sampling.Reasoning, MaxResponseTokens: r.Sampling.MaxResponseTokens}
}

func (r Recipe) validateCuration() []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	s := r.Sampling
	switch s.Policy {
	case filters.PolicyFixed, "":
	case filters.PolicyAdaptive:
		if _, err := filters.NewAdaptivePolicy(s.Adaptive()); err != nil {
			add(err)
		}
	default:
		add(fmt.Errorf("sampling.policy %q is not a policy (fixed, adaptive)", s.Policy))
	}
	if s.RankBy != "" || s.MaxSimilarity != 0 {
		add(s.Ranking().Validate())
	}
	if s.MaxResponseTokens < 0 {
		add(fmt.Errorf("sampling.max_response_tokens must be >= 0 (0 = no limit), got %d", s.MaxResponseTokens))
	}
	switch s.TokenEncoding {
	case "", filters.EncodingCL100K, filters.EncodingO200K:
	default:
		add(fmt.Errorf("sampling.token_encoding %q is not an encoding (%s, %s)", s.TokenEncoding, filters.EncodingCL100K, filters.EncodingO200K))
	}
	add(r.Difficulty.Validate())
	add(r.RLVR.Validate())
	add(r.Refusal.Validate())
	switch {
	case r.UsesSimReward() && !r.UsesSimTeacher():
		add(fmt.Errorf("reward.model %q is the simulated teacher's reward model: with a real teacher, set reward.url and reward.model to a real reward server", SimTeacher))
	case r.UsesSimReward():
		sim := r.Reward
		sim.URL = "http://127.0.0.1" // filled in when the simulated teacher starts
		add(sim.Validate())
	case r.UsesReward():
		add(r.Reward.Validate())
	}
	return errs
}

// resolveReward points the reward model's score cache at the teacher's
// response cache, unless the recipe names one: scores are cached like
// responses, so a rerun pays for neither.
func (r *Recipe) resolveReward() {
	switch r.Reward.CacheDir {
	case "":
		r.Reward.CacheDir = r.Teacher.CacheDir
	case CacheOff:
		r.Reward.CacheDir = ""
	}
}

// Lineage is what a released row was made with, for the manifest: the
// teacher and its sampling parameters, the hash of the prompt template,
// the grading and decontamination versions and the reward model.
type Lineage struct {
	TeacherModel string `json:"teacher_model"`
	// Sampling holds temperature, top_p, max_tokens, seed, stop and extra
	// fields, and the samples per prompt and policy.
	Sampling map[string]any `json:"sampling"`
	// PromptTemplateHash is a SHA-256 of the system prompt and the
	// instruction appended to every prompt.
	PromptTemplateHash string `json:"prompt_template_hash"`
	Verifier           string `json:"verifier"`
	GradingVersion     string `json:"grading_version"`
	// Decontam names the n-gram size, threshold and benchmark versions.
	Decontam      map[string]any `json:"decontam"`
	RewardModel   string         `json:"reward_model,omitempty"`
	TokenEncoding string         `json:"token_encoding"`
}

// PromptTemplateHash hashes what the run adds to every prompt.
func (r Recipe) PromptTemplateHash() string {
	in := r.TeacherInput()
	b, _ := json.Marshal([]string{in.SystemPrompt, in.Instruction})
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// Lineage returns the run's lineage; benchmarks maps each benchmark set
// decontaminated against to its version.
func (r Recipe) Lineage(benchmarks map[string]string) Lineage {
	t := r.Teacher
	l := Lineage{
		TeacherModel: t.Model,
		Sampling: map[string]any{"temperature": t.Temperature, "top_p": t.TopP, "max_tokens": t.MaxTokens,
			"samples_per_prompt": r.Sampling.SamplesPerPrompt, "policy": r.Sampling.Policy},
		PromptTemplateHash: r.PromptTemplateHash(),
		Verifier:           r.Sampling.Verifier,
		GradingVersion:     filters.GradingVersion,
		Decontam:           map[string]any{"ngram_size": r.Decontam.NgramSize, "threshold": r.Decontam.Threshold, "benchmarks": benchmarks},
		TokenEncoding:      r.Sampling.TokenEncoding,
	}
	if t.Seed != nil {
		l.Sampling["seed"] = *t.Seed
	}
	if len(t.Stop) > 0 {
		l.Sampling["stop"] = t.Stop
	}
	if len(t.Extra) > 0 {
		l.Sampling["extra"] = t.Extra
	}
	if r.UsesReward() {
		l.RewardModel = r.Reward.Model
	}
	return l
}
