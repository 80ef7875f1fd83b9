package teacher

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/storage/storagetest"
)

func TestSampleKey(t *testing.T) {
	seed, seed2 := int64(1), int64(2)
	base := Request{Model: "m", Messages: userMsg("q"), N: 4, Temperature: 0.7, MaxTokens: 100, Seed: &seed}
	same := base
	same.N = 8
	same.Stop = []string{} // empty and nil stop lists mean the same
	if SampleKey(base, 2) != SampleKey(same, 2) {
		t.Errorf("N or an empty stop list changed the key")
	}
	tests := []struct {
		name string
		edit func(*Request)
		idx  int
	}{
		{"index", func(r *Request) {}, 3},
		{"model", func(r *Request) { r.Model = "m2" }, 2},
		{"messages", func(r *Request) { r.Messages = userMsg("q2") }, 2},
		{"temperature", func(r *Request) { r.Temperature = 0.8 }, 2},
		{"top_p", func(r *Request) { r.TopP = 0.9 }, 2},
		{"max_tokens", func(r *Request) { r.MaxTokens = 101 }, 2},
		{"seed", func(r *Request) { r.Seed = &seed2 }, 2},
		{"no seed", func(r *Request) { r.Seed = nil }, 2},
		{"stop", func(r *Request) { r.Stop = []string{"x"} }, 2},
		{"extra", func(r *Request) { r.Extra = map[string]any{"top_k": 20} }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			tt.edit(&r)
			if SampleKey(r, tt.idx) == SampleKey(base, 2) {
				t.Errorf("changing %s kept the key", tt.name)
			}
		})
	}
}

