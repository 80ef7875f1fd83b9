package teacher

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowCompleter answers after a delay and records the peak concurrency.
type slowCompleter struct {
	delay     time.Duration
	now, peak atomic.Int64
	release   chan struct{} // if set, calls wait for it instead of delay
	mu        sync.Mutex
}

func (s *slowCompleter) Complete(ctx context.Context, req Request) (*Response, error) {
	n := s.now.Add(1)
	s.mu.Lock()
	s.peak.Store(max(s.peak.Load(), n))
	s.mu.Unlock()
	defer s.now.Add(-1)
	if s.release != nil {
		<-s.release
	} else {
		time.Sleep(s.delay)
	}
	if req.N < 0 {
		return nil, errors.New("negative")
	}
	return &Response{Choices: []Choice{{Text: req.Messages[0].Content}}}, nil
}

func TestPoolKeepsSizeInFlight(t *testing.T) {
	c := &slowCompleter{delay: 5 * time.Millisecond}
	p := NewPool(c, 7)
	got := 0
	for i := range 100 {
		if err := p.Submit(context.Background(), i, Request{Messages: userMsg("x")}); err != nil {
			t.Fatal(err)
		}
		if p.InFlight() > 7 {
			t.Fatalf("%d in flight", p.InFlight())
		}
		got += len(p.Ready())
	}
	got += len(p.Drain())
	if got != 100 {
		t.Errorf("%d results, want 100", got)
	}
	if c.peak.Load() != 7 {
		t.Errorf("peak concurrency %d, want 7", c.peak.Load())
	}
	if len(p.Ready()) != 0 || len(p.Drain()) != 0 {
		t.Errorf("results returned twice")
	}
}

func TestPoolSubmitHonoursContextWhenFull(t *testing.T) {
	c := &slowCompleter{release: make(chan struct{})}
	p := NewPool(c, 2)
	ctx := context.Background()
	p.Submit(ctx, 1, Request{Messages: userMsg("a")})
	p.Submit(ctx, 2, Request{Messages: userMsg("b")})
	if r := p.Ready(); len(r) != 0 {
		t.Fatalf("Ready returned %d results before any finished", len(r))
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := p.Submit(cctx, 3, Request{Messages: userMsg("c")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Submit on a full pool = %v, want the context's error", err)
	}
	close(c.release)
	rs := p.Drain()
	if len(rs) != 2 || rs[0].Response == nil {
		t.Errorf("Drain = %+v", rs)
	}
}
