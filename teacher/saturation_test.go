package teacher

import (
	"fmt"
	"testing"
	"time"
)

// saturate sends rounds × slots requests through a Pool of size inFlight to
// a sim with that many decode slots and returns what the server measured.
// A first round opens the client's connections and is not measured: a
// worker's client lives across bundles (opened in the DoFn's Setup), so
// its steady state has warm connections.
func saturate(tb testing.TB, slots, inFlight int, latency time.Duration, rounds int) SimStats {
	tb.Helper()
	sim := startSim(tb, SimConfig{Slots: slots, Latency: latency, Solve: addSolver, Accuracy: 0.5})
	cfg := testConfig(sim.URL(), sim.Model())
	cfg.MaxConcurrency = inFlight
	c, err := NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	prompt := func(i int) string { return fmt.Sprintf("What is %d+%d?", i, i) }
	runPrompts(tb, c, inFlight, inFlight, 1, func(i int) string { return prompt(-i) })
	sim.ResetStats()
	results := runPrompts(tb, c, inFlight, slots*rounds, 1, prompt)
	for k, r := range results {
		if r.Err != nil {
			tb.Fatalf("prompt %v: %v", k, r.Err)
		}
	}
	return sim.Stats()
}

// The pool keeps a server with C decode slots busy: once every slot is
// busy, utilization measured server side (1 − idle slot-seconds / (C ×
// span to the last completion)) is at least 0.98 when max_concurrency is
// C plus a margin (SaturatingConcurrency), so that the server's queue hides
// the client's turnaround. The ramp-up before every slot is busy (50-350 ms
// on a 2-core machine at load 15, 820 ms under -race beside three other
// builds) measures how fast the machine schedules the first C requests,
// not the pool, so the test leaves it out; the whole-span figure, ramp-up
// included, is logged here and is bench/saturation.sh's measure. Decodes
// last 1-2 s (real rationales take longer) so that scheduling stalls
// shorter than a decode are absorbed by the queue.
func TestSaturation(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few seconds")
	}
	tests := []struct {
		slots   int
		latency time.Duration
		rounds  int
	}{
		{32, time.Second, 16},
		{256, 2 * time.Second, 10},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("C=%d", tt.slots), func(t *testing.T) {
			t.Parallel() // mostly waiting: decode latency dominates
			inFlight := SaturatingConcurrency(tt.slots)
			st := saturate(t, tt.slots, inFlight, tt.latency, tt.rounds)
			span := st.LastCompletion.Sub(st.FirstArrival)
			t.Logf("C=%d, %d in flight: %d requests in %v, busy %.1f slot-s, peak %d busy, ramp-up %v, utilization %.4f (after the ramp-up %.4f)",
				tt.slots, inFlight, st.Completed, span.Round(time.Millisecond), st.BusySlotSeconds, st.PeakBusy, st.RampUp.Round(time.Millisecond), st.Utilization, st.SteadyUtilization)
			if st.PeakBusy != tt.slots || st.SteadyUtilization < 0.98 {
				t.Errorf("peak %d of %d slots busy, utilization after the ramp-up %.4f < 0.98", st.PeakBusy, tt.slots, st.SteadyUtilization)
			}
		})
	}
}

// BenchmarkSaturation reports server-side utilization and request
// throughput for C decode slots, with exactly C in flight and with
// SaturatingConcurrency(C).
//
//	go test ./teacher/ -run '^$' -bench Saturation -benchtime 1x
func BenchmarkSaturation(b *testing.B) {
	for _, tt := range []struct {
		slots   int
		latency time.Duration
		rounds  int
	}{{32, 250 * time.Millisecond, 24}, {256, time.Second, 12}} {
		slots := tt.slots
		for _, inFlight := range []int{slots, SaturatingConcurrency(slots)} {
			b.Run(fmt.Sprintf("C=%d/inflight=%d", slots, inFlight), func(b *testing.B) {
				var util, steady, reqs, secs float64
				for b.Loop() {
					st := saturate(b, slots, inFlight, tt.latency, tt.rounds)
					util += st.Utilization
					steady += st.SteadyUtilization
					reqs += float64(st.Completed)
					secs += st.LastCompletion.Sub(st.FirstArrival).Seconds()
				}
				b.ReportMetric(util/float64(b.N), "utilization")
				b.ReportMetric(steady/float64(b.N), "steady-utilization")
				b.ReportMetric(reqs/secs, "req/s")
			})
		}
	}
}
