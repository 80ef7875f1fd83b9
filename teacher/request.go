package teacher

import (
	"context"

	"github.com/syllabus-dev/syllabus/schemas"
)

// Request is one chat-completions call: a conversation and how to sample N
// responses to it.
type Request struct {
	Model    string
	Messages []schemas.Message
	// N is the number of samples drawn for this request (0 means 1).
	N int
	// First is the index of the request's first sample: a request draws
	// samples First … First+N-1 of its prompt, so rounds of adaptive
	// sampling continue where the last stopped (cache keys and
	// Choice.Index count from it; with a seed, sample i uses seed+i).
	First       int
	Temperature float64
	// TopP is nucleus sampling; 0 leaves the server default (omitted).
	TopP float64
	// MaxTokens caps each sample's completion; 0 leaves it to the server.
	MaxTokens int
	// Seed makes sampling reproducible on servers that honour it; nil omits it.
	Seed *int64
	Stop []string
	// Extra holds server-specific sampling fields passed through verbatim at
	// the top level of the request body (vLLM/SGLang top_k, min_p,
	// repetition_penalty). It may not override the fields above.
	Extra map[string]any
}

// samples is the number of samples the request asks for.
func (r Request) samples() int {
	if r.N <= 0 {
		return 1
	}
	return r.N
}

// Choice is one sample of a Response.
type Choice struct {
	// Index is the sample's position among the prompt's samples: First+i
	// for the request's i-th.
	Index int
	Text  string
	// FinishReason is the server's finish_reason ("stop", "length", ...).
	FinishReason string
	// Truncated is true when the server cut the sample at max_tokens
	// (finish_reason "length"); such a sample must not be released.
	Truncated bool
	// Reasoning is the sample's chain of thought, when the server returned
	// one apart from the answer (message.reasoning_content or
	// message.reasoning) or inline as <think>…</think> (then Text is what
	// follows the block). Empty for a model that does not reason apart.
	Reasoning string
}

// Usage counts the tokens a call consumed, as the server reported them.
type Usage struct {
	PromptTokens, CompletionTokens int64
	// ReasoningTokens is the part of CompletionTokens spent on reasoning,
	// when the server reports it (usage.completion_tokens_details).
	ReasoningTokens int64
	// EstimatedPromptTokens and EstimatedCompletionTokens are the parts of
	// PromptTokens and CompletionTokens that the client estimated (about 4
	// bytes a token) because the server sent no usage.
	EstimatedPromptTokens, EstimatedCompletionTokens int64
}

// Add returns u plus v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		PromptTokens:              u.PromptTokens + v.PromptTokens,
		CompletionTokens:          u.CompletionTokens + v.CompletionTokens,
		ReasoningTokens:           u.ReasoningTokens + v.ReasoningTokens,
		EstimatedPromptTokens:     u.EstimatedPromptTokens + v.EstimatedPromptTokens,
		EstimatedCompletionTokens: u.EstimatedCompletionTokens + v.EstimatedCompletionTokens,
	}
}

// Response is the answer to a Request: exactly N choices in index order.
type Response struct {
	Model   string
	Choices []Choice
	// Usage is what the server reported for the calls that produced the
	// choices; for a cached response it is what those calls cost originally.
	Usage Usage
	// Cached is true when every choice came from the response cache and the
	// server was not called.
	Cached bool
}

// Completer draws samples from a teacher. *Client implements it; tests and
// the Pool accept any implementation.
type Completer interface {
	Complete(ctx context.Context, req Request) (*Response, error)
}
