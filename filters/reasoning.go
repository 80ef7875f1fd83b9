package filters

import (
	"fmt"
	"strings"
)

// Forms a release may give a sample's reasoning (recipe sampling.reasoning).
// A sample's text is its final answer only; a reasoning model's chain of
// thought travels apart in schemas.Sample.Reasoning and never counts in
// verification.
const (
	// ReasoningInline writes the assistant turn as
	// "<think>\n…\n</think>\n\n<answer>", the form open reasoning datasets
	// (OpenThoughts, open-r1) and the chat templates of DeepSeek-R1 and
	// Qwen3 use, which SFT trainers (TRL, LLaMA-Factory) train on as is.
	// The default.
	ReasoningInline = "inline"
	// ReasoningColumn keeps the assistant turn the answer only and puts
	// the reasoning in its own column (reasoning; chosen_reasoning and
	// rejected_reasoning in preference rows).
	ReasoningColumn = "column"
	// ReasoningDrop releases the answer only.
	ReasoningDrop = "drop"
)

// CheckReasoningForm reports whether form is a known sampling.reasoning
// ("" means inline).
func CheckReasoningForm(form string) error {
	switch form {
	case "", ReasoningInline, ReasoningColumn, ReasoningDrop:
		return nil
	}
	return fmt.Errorf("unknown reasoning form %q (known: inline, column, drop)", form)
}

// AssistantTurn is the released assistant turn of a sample with the given
// reasoning and answer, and what goes in the reasoning column, in form.
// With no reasoning the turn is the answer alone (no empty think block).
func AssistantTurn(form, reasoning, answer string) (turn, column string) {
	reasoning = strings.TrimSpace(reasoning)
	switch {
	case reasoning == "" || form == ReasoningDrop:
		return answer, ""
	case form == ReasoningColumn:
		return answer, reasoning
	}
	return "<think>\n" + reasoning + "\n</think>\n\n" + answer, ""
}
