package transforms

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestInOrder: results come back in the order submitted, however the work
// finishes, and no more than size elements are ever queued.
func TestInOrder(t *testing.T) {
	var running, most atomic.Int64
	const size = 4
	q := newInOrder(size, func(i int) int {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if i%3 == 0 {
			time.Sleep(time.Millisecond) // later elements finish first
		}
		running.Add(-1)
		return i * i
	})
	var got []int
	for i := range 100 {
		got = append(got, q.submit(i)...)
		if len(q.queue) > size {
			t.Fatalf("queue holds %d, more than %d", len(q.queue), size)
		}
	}
	got = append(got, q.drain()...)
	if len(got) != 100 {
		t.Fatalf("%d results, want 100", len(got))
	}
	for i, v := range got {
		if v != i*i {
			t.Fatalf("result %d = %d, want %d: out of order", i, v, i*i)
		}
	}
	if most.Load() < 2 {
		t.Errorf("at most %d ran at once: nothing ran in parallel", most.Load())
	}
	if len(q.queue) != 0 || len(q.slots) != 0 {
		t.Errorf("after drain: %d queued, %d slots held", len(q.queue), len(q.slots))
	}
}
