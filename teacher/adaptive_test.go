package teacher

import (
	"fmt"
	"testing"
	"time"
)

// Against a server that turns away requests beyond its slots and a short
// queue, adaptive concurrency settles near what the server takes: far fewer
// 429s and no prompt lost, with the slots still kept busy.
func TestAdaptiveConcurrencyBacksOff(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few seconds")
	}
	run := func(adaptive bool) (SimStats, int, int) {
		sim := startSim(t, SimConfig{Slots: 8, MaxQueue: 4, Latency: 50 * time.Millisecond, RetryAfter: 50 * time.Millisecond, Solve: addSolver})
		cfg := testConfig(sim.URL(), sim.Model())
		cfg.MaxConcurrency = 64
		cfg.MaxRetries = 5
		cfg.RetryInitial = 20 * time.Millisecond
		cfg.AdaptiveConcurrency = adaptive
		c, err := NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		results := runPrompts(t, c, cfg.MaxConcurrency, 400, 1, func(i int) string { return fmt.Sprint("prompt ", i) })
		failed := 0
		for _, r := range results {
			if r.Err != nil {
				failed++
			}
		}
		return sim.Stats(), failed, c.Concurrency()
	}
	fixed, fixedFailed, _ := run(false)
	adapt, adaptFailed, limit := run(true)
	t.Logf("fixed 64:  %d requests, %d 429s, %d prompts failed, utilization %.3f", fixed.Requests, fixed.RateLimited, fixedFailed, fixed.Utilization)
	t.Logf("adaptive: %d requests, %d 429s, %d prompts failed, utilization %.3f, limit settled at %d", adapt.Requests, adapt.RateLimited, adaptFailed, adapt.Utilization, limit)
	if adaptFailed != 0 {
		t.Errorf("adaptive: %d prompts failed", adaptFailed)
	}
	if adapt.RateLimited*4 > fixed.RateLimited {
		t.Errorf("adaptive drew %d 429s, fixed %d: want at least 4× fewer", adapt.RateLimited, fixed.RateLimited)
	}
	if adapt.Utilization < 0.9 {
		t.Errorf("adaptive utilization %.3f < 0.9", adapt.Utilization)
	}
}
