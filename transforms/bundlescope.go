package transforms

import "context"

// bundleScope is the context of a bundle's requests, from StartBundle to
// the end of the bundle: a DoFn that keeps requests in flight across
// elements opens it in StartBundle and ends it when the bundle finishes
// or fails, so no request outlives its bundle (and keeps spending tokens).
type bundleScope struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// open ends any earlier bundle's requests (a bundle that failed elsewhere
// in its stage never reaches FinishBundle) and opens a new context.
func (b *bundleScope) open(drain func()) {
	b.end(drain)
	b.ctx, b.cancel = context.WithCancel(context.Background())
}

// end cancels the bundle's requests and waits for them with drain, whose
// results are dropped; it does nothing when no bundle is open.
func (b *bundleScope) end(drain func()) {
	if b.cancel != nil {
		b.cancel()
		drain()
		b.cancel = nil
	}
}
