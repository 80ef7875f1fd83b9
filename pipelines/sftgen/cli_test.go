package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// --help shows sftgen's flags with what they do, the runner flags apart,
// and none of the Dataflow runner's (not linked any more).
func TestHelpShowsOurFlags(t *testing.T) {
	p := startSFTGen(t, nil, "--help")
	code := p.wait(t)
	help := p.stderr.String()
	if code != 0 {
		t.Errorf("--help exited %d", code)
	}
	for _, want := range []string{"-teacher_url", "OpenAI-compatible base URL", "-max_teacher_tokens", "-dry_run", "forecast the teacher's requests",
		"Beam runner flags", "-endpoint", "-environment_type", "Exit codes"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	for _, unwanted := range []string{"dataflow", "Dataflow", "(required)", "Just print the job", "gcs"} {
		if strings.Contains(help, unwanted) {
			t.Errorf("--help mentions %q", unwanted)
		}
	}
	t.Logf("--help: %d lines", strings.Count(help, "\n"))
}

// Command lines that used to fail late or silently fail at once, with one
// line saying why.
func TestBadCommandLinesFailAtOnce(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown runner", []string{"--runner=bogus"}, `unknown --runner="bogus"`},
		{"stray argument", []string{"--samples_per_prompt=2", "oops", "--output=elsewhere"}, `unexpected argument "oops"`},
		{"unreachable job service", []string{"--runner=flink", "--endpoint=localhost:1"}, "job service at --endpoint=localhost:1 is unreachable"},
		{"job service without endpoint", []string{"--runner=universal"}, "needs --endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startSFTGen(t, nil, tt.args...)
			code := p.wait(t)
			msg := strings.TrimSpace(p.stderr.String())
			t.Logf("exit %d after %v: %s", code, time.Since(p.start).Round(time.Millisecond), msg)
			if code != 1 || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 1 and one line with %q", code, msg, tt.want)
			}
			if _, err := os.Stat(filepath.Join(p.cmd.Dir, "out")); err == nil {
				t.Errorf("the failed command wrote ./out")
			}
		})
	}
}

// progressLine reads a progress line's figures.
var progressLine = regexp.MustCompile(`(\d+) prompts read, (\d+) samples drawn, (\d+) kept.*?, (\d+) tokens, (\d+) requests in flight`)

type figures struct{ prompts, samples, kept, tokens, inFlight int64 }

func lastProgress(t *testing.T, stderr, label string) figures {
	t.Helper()
	var line string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "sftgen: "+label+": ") {
			line = l
		}
	}
	m := progressLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no %q progress line in:\n%s", label, stderr)
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(m[i], 10, 64); return v }
	return figures{n(1), n(2), n(3), n(4), n(5)}
}

