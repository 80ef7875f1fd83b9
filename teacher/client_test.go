package teacher

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	ok := testConfig("http://localhost:8000/v1", "m")
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*Config)
		wants []string
	}{
		{"defaults lack url and model", func(c *Config) { *c = DefaultConfig() }, []string{"teacher.url must be set", "teacher.model must be set"}},
		{"bad scheme", func(c *Config) { c.URL = "localhost:8000/v1" }, []string{"teacher.url"}},
		{"concurrency", func(c *Config) { c.MaxConcurrency = 0 }, []string{"teacher.max_concurrency must be > 0"}},
		{"every bad field at once", func(c *Config) {
			c.Timeout, c.MaxRetries, c.DownAfter, c.TokenBudget = 0, -1, 0, -5
			c.TopP, c.Temperature = 1.5, -1
			c.Extra = map[string]any{"top_k": 20, "n": 3}
		}, []string{"teacher.timeout", "teacher.max_retries", "teacher.down_after", "teacher.token_budget",
			"teacher.top_p", "teacher.temperature", "teacher.extra.n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate() = nil")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestEncodeRequest(t *testing.T) {
	seed := int64(42)
	tests := []struct {
		name    string
		req     Request
		want    map[string]any
		absent  []string
		wantErr error
	}{
		{"greedy single sample keeps temperature 0, omits defaults",
			Request{Model: "m", Messages: userMsg("hi")},
			map[string]any{"model": "m", "temperature": 0.0},
			[]string{"n", "top_p", "max_tokens", "seed", "stop"}, nil},
		{"all sampling fields and pass-through",
			Request{Model: "m", Messages: userMsg("hi"), N: 8, Temperature: 0.6, TopP: 0.95, MaxTokens: 512, Seed: &seed,
				Stop: []string{"</s>"}, Extra: map[string]any{"top_k": 20, "min_p": 0.05, "repetition_penalty": 1.1}},
			map[string]any{"n": 8.0, "temperature": 0.6, "top_p": 0.95, "max_tokens": 512.0, "seed": 42.0,
				"top_k": 20.0, "min_p": 0.05, "repetition_penalty": 1.1}, nil, nil},
		{"extra may not override a standard field",
			Request{Model: "m", Messages: userMsg("hi"), Extra: map[string]any{"temperature": 2}}, nil, nil, ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := encodeRequest(tt.req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("body %s: %v", b, err)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			for _, k := range tt.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s present, want omitted", k)
				}
			}
		})
	}
}

// fakeServer answers every request with handler and counts requests.
func fakeServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, n int64)) (*httptest.Server, *atomic.Int64) {
	var count atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler(w, r, count.Add(1))
	}))
	t.Cleanup(srv.Close)
	return srv, &count
}

func okBody(texts ...string) string {
	var choices []string
	for i, s := range texts {
		b, _ := json.Marshal(s)
		choices = append(choices, `{"index":`+string(rune('0'+i))+`,"message":{"role":"assistant","content":`+string(b)+`},"finish_reason":"stop"}`)
	}
	return `{"id":"x","object":"chat.completion","model":"m","choices":[` + strings.Join(choices, ",") +
		`],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`
}

