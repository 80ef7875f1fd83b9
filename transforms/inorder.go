package transforms

import "runtime"

// inOrder runs a CPU-bound function of a DoFn's elements on every core
// and hands the results back in the order the elements came.
//
// A runner gives a DoFn's elements to one goroutine: on Prism a stage's
// whole input is one bundle, so the stage that grades and curates every
// sample would use one core however many the machine has, and it is the
// stage the run waits for. With inOrder, ProcessElement submits its element
// and emits whatever results are ready at the head of the queue;
// FinishBundle drains the rest. Emitting stays on the DoFn's goroutine, as
// Beam requires, and the output is the same, in the same order, as one
// call after another would give.
//
// At most size elements are in the queue, running or waiting to be
// emitted: submit blocks when it is full, so memory is bounded whatever
// the bundle's size.
type inOrder[In, Out any] struct {
	fn    func(In) Out
	slots chan struct{}
	queue []*pending[Out]
}

type pending[Out any] struct {
	done chan struct{}
	out  Out
}

// newInOrder runs fn on up to size elements at once (0: twice the cores).
func newInOrder[In, Out any](size int, fn func(In) Out) *inOrder[In, Out] {
	if size <= 0 {
		size = 2 * runtime.GOMAXPROCS(0)
	}
	return &inOrder[In, Out]{fn: fn, slots: make(chan struct{}, size)}
}

// submit starts fn(in), first waiting for the head of the queue while the
// queue is full; it returns the results that are ready, in order.
func (q *inOrder[In, Out]) submit(in In) []Out {
	var ready []Out
	for {
		select {
		case q.slots <- struct{}{}:
			p := &pending[Out]{done: make(chan struct{})}
			q.queue = append(q.queue, p)
			go func() {
				p.out = q.fn(in)
				close(p.done)
			}()
			return append(ready, q.ready()...)
		default:
			ready = append(ready, q.pop())
		}
	}
}

// ready returns the results at the head of the queue that are done.
func (q *inOrder[In, Out]) ready() []Out {
	var out []Out
	for len(q.queue) > 0 {
		select {
		case <-q.queue[0].done:
			out = append(out, q.pop())
		default:
			return out
		}
	}
	return out
}

// drain waits for every element submitted and returns their results.
func (q *inOrder[In, Out]) drain() []Out {
	var out []Out
	for len(q.queue) > 0 {
		out = append(out, q.pop())
	}
	return out
}

// pop waits for the head of the queue and removes it.
func (q *inOrder[In, Out]) pop() Out {
	p := q.queue[0]
	<-p.done
	q.queue[0] = nil
	q.queue = q.queue[1:]
	<-q.slots
	return p.out
}
