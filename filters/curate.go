package filters

import (
	"errors"
	"fmt"
	"strings"

	"github.com/syllabus-dev/syllabus/schemas"
)

// GradingVersion names the grading rules (answer extraction, math
// equivalence, selection): the manifest's lineage carries it. Bump it when a
// change can flip a verdict or change which sample is kept.
const GradingVersion = "2"

// Rejection and exclusion reasons of Curate, besides those of Select.
const (
	// ReasonTooLong: no sample was correct and some were longer than
	// sampling.max_response_tokens (those are not graded: they are never
	// released).
	ReasonTooLong = "response_too_long"
	// ReasonRLVRSolved and ReasonRLVRUnsolved: the prompt's pass rate is 1
	// or 0, no learning signal for RL (zero variance).
	ReasonRLVRSolved   = "rlvr_solved"
	ReasonRLVRUnsolved = "rlvr_unsolved"
	// ReasonRLVRRange: the pass rate is outside rlvr.min/max_pass_rate.
	ReasonRLVRRange = "rlvr_pass_rate_out_of_range"
)

// Verdicts of GradeSamples (ReasonNoAnswer is "no_answer").
const (
	VerdictCorrect   = "correct"
	VerdictIncorrect = "incorrect"
	VerdictNoAnswer  = "no_answer"
	VerdictTruncated = "truncated"
	VerdictTooLong   = "too_long"
	VerdictUngraded  = "ungraded"
)

// RLVRConfig is the recipe section "rlvr": which prompts become RLVR rows.
type RLVRConfig struct {
	// MinPassRate and MaxPassRate bound the pass rate of released prompts,
	// inclusive (defaults 0 and 1).
	MinPassRate float64 `yaml:"min_pass_rate" json:"min_pass_rate"`
	MaxPassRate float64 `yaml:"max_pass_rate" json:"max_pass_rate"`
	// KeepZeroVariance keeps prompts every sample solved (pass rate 1) or
	// none did (0); by default they are dropped: a group of equal rewards
	// gives GRPO-style training no gradient.
	KeepZeroVariance bool `yaml:"keep_zero_variance" json:"keep_zero_variance"`
}

// DefaultRLVRConfig keeps pass rates in (0, 1).
func DefaultRLVRConfig() RLVRConfig { return RLVRConfig{MinPassRate: 0, MaxPassRate: 1} }

// Validate reports every bad field at once, each named as in the recipe.
func (c RLVRConfig) Validate() error {
	var errs []error
	if c.MinPassRate < 0 || c.MinPassRate > 1 {
		errs = append(errs, fmt.Errorf("rlvr.min_pass_rate must be in [0, 1], got %v", c.MinPassRate))
	}
	if c.MaxPassRate < 0 || c.MaxPassRate > 1 {
		errs = append(errs, fmt.Errorf("rlvr.max_pass_rate must be in [0, 1], got %v", c.MaxPassRate))
	}
	if c.MinPassRate > c.MaxPassRate {
		errs = append(errs, fmt.Errorf("rlvr.min_pass_rate (%v) must not exceed rlvr.max_pass_rate (%v)", c.MinPassRate, c.MaxPassRate))
	}
	return errors.Join(errs...)
}

// Exclude says why a prompt with this pass rate gives no RLVR row ("" if
// it gives one).
func (c RLVRConfig) Exclude(passRate float64) string {
	switch {
	case !c.KeepZeroVariance && passRate <= 0:
		return ReasonRLVRUnsolved
	case !c.KeepZeroVariance && passRate >= 1:
		return ReasonRLVRSolved
	case passRate < c.MinPassRate || passRate > c.MaxPassRate:
		return ReasonRLVRRange
	}
	return ""
}

// RefusalConfig is the recipe section "refusal" (R-Tuning): for prompts no
// sample solved, an SFT row whose answer says the model is not sure.
type RefusalConfig struct {
	// Enabled turns refusal rows on (default off).
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Message is the assistant turn of a refusal row.
	Message string `yaml:"message" json:"message"`
	// MinSamples is the fewest samples that must have been drawn (and all
	// failed) before a prompt counts as beyond the teacher (default 4).
	MinSamples int `yaml:"min_samples" json:"min_samples"`
}

