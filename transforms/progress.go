package transforms

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/syllabus-dev/syllabus/transforms/release"
)

// Progress is what a run has done so far, as counted in this process.
//
// Where the figures come from: every stage's tallies (the counts the
// manifest sums) pass through watchTalliesFn, and the generate stage counts
// samples, tokens and requests in flight as results arrive. Both update
// Beam metrics (namespace "sftgen": one counter per tally key, a
// distribution of tokens per request, a gauge of requests in flight), which
// any runner's UI shows, and this process's Progress for the run. With the
// embedded Prism runner, or any runner with --environment_type=LOOPBACK,
// the workers run in this process, so Progress is live; with workers in
// other processes (Flink, EXTERNAL) it stays at zero and the runner's
// metrics are the place to watch.
type Progress struct {
	start time.Time
	// From the tally stream: the same counts the manifest reports.
	promptsIn, kept, rejected, fated atomic.Int64
	// From the generate stage, as results arrive.
	samples, tokens, requests, inFlight atomic.Int64
}

// ProgressSnapshot is a Progress at one moment.
type ProgressSnapshot struct {
	Elapsed                             time.Duration
	PromptsIn, Kept, Rejected, Fated    int64
	Samples, Tokens, Requests, InFlight int64
}

var progressByRun sync.Map // run (version root) -> *Progress

// RunProgress returns the progress of the run writing to root (the
// recipe's VersionRoot), starting its clock on first call.
func RunProgress(root string) *Progress {
	p, _ := progressByRun.LoadOrStore(root, &Progress{start: time.Now()})
	return p.(*Progress)
}

// Snapshot reads the counters.
func (p *Progress) Snapshot() ProgressSnapshot {
	return ProgressSnapshot{Elapsed: time.Since(p.start), PromptsIn: p.promptsIn.Load(), Kept: p.kept.Load(), Rejected: p.rejected.Load(),
		Fated: p.fated.Load(), Samples: p.samples.Load(), Tokens: p.tokens.Load(), Requests: p.requests.Load(), InFlight: p.inFlight.Load()}
}

// String is the progress line: prompts read, samples drawn, kept %,
// tokens, requests in flight, rate and ETA (from the prompts that have
// reached their fate so far).
func (s ProgressSnapshot) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d prompts read, %d samples drawn", s.PromptsIn, s.Samples)
	if graded := s.Kept + s.Rejected; graded > 0 {
		fmt.Fprintf(&b, ", %d kept (%.1f%%)", s.Kept, 100*float64(s.Kept)/float64(graded))
	} else {
		fmt.Fprintf(&b, ", %d kept", s.Kept)
	}
	fmt.Fprintf(&b, ", %d tokens, %d requests in flight", s.Tokens, s.InFlight)
	secs := s.Elapsed.Seconds()
	if secs > 0 {
		fmt.Fprintf(&b, ", %.0f samples/s", float64(s.Samples)/secs)
	}
	if s.Fated > 0 && s.PromptsIn > s.Fated && secs > 0 {
		eta := time.Duration(float64(s.PromptsIn-s.Fated) / (float64(s.Fated) / secs) * float64(time.Second))
		fmt.Fprintf(&b, ", ETA %s", eta.Round(time.Second))
	}
	return b.String()
}

// watchTalliesFn passes the run's tallies to its Progress and to Beam
// counters, one per tally key, on their way to the manifest.
type watchTalliesFn struct {
	Run string

	progress *Progress
}

func (f *watchTalliesFn) Setup() { f.progress = RunProgress(f.Run) }

func (f *watchTalliesFn) ProcessElement(ctx context.Context, key string, n int64) {
	beam.NewCounter("sftgen", key).Inc(ctx, n)
	p := f.progress
	switch {
	case key == release.TallyPromptsIn:
		p.promptsIn.Add(n)
	case key == release.FateKept:
		p.kept.Add(n)
		p.fated.Add(n)
	case key == release.FateRejected:
		p.rejected.Add(n)
		p.fated.Add(n)
	case strings.HasPrefix(key, release.FatePrefix):
		p.fated.Add(n)
	}
}

var (
	requestTokens    = beam.NewDistribution("sftgen", "request_tokens")
	requestsInFlight = beam.NewGauge("sftgen", "requests_in_flight")
)

// requestDone counts a request of the generate stage out of those in
// flight.
func (p *Progress) requestDone() {
	p.inFlight.Add(-1)
	p.requests.Add(1)
}
