package teacher

import (
	"context"
	"sync/atomic"
)

// Calls counts what the client did on behalf of one caller (a prompt): HTTP
// requests (every attempt), retries by cause, 429s, and samples found in,
// missing from, or lost to the response cache. Client counts into the Calls
// carried by the context of Complete (WithCalls), so a caller books what
// its own requests cost, whether they succeeded or not.
type Calls struct {
	requests, rateLimited       atomic.Int64
	retryRate, retry5xx, retryN atomic.Int64
	cacheHits, cacheMisses      atomic.Int64
	cacheErrors                 atomic.Int64
	singleSample                atomic.Bool
}

// Retry causes, as the manifest names them.
const (
	CauseRateLimited = "rate_limited" // 429
	CauseServerError = "server_error" // 5xx, 408, 409, 425
	CauseTransport   = "transport"    // timeouts, dropped connections, malformed bodies
)

// CallCounts is a snapshot of Calls.
type CallCounts struct {
	// Requests is the HTTP requests sent, every attempt included.
	Requests int64
	// RateLimited is the requests answered 429.
	RateLimited int64
	// Retries counts the requests that repeated a failed one, by the cause
	// of the failure (CauseRateLimited, CauseServerError, CauseTransport).
	Retries map[string]int64
	// CacheHits and CacheMisses count samples found in and missing from
	// the response cache; CacheErrors counts failed reads and writes of it
	// (each costs a rerun a call).
	CacheHits, CacheMisses, CacheErrors int64
	// SingleSample is true when the server refused n > 1 and the samples
	// were drawn one request each.
	SingleSample bool
}

type callsKey struct{}

// WithCalls returns a context under which Client.Complete counts its HTTP
// requests into the returned Calls.
func WithCalls(ctx context.Context) (context.Context, *Calls) {
	c := &Calls{}
	return context.WithValue(ctx, callsKey{}, c), c
}

// callsFrom returns the Calls of ctx, or nil.
func callsFrom(ctx context.Context) *Calls {
	c, _ := ctx.Value(callsKey{}).(*Calls)
	return c
}

// Counts returns a snapshot. A nil Calls counts nothing.
func (c *Calls) Counts() CallCounts {
	if c == nil {
		return CallCounts{Retries: map[string]int64{}}
	}
	r := map[string]int64{}
	for cause, n := range map[string]int64{CauseRateLimited: c.retryRate.Load(), CauseServerError: c.retry5xx.Load(), CauseTransport: c.retryN.Load()} {
		if n > 0 {
			r[cause] = n
		}
	}
	return CallCounts{Requests: c.requests.Load(), RateLimited: c.rateLimited.Load(), Retries: r,
		CacheHits: c.cacheHits.Load(), CacheMisses: c.cacheMisses.Load(), CacheErrors: c.cacheErrors.Load(),
		SingleSample: c.singleSample.Load()}
}

func (c *Calls) request() {
	if c != nil {
		c.requests.Add(1)
	}
}

func (c *Calls) rateLimit() {
	if c != nil {
		c.rateLimited.Add(1)
	}
}

func (c *Calls) retry(cause string) {
	if c == nil {
		return
	}
	switch cause {
	case CauseRateLimited:
		c.retryRate.Add(1)
	case CauseServerError:
		c.retry5xx.Add(1)
	default:
		c.retryN.Add(1)
	}
}

func (c *Calls) cache(hits, misses int) {
	if c != nil {
		c.cacheHits.Add(int64(hits))
		c.cacheMisses.Add(int64(misses))
	}
}

// cacheError counts a failed read or write of the response cache and logs
// the first one at once: a cache whose writes fail silently would void "a
// rerun pays nothing" with no one the wiser.
func (c *Client) cacheError(ctx context.Context, op string, err error) {
	c.stats.cacheErrors.Add(1)
	if calls := callsFrom(ctx); calls != nil {
		calls.cacheErrors.Add(1)
	}
	c.cacheWarnOnce.Do(func() {
		c.log.Warn("teacher: the response cache failed; the run goes on, but a rerun will pay again for what was not cached (later cache errors are counted in the manifest, not logged)",
			"op", op, "error", err)
	})
}