// DefaultRefusalMessage is the R-Tuning style answer of a refusal row.
const DefaultRefusalMessage = "I am not sure I can solve this problem correctly."

// DefaultRefusalConfig is off, with the default message and 4 samples.
func DefaultRefusalConfig() RefusalConfig {
	return RefusalConfig{Message: DefaultRefusalMessage, MinSamples: 4}
}

// Validate reports every bad field at once, each named as in the recipe.
func (c RefusalConfig) Validate() error {
	var errs []error
	if c.Enabled && strings.TrimSpace(c.Message) == "" {
		errs = append(errs, errors.New("refusal.message must be set when refusal.enabled"))
	}
	if c.MinSamples < 1 {
		errs = append(errs, fmt.Errorf("refusal.min_samples must be >= 1, got %d", c.MinSamples))
	}
	return errors.Join(errs...)
}

// CurateConfig is everything Curate needs besides the samples.
type CurateConfig struct {
	Ranking    RankingConfig
	Difficulty DifficultyConfig
	RLVR       RLVRConfig
	Refusal    RefusalConfig
	// Reasoning is how rows carry a sample's reasoning (see AssistantTurn).
	Reasoning string
	// MaxResponseTokens drops samples whose assistant turn is longer (0 =
	// no limit), counted by Tokenizer.
	MaxResponseTokens int
}

// GradedSamples is the verdict on every sample of a Generation, index by
// index, and its length in tokens.
type GradedSamples struct {
	Verdicts []Verdict
	// Kind is the verdict of each sample: correct, incorrect, no_answer,
	// truncated, too_long or ungraded (the prompt has no reference).
	Kind   []string
	Tokens []int
	// Count counts samples by Kind.
	Count map[string]int
}

// Correct is the number of correct samples; Incorrect of incorrect ones.
func (g GradedSamples) Correct() int   { return g.Count[VerdictCorrect] }
func (g GradedSamples) Incorrect() int { return g.Count[VerdictIncorrect] }

// GradeSamples verifies every sample of g against the prompt's reference
// and measures its assistant turn (in the release's form) with tok (nil:
// no lengths, no length filter). A sample cut at max_tokens is truncated;
// one longer than maxTokens (> 0) is too_long, whatever its answer; only
// the final answer (Text) is verified, never the reasoning.
func GradeSamples(g schemas.Generation, v Verifier, tok *Tokenizer, reasoning string, maxTokens int) GradedSamples {
	n := len(g.Samples)
	out := GradedSamples{Verdicts: make([]Verdict, n), Kind: make([]string, n), Tokens: make([]int, n), Count: map[string]int{}}
	hasRef := strings.TrimSpace(g.Prompt.Answer) != ""
	for i, s := range g.Samples {
		if tok != nil {
			turn, col := AssistantTurn(reasoning, s.Reasoning, s.Text)
			out.Tokens[i] = tok.Count(turn) + tok.Count(col)
		}
		var kind string
		switch {
		case !hasRef:
			kind = VerdictUngraded
		case s.Truncated:
			kind = VerdictTruncated
		case maxTokens > 0 && out.Tokens[i] > maxTokens:
			kind = VerdictTooLong
		default:
			vd := v.Verify(s.Text, g.Prompt.Answer)
			out.Verdicts[i] = vd
			switch {
			case !vd.HasAnswer:
				kind = VerdictNoAnswer
			case vd.Correct:
				kind = VerdictCorrect
			default:
				kind = VerdictIncorrect
			}
		}
		out.Kind[i] = kind
		out.Count[kind]++
	}
	return out
}

// Curation is what Curate made of one prompt: released rows, or one
// rejection saying why nothing was released.
type Curation struct {
	SFT       []schemas.SFTExample
	Pairs     []schemas.PreferencePair
	RLVR      []schemas.RLVRExample
	Refusal   []schemas.RefusalExample
	Rejection *schemas.Rejection
	// Graded counts the samples by verdict.
	Graded map[string]int
	// Estimate is the prompt's pass rate over the samples drawn.
	Estimate PassRateEstimate
	// RLVRExcluded says why the prompt gave no RLVR row ("" if it gave one).
	RLVRExcluded string
	// NearDuplicates counts correct samples dropped as near-identical.
	NearDuplicates int
}

