package teacher

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
)

// RewardConfig is the recipe section "reward": a reward model served by
// vLLM's /pooling endpoint (vllm serve Qwen/Qwen2.5-Math-RM-72B). Every
// field is a plain value so a DoFn holding it serializes it as JSON. Start
// from DefaultRewardConfig.
type RewardConfig struct {
	// URL is the server root, without /v1 (--reward_url).
	URL string `yaml:"url" json:"url"`
	// Model is the reward model id (--reward_model).
	Model string `yaml:"model" json:"model"`
	// APIKeyEnv names the environment variable holding the API key.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env"`
	// MaxConcurrency bounds the requests in flight per client.
	MaxConcurrency int `yaml:"max_concurrency" json:"max_concurrency"`
	// RetryConfig (timeout, max_retries, retry_initial,
	// retry_max_interval, max_retry_after) means what it means for the
	// teacher: one type, one validation.
	RetryConfig `yaml:",inline" json:",inline"`
	// CacheDir is the response cache ("" = none); it may be the teacher's.
	CacheDir string `yaml:"cache_dir" json:"cache_dir"`
}

// DefaultRewardConfig returns the teacher's retry defaults, 64 requests in
// flight and 2 minutes per attempt (a scoring pass is one forward pass).
func DefaultRewardConfig() RewardConfig {
	r := DefaultRetryConfig()
	r.Timeout = 2 * time.Minute
	return RewardConfig{MaxConcurrency: 64, RetryConfig: r}
}

// Validate reports every bad field at once, each named as in the recipe.
func (c RewardConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch u := strings.TrimRight(c.URL, "/"); {
	case u == "":
		bad("reward.url must be set (the reward server root, e.g. http://host:8000)")
	case !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://"):
		bad("reward.url %q must start with http:// or https://", c.URL)
	case strings.HasSuffix(u, "/v1"):
		bad("reward.url %q must be the server root, without /v1 (the pooling endpoint is <root>/pooling)", c.URL)
	}
	if c.Model == "" {
		bad("reward.model must be set")
	}
	if c.MaxConcurrency <= 0 {
		bad("reward.max_concurrency must be > 0")
	}
	errs = append(errs, c.RetryConfig.validate("reward")...)
	return errors.Join(errs...)
}

// RewardOptions are the optional runtime parts of a RewardClient.
type RewardOptions struct {
	HTTPClient *http.Client
	// Cache keeps scores in this store instead of opening cache_dir.
	Cache storage.Store
	// Ledger shares the teacher's token account and budget: scoring a
	// response costs its prompt tokens.
	Ledger *Ledger
}

// RewardClient scores responses with a reward model over vLLM's /pooling
// endpoint. Like the teacher client it bounds requests in flight, retries
// 429, 5xx, timeouts and malformed bodies with exponential backoff and
// jitter (honouring Retry-After), classifies failures with the same
// sentinels (ErrRateLimited, ErrUnavailable, ErrBadRequest,
// ErrMisconfigured, ErrBudgetExceeded), books tokens in a Ledger, and
// caches each score by model and messages. It is safe for concurrent use.
//
// Unlike the teacher client it has no circuit breaker yet: a dead reward
// server dead-letters each prompt after its retries rather than failing
// the run at once.
type RewardClient struct {
	cfg      RewardConfig
	apiKey   string
	endpoint string
	http     *http.Client
	cache    *Cache
	ledger   *Ledger
	sem      chan struct{}

	attempts, retries, cacheHits atomic.Int64
}

// NewRewardClient validates cfg and returns its client; opts may be nil.
func NewRewardClient(cfg RewardConfig, opts *RewardOptions) (*RewardClient, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &RewardOptions{}
	}
	c := &RewardClient{cfg: cfg, endpoint: strings.TrimRight(cfg.URL, "/") + "/pooling", http: opts.HTTPClient,
		ledger: opts.Ledger, sem: make(chan struct{}, cfg.MaxConcurrency)}
	if cfg.APIKeyEnv != "" {
		if c.apiKey = os.Getenv(cfg.APIKeyEnv); c.apiKey == "" {
			return nil, fmt.Errorf("reward.api_key_env: environment variable %s is empty or unset", cfg.APIKeyEnv)
		}
	}
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = cfg.MaxConcurrency + 8
		c.http = &http.Client{Transport: t}
	}
	if c.ledger == nil {
		c.ledger = NewLedger(0)
	}
	switch {
	case opts.Cache != nil:
		c.cache = NewCache(opts.Cache)
	case cfg.CacheDir != "":
		store, err := storage.Open(cfg.CacheDir, nil)
		if err != nil {
			return nil, fmt.Errorf("reward.cache_dir: %w", err)
		}
		c.cache = NewCache(store)
	}
	return c, nil
}

