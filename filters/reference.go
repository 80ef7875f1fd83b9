package filters

import (
	"fmt"
	"strings"
)

// Reference formats: how a published dataset writes its reference answer
// (recipe input.answer_format).
const (
	// FormatAuto recognises the formats below, in their order.
	FormatAuto = "auto"
	// FormatGSM8K: a worked solution ending in "#### n" (GSM8K).
	FormatGSM8K = "gsm8k"
	// FormatBoxed: a worked solution whose final answer is its last
	// \boxed{} (MATH, NuminaMath).
	FormatBoxed = "boxed"
	// FormatPlain: the final answer alone.
	FormatPlain = "plain"
)

// ReferenceFormats lists the values input.answer_format accepts.
var ReferenceFormats = []string{FormatAuto, FormatGSM8K, FormatBoxed, FormatPlain}

// SplitReference splits a published reference into its final answer and
// its full worked solution (empty when the reference is the answer alone),
// reading it in format ("" is FormatAuto). A forced format the reference is
// not in is an error naming what is missing; FormatAuto never fails: what
// it does not recognise is taken as a plain answer (see ReferenceAnswer).
func SplitReference(reference, format string) (answer, solution string, err error) {
	ref := strings.TrimSpace(reference)
	if ref == "" {
		return "", "", nil
	}
	switch format {
	case "", FormatAuto:
		answer = ReferenceAnswer(ref)
	case FormatGSM8K:
		a, pos := lastHashes(ref)
		if pos < 0 {
			return "", "", fmt.Errorf("no \"#### <answer>\" line (answer_format gsm8k)")
		}
		answer = trimAnswer(a)
	case FormatBoxed:
		boxes, found, ok := finalBoxes(ref)
		if !found || !ok {
			return "", "", fmt.Errorf("no complete \\boxed{} answer (answer_format boxed)")
		}
		parts, ok := finishParts(boxes)
		if !ok {
			return "", "", fmt.Errorf("the last \\boxed{} holds no answer (answer_format boxed)")
		}
		answer = strings.Join(parts, ", ")
	case FormatPlain:
		answer = trimAnswer(ref)
	default:
		return "", "", fmt.Errorf("unknown answer_format %q (known: %s)", format, strings.Join(ReferenceFormats, ", "))
	}
	if answer == "" {
		return "", "", fmt.Errorf("the reference holds no final answer")
	}
	if answer != ref {
		solution = ref
	}
	return answer, solution, nil
}
