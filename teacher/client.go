package teacher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sony/gobreaker/v2"

	"github.com/syllabus-dev/syllabus/storage"
)

// Client calls an OpenAI-compatible chat-completions endpoint with retries,
// a circuit breaker, the response cache and the token ledger. It is safe
// for concurrent use; one Client per worker process is enough.
type Client struct {
	cfg      Config
	apiKey   string // never logged, never in an error
	endpoint string
	http     *http.Client
	cache    *Cache
	ledger   *Ledger
	breaker  *gobreaker.CircuitBreaker[*Response]
	limiter  *limiter // nil unless cfg.AdaptiveConcurrency

	// down is cancelled when the breaker opens, aborting attempts in
	// flight (a hung server would otherwise hold each for cfg.Timeout);
	// a fresh one is made when the breaker half-opens.
	down atomic.Pointer[downSignal]

	log           *slog.Logger
	cacheWarnOnce sync.Once

	streakStart atomic.Int64 // unix nanos of the first failure since the last success; 0 = none
	lastFailure atomic.Value // string: the last failure that counts against the breaker
	downMsg     atomic.Value // string: why the breaker opened
	// singleSample is set once the server refused n > 1: from then on
	// every sample is its own request (see fetch).
	singleSample atomic.Bool

	stats clientCounters
}

type clientCounters struct {
	attempts, retries, cacheHits, cacheMisses, cacheErrors atomic.Int64
	rateLimited, serverErrors, transport                   atomic.Int64
}

// ClientStats counts what a Client did.
type ClientStats struct {
	// Attempts is HTTP requests sent; Retries those that repeated one.
	Attempts, Retries int64
	// CacheHits and CacheMisses count samples looked up in the cache;
	// CacheErrors failed reads (treated as misses) and writes (the sample
	// is still returned).
	CacheHits, CacheMisses, CacheErrors int64
	// RateLimited (429), ServerErrors (5xx) and Transport (timeouts,
	// dropped connections, malformed bodies) count failed attempts.
	RateLimited, ServerErrors, Transport int64
	// SingleSample is true once the server refused n > 1 and the client
	// switched to one request per sample.
	SingleSample bool
}

// ClientOptions are the optional runtime parts of a Client; nil means
// defaults.
type ClientOptions struct {
	// HTTPClient replaces the default client (whose transport keeps
	// max_concurrency connections alive to the server).
	HTTPClient *http.Client
	// Cache keeps the response cache in this store instead of opening
	// cache_dir (an S3 prefix, or storage.NewMem() in tests).
	Cache storage.Store
	// Ledger lets several clients share one token account and budget.
	Ledger *Ledger
	// Logger receives warnings that must be seen at once (the first
	// failure of the response cache); default: text on stderr.
	Logger *slog.Logger
}

// downSignal is cancelled when the breaker opens.
type downSignal struct {
	ctx  context.Context
	mark context.CancelFunc
}

func newDownSignal() *downSignal {
	ctx, cancel := context.WithCancel(context.Background())
	return &downSignal{ctx, cancel}
}

// NewClient returns a client for cfg, validating it first. The API key is
// read from the environment variable cfg.APIKeyEnv.
func NewClient(cfg Config) (*Client, error) { return NewClientWithOptions(cfg, nil) }

