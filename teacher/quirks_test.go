package teacher

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/storage"
)

// Where reasoning servers put the chain of thought, and what Choice holds.
func TestDecodeReasoning(t *testing.T) {
	tests := []struct {
		name, message    string
		usage            string
		text, reasoning  string
		reasoningTokens  int64
		completionTokens int64
	}{
		{"older vLLM reasoning_content", `{"role":"assistant","reasoning_content":"2+3=5.","content":"\\boxed{5}"}`,
			`{"prompt_tokens":9,"completion_tokens":12,"completion_tokens_details":{"reasoning_tokens":7}}`, `\boxed{5}`, "2+3=5.", 7, 12},
		{"newer vLLM reasoning", `{"role":"assistant","reasoning":"2+3=5.","content":"\\boxed{5}"}`,
			`{"prompt_tokens":9,"completion_tokens":12}`, `\boxed{5}`, "2+3=5.", 0, 12},
		{"inline think", `{"role":"assistant","content":"<think>\n2+3=5.\n</think>\n\nSo \\boxed{5}"}`,
			`{"prompt_tokens":9,"completion_tokens":12}`, `So \boxed{5}`, "2+3=5.", 0, 12},
		{"think opened by the template", `{"role":"assistant","content":"2+3=5.\n</think>\n\n\\boxed{5}"}`,
			`{"prompt_tokens":9,"completion_tokens":12}`, `\boxed{5}`, "2+3=5.", 0, 12},
		{"think never closed", `{"role":"assistant","content":"<think>\n2+3 is"}`,
			`{"prompt_tokens":9,"completion_tokens":12}`, "", "2+3 is", 0, 12},
		{"no reasoning", `{"role":"assistant","content":"2+3=5, \\boxed{5}"}`,
			`{"prompt_tokens":9,"completion_tokens":12}`, `2+3=5, \boxed{5}`, "", 0, 12},
		{"think tag quoted mid-text is left alone", `{"role":"assistant","content":"Write <think> then </think> around it. \\boxed{5}"}`,
			`{"prompt_tokens":9,"completion_tokens":12}`, `Write <think> then </think> around it. \boxed{5}`, "", 0, 12},
		{"reasoning tokens above completion tokens are ignored", `{"role":"assistant","reasoning":"r","content":"a"}`,
			`{"prompt_tokens":9,"completion_tokens":3,"completion_tokens_details":{"reasoning_tokens":7}}`, "a", "r", 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"choices":[{"index":0,"message":%s,"finish_reason":"stop"}],"usage":%s}`, tt.message, tt.usage)
			r, err := decodeResponse([]byte(body), 1)
			if err != nil {
				t.Fatal(err)
			}
			c := r.Choices[0]
			if c.Text != tt.text || c.Reasoning != tt.reasoning {
				t.Errorf("text %q, reasoning %q; want %q, %q", c.Text, c.Reasoning, tt.text, tt.reasoning)
			}
			if r.Usage.ReasoningTokens != tt.reasoningTokens || r.Usage.CompletionTokens != tt.completionTokens {
				t.Errorf("usage %+v; want %d reasoning of %d completion tokens", r.Usage, tt.reasoningTokens, tt.completionTokens)
			}
		})
	}
}

func TestIsNUnsupported(t *testing.T) {
	tests := []struct {
		msg  string
		want bool
	}{
		{"n must be 1", true},
		{"Only n=1 is supported", true},
		{"'n' is not supported with this model.", true},
		{"Unsupported parameter: 'n'", true},
		{"Invalid value for n: n > 1 is not allowed", true},
		{"`n` must be 1 when using greedy sampling", true},
		{"This model's maximum context length is 4096 tokens", false},
		{"max_tokens must be at least 1", false},
		{"messages must not be empty", false},
		{"unknown parameter: top_n", false},
	}
	for _, tt := range tests {
		if got := isNUnsupported(tt.msg); got != tt.want {
			t.Errorf("isNUnsupported(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
}

// A server that answers n > 1 with 400 still yields k distinct samples per
// prompt, one request each, cached per sample; one request per worker is
// lost finding out.
func TestSingleSampleServer(t *testing.T) {
	for _, seeded := range []bool{false, true} {
		t.Run(fmt.Sprintf("seeded=%v", seeded), func(t *testing.T) {
			sim := startSim(t, SimConfig{Solve: addSolver, Accuracy: 0.5, SingleSample: true})
			cfg := testConfig(sim.URL(), sim.Model())
			if seeded {
				seed := int64(7)
				cfg.Seed = &seed
			}
			c, err := NewClientWithOptions(cfg, &ClientOptions{Cache: storage.NewMem()})
			if err != nil {
				t.Fatal(err)
			}
			const k, prompts = 4, 5
			for i := range prompts {
				ctx, calls := WithCalls(context.Background())
				resp, err := c.Complete(ctx, cfg.NewRequest(userMsg(fmt.Sprintf("What is %d + %d?", i, i+1)), k))
				if err != nil {
					t.Fatalf("prompt %d: %v", i, err)
				}
				distinct := map[string]bool{}
				for _, ch := range resp.Choices {
					distinct[ch.Text] = true
				}
				if len(resp.Choices) != k || len(distinct) < 2 {
					t.Errorf("prompt %d: %d choices, %d distinct; want %d choices, not all the same", i, len(resp.Choices), len(distinct), k)
				}
				n := calls.Counts()
				if !n.SingleSample || n.Requests < k {
					t.Errorf("prompt %d: calls %+v; want single-sample requests, at least %d", i, n, k)
				}
			}
			st := sim.Stats()
			if st.BadRequests != 1 || st.Completed != k*prompts {
				t.Errorf("server: %d refused, %d answered; want 1 refused (the first n=%d), %d answered", st.BadRequests, st.Completed, k, k*prompts)
			}
			// The cache holds every sample: a second client makes no call.
			if got := c.Stats(); got.CacheMisses != k*prompts || !got.SingleSample {
				t.Errorf("client stats %+v", got)
			}
		})
	}
}

// An exhausted quota is fatal at once: no retries, no 3 minutes per prompt.
func TestQuotaExhaustedIsFatal(t *testing.T) {
	sim := startSim(t, SimConfig{Solve: addSolver, Accuracy: 1, QuotaAfter: 2})
	cfg := testConfig(sim.URL(), sim.Model())
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for i := range 3 {
		_, last = c.Complete(context.Background(), cfg.NewRequest(userMsg(fmt.Sprintf("What is %d + 1?", i)), 2))
	}
	if !errors.Is(last, ErrQuotaExhausted) || !IsFatal(last) || !strings.Contains(last.Error(), "insufficient_quota") {
		t.Fatalf("third request: %v; want a fatal ErrQuotaExhausted naming insufficient_quota", last)
	}
	if st := c.Stats(); st.Attempts != 3 || st.Retries != 0 {
		t.Errorf("client made %d attempts, %d retries; want 3 and 0", st.Attempts, st.Retries)
	}
}

// Calls books every HTTP request a prompt cost, retries by cause and 429s,
// as the server counted them.
func TestCallsMatchServer(t *testing.T) {
	sim := startSim(t, SimConfig{Solve: addSolver, Accuracy: 1, Seed: 5, RateLimitRate: 0.2, ServerErrorRate: 0.2, RetryAfter: 5e6})
	cfg := testConfig(sim.URL(), sim.Model())
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var total CallCounts
	total.Retries = map[string]int64{}
	for i := range 40 {
		ctx, calls := WithCalls(context.Background())
		if _, err := c.Complete(ctx, cfg.NewRequest(userMsg(fmt.Sprintf("What is %d + 2?", i)), 2)); err != nil {
			t.Fatal(err)
		}
		n := calls.Counts()
		total.Requests += n.Requests
		total.RateLimited += n.RateLimited
		for k, v := range n.Retries {
			total.Retries[k] += v
		}
	}
	st := sim.Stats()
	if total.Requests != st.Requests || total.RateLimited != st.RateLimited ||
		total.Retries[CauseRateLimited] != st.RateLimited || total.Retries[CauseServerError] != st.ServerErrors {
		t.Errorf("booked %+v; server saw %d requests, %d 429s, %d 5xx", total, st.Requests, st.RateLimited, st.ServerErrors)
	}
	if total.Requests <= 40 {
		t.Errorf("%d requests for 40 prompts with 40%% faults: the faults did not happen", total.Requests)
	}
}

// Tokens the client estimated because the server sent no usage say so.
func TestMissingUsageIsEstimated(t *testing.T) {
	for _, noUsage := range []bool{false, true} {
		sim := startSim(t, SimConfig{Solve: addSolver, Accuracy: 1, NoUsage: noUsage})
		cfg := testConfig(sim.URL(), sim.Model())
		c, err := NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Complete(context.Background(), cfg.NewRequest(userMsg("What is 2 + 2?"), 2))
		if err != nil {
			t.Fatal(err)
		}
		u := resp.Usage
		estimated := u.EstimatedPromptTokens == u.PromptTokens && u.EstimatedCompletionTokens == u.CompletionTokens && u.PromptTokens > 0
		if noUsage != estimated || (!noUsage && (u.EstimatedPromptTokens != 0 || u.EstimatedCompletionTokens != 0)) {
			t.Errorf("no usage sent: %v; usage %+v", noUsage, u)
		}
	}
}

// A reasoning sim's samples arrive split, wherever it puts the reasoning.
func TestSimReasoningFields(t *testing.T) {
	for _, field := range []string{"reasoning_content", "reasoning", "think"} {
		t.Run(field, func(t *testing.T) {
			sim := startSim(t, SimConfig{Solve: addSolver, Accuracy: 1, ReasoningField: field})
			cfg := testConfig(sim.URL(), sim.Model())
			c, err := NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Complete(context.Background(), cfg.NewRequest(userMsg("What is 2 + 3?"), 2))
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range resp.Choices {
				if !strings.Contains(ch.Reasoning, "Step 1") || strings.Contains(ch.Text, "Step 1") || !strings.HasPrefix(ch.Text, "Therefore") {
					t.Errorf("choice %d: reasoning %q, text %q", ch.Index, ch.Reasoning, ch.Text)
				}
			}
			if field != "think" && (resp.Usage.ReasoningTokens <= 0 || resp.Usage.ReasoningTokens >= resp.Usage.CompletionTokens) {
				t.Errorf("usage %+v: want reasoning tokens counted apart", resp.Usage)
			}
		})
	}
}

// The preflight names the cause of each misconfiguration in one line, or
// says the server draws one sample per request.
func TestPreflight(t *testing.T) {
	sim := startSim(t, SimConfig{Model: "qwen3", APIKey: "right"})
	single := startSim(t, SimConfig{Model: "qwen3", SingleSample: true})
	refused := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr + "/v1"
	}()
	notOpenAI := httptest.NewServer(http.NotFoundHandler())
	defer notOpenAI.Close()
	quota := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			fmt.Fprint(w, `{"object":"list","data":[{"id":"gpt-x"}]}`)
			return
		}
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}`)
	}))
	defer quota.Close()
	t.Setenv("PREFLIGHT_RIGHT", "right")
	t.Setenv("PREFLIGHT_WRONG", "wrong")

	tests := []struct {
		name, url, model, keyEnv string
		want                     error
		wantMsg                  string
		single                   bool
	}{
		{"ok", sim.URL(), "qwen3", "PREFLIGHT_RIGHT", nil, "", false},
		{"connection refused", refused, "qwen3", "", ErrMisconfigured, "connection refused", false},
		{"wrong URL", notOpenAI.URL + "/v1", "qwen3", "", ErrMisconfigured, "wrong URL", false},
		{"bad key", sim.URL(), "qwen3", "PREFLIGHT_WRONG", ErrMisconfigured, "bad API key", false},
		{"no key", sim.URL(), "qwen3", "", ErrMisconfigured, "HTTP 401", false},
		{"unknown model", sim.URL(), "qwen2", "PREFLIGHT_RIGHT", ErrMisconfigured, `unknown model: teacher.model "qwen2" is not served at ` + sim.URL() + `, which serves: qwen3`, false},
		{"quota", quota.URL + "/v1", "gpt-x", "", ErrQuotaExhausted, "insufficient_quota", false},
		{"n refused", single.URL(), "qwen3", "", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(tt.url, tt.model)
			cfg.APIKeyEnv = tt.keyEnv
			rep, err := Preflight(context.Background(), cfg, 4, nil)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil && (!strings.Contains(err.Error(), tt.wantMsg) || strings.Contains(err.Error(), "\n")) {
				t.Errorf("err = %q, want one line containing %q", err, tt.wantMsg)
			}
			if rep.SingleSample != tt.single {
				t.Errorf("single sample = %v, want %v", rep.SingleSample, tt.single)
			}
		})
	}
}
