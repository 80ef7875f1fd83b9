package teacher

import "strings"

// Reasoning models answer in two parts: a chain of thought and a final
// answer. Servers hand the thought back in one of three places: vLLM's
// reasoning parsers put it in message.reasoning_content (older releases,
// also DeepSeek's API) or message.reasoning (newer releases), and a server
// without a parser leaves it inline in content as <think>…</think>, the
// form DeepSeek-R1 and Qwen3 are trained to write. decodeResponse folds all
// three into Choice.Reasoning, so Choice.Text is the final answer only:
// what the verifier grades.

const (
	thinkOpen  = "<think>"
	thinkClose = "</think>"
)

// SplitThink splits content holding an inline <think>…</think> block into
// the thought and the text after it. A missing opening tag is allowed:
// DeepSeek-R1's chat template opens the block in the prompt, so the model's
// output starts inside it. A block opened and never closed (the sample was
// cut short) is all thought and no answer. ok is false when content holds
// no think block at all.
func SplitThink(content string) (thought, answer string, ok bool) {
	before, after, closed := strings.Cut(content, thinkClose)
	if !closed {
		i := strings.Index(content, thinkOpen)
		if i < 0 || strings.TrimSpace(content[:i]) != "" {
			return "", content, false
		}
		return strings.TrimSpace(content[i+len(thinkOpen):]), "", true
	}
	if i := strings.Index(before, thinkOpen); i >= 0 {
		if strings.TrimSpace(before[:i]) != "" {
			// Text before the block: not the reasoning-model form; leave
			// the content as the model wrote it.
			return "", content, false
		}
		before = before[i+len(thinkOpen):]
	}
	return strings.TrimSpace(before), strings.TrimLeft(after, " \t\r\n"), true
}

// joinReasoning appends an inline thought to a server-separated one (a
// server rarely sends both; nothing is dropped when one does).
func joinReasoning(separate, inline string) string {
	switch {
	case separate == "":
		return inline
	case inline == "":
		return separate
	}
	return separate + "\n\n" + inline
}