// Curate is rejection sampling over one prompt's samples, graded by
// GradeSamples, with rewards where the reward model scored them
// (Sample.Scored):
//
//   - SFT rows: at most Ranking.MaxCorrect correct, distinct samples, best
//     reward first (best-of-N), else by Ranking.Rule (see Rank); each row
//     carries its reward (null without one) and length in tokens.
//   - Preference rows: at most Ranking.MaxPairs (correct, incorrect)
//     pairs, by reward margin when every sample has a score.
//   - RLVR row: when the pass rate is inside the RLVR range.
//   - Refusal row (R-Tuning, when enabled): no sample correct, at least
//     Refusal.MinSamples drawn and one of them an answer the verifier read.
//
// The pass rate is correct samples over samples drawn (truncated and too
// long ones count as drawn), with its Wilson interval and bucket. A prompt
// that gives no row at all is rejected with one reason: no_reference,
// response_too_long, no_correct_sample, no_answer, truncated, or the RLVR
// exclusion when correct samples gave no SFT row either (never, today).
func Curate(g schemas.Generation, gr GradedSamples, cfg CurateConfig) Curation {
	p := g.Prompt
	out := Curation{Graded: gr.Count}
	drawn := len(g.Samples)
	out.Estimate = cfg.Difficulty.Estimate(gr.Correct(), drawn)
	est := out.Estimate
	reject := func(reason, detail string) Curation {
		out.Rejection = &schemas.Rejection{PromptID: p.ID, Stage: "verify", Reason: reason, Detail: detail, Source: p.Source, Line: int64(p.Line), Skills: p.Skills}
		return out
	}
	if gr.Count[VerdictUngraded] > 0 {
		return reject(ReasonNoReference, "the prompt has no reference answer to verify samples against (set --answer_field)")
	}
	out.RLVRExcluded = cfg.RLVR.Exclude(est.PassRate)
	model := g.Model
	var graded []GradedSample
	byIndex := map[int]int{} // sample index -> position in g.Samples
	for i, s := range g.Samples {
		byIndex[s.Index] = i
		if model == "" {
			model = s.Model
		}
		k := gr.Kind[i]
		if k != VerdictCorrect && k != VerdictIncorrect {
			continue
		}
		gs := GradedSample{Index: s.Index, Text: s.Text, Correct: k == VerdictCorrect}
		if s.Scored {
			r := s.Reward
			gs.Reward = &r
		}
		graded = append(graded, gs)
	}
	rank := Rank(p.ID, graded, cfg.Ranking)
	out.NearDuplicates = rank.NearDuplicates
	prompt := g.Messages
	skills := skillsOf(p)
	for _, c := range rank.SFT {
		i := byIndex[c.Index]
		s := g.Samples[i]
		turn, reasoning := AssistantTurn(cfg.Reasoning, s.Reasoning, s.Text)
		out.SFT = append(out.SFT, schemas.SFTExample{
			PromptID: p.ID, Messages: withAssistant(prompt, turn), Reasoning: reasoning,
			Answer: p.Answer, Solution: p.Solution, Extracted: gr.Verdicts[i].Extracted, Verdict: gr.Verdicts[i].Reason,
			Skills: skills, Difficulty: est.Difficulty, PassRate: est.PassRate, Source: p.Source,
			TeacherModel: s.Model, SampleIndex: int32(s.Index), Reward: c.Reward, ResponseTokens: int32(gr.Tokens[i]),
			PassRateLow: est.PassRateLow, PassRateHigh: est.PassRateHigh, SamplesDrawn: int32(drawn), SourceDifficulty: p.SourceDifficulty,
			Weight: p.Weight, Synthesized: p.Synthesized,
		})
	}
	for _, pick := range rank.Pairs {
		ci, wi := byIndex[pick.Chosen.Index], byIndex[pick.Rejected.Index]
		c, w := g.Samples[ci], g.Samples[wi]
		chosen, chosenReasoning := AssistantTurn(cfg.Reasoning, c.Reasoning, c.Text)
		rejected, rejectedReasoning := AssistantTurn(cfg.Reasoning, w.Reasoning, w.Text)
		out.Pairs = append(out.Pairs, schemas.PreferencePair{
			PromptID: p.ID, Prompt: prompt,
			Chosen:          []schemas.Message{{Role: schemas.RoleAssistant, Content: chosen}},
			Rejected:        []schemas.Message{{Role: schemas.RoleAssistant, Content: rejected}},
			ChosenReasoning: chosenReasoning, RejectedReasoning: rejectedReasoning,
			Answer: p.Answer, Skills: skills, Difficulty: est.Difficulty, PassRate: est.PassRate, Source: p.Source,
			TeacherModel: c.Model, RejectedVerdict: gr.Verdicts[wi].Reason,
			ChosenIndex: int32(c.Index), RejectedIndex: int32(w.Index),
			ChosenReward: pick.Chosen.Reward, RejectedReward: pick.Rejected.Reward,
			ChosenTokens: int32(gr.Tokens[ci]), RejectedTokens: int32(gr.Tokens[wi]),
			PassRateLow: est.PassRateLow, PassRateHigh: est.PassRateHigh, SamplesDrawn: int32(drawn), SourceDifficulty: p.SourceDifficulty,
			Weight: p.Weight, Synthesized: p.Synthesized,
		})
	}
	if out.RLVRExcluded == "" {
		out.RLVR = append(out.RLVR, schemas.RLVRExample{
			PromptID: p.ID, Prompt: prompt,
			GroundTruth: ReferenceAnswer(p.Answer), // the final answer, even if the reader kept a whole solution
			Solution:    p.Solution, Skills: skills, Difficulty: est.Difficulty, PassRate: est.PassRate, Source: p.Source,
			PassRateLow: est.PassRateLow, PassRateHigh: est.PassRateHigh, SamplesDrawn: int32(drawn), Correct: int32(est.Correct),
			SourceDifficulty: p.SourceDifficulty, Weight: p.Weight, Synthesized: p.Synthesized,
		})
	}
	if rf := cfg.Refusal; rf.Enabled && est.Correct == 0 && drawn >= rf.MinSamples && gr.Incorrect() > 0 {
		out.Refusal = append(out.Refusal, schemas.RefusalExample{
			PromptID: p.ID, Messages: withAssistant(prompt, rf.Message), Answer: p.Answer, Skills: skills,
			Difficulty: est.Difficulty, PassRateHigh: est.PassRateHigh, SamplesDrawn: int32(drawn),
			SourceDifficulty: p.SourceDifficulty, Source: p.Source, TeacherModel: model,
		})
	}
	if len(out.SFT)+len(out.Pairs)+len(out.RLVR)+len(out.Refusal) > 0 {
		return out
	}
	switch {
	case gr.Correct() > 0:
		// Correct samples but no row: none can be, as an SFT row needs only
		// one; kept for safety, named by the RLVR exclusion.
		return reject(out.RLVRExcluded, fmt.Sprintf("%d correct samples gave no row (%s)", gr.Correct(), tally(gr.Count)))
	case gr.Count[VerdictTooLong] > 0:
		return reject(ReasonTooLong, fmt.Sprintf("no sample within max_response_tokens %d was correct (%s)", cfg.MaxResponseTokens, tally(gr.Count)))
	case gr.Incorrect() > 0:
		return reject(ReasonNoCorrect, fmt.Sprintf("0 of %d samples verified against %q (%s)", drawn, p.Answer, tally(gr.Count)))
	case gr.Count[VerdictNoAnswer] > 0:
		return reject(ReasonNoAnswer, fmt.Sprintf("no sample held a final answer the verifier could extract (%s)", tally(gr.Count)))
	default:
		return reject(ReasonTruncated, fmt.Sprintf("every sample was cut at max_tokens (%s)", tally(gr.Count)))
	}
}