// RewardStats counts what a RewardClient did.
type RewardStats struct{ Attempts, Retries, CacheHits int64 }

// Stats returns the client's counters.
func (c *RewardClient) Stats() RewardStats {
	return RewardStats{c.attempts.Load(), c.retries.Load(), c.cacheHits.Load()}
}

// Ledger returns the client's token account.
func (c *RewardClient) Ledger() *Ledger { return c.ledger }

// RewardKey is the cache key of a score: a hash of the reward model and
// the scored conversation (never the URL).
func RewardKey(model string, messages []schemas.Message) string {
	b, _ := json.Marshal(struct {
		Kind     string            `json:"kind"`
		Version  int               `json:"v"`
		Model    string            `json:"model"`
		Messages []schemas.Message `json:"messages"`
	}{"reward", 1, model, messages})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Score returns the reward of response as the assistant's answer to
// prompt (the conversation so far). Errors read "reward: model M: ..." and
// wrap the package's sentinels.
func (c *RewardClient) Score(ctx context.Context, prompt []schemas.Message, response string) (float64, error) {
	s, err := c.ScoreDetail(ctx, prompt, response)
	return s.Reward, err
}

// RewardScore is a score with what it cost.
type RewardScore struct {
	Reward float64
	// Cached is true when the score came from the cache (no request made).
	Cached bool
	// PromptTokens is what the reward model read (what it read first, for
	// a cached score).
	PromptTokens int64
}

// ScoreDetail is Score, saying also whether the score was cached and what
// it cost: a pipeline books each prompt's share of the reward model.
func (c *RewardClient) ScoreDetail(ctx context.Context, prompt []schemas.Message, response string) (RewardScore, error) {
	msgs := make([]schemas.Message, 0, len(prompt)+1)
	msgs = append(append(msgs, prompt...), schemas.Message{Role: schemas.RoleAssistant, Content: response})
	key := RewardKey(c.cfg.Model, msgs)
	if c.cache != nil {
		if e, ok, err := c.cache.get(ctx, key); err == nil && ok && e.Reward != nil && !math.IsNaN(*e.Reward) {
			c.cacheHits.Add(1)
			c.ledger.recordCached(c.cfg.Model, 1, e.PromptTokens)
			return RewardScore{Reward: *e.Reward, Cached: true, PromptTokens: e.PromptTokens}, nil
		}
	}
	worst := EstimatePromptTokens(Request{Messages: msgs})
	if err := c.ledger.reserve(worst); err != nil {
		return RewardScore{}, fmt.Errorf("reward: model %s: %w", c.cfg.Model, err)
	}
	body, err := json.Marshal(struct {
		Model    string            `json:"model"`
		Messages []schemas.Message `json:"messages"`
	}{c.cfg.Model, msgs})
	if err != nil {
		c.ledger.release(worst, c.cfg.Model, Usage{}, 0, false)
		return RewardScore{}, fmt.Errorf("reward: model %s: %w: %v", c.cfg.Model, ErrBadRequest, err)
	}
	score, tokens, err := c.withRetries(ctx, body)
	if err != nil {
		c.ledger.release(worst, c.cfg.Model, Usage{}, 0, false)
		return RewardScore{}, fmt.Errorf("reward: model %s: %w", c.cfg.Model, err)
	}
	if tokens == 0 {
		tokens = worst
	}
	c.ledger.release(worst, c.cfg.Model, Usage{PromptTokens: tokens}, 1, true)
	if c.cache != nil {
		// A failed write costs a rerun a call, not the score.
		_ = c.cache.put(ctx, key, cacheEntry{Model: c.cfg.Model, Reward: &score, PromptTokens: tokens})
	}
	return RewardScore{Reward: score, PromptTokens: tokens}, nil
}

func (c *RewardClient) withRetries(ctx context.Context, body []byte) (float64, int64, error) {
	type result struct {
		score  float64
		tokens int64
	}
	tries := 0
	var lastErr error
	op := func() (result, error) {
		if tries > 0 {
			c.retries.Add(1)
		}
		tries++
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return result{}, backoff.Permanent(context.Cause(ctx))
		}
		score, tokens, err := c.send(ctx, body)
		<-c.sem
		if err == nil {
			return result{score, tokens}, nil
		}
		lastErr = err
		var ae *attemptError
		if !errors.As(err, &ae) || !ae.retryable {
			return result{}, backoff.Permanent(err)
		}
		if ae.retryAfter > 0 {
			d := min(ae.retryAfter, c.cfg.MaxRetryAfter)
			d += time.Duration(rand.Int64N(int64(d)/4 + 1))
			return result{}, &backoff.RetryAfterError{Duration: d}
		}
		return result{}, err
	}
	b := &backoff.ExponentialBackOff{InitialInterval: c.cfg.RetryInitial, RandomizationFactor: 0.5,
		Multiplier: 1.5, MaxInterval: c.cfg.RetryMaxInterval}
	r, err := backoff.Retry(ctx, op, backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(c.cfg.MaxRetries+1)), backoff.WithMaxElapsedTime(0))
	if err == nil {
		return r.score, r.tokens, nil
	}
	if ctx.Err() != nil {
		return 0, 0, context.Cause(ctx)
	}
	if lastErr != nil {
		err = lastErr
	}
	var ae *attemptError
	if errors.As(err, &ae) {
		if ae.retryable {
			return 0, 0, fmt.Errorf("%d attempts: %w", tries, ae.err)
		}
		return 0, 0, ae.err
	}
	return 0, 0, err
}