func TestClientSendsKeyAndFields(t *testing.T) {
	t.Setenv("TEACHER_TEST_KEY", "sk-secret-123")
	var gotAuth string
	var gotBody map[string]any
	srv, _ := fakeServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		gotAuth = r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &gotBody)
		if n == 1 {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"message":"prompt is not allowed","type":"invalid_request_error"}}`)
			return
		}
		io.WriteString(w, okBody("a"))
	})
	cfg := testConfig(srv.URL+"/v1", "m")
	cfg.APIKeyEnv = "TEACHER_TEST_KEY"
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Complete(context.Background(), Request{Messages: userMsg("x"), Extra: map[string]any{"top_k": 20}})
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "prompt is not allowed") {
		t.Fatalf("err = %v, want ErrBadRequest with the server's message", err)
	}
	if strings.Contains(err.Error(), "sk-secret") {
		t.Errorf("error leaks the API key: %v", err)
	}
	if gotAuth != "Bearer sk-secret-123" {
		t.Errorf("Authorization = %q", gotAuth)
	}
	if gotBody["model"] != "m" || gotBody["top_k"] != 20.0 {
		t.Errorf("body = %v", gotBody)
	}
	if b, _ := json.Marshal(cfg); strings.Contains(string(b), "sk-secret") {
		t.Errorf("serialized config holds the key")
	}

	cfg.APIKeyEnv = "TEACHER_TEST_UNSET_KEY"
	if _, err := NewClient(cfg); err == nil || !strings.Contains(err.Error(), "TEACHER_TEST_UNSET_KEY") {
		t.Errorf("NewClient with unset key env: %v", err)
	}
}

func TestErrorClassification(t *testing.T) {
	const vllmContext = `{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.","type":"BadRequestError","code":400}`
	tests := []struct {
		name     string
		status   int
		body     string
		want     error
		attempts int64 // with MaxRetries 2
		message  string
	}{
		{"bad prompt", 400, `{"error":{"message":"messages[0].content is empty"}}`, ErrBadRequest, 1, "messages[0].content is empty"},
		{"context length (vLLM)", 400, vllmContext, ErrContextLength, 1, "maximum context length is 4096"},
		{"unprocessable (TGI)", 422, `{"error":"Input validation error: inputs must have less than 2048 tokens","error_type":"validation"}`, ErrBadRequest, 1, "Input validation error"},
		{"bad key", 401, `{"error":{"message":"Incorrect API key provided"}}`, ErrMisconfigured, 1, "Incorrect API key"},
		{"unknown model", 404, `{"object":"error","message":"The model ` + "`x`" + ` does not exist."}`, ErrMisconfigured, 1, "does not exist"},
		{"rate limited until retries run out", 429, `{"error":{"message":"slow down"}}`, ErrRateLimited, 3, "slow down"},
		{"overloaded", 503, `Service Unavailable`, ErrUnavailable, 3, "Service Unavailable"},
		{"internal error", 500, `{"error":{"message":"CUDA out of memory"}}`, ErrUnavailable, 3, "CUDA out of memory"},
		{"malformed 200", 200, `{"choices":[{"index":0,"message":{"content":"half`, ErrMalformedResponse, 3, ""},
		{"200 without choices", 200, `{"choices":[]}`, ErrUnavailable, 3, "no choices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, count := fakeServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			cfg := testConfig(srv.URL+"/v1", "m")
			cfg.MaxRetries = 2
			c, err := NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Complete(context.Background(), Request{Messages: userMsg("x")})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("err = %q, want the server's message %q", err, tt.message)
			}
			if got := count.Load(); got != tt.attempts {
				t.Errorf("%d attempts, want %d", got, tt.attempts)
			}
			if IsFatal(err) != errors.Is(err, ErrMisconfigured) {
				t.Errorf("IsFatal(%v) = %v", err, IsFatal(err))
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	tests := []struct {
		name   string
		header string
		value  string
		min    time.Duration
	}{
		{"retry-after-ms", "Retry-After-Ms", "300", 300 * time.Millisecond},
		{"Retry-After seconds, capped by max_retry_after", "Retry-After", "30", 400 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, count := fakeServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
				if n == 1 {
					w.Header().Set(tt.header, tt.value)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				io.WriteString(w, okBody("a"))
			})
			cfg := testConfig(srv.URL+"/v1", "m")
			cfg.MaxRetryAfter = 400 * time.Millisecond
			c, _ := NewClient(cfg)
			start := time.Now()
			if _, err := c.Complete(context.Background(), Request{Messages: userMsg("x")}); err != nil {
				t.Fatal(err)
			}
			el := time.Since(start)
			if el < tt.min || el > tt.min*2 {
				t.Errorf("took %v, want about %v (Retry-After honoured, capped)", el, tt.min)
			}
			if count.Load() != 2 {
				t.Errorf("%d attempts, want 2", count.Load())
			}
		})
	}
}

func TestPerRequestTimeout(t *testing.T) {
	sim := startSim(t, SimConfig{Latency: 5 * time.Second})
	cfg := testConfig(sim.URL(), sim.Model())
	cfg.Timeout = 100 * time.Millisecond
	cfg.MaxRetries = 1
	c, _ := NewClient(cfg)
	start := time.Now()
	_, err := c.Complete(context.Background(), Request{Messages: userMsg("x")})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("err = %v, want ErrUnavailable from a deadline", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("two 100ms attempts took %v", el)
	}
}

func TestTruncatedSamplesAreMarked(t *testing.T) {
	sim := startSim(t, SimConfig{Accuracy: 1, Solve: addSolver})
	c, _ := NewClient(testConfig(sim.URL(), sim.Model()))
	resp, err := c.Complete(context.Background(), Request{Messages: userMsg("What is 2+3?"), N: 3, MaxTokens: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range resp.Choices {
		if !ch.Truncated || ch.FinishReason != "length" {
			t.Errorf("choice %d: truncated=%v finish=%q, want cut at length", ch.Index, ch.Truncated, ch.FinishReason)
		}
	}
}

// Ollama and llama.cpp's server ignore n; the client asks again until it
// has all samples.
func TestServerIgnoringN(t *testing.T) {
	srv, count := fakeServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		io.WriteString(w, okBody("sample"))
	})
	c, _ := NewClient(testConfig(srv.URL+"/v1", "m"))
	resp, err := c.Complete(context.Background(), Request{Messages: userMsg("x"), N: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 4 || count.Load() != 4 {
		t.Fatalf("%d choices from %d calls, want 4 from 4", len(resp.Choices), count.Load())
	}
	for i, ch := range resp.Choices {
		if ch.Index != i {
			t.Errorf("choice %d has index %d", i, ch.Index)
		}
	}
	if u := c.Usage()["m"]; u.Requests != 4 || u.PromptTokens != 40 || u.CompletionTokens != 20 {
		t.Errorf("usage = %+v", u)
	}
}

// Beam serializes a DoFn's Config as JSON: it must survive the trip, and
// hold no secret.
func TestConfigJSONRoundTrip(t *testing.T) {
	seed := int64(7)
	cfg := testConfig("http://h/v1", "m")
	cfg.Seed = &seed
	cfg.Stop = []string{"</s>"}
	cfg.Extra = map[string]any{"top_k": 20.0, "min_p": 0.05}
	cfg.Prices = map[string]Price{"m": {PromptPerMillion: 0.1, CompletionPerMillion: 0.4}}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, back) {
		t.Errorf("round trip changed the config:\n%+v\n%+v", cfg, back)
	}
	r1, r2 := cfg.NewRequest(userMsg("q"), 2), back.NewRequest(userMsg("q"), 2)
	if SampleKey(r1, 1) != SampleKey(r2, 1) {
		t.Errorf("round trip changed the cache key")
	}
}
