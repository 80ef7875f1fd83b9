package teacher

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
)

// Causes of a retry, as CallStats and the manifest's "retries" name them.
const (
	RetryRateLimited = "rate_limited" // 429
	RetryServerError = "server_error" // 5xx, 408, 409, 425, or the breaker probing
	RetryTransport   = "transport"    // timeouts, dropped connections, malformed bodies
)

// CallStats counts what the client did for the calls made under one
// context (see WithCallStats): HTTP requests, retries by cause, 429s, and
// cache hits, misses and errors. A Beam stage gives each request its own
// CallStats and counts them into the run's tallies, so the manifest adds up
// over every worker. Safe for concurrent use.
type CallStats struct {
	HTTPRequests, RateLimited           atomic.Int64
	RetriesRateLimited, RetriesServer   atomic.Int64
	RetriesTransport                    atomic.Int64
	CacheHits, CacheMisses, CacheErrors atomic.Int64
}

type callStatsKey struct{}

// WithCallStats returns a context under which Client.Complete counts what
// it does into s, besides the client's own Stats.
func WithCallStats(ctx context.Context, s *CallStats) context.Context {
	return context.WithValue(ctx, callStatsKey{}, s)
}

func callStatsFrom(ctx context.Context) *CallStats {
	s, _ := ctx.Value(callStatsKey{}).(*CallStats)
	return s
}

// add adds n to the counter field picks from s; a nil s counts nothing.
func (s *CallStats) add(field func(*CallStats) *atomic.Int64, n int64) {
	if s != nil {
		field(s).Add(n)
	}
}

func httpRequests(s *CallStats) *atomic.Int64 { return &s.HTTPRequests }
func rateLimited(s *CallStats) *atomic.Int64  { return &s.RateLimited }
func cacheHits(s *CallStats) *atomic.Int64    { return &s.CacheHits }
func cacheMisses(s *CallStats) *atomic.Int64  { return &s.CacheMisses }
func cacheErrors(s *CallStats) *atomic.Int64  { return &s.CacheErrors }

func (s *CallStats) retry(cause string) {
	if s == nil {
		return
	}
	switch cause {
	case RetryRateLimited:
		s.RetriesRateLimited.Add(1)
	case RetryServerError:
		s.RetriesServer.Add(1)
	default:
		s.RetriesTransport.Add(1)
	}
}

// Retries returns the retries by cause (only causes that happened).
func (s *CallStats) Retries() map[string]int64 {
	m := map[string]int64{}
	for cause, n := range map[string]int64{RetryRateLimited: s.RetriesRateLimited.Load(), RetryServerError: s.RetriesServer.Load(), RetryTransport: s.RetriesTransport.Load()} {
		if n > 0 {
			m[cause] = n
		}
	}
	return m
}

// retryCause names why a failed attempt is retried.
func retryCause(err error) string {
	var api *APIError
	switch {
	case errors.As(err, &api) && api.Status == http.StatusTooManyRequests:
		return RetryRateLimited
	case errors.As(err, &api):
		return RetryServerError
	}
	return RetryTransport
}

// cacheError counts a failed read or write of the response cache and logs
// the first one at once: a cache whose writes fail silently would void "a
// rerun pays nothing" with no one the wiser.
func (c *Client) cacheError(ctx context.Context, op string, err error) {
	c.stats.cacheErrors.Add(1)
	calls := callStatsFrom(ctx)
	calls.add(cacheErrors, 1)
	c.cacheWarnOnce.Do(func() {
		c.log.Warn("teacher: the response cache failed; the run goes on, but a rerun will pay again for what was not cached (later cache errors are counted in the manifest, not logged)",
			"op", op, "error", err)
	})
}