// NewClientWithOptions is NewClient with runtime options.
func NewClientWithOptions(cfg Config, opts *ClientOptions) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &ClientOptions{}
	}
	c := &Client{
		cfg:      cfg,
		endpoint: strings.TrimRight(cfg.URL, "/") + "/chat/completions",
		http:     opts.HTTPClient,
		ledger:   opts.Ledger,
		log:      opts.Logger,
	}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if cfg.APIKeyEnv != "" {
		c.apiKey = os.Getenv(cfg.APIKeyEnv)
		if c.apiKey == "" {
			return nil, fmt.Errorf("teacher.api_key_env: environment variable %s is empty or unset", cfg.APIKeyEnv)
		}
	}
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 2*cfg.MaxConcurrency + 16
		t.MaxIdleConnsPerHost = cfg.MaxConcurrency + 8
		c.http = &http.Client{Transport: t}
	}
	if cfg.AdaptiveConcurrency {
		c.limiter = newLimiter(cfg.MaxConcurrency)
	}
	c.singleSample.Store(cfg.SingleSample)
	if c.ledger == nil {
		c.ledger = NewLedger(cfg.TokenBudget)
	}
	switch {
	case opts.Cache != nil:
		c.cache = NewCache(opts.Cache)
	case cfg.CacheDir != "":
		store, err := storage.Open(cfg.CacheDir, nil)
		if err != nil {
			return nil, fmt.Errorf("teacher.cache_dir: %w", err)
		}
		c.cache = NewCache(store)
	}
	if c.cache != nil {
		c.cache.errs = &c.stats.cacheErrors
	}
	c.down.Store(newDownSignal())
	c.breaker = gobreaker.NewCircuitBreaker[*Response](gobreaker.Settings{
		Name: cfg.URL,
		OnStateChange: func(_ string, _, to gobreaker.State) {
			switch to {
			case gobreaker.StateOpen:
				c.down.Load().mark()
			case gobreaker.StateHalfOpen:
				c.down.Store(newDownSignal())
			}
		},
		// Open, the breaker fails every call at once (the bundles then
		// fail, and the run with them, unless the runner retries them);
		// after down_after it lets one call through to probe the server,
		// and closes if it answers: a client lives as long as its worker
		// process, so a bundle retried once the server is back works.
		Timeout: cfg.DownAfter,
		ReadyToTrip: func(counts gobreaker.Counts) bool {
			start := c.streakStart.Load()
			if start == 0 || int(counts.ConsecutiveFailures) < cfg.DownMinFailures {
				return false
			}
			d := time.Since(time.Unix(0, start))
			if d < cfg.DownAfter {
				return false
			}
			last, _ := c.lastFailure.Load().(string)
			c.downMsg.Store(fmt.Sprintf("%s answered nothing usable for %v (%d consecutive failures; last: %s)",
				cfg.URL, d.Round(time.Millisecond), counts.ConsecutiveFailures, last))
			return true
		},
		IsSuccessful: func(err error) bool {
			var ae *attemptError
			return err == nil || (errors.As(err, &ae) && !ae.serverFault)
		},
		IsExcluded: func(err error) bool {
			var ae *attemptError
			return errors.As(err, &ae) && ae.excluded
		},
	})
	return c, nil
}

// Config returns the client's configuration.
func (c *Client) Config() Config { return c.cfg }

// Ledger returns the client's token account.
func (c *Client) Ledger() *Ledger { return c.ledger }

// Usage returns the token account per model.
func (c *Client) Usage() map[string]ModelUsage { return c.ledger.Usage() }

// Stats returns counters of what the client did.
func (c *Client) Stats() ClientStats {
	s := &c.stats
	return ClientStats{s.attempts.Load(), s.retries.Load(), s.cacheHits.Load(), s.cacheMisses.Load(), s.cacheErrors.Load(),
		s.rateLimited.Load(), s.serverErrors.Load(), s.transport.Load(), c.singleSample.Load()}
}

// Concurrency returns the number of attempts the client lets run at once:
// MaxConcurrency, or less while adaptive concurrency backs off.
func (c *Client) Concurrency() int {
	if c.limiter == nil {
		return c.cfg.MaxConcurrency
	}
	return c.limiter.current()
}

// Close writes the cache entries held back (see Cache) and releases idle
// connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return c.FlushCache(context.Background())
}

