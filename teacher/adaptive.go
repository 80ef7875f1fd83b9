package teacher

import (
	"context"
	"sync"
)

// limiter adapts the number of HTTP attempts in flight to the server with
// additive increase, multiplicative decrease (as TCP congestion control):
// each success raises the limit by 1/limit (one per round), each overload
// answer (429, 503) cuts it by 4 %, so a burst of k rejections cuts it by
// 1-0.96^k: 52 rejections of 64 requests bring 64 down to 8 at once, while
// one rejection from probing one request too many costs little. Latency is not a
// signal: requests deliberately wait in the server's queue
// (SaturatingConcurrency), so rising latency is expected, not congestion.
type limiter struct {
	mu       sync.Mutex
	limit    float64
	min, max float64
	inFlight int
	wake     chan struct{}
}

func newLimiter(max int) *limiter {
	return &limiter{limit: float64(max), min: 1, max: float64(max), wake: make(chan struct{})}
}

// acquire waits until an attempt may start.
func (l *limiter) acquire(ctx context.Context) error {
	for {
		l.mu.Lock()
		if float64(l.inFlight) < l.limit || l.inFlight == 0 {
			l.inFlight++
			l.mu.Unlock()
			return nil
		}
		wake := l.wake
		l.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// release ends an attempt; overloaded says the server pushed back.
func (l *limiter) release(overloaded, succeeded bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	switch {
	case overloaded:
		l.limit = max(l.min, l.limit*0.96)
	case succeeded:
		l.limit = min(l.max, l.limit+1/l.limit)
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

func (l *limiter) current() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int(l.limit)
}