func cacheConfig(t testing.TB, sim *Sim, dir string) *Client {
	cfg := testConfig(sim.URL(), sim.Model())
	cfg.CacheDir = dir
	cfg.MaxConcurrency = 8
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func cachePrompt(i int) string { return fmt.Sprintf("What is %d+%d?", i, 2*i) }

// A second run of the same work against the same cache makes no calls and
// returns identical samples, even from a different server URL.
func TestCacheRerunMakesNoCalls(t *testing.T) {
	dir := t.TempDir()
	sim := startSim(t, SimConfig{Solve: addSolver, Accuracy: 0.5, Slots: 8})
	first := runPrompts(t, cacheConfig(t, sim, dir), 8, 50, 4, cachePrompt)
	calls := sim.Stats().Requests

	sim2 := startSim(t, SimConfig{Solve: addSolver, Accuracy: 0.5, Slots: 8})
	c2 := cacheConfig(t, sim2, dir)
	second := runPrompts(t, c2, 8, 50, 4, cachePrompt)
	if n := sim2.Stats().Requests; n != 0 {
		t.Errorf("rerun made %d requests, want 0 (first run made %d)", n, calls)
	}
	for k, r := range second {
		if r.Err != nil || !r.Response.Cached {
			t.Fatalf("prompt %v: err %v, cached %v", k, r.Err, r.Response != nil && r.Response.Cached)
		}
		for i, ch := range r.Response.Choices {
			if ch.Text != first[k].Response.Choices[i].Text {
				t.Errorf("prompt %v sample %d differs from the first run", k, i)
			}
		}
	}
	u := c2.Usage()[sim.Model()]
	if u.CachedSamples != 200 || u.PromptTokens != 0 || u.CachedTokens == 0 {
		t.Errorf("rerun usage = %+v, want 200 cached samples and no tokens spent", u)
	}
}

// Raising the number of samples asks only for the new ones.
func TestCacheGrowsSamples(t *testing.T) {
	sim := startSim(t, SimConfig{Solve: addSolver, Accuracy: 0.5})
	c := cacheConfig(t, sim, t.TempDir())
	ctx := context.Background()
	if _, err := c.Complete(ctx, Request{Messages: userMsg("q"), N: 4, Temperature: 1}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Complete(ctx, Request{Messages: userMsg("q"), N: 6, Temperature: 1})
	if err != nil {
		t.Fatal(err)
	}
	if st := sim.Stats(); st.Requests != 2 || st.Samples != 6 || len(resp.Choices) != 6 {
		t.Errorf("server drew %d samples in %d requests, want 6 in 2", st.Samples, st.Requests)
	}
}

// TestCrashHelper is the child process of TestCacheSurvivesKill9.
func TestCrashHelper(t *testing.T) {
	url := os.Getenv("TEACHER_CRASH_URL")
	if url == "" {
		t.Skip("helper process for TestCacheSurvivesKill9")
	}
	count, _ := strconv.Atoi(os.Getenv("TEACHER_CRASH_COUNT"))
	c, err := NewClientWithOptions(testConfig(url, "sim-teacher"), &ClientOptions{Cache: openCacheStore(t, os.Getenv("TEACHER_CRASH_CACHE"), os.Getenv("TEACHER_CRASH_S3"))})
	if err != nil {
		t.Fatal(err)
	}
	runPrompts(t, c, 8, count, 2, cachePrompt)
}

func openCacheStore(t testing.TB, url, s3Endpoint string) storage.Store {
	store, err := storage.Open(url, &storage.Options{S3Endpoint: s3Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// A run killed with SIGKILL halfway and restarted repeats no completed
// call: its total requests stay within 5 % of a clean run's; and the cache
// packs its entries: a clean run leaves at most one file per 100 samples.
// Locally entries are appended at once; on S3 they go out in batches of
// 100, so that case runs enough prompts for one lost batch to stay within
// the 5 %.
func TestCacheSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	tests := []struct {
		name    string
		prompts int
		store   func(t *testing.T) (url, endpoint string)
	}{
		{"local", 400, func(t *testing.T) (string, string) { return t.TempDir(), "" }},
		{"s3", 2000, func(t *testing.T) (string, string) {
			bucket, opts := storagetest.NewS3Bucket(t)
			return bucket + "/cache", opts.S3Endpoint
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prompts := tt.prompts
			simCfg := SimConfig{Solve: addSolver, Accuracy: 0.5, Slots: 8, Latency: 5 * time.Millisecond}
			ctx := context.Background()

			clean := startSim(t, simCfg)
			cleanURL, endpoint := tt.store(t)
			cleanStore := openCacheStore(t, cleanURL, endpoint)
			cfg := testConfig(clean.URL(), clean.Model())
			cfg.MaxConcurrency = 8
			cc, err := NewClientWithOptions(cfg, &ClientOptions{Cache: cleanStore})
			if err != nil {
				t.Fatal(err)
			}
			runPrompts(t, cc, 8, prompts, 2, cachePrompt)
			if err := cc.Close(); err != nil {
				t.Fatal(err)
			}
			cleanRequests := clean.Stats().Requests
			files, err := cleanStore.List(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if samples := 2 * prompts; len(files) > samples/100+1 {
				t.Errorf("a clean run of %d samples left %d cache files, want at most 1 per 100 samples", samples, len(files))
			}

			// A rerun over the clean run's cache pays nothing.
			again, err := NewClientWithOptions(cfg, &ClientOptions{Cache: openCacheStore(t, cleanURL, endpoint)})
			if err != nil {
				t.Fatal(err)
			}
			runPrompts(t, again, 8, prompts, 2, cachePrompt)
			if n := clean.Stats().Requests - cleanRequests; n != 0 {
				t.Errorf("a rerun over a complete cache made %d requests, want 0 (cache errors: %d)", n, again.Stats().CacheErrors)
			}

			sim := startSim(t, simCfg)
			dir, _ := tt.store(t)
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
			cmd.Env = append(os.Environ(), "TEACHER_CRASH_URL="+sim.URL(), "TEACHER_CRASH_CACHE="+dir,
				"TEACHER_CRASH_S3="+endpoint, "TEACHER_CRASH_COUNT="+strconv.Itoa(prompts))
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for sim.Stats().Completed < int64(prompts/2) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			completedAtKill := sim.Stats().Completed
			cmd.Process.Kill() // SIGKILL
			cmd.Wait()
			killedAt := sim.Stats().Requests
			// The kill must land mid-run, or the rerun proves nothing.
			if completedAtKill < int64(prompts/2) {
				t.Fatalf("the child completed only %d of %d requests in 60 s: the kill did not land mid-run", completedAtKill, prompts)
			}
			if killedAt >= int64(prompts) {
				t.Fatalf("child finished (%d requests) before it was killed", killedAt)
			}

			c2, err := NewClientWithOptions(testConfig(sim.URL(), sim.Model()), &ClientOptions{Cache: openCacheStore(t, dir, endpoint)})
			if err != nil {
				t.Fatal(err)
			}
			results := runPrompts(t, c2, 8, prompts, 2, cachePrompt)
			for k, r := range results {
				if r.Err != nil {
					t.Fatalf("prompt %v after restart: %v", k, r.Err)
				}
			}
			total := sim.Stats().Requests
			ratio := float64(total) / float64(cleanRequests)
			t.Logf("%d cache files for %d samples; clean run %d requests; killed after %d, restart made %d more: %d total, %.3f× clean",
				len(files), 2*prompts, cleanRequests, killedAt, total-killedAt, total, ratio)
			if ratio > 1.05 {
				t.Errorf("kill -9 and rerun made %.3f× the clean run's requests, want ≤ 1.05", ratio)
			}
		})
	}
}

// failingStore fails every read and write, as an S3 prefix does while its
// server answers 500.
type failingStore struct{ storage.Store }

func (failingStore) Get(context.Context, string) ([]byte, error) { return nil, fmt.Errorf("s3: 500") }
func (failingStore) List(context.Context, string) ([]string, error) {
	return nil, fmt.Errorf("s3: 500")
}
func (failingStore) Put(context.Context, string, []byte) error { return fmt.Errorf("s3: 500") }

// A broken cache backend costs calls, never prompts.
func TestCacheFailuresAreNotFatal(t *testing.T) {
	sim := startSim(t, SimConfig{Solve: addSolver, Accuracy: 1})
	c, err := NewClientWithOptions(testConfig(sim.URL(), sim.Model()), &ClientOptions{Cache: failingStore{storage.NewMem()}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Complete(context.Background(), Request{Messages: userMsg("What is 2+3?"), N: 2})
	if err != nil || len(resp.Choices) != 2 {
		t.Fatalf("Complete = %v, %v", resp, err)
	}
	if err := c.Close(); err == nil {
		t.Errorf("Close wrote the held-back entries to a failing store")
	}
	if st := c.Stats(); st.CacheErrors != 4 {
		t.Errorf("CacheErrors = %d, want 2 reads + 2 writes", st.CacheErrors)
	}
}

// Rounds (Request.First) continue a prompt's samples: round two draws
// samples 2 and 3, a request for 0..3 afterwards is served from the cache.
func TestRoundsContinueSampleIndexes(t *testing.T) {
	sim := startSim(t, SimConfig{Solve: addSolver, Accuracy: 0.5, Slots: 8})
	c := cacheConfig(t, sim, t.TempDir())
	ctx := context.Background()
	req := c.Config().NewRequest(userMsg(cachePrompt(1)), 2)
	r1, err := c.Complete(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	req.First = 2
	r2, err := c.Complete(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Cached || r2.Choices[0].Index != 2 || r2.Choices[1].Index != 3 || r1.Choices[1].Index != 1 {
		t.Fatalf("round two: cached %v, indexes %d, %d", r2.Cached, r2.Choices[0].Index, r2.Choices[1].Index)
	}
	calls := sim.Stats().Requests
	all := c.Config().NewRequest(userMsg(cachePrompt(1)), 4)
	r, err := c.Complete(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Cached || sim.Stats().Requests != calls {
		t.Fatalf("samples 0..3 after two rounds: cached %v, %d new requests", r.Cached, sim.Stats().Requests-calls)
	}
	for i, want := range []Choice{r1.Choices[0], r1.Choices[1], r2.Choices[0], r2.Choices[1]} {
		if r.Choices[i].Text != want.Text || r.Choices[i].Index != i {
			t.Errorf("sample %d differs from the round that drew it", i)
		}
	}
}