// Complete draws req.N samples. Samples found in the cache are not asked
// for again; new ones are cached as soon as their call returns. Errors wrap
// the package's sentinels: ErrBadRequest (dead-letter the prompt with the
// message), ErrRateLimited or ErrUnavailable (retries ran out; dead-letter),
// ErrServerDown, ErrMisconfigured and ErrBudgetExceeded (fail the run; see
// IsFatal).
func (c *Client) Complete(ctx context.Context, req Request) (*Response, error) {
	if req.Model == "" {
		req.Model = c.cfg.Model
	}
	n := req.samples()
	req.N = n
	if _, err := encodeRequest(req); err != nil {
		return nil, fmt.Errorf("teacher: model %s: %w", req.Model, err)
	}

	choices := make([]Choice, n)
	have := make([]bool, n)
	var missing []int
	var keys []string
	if c.cache != nil {
		keys = make([]string, n)
		var cachedTokens int64
		var hits int
		for i := range n {
			keys[i] = SampleKey(req, req.First+i)
			e, ok, err := c.cache.get(ctx, keys[i])
			if err != nil {
				// An unreadable cache costs a call, not the prompt.
				c.cacheError(ctx, "read", err)
			}
			if !ok {
				missing = append(missing, i)
				continue
			}
			choices[i] = Choice{Index: i, Text: e.Text, Reasoning: e.Reasoning, FinishReason: e.FinishReason, Truncated: e.FinishReason == "length"}
			have[i] = true
			hits++
			cachedTokens += e.CompletionTokens
			if hits == 1 {
				cachedTokens += e.PromptTokens
			}
		}
		c.stats.cacheHits.Add(int64(hits))
		c.stats.cacheMisses.Add(int64(len(missing)))
		callsFrom(ctx).cache(hits, len(missing))
		if hits > 0 {
			c.ledger.recordCached(req.Model, hits, cachedTokens)
		}
		if len(missing) == 0 {
			for i := range choices {
				choices[i].Index = req.First + i
			}
			return &Response{Model: req.Model, Choices: choices, Cached: true}, nil
		}
	} else {
		for i := range n {
			missing = append(missing, i)
		}
	}

	// Without a seed, samples are independent draws: ask only for the
	// missing ones. With a seed, ask for the whole request again so the
	// samples are the ones a clean run would have drawn.
	sub := req
	if req.Seed == nil {
		sub.N = len(missing)
	} else if req.First > 0 {
		s := *req.Seed + int64(req.First)
		sub.Seed = &s
	}
	fresh, usage, err := c.fetch(ctx, sub)
	if err != nil {
		return nil, err
	}
	var fill []int
	if req.Seed == nil {
		fill = missing
	} else {
		fill = make([]int, n)
		for i := range fill {
			fill[i] = i
		}
	}
	model := req.Model
	for j, i := range fill {
		ch := fresh[j]
		if have[i] {
			continue
		}
		ch.Index = i
		choices[i] = ch
		if c.cache != nil {
			e := cacheEntry{Model: req.Model, Text: ch.Text, Reasoning: ch.Reasoning, FinishReason: ch.FinishReason,
				PromptTokens: usage.PromptTokens, CompletionTokens: usage.CompletionTokens / int64(len(fresh))}
			if err := c.cache.put(ctx, keys[i], e); err != nil {
				// The sample is good; only a rerun will pay for it again.
				c.cacheError(ctx, "write", err)
			}
		}
	}
	for i := range choices {
		choices[i].Index = req.First + i
	}
	return &Response{Model: model, Choices: choices, Usage: usage}, nil
}

