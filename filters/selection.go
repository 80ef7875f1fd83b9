package filters

import (
	"fmt"
	"strings"

	"github.com/syllabus-dev/syllabus/schemas"
)

// Outcome is what rejection sampling made of one Generation: released rows,
// or one rejection saying why nothing was released.
type Outcome struct {
	SFT       []schemas.SFTExample
	Pairs     []schemas.PreferencePair
	RLVR      []schemas.RLVRExample
	Rejection *schemas.Rejection
	// Graded counts the samples by verdict: correct, incorrect, no_answer,
	// truncated.
	Graded map[string]int
	// Difficulty is the prompt's difficulty bucket.
	Difficulty string
}

// Rejection reasons of the verify stage (ReasonNoAnswer is shared with
// verdicts).
const (
	ReasonNoCorrect   = "no_correct_sample"
	ReasonTruncated   = "truncated"
	ReasonNoReference = "no_reference"
	ReasonDuplicate   = "duplicate"
)

// Difficulty buckets a pass rate (correct samples / samples drawn): the
// teacher's own success is the measure of how hard a prompt is.
func Difficulty(passRate float64) string {
	switch {
	case passRate >= 0.75:
		return "easy"
	case passRate >= 0.4:
		return "medium"
	case passRate > 0:
		return "hard"
	default:
		return "unsolved"
	}
}

// SelectionConfig is how many rows rejection sampling keeps per prompt.
type SelectionConfig struct {
	// MaxCorrect is m, the most verified samples kept as SFT rows.
	MaxCorrect int
	// MaxPairs is the most (correct, incorrect) preference pairs.
	MaxPairs int
	// Reasoning is how released rows carry a sample's reasoning:
	// ReasoningInline (also ""), ReasoningColumn or ReasoningDrop.
	Reasoning string
}

