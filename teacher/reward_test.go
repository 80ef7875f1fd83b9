package teacher

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/teacher/teachertest"
)

func rewardConfig(url string) RewardConfig {
	c := DefaultRewardConfig()
	c.URL, c.Model = url, "Qwen/Qwen2.5-Math-RM-72B"
	c.RetryInitial, c.RetryMaxInterval, c.MaxRetries = time.Millisecond, 5*time.Millisecond, 3
	return c
}

func conversation(system, question string) []schemas.Message {
	return []schemas.Message{{Role: schemas.RoleSystem, Content: system}, {Role: schemas.RoleUser, Content: question}}
}

// TestRewardRecordings serves the recorded rm_score of the 480 recorded
// responses from a /pooling server and gets them back exactly, from
// concurrent callers. The recordings hold 44 repeated responses (the same
// text sampled twice for one prompt), and the reward model scored 19 of
// those repeats differently from the first copy, by at most 1/32 (bf16
// noise). A server, like the cache, can give one text only one score: it
// serves the first recorded score of each text, so those 19 samples get
// their text's first score and every other sample its own.
func TestRewardRecordings(t *testing.T) {
	recs, err := ReadRecordings("../testdata/recordings/qwen25-math-instruct-math-8samples.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	scores := map[[2]string]float64{}
	for _, r := range recs {
		for _, s := range r.Samples {
			if _, ok := scores[teachertest.Key(r.Question, s.Response)]; !ok {
				scores[teachertest.Key(r.Question, s.Response)] = s.RMScore
			}
		}
	}
	srv := teachertest.StartPooling("Qwen/Qwen2.5-Math-RM-72B", scores)
	defer srv.Close()
	cfg := rewardConfig(srv.URL)
	cfg.MaxConcurrency = 8
	c, err := NewRewardClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	n, repeats := 0, 0
	for _, r := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, s := range r.Samples {
				got, err := c.Score(context.Background(), conversation(r.System, r.Question), s.Response)
				if err != nil {
					t.Errorf("idx %d sample %d: %v", r.Idx, i, err)
					return
				}
				first := scores[teachertest.Key(r.Question, s.Response)]
				if got != first || (got != s.RMScore && math.Abs(got-s.RMScore) > 1.0/32) {
					t.Errorf("idx %d sample %d: score %v, recorded %v (first score of this text %v)", r.Idx, i, got, s.RMScore, first)
				}
				mu.Lock()
				n++
				if got != s.RMScore {
					repeats++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if repeats != 19 {
		t.Errorf("%d samples scored differently from their recorded score; want the 19 rescored repeats", repeats)
	}
	if n != 480 || srv.Requests() != 480 {
		t.Errorf("scored %d responses in %d requests; want 480 and 480", n, srv.Requests())
	}
	if u := c.Ledger().Usage()[cfg.Model]; u.Requests != 480 || u.PromptTokens == 0 {
		t.Errorf("ledger %+v: want 480 requests with their prompt tokens", u)
	}
}

func TestRewardShapes(t *testing.T) {
	for _, shape := range []teachertest.ScoreShape{teachertest.PerToken, teachertest.Single, teachertest.Bare} {
		srv := teachertest.StartPooling("rm", map[[2]string]float64{teachertest.Key("q", "a"): -1.5})
		srv.Shape = shape
		cfg := rewardConfig(srv.URL)
		cfg.Model = "rm"
		c, err := NewRewardClient(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.Score(context.Background(), conversation("s", "q"), "a"); err != nil || got != -1.5 {
			t.Errorf("shape %d: Score = %v, %v; want -1.5", shape, got, err)
		}
		srv.Close()
	}
}

func TestRewardRetriesAndErrors(t *testing.T) {
	srv := teachertest.StartPooling("rm", map[[2]string]float64{teachertest.Key("q", "a"): 0.25})
	defer srv.Close()
	cfg := rewardConfig(srv.URL)
	cfg.Model = "rm"
	c, err := NewRewardClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv.FailNext(http.StatusServiceUnavailable, http.StatusTooManyRequests)
	if got, err := c.Score(ctx, conversation("s", "q"), "a"); err != nil || got != 0.25 {
		t.Fatalf("after a 503 and a 429: Score = %v, %v; want 0.25", got, err)
	}
	if st := c.Stats(); st.Attempts != 3 || st.Retries != 2 {
		t.Errorf("stats %+v: want 3 attempts, 2 retries", st)
	}

	srv.FailNext(500, 500, 500, 500)
	_, err = c.Score(ctx, conversation("s", "q"), "a")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "4 attempts") || !strings.HasPrefix(err.Error(), "reward: model rm:") {
		t.Errorf("5xx past the retries: %v; want ErrUnavailable after 4 attempts", err)
	}

	before := srv.Requests()
	_, err = c.Score(ctx, conversation("s", "q"), "unscored")
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "no score for this response") || srv.Requests() != before+1 {
		t.Errorf("400: %v after %d requests; want ErrBadRequest with the server's message, not retried", err, srv.Requests()-before)
	}

	cfg.Model = "other"
	wrong, _ := NewRewardClient(cfg, nil)
	if _, err := wrong.Score(ctx, conversation("s", "q"), "a"); !errors.Is(err, ErrMisconfigured) || !IsFatal(err) {
		t.Errorf("unknown model: %v; want fatal ErrMisconfigured", err)
	}
}

func TestRewardCacheAndBudget(t *testing.T) {
	srv := teachertest.StartPooling("rm", map[[2]string]float64{teachertest.Key("q", "a"): 3.5})
	defer srv.Close()
	cfg := rewardConfig(srv.URL)
	cfg.Model = "rm"
	store := storage.NewMem()
	ctx := context.Background()
	for run := range 2 {
		c, err := NewRewardClient(cfg, &RewardOptions{Cache: store})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.Score(ctx, conversation("s", "q"), "a"); err != nil || got != 3.5 {
			t.Fatalf("run %d: Score = %v, %v", run, got, err)
		}
		if hits := c.Stats().CacheHits; hits != int64(run) {
			t.Errorf("run %d: %d cache hits, want %d", run, hits, run)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if srv.Requests() != 1 {
		t.Errorf("%d requests for one score scored twice; the cache should answer the second", srv.Requests())
	}
	// A reward key is not a sample key: teacher entries and scores share a
	// store without colliding.
	msgs := append(conversation("s", "q"), schemas.Message{Role: schemas.RoleAssistant, Content: "a"})
	if RewardKey("rm", msgs) == SampleKey(Request{Model: "rm", Messages: msgs}, 0) || RewardKey("rm", msgs) == RewardKey("rm2", msgs) {
		t.Error("reward keys collide")
	}

	tight, _ := NewRewardClient(cfg, &RewardOptions{Ledger: NewLedger(5)})
	if _, err := tight.Score(ctx, conversation("s", "q"), "b"); !errors.Is(err, ErrBudgetExceeded) {
		t.Errorf("over budget: %v; want ErrBudgetExceeded", err)
	}
}

func TestDecodePoolingScore(t *testing.T) {
	cases := []struct {
		name, body string
		want       float64
		tokens     int64
		ok         bool
	}{
		{"per token", `{"data":[{"index":0,"data":[[0.1],[0.2],[2.5]]}],"usage":{"prompt_tokens":3}}`, 2.5, 3, true},
		{"flat per token", `{"data":[{"index":0,"data":[0.1,0.2,-2.5]}]}`, -2.5, 0, true},
		{"single", `{"data":[{"index":0,"data":[1.25]}]}`, 1.25, 0, true},
		{"bare", `{"data":[{"index":0,"data":7}]}`, 7, 0, true},
		{"null", `{"data":[{"index":0,"data":null}]}`, 0, 0, false},
		{"empty list", `{"data":[{"index":0,"data":[]}]}`, 0, 0, false},
		{"classifier", `{"data":[{"index":0,"data":[[0.1,0.9]]}]}`, 0, 0, false},
		{"no results", `{"data":[]}`, 0, 0, false},
		{"two results", `{"data":[{"data":1},{"data":2}]}`, 0, 0, false},
		{"string", `{"data":[{"data":"1"}]}`, 0, 0, false},
		{"not json", `<html>`, 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, tokens, err := DecodePoolingScore([]byte(c.body))
			if c.ok != (err == nil) || got != c.want || tokens != c.tokens {
				t.Errorf("DecodePoolingScore = %v, %d, %v; want %v, %d, ok=%v", got, tokens, err, c.want, c.tokens, c.ok)
			}
			if err != nil && !errors.Is(err, ErrMalformedResponse) {
				t.Errorf("error %v is not ErrMalformedResponse", err)
			}
		})
	}
}

func TestRewardConfigValidate(t *testing.T) {
	c := DefaultRewardConfig()
	c.URL = "http://host:8000/v1"
	c.MaxConcurrency = 0
	err := c.Validate()
	for _, w := range []string{"reward.url \"http://host:8000/v1\" must be the server root, without /v1", "reward.model must be set", "reward.max_concurrency"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate error %v does not contain %q", err, w)
		}
	}
}

// TestRewardQuotaExhaustedIsFatal: a reward server whose account is spent
// (OpenAI's 429 insufficient_quota, no Retry-After) fails at once and for
// good, as the teacher does, instead of being retried like a rate limit.
func TestRewardQuotaExhaustedIsFatal(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"error": {"message": "You exceeded your current quota.", "type": "insufficient_quota", "code": "insufficient_quota"}}`))
	}))
	defer srv.Close()
	c, err := NewRewardClient(rewardConfig(srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Score(context.Background(), conversation("s", "q"), "a")
	if !errors.Is(err, ErrQuotaExhausted) || !IsFatal(err) {
		t.Errorf("Score = %v, want fatal ErrQuotaExhausted", err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1: a spent quota is not retried", n)
	}
}