// fetch calls the server until it has req.N choices (some servers ignore n
// and return one), booking usage and honouring the budget.
func (c *Client) fetch(ctx context.Context, req Request) ([]Choice, Usage, error) {
	want := req.N
	var got []Choice
	var total Usage
	for len(got) < want {
		sub := req
		sub.N = want - len(got)
		if c.singleSample.Load() {
			sub.N = 1
			callsFrom(ctx).singleSample.Store(true)
		}
		if req.Seed != nil && len(got) > 0 {
			s := *req.Seed + int64(len(got))
			sub.Seed = &s
		}
		worst := c.ledger.expected(sub)
		if err := c.ledger.reserve(worst); err != nil {
			return nil, total, fmt.Errorf("teacher: model %s: %w", req.Model, err)
		}
		resp, err := c.withRetries(ctx, sub)
		if err != nil {
			c.ledger.release(worst, req.Model, Usage{}, 0, false)
			if sub.N > 1 && nRefused(err) {
				// The server draws one sample per request (several
				// hosted APIs): ask for the samples one by one. Cache keys
				// are per sample index, so nothing is lost or redrawn.
				c.singleSample.Store(true)
				continue
			}
			return nil, total, fmt.Errorf("teacher: model %s: %w", req.Model, err)
		}
		u := resp.Usage
		if u == (Usage{}) {
			// The server reported no usage: charge an estimate so the
			// budget still holds, and say it is one.
			u.PromptTokens = EstimatePromptTokens(sub)
			for _, ch := range resp.Choices {
				u.CompletionTokens += int64(len(ch.Text)+len(ch.Reasoning)+3) / 4
			}
			u.EstimatedPromptTokens, u.EstimatedCompletionTokens = u.PromptTokens, u.CompletionTokens
		}
		c.ledger.release(worst, req.Model, u, len(resp.Choices), true)
		total = total.Add(u)
		for _, ch := range resp.Choices {
			ch.Index = len(got)
			got = append(got, ch)
		}
	}
	return got, total, nil
}

// nRefused reports whether err is a 400 saying the server does not take n.
func nRefused(err error) bool {
	var api *APIError
	return errors.As(err, &api) && api.Status == http.StatusBadRequest && isNUnsupported(api.Message)
}