// Select grades every sample of g against the prompt's reference and keeps
// what rejection sampling allows: at most s.MaxCorrect verified samples as
// SFT rows, at most s.MaxPairs (correct, incorrect) preference pairs, and an
// RLVR row when the teacher solved the prompt sometimes but not always.
// Truncated samples are never kept nor used as a rejected side, and samples
// with no extractable answer are not counted as wrong answers. Only a
// sample's final answer (Text) is verified, never its reasoning; released
// turns carry the reasoning in the form s.Reasoning asks (AssistantTurn).
func Select(g schemas.Generation, v Verifier, s SelectionConfig) Outcome {
	p := g.Prompt
	out := Outcome{Graded: map[string]int{}}
	reject := func(reason, detail string) Outcome {
		out.Difficulty = Difficulty(0)
		out.Rejection = &schemas.Rejection{PromptID: p.ID, Stage: "verify", Reason: reason, Detail: detail, Source: p.Source, Line: int64(p.Line), Skills: p.Skills}
		return out
	}
	if strings.TrimSpace(p.Answer) == "" {
		out.Graded["ungraded"] = len(g.Samples)
		return reject(ReasonNoReference, "the prompt has no reference answer to verify samples against (set --answer_field)")
	}

	type graded struct {
		sample  schemas.Sample
		verdict Verdict
	}
	var correct, wrong []graded
	for _, smp := range g.Samples {
		if smp.Truncated {
			out.Graded["truncated"]++
			continue
		}
		vd := v.Verify(smp.Text, p.Answer)
		switch {
		case !vd.HasAnswer:
			out.Graded["no_answer"]++
		case vd.Correct:
			out.Graded["correct"]++
			correct = append(correct, graded{smp, vd})
		default:
			out.Graded["incorrect"]++
			wrong = append(wrong, graded{smp, vd})
		}
	}
	passRate := 0.0
	if len(g.Samples) > 0 {
		passRate = float64(len(correct)) / float64(len(g.Samples))
	}
	out.Difficulty = Difficulty(passRate)
	if len(correct) == 0 {
		switch {
		case out.Graded["incorrect"] > 0:
			return reject(ReasonNoCorrect, fmt.Sprintf("0 of %d samples verified against %q (%s)", len(g.Samples), p.Answer, tally(out.Graded)))
		case out.Graded["no_answer"] > 0:
			return reject(ReasonNoAnswer, fmt.Sprintf("no sample held a final answer the verifier could extract (%s)", tally(out.Graded)))
		default:
			return reject(ReasonTruncated, fmt.Sprintf("every sample was cut at max_tokens (%s)", tally(out.Graded)))
		}
	}

	prompt := g.Messages
	for i, c := range correct {
		if i >= s.MaxCorrect {
			break
		}
		turn, reasoning := AssistantTurn(s.Reasoning, c.sample.Reasoning, c.sample.Text)
		out.SFT = append(out.SFT, schemas.SFTExample{
			PromptID:     p.ID,
			Messages:     withAssistant(prompt, turn),
			Reasoning:    reasoning,
			Answer:       p.Answer,
			Solution:     p.Solution,
			Extracted:    c.verdict.Extracted,
			Verdict:      c.verdict.Reason,
			Skills:       skillsOf(p),
			Difficulty:   out.Difficulty,
			PassRate:     passRate,
			Source:       p.Source,
			TeacherModel: c.sample.Model,
			SampleIndex:  int32(c.sample.Index),
			Weight:       p.Weight,
			Synthesized:  p.Synthesized,
		})
	}
	for i := 0; i < s.MaxPairs && i < len(correct) && i < len(wrong); i++ {
		c, w := correct[i], wrong[i]
		chosen, chosenReasoning := AssistantTurn(s.Reasoning, c.sample.Reasoning, c.sample.Text)
		rejected, rejectedReasoning := AssistantTurn(s.Reasoning, w.sample.Reasoning, w.sample.Text)
		out.Pairs = append(out.Pairs, schemas.PreferencePair{
			PromptID:          p.ID,
			Prompt:            prompt,
			Chosen:            []schemas.Message{{Role: schemas.RoleAssistant, Content: chosen}},
			Rejected:          []schemas.Message{{Role: schemas.RoleAssistant, Content: rejected}},
			ChosenReasoning:   chosenReasoning,
			RejectedReasoning: rejectedReasoning,
			Answer:            p.Answer,
			Skills:            skillsOf(p),
			Difficulty:        out.Difficulty,
			PassRate:          passRate,
			Source:            p.Source,
			TeacherModel:      c.sample.Model,
			RejectedVerdict:   w.verdict.Reason,
			ChosenIndex:       int32(c.sample.Index),
			RejectedIndex:     int32(w.sample.Index),
			Weight:            p.Weight,
			Synthesized:       p.Synthesized,
		})
	}
	if passRate < 1 {
		out.RLVR = append(out.RLVR, schemas.RLVRExample{
			PromptID:    p.ID,
			Prompt:      prompt,
			GroundTruth: ReferenceAnswer(p.Answer), // the final answer, even if the reader kept a whole solution
			Solution:    p.Solution,
			Skills:      skillsOf(p),
			Difficulty:  out.Difficulty,
			PassRate:    passRate,
			Source:      p.Source,
			Weight:      p.Weight,
			Synthesized: p.Synthesized,
		})
	}
	return out
}

// withAssistant returns the conversation followed by an assistant turn.
func withAssistant(conversation []schemas.Message, text string) []schemas.Message {
	out := make([]schemas.Message, 0, len(conversation)+1)
	out = append(out, conversation...)
	return append(out, schemas.Message{Role: schemas.RoleAssistant, Content: text})
}

func skillsOf(p schemas.Prompt) []string {
	if p.Skills == nil {
		return []string{}
	}
	return p.Skills
}

// tally renders sample verdict counts in a fixed order.
func tally(graded map[string]int) string {
	var parts []string
	for _, k := range []string{"correct", "incorrect", "no_answer", "truncated", "too_long"} {
		if n := graded[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	return strings.Join(parts, ", ")
}

// VerifierByName returns the verifier a recipe names: "math" (the default,
// also ""), "exact" or "choice".
func VerifierByName(name string) (Verifier, error) {
	switch name {
	case "math", "":
		return NewMathVerifier(nil), nil
	case "exact":
		return ExactStringVerifier{}, nil
	case "choice", "multiple_choice":
		return MultipleChoiceVerifier{}, nil
	}
	return nil, fmt.Errorf("unknown verifier %q (known: math, exact, choice)", name)
}
