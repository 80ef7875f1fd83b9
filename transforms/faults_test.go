package transforms

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/builtin"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// TestSFTGenFaults runs sftgen against a simulated teacher that faults
// about a fifth of its requests (429 with Retry-After, 500/503, dropped
// connections, truncated bodies) and cuts some samples short
// (finish_reason "length"), with a context window that some prompts do not
// fit. The run must succeed, every prompt must end in exactly one place
// (released, rejected or dead-lettered; none lost), the counts must
// reconcile, and dead letters must carry what the server said. With
// retries, the faults cost requests, not prompts: only the prompts the
// server refused as too long are dead letters, with vLLM's message. With no
// retries, every faulted request is a dead letter naming its fault.
func TestSFTGenFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline against a faulty teacher (a few seconds)")
	}
	for _, tt := range []struct {
		name       string
		maxRetries int
	}{
		{"retried", 8},
		{"no retries", 0},
	} {
		t.Run(tt.name, func(t *testing.T) { testFaults(t, tt.maxRetries) })
	}
}

func testFaults(t *testing.T, maxRetries int) {
	const n = 240
	input := fmt.Sprintf("builtin:arithmetic?n=%d&max_steps=6", n)
	spec, err := builtin.ParseSpec(input)
	if err != nil {
		t.Fatal(err)
	}
	problems := builtin.Generate(spec)

	r := recipe.Default()
	r.Input.Path = input
	r.Teacher.MaxTokens = 256
	// The context window: max_tokens plus the prompt tokens of all but the
	// longest ~8 % of prompts, so the longest are refused with vLLM's 400.
	tokens := make([]int, len(problems))
	for i, p := range problems {
		tokens[i] = int(teacher.EstimatePromptTokens(teacher.Request{Messages: recipe.Conversation(schemas.Prompt{Text: p.Text}, r.Input)}))
	}
	sorted := append([]int(nil), tokens...)
	sort.Ints(sorted)
	window := r.Teacher.MaxTokens + sorted[len(sorted)*92/100]
	tooLong := map[string]bool{}
	for i, p := range problems {
		if tokens[i]+r.Teacher.MaxTokens > window {
			tooLong[p.ID] = true
		}
	}
	if len(tooLong) == 0 || len(tooLong) > n/5 {
		t.Fatalf("%d of %d prompts exceed a %d-token window; want a few", len(tooLong), n, window)
	}

	sim := startBuiltinSim(t, input, teacher.SimConfig{
		Model: "sim", Accuracy: 0.7, Slots: 32, Latency: 2 * time.Millisecond, Seed: 7,
		RateLimitRate: 0.05, RetryAfter: 20 * time.Millisecond,
		ServerErrorRate: 0.06, DropRate: 0.05, TruncateBodyRate: 0.04,
		LengthRate:    0.1,
		ContextTokens: window,
	})
	r.Output.Path = t.TempDir()
	r.Output.Version = "v1"
	r.Teacher.URL, r.Teacher.Model = sim.URL(), sim.Model()
	r.Teacher.MaxConcurrency = 16
	r.Teacher.MaxRetries = maxRetries
	r.Teacher.RetryInitial, r.Teacher.RetryMaxInterval = 5*time.Millisecond, 40*time.Millisecond
	r.Teacher.MaxRetryAfter = 100 * time.Millisecond
	r.Teacher.Timeout = 10 * time.Second
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := runRecipe(t, r); err != nil {
		t.Fatalf("the run failed: %v", err)
	}
	m := checkRelease(t, r)
	st := sim.Stats()
	c := m.Counts
	faulted := st.RateLimited + st.ServerErrors + st.Dropped + st.TruncatedBodies
	t.Logf("%v: %d prompts: kept %d, rejected %d, contaminated %d, duplicate %d, dead %d (%d too long); server: %d requests, %d answered, %d rate-limited, %d 5xx, %d dropped, %d truncated bodies, %d bad requests (%.0f %% faulted); rejections %v, graded %v",
		time.Since(start).Round(time.Millisecond), c.PromptsIn, c.PromptsKept, c.PromptsRejected, c.PromptsContaminated, c.PromptsDuplicate, c.PromptsDeadLetter, len(tooLong),
		st.Requests, st.Completed, st.RateLimited, st.ServerErrors, st.Dropped, st.TruncatedBodies, st.BadRequests,
		100*float64(faulted)/float64(st.Requests), m.Rejections, m.Graded)

	// The faults happened.
	if st.RateLimited == 0 || st.ServerErrors == 0 || st.Dropped == 0 || st.TruncatedBodies == 0 || m.Graded["truncated"] == 0 {
		t.Errorf("not every fault was injected: %+v, graded %v", st, m.Graded)
	}
	if c.PromptsIn != n {
		t.Errorf("prompts_in = %d, want %d", c.PromptsIn, n)
	}

	// Every prompt ends in exactly one place.
	fates := map[string][]string{}
	for _, table := range []string{release.TableSFT, release.TablePreference, release.TableRLVR} {
		for id := range promptIDs(t, r, m, table) {
			if !slices.Contains(fates[id], "kept") {
				fates[id] = append(fates[id], "kept")
			}
		}
	}
	for id := range promptIDs(t, r, m, release.TableRejected) {
		fates[id] = append(fates[id], "rejected")
	}
	for _, x := range readJSONLIfAny[schemas.Contamination](t, filepath.Join(r.VersionRoot(), "contamination.jsonl")) {
		fates[x.ID] = append(fates[x.ID], "contaminated")
	}
	dead := readJSONLIfAny[schemas.DeadLetter](t, filepath.Join(r.VersionRoot(), "dead_letter.jsonl"))
	for _, d := range dead {
		fates[d.PromptID] = append(fates[d.PromptID], "dead_letter")
	}
	for _, p := range problems {
		if f := fates[p.ID]; len(f) != 1 {
			t.Errorf("prompt %s ends in %v, want exactly one place", p.ID, f)
		}
	}
	if len(fates) != n {
		t.Errorf("the release names %d prompts, the input has %d", len(fates), n)
	}

	// Dead letters say why: the server's 400 for a prompt too long, the
	// server's message for a 429 or 5xx, the broken transfer for a dropped
	// connection or a truncated body.
	kinds := map[string]int64{}
	for _, d := range dead {
		kind := ""
		switch {
		case d.Stage != "generate" || !strings.Contains(d.Reason, d.PromptID):
			t.Errorf("dead letter %+v: want stage generate and the prompt named", d)
		case tooLong[d.PromptID]:
			kind = "too long"
			if !strings.Contains(d.Reason, "HTTP 400: This model's maximum context length is") {
				t.Errorf("dead letter of %s lacks the server's message: %q", d.PromptID, d.Reason)
			}
		case strings.Contains(d.Reason, "HTTP 429: rate limit reached"):
			kind = "429"
		case strings.Contains(d.Reason, "HTTP 500: simulated internal error"), strings.Contains(d.Reason, "HTTP 503: simulated overload"):
			kind = "5xx"
		case strings.Contains(d.Reason, teacher.ErrUnavailable.Error()):
			kind = "broken transfer"
		default:
			t.Errorf("dead letter of %s does not say what happened: %q", d.PromptID, d.Reason)
		}
		if kinds[kind]++; kinds[kind] == 1 {
			t.Logf("a %s dead letter: %s", kind, d.Reason)
		}
		if maxRetries > 0 && kind != "too long" {
			t.Logf("every retry of %s faulted: %s", d.PromptID, d.Reason)
		}
	}
	if kinds["too long"] != int64(len(tooLong)) {
		t.Errorf("%d prompts were dead-lettered for their length, want %d", kinds["too long"], len(tooLong))
	}
	if maxRetries == 0 {
		// Each prompt that fits makes exactly one request, so each fault
		// is one dead letter.
		want := map[string]int64{"too long": int64(len(tooLong)), "429": st.RateLimited, "5xx": st.ServerErrors, "broken transfer": st.Dropped + st.TruncatedBodies}
		if !maps.Equal(kinds, want) {
			t.Errorf("dead letters by kind %v, want %v (one per fault)", kinds, want)
		}
	} else if c.PromptsDeadLetter > int64(len(tooLong))+2 {
		t.Errorf("%d dead letters, %d of them prompts whose every retry faulted; with %d retries that should be rare", c.PromptsDeadLetter, c.PromptsDeadLetter-int64(len(tooLong)), maxRetries)
	}
	if c.PromptsKept == 0 || c.SFTRows == 0 {
		t.Errorf("nothing was kept: %+v", c)
	}
}

// promptIDs returns the prompt_id of every row of a Parquet table of the
// release, with how many rows name it.
func promptIDs(t *testing.T, r recipe.Recipe, m release.Manifest, table string) map[string]int {
	t.Helper()
	type row struct {
		PromptID string `parquet:"prompt_id"`
	}
	ids := map[string]int{}
	for _, f := range filesOf(m, table) {
		rows, err := parquet.ReadFile[row](filepath.Join(r.VersionRoot(), f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, x := range rows {
			ids[x.PromptID]++
		}
	}
	return ids
}

// readJSONLIfAny is readJSONL of a report that may be empty.
func readJSONLIfAny[T any](t *testing.T, path string) []T {
	t.Helper()
	if data, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(data)) == "" {
		return nil
	}
	return readJSONL[T](t, path)
}
