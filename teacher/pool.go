package teacher

import (
	"context"
	"sync"
)

// Result is the outcome of one request submitted to a Pool.
type Result struct {
	// Key is the caller's key given to Submit (e.g. the prompt).
	Key      any
	Request  Request
	Response *Response
	Err      error
}

// Pool keeps up to size requests in flight against a Completer, independent
// of how the caller batches its work: a Beam DoFn submits from
// ProcessElement (Submit blocks only while size requests are in flight),
// emits finished results from its own goroutine with Ready, and waits for
// the rest with Drain in FinishBundle. A Pool is safe for concurrent use and
// reusable after Drain.
type Pool struct {
	c    Completer
	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	done []Result
}

// NewPool returns a pool keeping at most size requests in flight (size < 1
// means 1).
func NewPool(c Completer, size int) *Pool {
	return &Pool{c: c, sem: make(chan struct{}, max(size, 1))}
}

// Size returns the pool's maximum number of requests in flight.
func (p *Pool) Size() int { return cap(p.sem) }

// InFlight returns the number of requests running now.
func (p *Pool) InFlight() int { return len(p.sem) }

// Submit starts req under ctx, first waiting while the pool is full. It
// returns ctx's error (and starts nothing) if ctx ends while waiting. The
// request runs under ctx, so ctx must outlive it.
func (p *Pool) Submit(ctx context.Context, key any, req Request) error {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		resp, err := p.c.Complete(ctx, req)
		p.mu.Lock()
		p.done = append(p.done, Result{Key: key, Request: req, Response: resp, Err: err})
		p.mu.Unlock()
		<-p.sem
	}()
	return nil
}

// Ready returns the results finished since the last Ready or Drain, without
// waiting. Results come in completion order.
func (p *Pool) Ready() []Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.done
	p.done = nil
	return r
}

// Drain waits for every submitted request and returns the results not yet
// returned by Ready.
func (p *Pool) Drain() []Result {
	p.wg.Wait()
	return p.Ready()
}

// SaturatingConcurrency is the number of requests to keep in flight so a
// server with slots decode slots (vLLM --max-num-seqs, SGLang
// --max-running-requests, TGI --max-concurrent-requests) never idles:
// twice as many, so that while one set decodes the next waits in the
// server's queue. With exactly slots in flight, every slot idles for the
// client's round trip after each request; with a smaller margin, slots that
// finish together (equal-length samples) outrun the queue.
func SaturatingConcurrency(slots int) int {
	return 2 * slots
}
