package teacher

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// runPrompts sends count prompts through a Pool of size conc and returns the
// results by key.
func runPrompts(t testing.TB, c Completer, conc, count, n int, prompt func(i int) string) map[any]Result {
	return runRequests(t, c, conc, count, func(i int) Request {
		return Request{Messages: userMsg(prompt(i)), N: n, Temperature: 1}
	})
}

func runRequests(t testing.TB, c Completer, conc, count int, request func(i int) Request) map[any]Result {
	t.Helper()
	pool := NewPool(c, conc)
	out := map[any]Result{}
	ctx := context.Background()
	for i := range count {
		if err := pool.Submit(ctx, i, request(i)); err != nil {
			t.Fatal(err)
		}
		for _, r := range pool.Ready() {
			out[r.Key] = r
		}
	}
	for _, r := range pool.Drain() {
		out[r.Key] = r
	}
	return out
}

// With a fifth of requests faulted, every prompt still ends in a response
// or in an error to dead-letter, and none is fatal.
func TestFaultsEveryPromptAccountedFor(t *testing.T) {
	sim := startSim(t, SimConfig{
		Accuracy: 0.7, Solve: addSolver, Slots: 16, Latency: 2 * time.Millisecond, Seed: 3,
		RateLimitRate: 0.05, RetryAfter: 20 * time.Millisecond,
		ServerErrorRate: 0.05, DropRate: 0.05, TruncateBodyRate: 0.05,
		LengthRate:    0.05,
		ContextTokens: 200,
	})
	cfg := testConfig(sim.URL(), sim.Model())
	cfg.MaxRetries = 6
	cfg.MaxConcurrency = 16
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const prompts = 300
	results := runPrompts(t, c, cfg.MaxConcurrency, prompts, 4, func(i int) string {
		if i%50 == 7 { // too long for the 200-token context
			return strings.Repeat("very long prompt ", 100)
		}
		return fmt.Sprintf("What is %d+%d?", i, i+1)
	})
	if len(results) != prompts {
		t.Fatalf("%d results for %d prompts", len(results), prompts)
	}
	var released, deadLetters, truncated int
	for i := range prompts {
		r := results[i]
		switch {
		case r.Err == nil:
			released++
			if len(r.Response.Choices) != 4 {
				t.Errorf("prompt %d: %d choices", i, len(r.Response.Choices))
			}
			for _, ch := range r.Response.Choices {
				if ch.Truncated {
					truncated++
				}
			}
		case IsFatal(r.Err):
			t.Errorf("prompt %d: fatal error under transient faults: %v", i, r.Err)
		case errors.Is(r.Err, ErrContextLength):
			deadLetters++
			if !strings.Contains(r.Err.Error(), "maximum context length is 200 tokens") {
				t.Errorf("prompt %d: dead letter lacks the server's message: %v", i, r.Err)
			}
		case errors.Is(r.Err, ErrRateLimited), errors.Is(r.Err, ErrUnavailable), errors.Is(r.Err, ErrBadRequest):
			deadLetters++
		default:
			t.Errorf("prompt %d: unclassified error %v", i, r.Err)
		}
	}
	st := sim.Stats()
	cs := c.Stats()
	t.Logf("released %d, dead letters %d, truncated samples %d; server: %d requests, %d 429, %d 5xx, %d dropped, %d truncated bodies, %d 400; client retries %d",
		released, deadLetters, truncated, st.Requests, st.RateLimited, st.ServerErrors, st.Dropped, st.TruncatedBodies, st.BadRequests, cs.Retries)
	if released+deadLetters != prompts {
		t.Errorf("released %d + dead letters %d != %d prompts", released, deadLetters, prompts)
	}
	if deadLetters != 6 {
		t.Errorf("%d dead letters, want the 6 over-long prompts only (retries absorb transient faults)", deadLetters)
	}
	if truncated == 0 {
		t.Errorf("no sample marked truncated with LengthRate 0.05")
	}
	if st.RateLimited == 0 || st.ServerErrors == 0 || st.Dropped == 0 || st.TruncatedBodies == 0 {
		t.Errorf("some fault never fired: %+v", st)
	}
}

// A server that is down for good fails the run within down_after (plus a
// backoff interval) with one clear error, rather than burning hours.
func TestServerDownFailsFast(t *testing.T) {
	refused := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now: connections are refused
		return "http://" + addr + "/v1"
	}
	hanging := func(t *testing.T) string {
		sim := startSim(t, SimConfig{Latency: time.Hour})
		return sim.URL()
	}
	tests := []struct {
		name  string
		url   func(t *testing.T) string
		cause string
	}{
		{"connection refused", refused, "connection refused"},
		{"accepts but never answers", hanging, "deadline exceeded"},
	}
	// Attempts still waiting on a hung server when the breaker opens are
	// aborted, not left to their timeout.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := tt.url(t)
			cfg := testConfig(url, "sim-teacher")
			cfg.Timeout = 100 * time.Millisecond
			cfg.DownAfter = 500 * time.Millisecond
			cfg.MaxRetries = 1000 // only the breaker may end this
			cfg.RetryMaxInterval = 100 * time.Millisecond
			c, err := NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			results := runPrompts(t, c, 8, 40, 1, func(i int) string { return fmt.Sprint("prompt ", i) })
			el := time.Since(start)
			if el > cfg.DownAfter+time.Second {
				t.Errorf("took %v to give up, want about down_after %v", el, cfg.DownAfter)
			}
			for k, r := range results {
				if !errors.Is(r.Err, ErrServerDown) || !IsFatal(r.Err) {
					t.Fatalf("prompt %v: err = %v, want ErrServerDown", k, r.Err)
				}
			}
			msg := results[0].Err.Error()
			t.Logf("gave up after %v: %s", el.Round(time.Millisecond), msg)
			if !strings.Contains(msg, url) || !strings.Contains(msg, tt.cause) {
				t.Errorf("message %q should name the server and the cause %q", msg, tt.cause)
			}
		})
	}
}

// A server that recovers within down_after does not trip the breaker.
func TestBriefOutageIsRiddenOut(t *testing.T) {
	sim := startSim(t, SimConfig{Solve: addSolver, ServerErrorRate: 0.5, Seed: 1})
	cfg := testConfig(sim.URL(), sim.Model())
	cfg.DownMinFailures = 3
	c, _ := NewClient(cfg)
	results := runPrompts(t, c, 8, 100, 1, func(i int) string { return fmt.Sprint("prompt ", i) })
	for k, r := range results {
		if r.Err != nil {
			t.Errorf("prompt %v: %v", k, r.Err)
		}
	}
}
