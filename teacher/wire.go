package teacher

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/syllabus-dev/syllabus/schemas"
)

// This file holds the OpenAI chat-completions wire format, shared by the
// client, the simulated teacher and the replay server.

// wireRequest is the request body. Extra fields are merged at the top level
// by encodeRequest.
type wireRequest struct {
	Model       string            `json:"model"`
	Messages    []schemas.Message `json:"messages"`
	N           int               `json:"n,omitempty"`
	Temperature *float64          `json:"temperature,omitempty"`
	TopP        float64           `json:"top_p,omitempty"`
	MaxTokens   int               `json:"max_tokens,omitempty"`
	Seed        *int64            `json:"seed,omitempty"`
	Stop        []string          `json:"stop,omitempty"`
}

type wireMessage struct {
	Role    string  `json:"role"`
	Content *string `json:"content"`
	// ReasoningContent is where older vLLM reasoning parsers (and
	// DeepSeek's API) put the chain of thought; Reasoning is newer vLLM's.
	ReasoningContent *string `json:"reasoning_content,omitempty"`
	Reasoning        *string `json:"reasoning,omitempty"`
}

type wireChoice struct {
	Index        int         `json:"index"`
	Message      wireMessage `json:"message"`
	FinishReason *string     `json:"finish_reason"`
}

type wireUsage struct {
	PromptTokens            int64                `json:"prompt_tokens"`
	CompletionTokens        int64                `json:"completion_tokens"`
	TotalTokens             int64                `json:"total_tokens"`
	CompletionTokensDetails *wireCompletionUsage `json:"completion_tokens_details,omitempty"`
}

// wireCompletionUsage is OpenAI's usage.completion_tokens_details: the part
// of completion_tokens the model spent reasoning.
type wireCompletionUsage struct {
	ReasoningTokens int64 `json:"reasoning_tokens"`
}

type wireResponse struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []wireChoice `json:"choices"`
	Usage   *wireUsage   `json:"usage,omitempty"`
}

// encodeRequest renders req as a request body. Temperature is always sent
// (0 means greedy, not "default"); Extra is merged at the top level.
func encodeRequest(req Request) ([]byte, error) {
	t := req.Temperature
	w := wireRequest{
		Model:       req.Model,
		Messages:    req.Messages,
		Temperature: &t,
		TopP:        req.TopP,
		MaxTokens:   req.MaxTokens,
		Seed:        req.Seed,
		Stop:        req.Stop,
	}
	if req.N > 1 {
		w.N = req.N
	}
	body, err := json.Marshal(w)
	if err != nil || len(req.Extra) == 0 {
		return body, err
	}
	for k := range req.Extra {
		if reservedExtra[k] {
			return nil, fmt.Errorf("%w: extra field %q overrides a standard field", ErrBadRequest, k)
		}
	}
	extra, err := json.Marshal(req.Extra)
	if err != nil {
		return nil, fmt.Errorf("%w: extra fields: %v", ErrBadRequest, err)
	}
	if len(extra) <= 2 {
		return body, nil
	}
	// body is {...} and extra is {...}: splice extra's members into body.
	out := make([]byte, 0, len(body)+len(extra))
	out = append(out, body[:len(body)-1]...)
	out = append(out, ',')
	out = append(out, extra[1:]...)
	return out, nil
}

// decodeResponse parses a 200 body into a Response holding the choices in
// index order. want is the number of choices asked for: a server may return
// fewer (some ignore n) but never more, nor duplicate or out-of-range indices.
// It never panics on any input.
func decodeResponse(body []byte, want int) (*Response, error) {
	var w wireResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedResponse, err)
	}
	if len(w.Choices) == 0 {
		return nil, fmt.Errorf("%w: no choices", ErrMalformedResponse)
	}
	if len(w.Choices) > want {
		return nil, fmt.Errorf("%w: %d choices for n=%d", ErrMalformedResponse, len(w.Choices), want)
	}
	choices := make([]Choice, len(w.Choices))
	seen := make([]bool, len(w.Choices))
	for _, c := range w.Choices {
		if c.Index < 0 || c.Index >= len(w.Choices) || seen[c.Index] {
			return nil, fmt.Errorf("%w: choice index %d out of range or repeated", ErrMalformedResponse, c.Index)
		}
		seen[c.Index] = true
		if c.FinishReason == nil {
			return nil, fmt.Errorf("%w: choice %d has no finish_reason (unfinished stream?)", ErrMalformedResponse, c.Index)
		}
		ch := Choice{Index: c.Index, FinishReason: *c.FinishReason}
		if c.Message.Content != nil {
			ch.Text = *c.Message.Content
		}
		switch {
		case c.Message.ReasoningContent != nil:
			ch.Reasoning = *c.Message.ReasoningContent
		case c.Message.Reasoning != nil:
			ch.Reasoning = *c.Message.Reasoning
		}
		if thought, answer, ok := SplitThink(ch.Text); ok {
			ch.Reasoning = joinReasoning(ch.Reasoning, thought)
			ch.Text = answer
		}
		ch.Truncated = ch.FinishReason == "length"
		choices[c.Index] = ch
	}
	r := &Response{Model: w.Model, Choices: choices}
	if w.Usage != nil {
		if w.Usage.PromptTokens < 0 || w.Usage.CompletionTokens < 0 {
			return nil, fmt.Errorf("%w: negative usage", ErrMalformedResponse)
		}
		r.Usage = Usage{PromptTokens: w.Usage.PromptTokens, CompletionTokens: w.Usage.CompletionTokens}
		if d := w.Usage.CompletionTokensDetails; d != nil && d.ReasoningTokens > 0 && d.ReasoningTokens <= w.Usage.CompletionTokens {
			r.Usage.ReasoningTokens = d.ReasoningTokens
		}
	}
	return r, nil
}

// decodeErrorMessage extracts the server's explanation from an error body in
// any of the shapes servers use: OpenAI {"error":{"message":...}}, vLLM
// {"object":"error","message":...}, TGI {"error":"..."}; otherwise the start
// of the body itself.
func decodeErrorMessage(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  any             `json:"detail"`
	}
	if json.Unmarshal(body, &e) == nil {
		if len(e.Error) > 0 {
			var obj struct {
				Message string `json:"message"`
			}
			var s string
			if json.Unmarshal(e.Error, &obj) == nil && obj.Message != "" {
				return obj.Message
			}
			if json.Unmarshal(e.Error, &s) == nil && s != "" {
				return s
			}
		}
		if e.Message != "" {
			return e.Message
		}
		if e.Detail != nil {
			b, _ := json.Marshal(e.Detail)
			return string(b)
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 500 {
		s = s[:500] + "..."
	}
	return s
}

// decodeErrorCode extracts the string code of an OpenAI-shaped error body:
// {"error":{"code":"insufficient_quota",...}}.
func decodeErrorCode(body []byte) string {
	var e struct {
		Error struct {
			Code any    `json:"code"`
			Type string `json:"type"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if s, ok := e.Error.Code.(string); ok {
		return s
	}
	return "" // vLLM's numeric code repeats the status
}

// isContextLengthMessage reports whether a 400's message says the prompt
// does not fit the model's context (vLLM, SGLang, TGI, OpenAI wordings).
func isContextLengthMessage(msg string) bool {
	m := strings.ToLower(msg)
	for _, s := range []string{"context length", "context_length", "maximum context", "context window", "too many tokens", "input validation error: `inputs` tokens + `max_new_tokens`"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}