// attemptError classifies the failure of one HTTP attempt.
type attemptError struct {
	err         error
	cause       string // the retry cause of a retryable failure
	retryable   bool
	serverFault bool          // counts against the circuit breaker
	excluded    bool          // neither success nor failure for the breaker
	retryAfter  time.Duration // the server's Retry-After, if any
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

// withRetries sends req, retrying retryable failures with exponential
// backoff and jitter (cenkalti/backoff) and honouring Retry-After.
func (c *Client) withRetries(ctx context.Context, req Request) (*Response, error) {
	body, err := encodeRequest(req)
	if err != nil {
		return nil, err
	}
	var lastErr error
	tries := 0
	lastCause := ""
	calls := callsFrom(ctx)
	op := func() (*Response, error) {
		if tries > 0 {
			c.stats.retries.Add(1)
			calls.retry(lastCause)
		}
		tries++
		if c.limiter != nil {
			if err := c.limiter.acquire(ctx); err != nil {
				return nil, backoff.Permanent(err)
			}
		}
		// The signal is read inside Execute: the breaker half-opening there
		// replaces the one cancelled when it opened.
		var down context.Context
		resp, err := c.breaker.Execute(func() (*Response, error) {
			down = c.down.Load().ctx
			return c.send(ctx, down, body, req.N)
		})
		if c.limiter != nil {
			var ae *attemptError
			var api *APIError
			overloaded := errors.As(err, &ae) && errors.As(err, &api) &&
				(api.Status == http.StatusTooManyRequests || api.Status == http.StatusServiceUnavailable)
			c.limiter.release(overloaded, err == nil)
		}
		if err == nil {
			return resp, nil
		}
		if errors.Is(err, gobreaker.ErrTooManyRequests) {
			// Half-open: another call is probing the server. Wait and
			// try again rather than fail a run that may be recovering.
			lastCause = CauseServerError
			return nil, err
		}
		if errors.Is(err, gobreaker.ErrOpenState) || (down != nil && down.Err() != nil) {
			msg, _ := c.downMsg.Load().(string)
			lastErr = fmt.Errorf("%w: %s", ErrServerDown, msg)
			return nil, backoff.Permanent(lastErr)
		}
		lastErr = err
		var ae *attemptError
		if !errors.As(err, &ae) || !ae.retryable {
			return nil, backoff.Permanent(err)
		}
		lastCause = ae.cause
		if ae.retryAfter > 0 {
			d := min(ae.retryAfter, c.cfg.MaxRetryAfter)
			// Jitter upwards so clients told the same instant do not
			// come back together.
			d += time.Duration(rand.Int64N(int64(d)/4 + 1))
			return nil, &backoff.RetryAfterError{Duration: d}
		}
		return nil, err
	}
	b := &backoff.ExponentialBackOff{
		InitialInterval:     c.cfg.RetryInitial,
		RandomizationFactor: 0.5,
		Multiplier:          1.5,
		MaxInterval:         c.cfg.RetryMaxInterval,
	}
	resp, err := backoff.Retry(ctx, op, backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(c.cfg.MaxRetries+1)), backoff.WithMaxElapsedTime(0))
	if err == nil {
		return resp, nil
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	var ra *backoff.RetryAfterError
	if errors.As(err, &ra) && lastErr != nil {
		err = lastErr
	}
	if c.breaker.State() == gobreaker.StateOpen && !errors.Is(err, ErrServerDown) {
		msg, _ := c.downMsg.Load().(string)
		return nil, fmt.Errorf("%w: %s", ErrServerDown, msg)
	}
	var ae *attemptError
	if errors.As(err, &ae) {
		if ae.retryable {
			return nil, fmt.Errorf("%d attempts: %w", tries, ae.err)
		}
		return nil, ae.err
	}
	return nil, err
}

// send makes one HTTP attempt.
func (c *Client) send(ctx, down context.Context, body []byte, want int) (*Response, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	defer context.AfterFunc(down, cancel)()
	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &attemptError{err: fmt.Errorf("%w: %v", ErrMisconfigured, err)}
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	if c.apiKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	c.stats.attempts.Add(1)
	callsFrom(ctx).request()
	hresp, err := c.http.Do(hreq)
	if err != nil {
		return nil, c.transportFailure(ctx, err)
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, 256<<20))
	if err != nil {
		return nil, c.transportFailure(ctx, fmt.Errorf("reading body: %w", err))
	}
	if hresp.StatusCode == http.StatusOK {
		resp, err := decodeResponse(data, want)
		if err != nil {
			return nil, c.transportFailure(ctx, err)
		}
		c.streakStart.Store(0)
		return resp, nil
	}
	failure := classifyStatus(hresp.StatusCode, data, hresp.Header)
	ae := failure.err.(*APIError)
	switch {
	case ae.Status == http.StatusTooManyRequests: // rate limited, or quota spent
		c.stats.rateLimited.Add(1)
		callsFrom(ctx).rateLimit()
	case ae.kind == ErrUnavailable:
		c.stats.serverErrors.Add(1)
		c.noteFailure(ae)
	default:
		c.streakStart.Store(0) // the server answered: it is up
	}
	return nil, failure
}

// transportFailure classifies an attempt that got no usable answer.
func (c *Client) transportFailure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &attemptError{err: context.Cause(ctx), excluded: true}
	}
	c.stats.transport.Add(1)
	if !errors.Is(err, ErrMalformedResponse) {
		err = fmt.Errorf("%w: %v", ErrUnavailable, err)
	} else {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	c.noteFailure(err)
	return &attemptError{err: err, cause: CauseTransport, retryable: true, serverFault: true}
}

func (c *Client) noteFailure(err error) {
	c.lastFailure.Store(err.Error())
	c.streakStart.CompareAndSwap(0, time.Now().UnixNano())
}

// parseRetryAfter reads retry-after-ms (OpenAI) or Retry-After (seconds or
// an HTTP date); 0 when absent or unreadable.
func parseRetryAfter(h http.Header) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e12 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 && s < 1e9 {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
