package teacher

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/storage"
)

// The breaker is not a one-way latch: once the server has been down for
// down_after it fails calls at once, but after down_after more it lets a
// call probe the server, and a server that is back serves the process's
// client again (a Beam runner retries a failed bundle on the same worker).
func TestBreakerRecoversWhenServerIsBack(t *testing.T) {
	var up atomic.Bool
	srv, _ := fakeServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		if !up.Load() {
			http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(okBody("4")))
	})
	cfg := testConfig(srv.URL+"/v1", "m")
	cfg.DownAfter = 200 * time.Millisecond
	cfg.DownMinFailures = 2
	cfg.MaxRetries = 1000
	cfg.RetryInitial = 10 * time.Millisecond
	cfg.RetryMaxInterval = 20 * time.Millisecond
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Messages: userMsg("What is 2+2?"), N: 1}
	_, err = c.Complete(context.Background(), req)
	if !errors.Is(err, ErrServerDown) {
		t.Fatalf("while down: err = %v, want ErrServerDown", err)
	}
	// Still open: fails at once.
	if _, err := c.Complete(context.Background(), req); !errors.Is(err, ErrServerDown) {
		t.Fatalf("right after: err = %v, want ErrServerDown", err)
	}
	up.Store(true)
	// A retried bundle comes back later; a few calls at once, as a pool
	// sends them: one probes, the others wait for it instead of failing.
	deadline := time.Now().Add(10 * cfg.DownAfter)
	for {
		results := runPrompts(t, c, 4, 8, 1, func(i int) string { return "What is 2+2?" })
		var failed error
		for _, r := range results {
			if r.Err != nil {
				failed = r.Err
			}
		}
		if failed == nil {
			break
		}
		if !errors.Is(failed, ErrServerDown) || time.Now().After(deadline) {
			t.Fatalf("server back, client still fails: %v", failed)
		}
		time.Sleep(cfg.DownAfter / 4)
	}
}

// Calls made under WithCalls count their HTTP requests, retries by
// cause and 429s; a cache that fails counts errors and logs the first one
// at once, and only the first.
func TestCallsAndFirstCacheErrorIsLogged(t *testing.T) {
	srv, _ := fakeServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		switch n {
		case 1:
			w.Header().Set("Retry-After-Ms", "1")
			http.Error(w, `{"error":{"message":"slow down"}}`, http.StatusTooManyRequests)
		case 2:
			http.Error(w, `{"error":{"message":"oops"}}`, http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(okBody("4", "4")))
		}
	})
	cfg := testConfig(srv.URL+"/v1", "m")
	cfg.RetryInitial = time.Millisecond
	var logged bytes.Buffer
	c, err := NewClientWithOptions(cfg, &ClientOptions{Cache: failingStore{storage.NewMem()},
		Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, calls := WithCalls(context.Background())
	for range 2 {
		if _, err := c.Complete(ctx, Request{Messages: userMsg("What is 2+2?"), N: 2}); err != nil {
			t.Fatal(err)
		}
	}
	cs := calls.Counts()
	got := map[string]int64{"http": cs.Requests, "429": cs.RateLimited, "misses": cs.CacheMisses,
		"errors": cs.CacheErrors, "retry 429": cs.Retries[CauseRateLimited], "retry 5xx": cs.Retries[CauseServerError]}
	// Four failed lookups (the store cannot list its segments); the writes
	// are held back in a segment and fail when it is flushed.
	want := map[string]int64{"http": 4, "429": 1, "misses": 4, "errors": 4, "retry 429": 1, "retry 5xx": 1}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %d, want %d (all: %v)", k, got[k], w, got)
		}
	}
	if err := c.Close(); err == nil {
		t.Error("Close: the failed segment write was not reported")
	}
	if n := c.Stats().CacheErrors; n < 8 {
		t.Errorf("client counts %d cache errors, want the 4 reads and the 4 entries of the failed segment", n)
	}
	if n := strings.Count(logged.String(), "response cache failed"); n != 1 {
		t.Errorf("cache failure logged %d times, want once at the first error:\n%s", n, logged.String())
	}
}