func readManifest(t *testing.T, out, version string) release.Manifest {
	t.Helper()
	store, err := storage.Open(filepath.Join(out, "quickstart"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return checkRelease(t, store, version)
}

func manifestTokens(m release.Manifest) int64 {
	var n int64
	for _, u := range m.TokenUsage {
		n += u.PromptTokens + u.CompletionTokens
	}
	return n
}

// With stderr not a terminal (a pipe here, a log file under a scheduler)
// the run prints plain progress lines while it works, and a last one whose
// counts are the manifest's; the manifest reports HTTP requests and the
// cache; and its recipe, saved to a file, reruns the same job.
func TestProgressMatchesManifestAndRecipeReruns(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	p := startSFTGen(t, nil, "--output="+out, "--version=v1", "--progress_every=50ms")
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, p.stderr.String())
	}
	stderr := p.stderr.String()
	if n := strings.Count(stderr, "sftgen: progress: "); n == 0 {
		t.Errorf("no progress line while the run worked:\n%s", stderr)
	}
	if strings.Contains(stderr, "\x1b[") || strings.Contains(stderr, "\r") {
		t.Errorf("terminal control codes in non-terminal output:\n%q", stderr)
	}
	got := lastProgress(t, stderr, "done")
	m := readManifest(t, out, "v1")
	want := figures{m.Counts.PromptsIn, m.Counts.SamplesGenerated, m.Counts.PromptsKept, manifestTokens(m), 0}
	t.Logf("last progress line %+v; manifest %+v; http_requests %d, cache %+v", got, want, m.HTTPRequests, m.Cache)
	if got != want {
		t.Errorf("progress %+v, manifest %+v", got, want)
	}
	var requests int64
	for _, u := range m.TokenUsage {
		requests += u.Requests
	}
	if m.HTTPRequests < requests || m.HTTPRequests == 0 || m.Cache.Misses != m.Counts.SamplesGenerated {
		t.Errorf("manifest: http_requests %d for %d completions, cache %+v for %d samples", m.HTTPRequests, requests, m.Cache, m.Counts.SamplesGenerated)
	}

	// The manifest's recipe is a recipe file.
	data, err := os.ReadFile(filepath.Join(out, "quickstart", "v1", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Recipe json.RawMessage `json:"recipe"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "recipe.yaml")
	if err := os.WriteFile(path, raw.Recipe, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Load(path)
	if err != nil {
		t.Fatalf("recipe.Load(manifest's recipe): %v\n%s", err, raw.Recipe)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("manifest's recipe: %v", err)
	}
	// Rerun it, with incremental off so it makes the same release again.
	rerun := startSFTGen(t, nil, "--recipe="+path, "--version=v2", "--incremental=false")
	if code := rerun.wait(t); code != 0 {
		t.Fatalf("rerun of the manifest's recipe: exit %d: %s", code, rerun.stderr.String())
	}
	m2 := readManifest(t, out, "v2")
	if m2.Counts != m.Counts {
		t.Errorf("rerun counts %+v, first run %+v", m2.Counts, m.Counts)
	}
	if m2.HTTPRequests != 0 || m2.Cache.Hits != m.Counts.SamplesGenerated {
		t.Errorf("rerun made %d HTTP requests and found %d samples in the cache; want 0 and %d", m2.HTTPRequests, m2.Cache.Hits, m.Counts.SamplesGenerated)
	}
}

// --max_teacher_tokens means what it says: a run that needs N tokens
// completes under a budget of 1.1 N, and under 0.5 N it spends about half
// and stops, publishing nothing and saying how far it got.
func TestTokenBudget(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	common := []string{"--output=" + out, "--teacher_cache=off", "--incremental=false", "--teacher_max_concurrency=8"}
	run := func(version string, budget int64) *sftgen {
		args := append([]string{"--version=" + version}, common...)
		if budget > 0 {
			args = append(args, "--max_teacher_tokens="+strconv.FormatInt(budget, 10))
		}
		p := startSFTGen(t, nil, args...)
		p.wait(t)
		return p
	}
	first := run("full", 0)
	if first.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("unbudgeted run: %s", first.stderr.String())
	}
	m := readManifest(t, out, "full")
	n := manifestTokens(m)
	perRequest := n / m.Counts.PromptsIn

	roomy := run("roomy", n*11/10)
	if roomy.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("run under a budget of 1.1 N = %d: %s", n*11/10, roomy.stderr.String())
	}
	readManifest(t, out, "roomy")

	half := run("half", n/2)
	stderr := half.stderr.String()
	if code := half.cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("run under 0.5 N exited %d: %s", code, stderr)
	}
	store, err := storage.Open(filepath.Join(out, "quickstart"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(t.Context(), "half/manifest.json"); err == nil {
		t.Errorf("the stopped run published a manifest")
	}
	if l := latest(t, store); l != "roomy" {
		t.Errorf("LATEST = %s after the stopped run, want roomy", l)
	}
	spent := regexp.MustCompile(`(\d+) of (\d+) tokens spent`).FindStringSubmatch(stderr)
	if spent == nil {
		t.Fatalf("the stopped run does not say what it spent:\n%s", stderr)
	}
	tokens, _ := strconv.ParseInt(spent[1], 10, 64)
	got := lastProgress(t, stderr, "got as far as")
	t.Logf("N = %d tokens (%d per request); under 0.5 N = %d: spent %d; got as far as %+v", n, perRequest, n/2, tokens, got)
	// Overshoot is bounded by the 8 requests in flight.
	if tokens < n/2-8*perRequest*2 || tokens > n/2+8*perRequest*2 {
		t.Errorf("spent %d under a budget of %d; want within 8 requests (%d tokens each) of it", tokens, n/2, perRequest)
	}
}
