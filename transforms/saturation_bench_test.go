package transforms

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/builtin"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// startBuiltinSim starts the simulated teacher with the answer key of the
// builtin input spec (as StartSimTeacher does) and the rest of cfg, and
// closes it when tb ends.
func startBuiltinSim(tb testing.TB, input string, cfg teacher.SimConfig) *teacher.Sim {
	tb.Helper()
	spec, err := builtin.ParseSpec(input)
	if err != nil {
		tb.Fatal(err)
	}
	key := map[string]teacher.Solution{}
	for _, p := range builtin.Generate(spec) {
		key[p.Text] = teacher.Solution{Steps: p.Steps, Answer: p.Answer}
	}
	cfg.Solve = func(prompt string) (teacher.Solution, bool) {
		text, _, _ := strings.Cut(prompt, "\n\n") // the prompt before the instruction
		sol, ok := key[text]
		return sol, ok
	}
	if cfg.Seed == 0 {
		cfg.Seed = int64(spec.Seed)
	}
	sim, err := teacher.StartSim(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sim.Close() })
	return sim
}

// simRecipe is the quickstart over n builtin prompts, pointed at sim, with
// no response cache, writing under a fresh directory.
func simRecipe(tb testing.TB, n int, sim *teacher.Sim) recipe.Recipe {
	tb.Helper()
	r := recipe.Default()
	r.Input.Path = fmt.Sprintf("builtin:arithmetic?n=%d", n)
	r.Output.Path = tb.TempDir()
	r.Output.Version = "v1"
	r.Teacher.URL, r.Teacher.Model = sim.URL(), sim.Model()
	r.Teacher.DownAfter = 5 * time.Second
	if err := r.Validate(); err != nil {
		tb.Fatal(err)
	}
	return r
}

// runRecipe runs sftgen on Prism in this process.
func runRecipe(tb testing.TB, r recipe.Recipe) error {
	tb.Helper()
	p, s := beam.NewPipelineWithRoot()
	if err := SFTGen(s, r, "test"); err != nil {
		tb.Fatal(err)
	}
	return ptest.Run(p)
}

// readManifest reads the manifest of r's release (readManifestFile for
// any testing.TB).
func readManifest(tb testing.TB, r recipe.Recipe) release.Manifest {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(r.VersionRoot(), "manifest.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var m release.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// outstandingProbe samples, server side, the requests that have arrived
// and are not yet answered (queued or decoding). Its minimum over the
// steady state (after the first completion, while more than the client's
// in-flight bound remain to be answered) shows whether the client ever let
// the server's queue run dry mid-run: below the slot count, slots idled.
type outstandingProbe struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	min  int64
}

func startOutstandingProbe(sim *teacher.Sim, total, inFlight int) *outstandingProbe {
	p := &outstandingProbe{stop: make(chan struct{}), done: make(chan struct{}), min: -1}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			st := sim.Stats()
			if st.Completed < 1 || st.Completed > int64(total-inFlight) {
				continue
			}
			out := st.Requests - st.Completed
			p.mu.Lock()
			if p.min < 0 || out < p.min {
				p.min = out
			}
			p.mu.Unlock()
		}
	}()
	return p
}

// Min stops the probe and returns the minimum it saw (-1 if none).
func (p *outstandingProbe) Min() int64 {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.min
}

// bundleCounter is a slog.Handler that counts, from Prism's debug log, the
// bundles Prism ran for the stage holding generateFn and the dynamic splits
// it asked of them: one bundle and no splits means generateFn's own fan-out
// alone kept the teacher busy.
type bundleCounter struct {
	mu      sync.Mutex
	stage   string // Prism's id of the stage that holds generateFn
	bundles int
	splits  int
}

func (h *bundleCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h *bundleCounter) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *bundleCounter) WithGroup(string) slog.Handler            { return h }

func (h *bundleCounter) Handle(_ context.Context, r slog.Record) error {
	switch r.Message {
	case "preProcessGraph: all stages and transforms":
		r.Attrs(func(a slog.Attr) bool {
			for _, g := range a.Value.Resolve().Group() {
				if g.Key == "transforms" && strings.Contains(g.Value.String(), "generateFn") {
					h.mu.Lock()
					h.stage = a.Key
					h.mu.Unlock()
				}
			}
			return true
		})
	case "Execute: starting bundle", "splitting report":
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != "bundle" {
				return true
			}
			for _, g := range a.Value.Resolve().Group() {
				if g.Key != "stage" {
					continue
				}
				h.mu.Lock()
				if g.Value.String() == h.stage {
					if r.Message == "splitting report" {
						h.splits++
					} else {
						h.bundles++
					}
				}
				h.mu.Unlock()
			}
			return true
		})
	}
	return nil
}

// saturationCase is one pipeline saturation run: a sim with Slots decode
// slots holding each request for Latency, and Rounds × Slots prompts.
type saturationCase struct {
	Slots   int
	Latency time.Duration
	Rounds  int
	// NoSplit turns off Prism's dynamic splitting of slow bundles, so
	// generate gets its whole input as one bundle and only generateFn's own
	// fan-out keeps requests in flight.
	NoSplit bool
}

// saturationResult is what one run measured.
type saturationResult struct {
	Stats       teacher.SimStats
	Requests    int64 // teacher requests the manifest books
	Wall        time.Duration
	Outstanding int64 // minimum outstanding at the server in the steady state
	// Bundles and Splits are the bundles Prism ran for generate and the
	// dynamic splits it made of them.
	Bundles, Splits int
}

