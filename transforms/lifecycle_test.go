package transforms

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// bundleOutput collects what one bundle of generateFn emits.
type bundleOutput struct {
	gens    []schemas.Generation
	rows    []release.Row
	tallies map[string]int64
}

func newBundleOutput() *bundleOutput { return &bundleOutput{tallies: map[string]int64{}} }

func (o *bundleOutput) gen(g schemas.Generation) { o.gens = append(o.gens, g) }
func (o *bundleOutput) row(r release.Row)        { o.rows = append(o.rows, r) }
func (o *bundleOutput) tally(k string, n int64)  { o.tallies[k] += n }
func (o *bundleOutput) emitters() (func(schemas.Generation), func(release.Row), func(string, int64)) {
	return o.gen, o.row, o.tally
}

// runBundle runs one bundle of f over prompts, as a Beam worker does, and
// returns what it emitted and the bundle's error.
func runBundle(f *generateFn, prompts []schemas.Prompt) (*bundleOutput, error) {
	out := newBundleOutput()
	g, r, t := out.emitters()
	f.StartBundle(g, r, t)
	for _, p := range prompts {
		if err := f.ProcessElement(context.Background(), p, g, r, t); err != nil {
			return out, err
		}
	}
	return out, f.FinishBundle(context.Background(), g, r, t)
}

func lifecycleTeacher(t *testing.T, url string) string {
	cfg := teacher.DefaultConfig()
	cfg.URL, cfg.Model = url+"/v1", "m"
	cfg.MaxConcurrency = 4
	cfg.DownAfter = 200 * time.Millisecond
	cfg.DownMinFailures = 2
	cfg.MaxRetries = 1000
	cfg.RetryInitial = 10 * time.Millisecond
	cfg.RetryMaxInterval = 20 * time.Millisecond
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func lifecyclePrompts(n int) []schemas.Prompt {
	var ps []schemas.Prompt
	for i := range n {
		ps = append(ps, schemas.Prompt{ID: fmt.Sprint("p", i), Text: fmt.Sprintf("What is %d+1?", i), Source: "test", Line: i + 1})
	}
	return ps
}

const okCompletion = `{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"\\boxed{1}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`

// A bundle that failed because the server was down is retried by the
// runner on the same worker (the same process-wide client); once the
// server is back, the retried bundle works.
func TestBundleRetriedAfterOutageWorks(t *testing.T) {
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, `{"error":{"message":"down for maintenance"}}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(okCompletion))
	}))
	defer srv.Close()
	f := &generateFn{Teacher: lifecycleTeacher(t, srv.URL), Input: recipe.Default().Input, K: 1, Run: t.Name()}
	if err := f.Setup(); err != nil {
		t.Fatal(err)
	}
	defer f.Teardown()
	prompts := lifecyclePrompts(6)
	if _, err := runBundle(f, prompts); err == nil || !strings.Contains(err.Error(), "server down") {
		t.Fatalf("bundle during the outage: err = %v, want the run to stop with server down", err)
	}
	up.Store(true)
	var out *bundleOutput
	var err error
	for range 40 { // the runner retries the bundle until it works (or gives up)
		if out, err = runBundle(f, prompts); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("retried bundle after the server came back: %v", err)
	}
	if len(out.gens) != len(prompts) || out.tallies["tokens:m:requests"] != int64(len(prompts)) {
		t.Errorf("retried bundle emitted %d generations and tallied %d requests, want %d each (tallies %v)", len(out.gens), out.tallies["tokens:m:requests"], len(prompts), out.tallies)
	}
}

// Requests run under the bundle's context: when a bundle fails elsewhere
// (FinishBundle never comes) the next bundle or Teardown ends them, rather
// than leaving them to spend tokens for results no one will emit.
func TestRequestsEndWithTheirBundle(t *testing.T) {
	started, ended := make(chan struct{}, 16), make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		started <- struct{}{}
		// A long generation, until the client hangs up: the server writes
		// a byte now and then (as a streaming server does), which fails
		// once the connection is gone, whether or not the server has
		// noticed the hang-up on its read side.
		w.Header().Set("Content-Type", "application/json")
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
			case <-tick.C:
				if _, err := w.Write([]byte(" ")); err == nil {
					if err := http.NewResponseController(w).Flush(); err == nil {
						continue
					}
				}
			}
			break
		}
		ended <- struct{}{}
	}))
	defer srv.Close()
	f := &generateFn{Teacher: lifecycleTeacher(t, srv.URL), Input: recipe.Default().Input, K: 1, Run: t.Name()}
	if err := f.Setup(); err != nil {
		t.Fatal(err)
	}
	out := newBundleOutput()
	g, r, tl := out.emitters()
	f.StartBundle(g, r, tl)
	for _, p := range lifecyclePrompts(3) {
		if err := f.ProcessElement(context.Background(), p, g, r, tl); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 { // every request is at the server, generating
		<-started
	}
	// The bundle fails downstream: the runner tears the DoFn down.
	if err := f.Teardown(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		select {
		case <-ended:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of 3 requests still running after their bundle ended", 3-i)
		}
	}
}