// send makes one attempt, classifying failures as the teacher client does.
func (c *RewardClient) send(ctx context.Context, body []byte) (float64, int64, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, 0, &attemptError{err: fmt.Errorf("%w: %v", ErrMisconfigured, err)}
	}
	hreq.Header.Set("Content-Type", "application/json")
	if c.apiKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	c.attempts.Add(1)
	hresp, err := c.http.Do(hreq)
	if err != nil {
		return 0, 0, rewardTransportFailure(ctx, err)
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, 64<<20))
	if err != nil {
		return 0, 0, rewardTransportFailure(ctx, fmt.Errorf("reading body: %w", err))
	}
	if st := hresp.StatusCode; st != http.StatusOK {
		return 0, 0, classifyStatus(st, data, hresp.Header)
	}
	score, tokens, err := DecodePoolingScore(data)
	if err != nil {
		return 0, 0, rewardTransportFailure(ctx, err)
	}
	return score, tokens, nil
}

func rewardTransportFailure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &attemptError{err: context.Cause(ctx)}
	}
	if errors.Is(err, ErrMalformedResponse) {
		return &attemptError{err: fmt.Errorf("%w: %w", ErrUnavailable, err), retryable: true, serverFault: true}
	}
	return &attemptError{err: fmt.Errorf("%w: %v", ErrUnavailable, err), retryable: true, serverFault: true}
}

// DecodePoolingScore reads a vLLM /pooling response, {"data": [{"index": 0,
// "data": D}], "usage": {"prompt_tokens": n}}, and returns the reward and
// the prompt tokens (0 when not reported). D may be one value per token,
// [[v], [v], ..., [score]] or [v, v, ..., score], whose last is the reward;
// [score]; or a bare number. Anything else, or a non-finite score, is
// ErrMalformedResponse.
func DecodePoolingScore(body []byte) (float64, int64, error) {
	var r struct {
		Data []struct {
			Data json.RawMessage `json:"data"`
		} `json:"data"`
		Usage *struct {
			PromptTokens int64 `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, 0, fmt.Errorf("%w: pooling response: %v", ErrMalformedResponse, err)
	}
	if len(r.Data) != 1 {
		return 0, 0, fmt.Errorf("%w: pooling response has %d results, want 1", ErrMalformedResponse, len(r.Data))
	}
	score, err := lastValue(r.Data[0].Data)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: pooling response data: %v", ErrMalformedResponse, err)
	}
	if math.IsNaN(score) || math.IsInf(score, 0) {
		return 0, 0, fmt.Errorf("%w: pooling response score %v is not finite", ErrMalformedResponse, score)
	}
	var tokens int64
	if r.Usage != nil {
		tokens = r.Usage.PromptTokens
	}
	return score, tokens, nil
}

func lastValue(raw json.RawMessage) (float64, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return 0, errors.New("no score")
	}
	var v float64
	if json.Unmarshal(raw, &v) == nil {
		return v, nil
	}
	var flat []float64
	if json.Unmarshal(raw, &flat) == nil {
		if len(flat) == 0 {
			return 0, errors.New("empty list")
		}
		return flat[len(flat)-1], nil
	}
	var nested [][]float64
	if err := json.Unmarshal(raw, &nested); err != nil {
		return 0, fmt.Errorf("not a number, a list of numbers or a list of [number]")
	}
	if len(nested) == 0 {
		return 0, errors.New("empty list")
	}
	last := nested[len(nested)-1]
	if len(last) != 1 {
		return 0, fmt.Errorf("last token has %d values, want 1 (a reward model, not a classifier)", len(last))
	}
	return last[0], nil
}

// Close writes out the scores the cache still holds back (on S3 they go
// up in batches) and drops idle connections. Call it when done.
func (c *RewardClient) Close() error {
	if c.cache == nil {
		return nil
	}
	return c.cache.Flush(context.Background())
}