// runSaturation runs sftgen once against a fresh sim (so a cold client, as
// in a real run) with teacher.max_concurrency = SaturatingConcurrency(C).
func runSaturation(tb testing.TB, tc saturationCase) saturationResult {
	tb.Helper()
	n := tc.Slots * tc.Rounds
	input := fmt.Sprintf("builtin:arithmetic?n=%d", n)
	sim := startBuiltinSim(tb, input, teacher.SimConfig{Model: "sim", Accuracy: 0.7, Slots: tc.Slots, Latency: tc.Latency})
	r := simRecipe(tb, n, sim)
	r.Teacher.MaxConcurrency = teacher.SaturatingConcurrency(tc.Slots)
	if tc.NoSplit {
		old := *jobopts.Experiments
		*jobopts.Experiments = "prism_disable_sdf_split"
		defer func() { *jobopts.Experiments = old }()
	}
	counter := &bundleCounter{}
	logger := slog.Default()
	slog.SetDefault(slog.New(counter))
	probe := startOutstandingProbe(sim, n, r.Teacher.MaxConcurrency)
	start := time.Now()
	err := runRecipe(tb, r)
	wall := time.Since(start)
	minOut := probe.Min()
	slog.SetDefault(logger)
	if err != nil {
		tb.Fatal(err)
	}
	m := readManifest(tb, r)
	if err := m.Counts.Reconcile(); err != nil {
		tb.Error(err)
	}
	st := sim.Stats()
	reqs := m.TokenUsage[r.Teacher.Model].Requests
	if st.Completed != reqs || st.Requests != reqs {
		tb.Errorf("server answered %d of %d requests, the manifest books %d", st.Completed, st.Requests, reqs)
	}
	if counter.stage == "" {
		tb.Log("generate's stage not found in Prism's log: bundles not counted")
	}
	return saturationResult{Stats: st, Requests: reqs, Wall: wall, Outstanding: minOut, Bundles: counter.bundles, Splits: counter.splits}
}

// saturationCases keep one run near 15 s of decoding: long enough that the
// ramp-up (every slot busy only once C requests have reached the server)
// is a small part of the span, short enough for 2 busy cores.
var saturationCases = []saturationCase{
	{Slots: 32, Latency: 500 * time.Millisecond, Rounds: 30},
	{Slots: 256, Latency: 1500 * time.Millisecond, Rounds: 10},
}

// BenchmarkSFTGenSaturation runs the whole sftgen pipeline on Prism against
// the simulated teacher with C decode slots and a fixed decode latency, and
// reports the server-side utilization: busy slot-seconds / (C × span from
// the first request's arrival to the last completion), which must be at
// least 0.98. teacher.max_concurrency is SaturatingConcurrency(C) = 2C.
//
// Prism hands generate its whole input as one bundle; when the bundle's
// input stops advancing for a progress tick (generateFn blocks in Submit
// while 2C requests are in flight) Prism splits it, and the residuals run as
// concurrent bundles sharing the worker's bound on requests in flight. The
// split=off cases turn splitting off (Prism's prism_disable_sdf_split
// experiment), so one bundle and generateFn's own fan-out do all the work.
// Metrics: utilization, req/s, rampup-ms (first arrival until all C slots
// are busy), span-s, wall-s (whole pipeline), min-outstanding (fewest
// requests queued or decoding at the server in the steady state; below C
// means slots idled), bundles and splits of the generate stage.
//
//	go test ./transforms/ -run '^$' -bench SFTGenSaturation -benchtime 1x
//
// bench/saturation.sh runs it and prints a table.
func BenchmarkSFTGenSaturation(b *testing.B) {
	for _, base := range saturationCases {
		for _, noSplit := range []bool{false, true} {
			tc := base
			tc.NoSplit = noSplit
			split := "default"
			if noSplit {
				split = "off"
			}
			b.Run(fmt.Sprintf("C=%d/split=%s", tc.Slots, split), func(b *testing.B) {
				var util, reqs, span, ramp, wall, bundles, splits float64
				minOut := int64(-1)
				runs := 0
				for b.Loop() {
					res := runSaturation(b, tc)
					st := res.Stats
					runs++
					util += st.Utilization
					reqs += float64(res.Requests)
					span += st.LastCompletion.Sub(st.FirstArrival).Seconds()
					ramp += st.RampUp.Seconds()
					wall += res.Wall.Seconds()
					bundles += float64(res.Bundles)
					splits += float64(res.Splits)
					if minOut < 0 || (res.Outstanding >= 0 && res.Outstanding < minOut) {
						minOut = res.Outstanding
					}
					b.Logf("C=%d latency=%v in-flight=%d split=%s: %d requests, span %.2fs (wall %.2fs), peak %d busy, ramp-up %v, min outstanding %d, generate bundles %d (splits %d), utilization %.4f",
						tc.Slots, tc.Latency, teacher.SaturatingConcurrency(tc.Slots), split, res.Requests, st.LastCompletion.Sub(st.FirstArrival).Seconds(), res.Wall.Seconds(),
						st.PeakBusy, st.RampUp.Round(time.Millisecond), res.Outstanding, res.Bundles, res.Splits, st.Utilization)
				}
				f := float64(runs)
				b.ReportMetric(util/f, "utilization")
				b.ReportMetric(reqs/span, "req/s")
				b.ReportMetric(ramp/f*1000, "rampup-ms")
				b.ReportMetric(span/f, "span-s")
				b.ReportMetric(wall/f, "wall-s")
				b.ReportMetric(float64(minOut), "min-outstanding")
				b.ReportMetric(bundles/f, "bundles")
				b.ReportMetric(splits/f, "splits")
				b.ReportMetric(0, "ns/op") // a run's wall time is wall-s
			})
		}
	}
}
