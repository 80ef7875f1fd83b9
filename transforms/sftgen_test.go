package transforms

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/parquet-go/parquet-go"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

func init() {
	register.Function1x1[schemas.Prompt, string](promptID)
	register.Function2x1[string, int64, string](formatTally)
}

func promptID(p schemas.Prompt) string     { return p.ID }
func formatTally(k string, v int64) string { return fmt.Sprintf("%s=%d", k, v) }

// TestMain runs the pipeline tests on Prism, keeping its job narration out
// of test output (failures still come back as errors from ptest.Run).
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ptest.Main(m)
}

// quickRecipe is the quickstart with a small input, writing under dir.
func quickRecipe(t *testing.T, n int) recipe.Recipe {
	t.Helper()
	r := recipe.Default()
	r.Input.Path = fmt.Sprintf("builtin:arithmetic?n=%d", n)
	r.Output.Path = t.TempDir()
	r.Output.Version = "v1"
	r.Teacher.DownAfter = 5 * time.Second
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	return r
}

func runSFTGen(t *testing.T, r recipe.Recipe) error {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	if err := SFTGen(s, r, "test"); err != nil {
		t.Fatal(err)
	}
	return ptest.Run(p)
}

// runSimulated starts the simulated teacher for r (pointing r at it, and
// at its reward model when r asks for it; stopped when the test ends) and
// runs sftgen, failing the test if the run fails.
func runSimulated(t *testing.T, r *recipe.Recipe) {
	t.Helper()
	stop, err := StartSimTeacher(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop() })
	if err := runSFTGen(t, *r); err != nil {
		t.Fatal(err)
	}
}

func readManifestFile(t *testing.T, r recipe.Recipe) release.Manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.VersionRoot(), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m release.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkRelease verifies what every release must satisfy: the counts
// reconcile, every file of the manifest exists with its size, hash and row
// count, Parquet files read back, and LATEST names the version.
func checkRelease(t *testing.T, r recipe.Recipe) release.Manifest {
	t.Helper()
	m := readManifestFile(t, r)
	if err := m.Counts.Reconcile(); err != nil {
		t.Error(err)
	}
	root := r.VersionRoot()
	tables := map[string]int64{}
	for _, f := range m.Files {
		data, err := os.ReadFile(filepath.Join(root, f.Path))
		if err != nil {
			t.Errorf("manifest lists %s: %v", f.Path, err)
			continue
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(data)) != f.Bytes {
			t.Errorf("%s: size or sha256 differ from the manifest", f.Path)
		}
		var rows int64
		if strings.HasSuffix(f.Path, ".parquet") {
			pf, err := parquet.OpenFile(strings.NewReader(string(data)), int64(len(data)))
			if err != nil {
				t.Errorf("%s: %v", f.Path, err)
				continue
			}
			rows = pf.NumRows()
		} else if strings.HasSuffix(f.Path, ".yaml") && len(data) > 0 {
			rows = 1 // a document table: one row, the whole file
		} else {
			rows = int64(strings.Count(string(data), "\n"))
		}
		if rows != f.Rows {
			t.Errorf("%s holds %d rows, manifest says %d", f.Path, rows, f.Rows)
		}
		tables[strings.SplitN(strings.TrimSuffix(f.Path, ".jsonl"), "/", 2)[0]] += rows
	}
	if tables[release.TableSFT] != m.Counts.SFTRows || tables[release.TablePreference] != m.Counts.PreferenceRows || tables[release.TableRLVR] != m.Counts.RLVRRows {
		t.Errorf("rows in files %v do not match counts %+v", tables, m.Counts)
	}
	if tables[release.TableDeadLetter] != m.Counts.PromptsDeadLetter {
		t.Errorf("dead_letter.jsonl holds %d lines, counts say %d", tables[release.TableDeadLetter], m.Counts.PromptsDeadLetter)
	}
	latest, err := os.ReadFile(filepath.Join(r.NameRoot(), "LATEST"))
	if err != nil || strings.TrimSpace(string(latest)) != r.Output.Version {
		t.Errorf("LATEST = %q, %v; want %s", latest, err, r.Output.Version)
	}
	return m
}

func TestSFTGenQuickstart(t *testing.T) {
	r := quickRecipe(t, 60)
	r.Output.ShardRows = 10 // several shards, some of them maybe empty
	stop, err := StartSimTeacher(&r, &SimOptions{Accuracy: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := runSFTGen(t, r); err != nil {
		t.Fatal(err)
	}
	m := checkRelease(t, r)
	c := m.Counts
	if c.PromptsIn != 60 || c.PromptsKept == 0 || c.SamplesGenerated != 60*4 {
		t.Errorf("counts = %+v", c)
	}
	if c.SFTRows != c.PromptsKept { // max_correct 1: one row per kept prompt
		t.Errorf("sft rows %d != kept prompts %d", c.SFTRows, c.PromptsKept)
	}
	if n := len(filesOf(m, release.TableSFT)); n != int((c.SFTRows+9)/10) {
		t.Errorf("sft is in %d shards, want %d", n, (c.SFTRows+9)/10)
	}
	if u := m.TokenUsage["sim"]; u.Requests != 60 || u.CompletionTokens == 0 {
		t.Errorf("token usage = %+v", m.TokenUsage)
	}
	if len(m.Benchmarks) < 10 || m.Difficulty["easy"]+m.Difficulty["medium"]+m.Difficulty["hard"]+m.Difficulty["trivial"] != c.PromptsKept {
		t.Errorf("benchmarks %d, difficulty %v", len(m.Benchmarks), m.Difficulty)
	}
	card, _ := os.ReadFile(filepath.Join(r.VersionRoot(), "README.md"))
	if !strings.HasPrefix(string(card), "---\nconfigs:\n") || !strings.Contains(string(card), "path: sft/train-*.parquet") {
		t.Errorf("dataset card lacks the loader's front matter:\n%s", card)
	}

	// An SFT row read back with parquet-go has the conversation and lineage.
	rows, err := parquet.ReadFile[schemas.SFTExample](filepath.Join(r.VersionRoot(), filesOf(m, release.TableSFT)[0]))
	if err != nil || len(rows) == 0 {
		t.Fatalf("reading sft shard: %v", err)
	}
	row := rows[0]
	if len(row.Messages) != 2 || row.Messages[1].Role != "assistant" || !strings.Contains(row.Messages[1].Content, `\boxed{`+row.Answer+`}`) || row.PromptID == "" {
		t.Errorf("sft row = %+v", row)
	}
	// Without a reward model the reward is null; lengths and the pass
	// rate's interval are always there.
	if row.Reward != nil || row.ResponseTokens <= 0 || row.SamplesDrawn != 4 || !(row.PassRateLow <= row.PassRate && row.PassRate <= row.PassRateHigh && row.PassRateHigh > row.PassRateLow) {
		t.Errorf("sft row reward %v, tokens %d, drawn %d, pass rate %v in [%v, %v]", row.Reward, row.ResponseTokens, row.SamplesDrawn, row.PassRate, row.PassRateLow, row.PassRateHigh)
	}
	if s := m.ResponseTokens["sft"]; s.Count != int(c.SFTRows) || s.P50 <= 0 || m.Sampling.SamplesDrawn != 240 || m.Sampling.MaxSamples != 240 || m.Lineage.PromptTemplateHash == "" {
		t.Errorf("manifest response tokens %+v, sampling %+v, lineage %+v", s, m.Sampling, m.Lineage)
	}
}

func filesOf(m release.Manifest, table string) []string {
	var out []string
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, table+"/") {
			out = append(out, f.Path)
		}
	}
	return out
}

// TestSFTGenAccountsForEveryRecord runs real JSONL input holding bad lines,
// duplicates, a prompt without a reference and a benchmark question: each
// record must end in exactly one place, bad lines in dead_letter.jsonl with
// their line numbers.
func TestSFTGenAccountsForEveryRecord(t *testing.T) {
	benchQ := firstBenchmarkQuestion(t, gsm8kTestExcerpt)
	good := map[string]string{
		"Tom has 3 apples and buys 4 more. How many apples does Tom have?":        "7",
		"A box holds 6 rows of 5 eggs. How many eggs are in the box?":             "30",
		"Sara reads 12 pages a day for 3 days. How many pages does she read?":     "36",
		"There are 20 birds and 8 fly away. How many birds are left on the wire?": "12",
	}
	var lines []string
	add := func(v any) {
		b, _ := json.Marshal(v)
		lines = append(lines, string(b))
	}
	i := 0
	for q, a := range good {
		i++
		add(map[string]any{"id": fmt.Sprintf("g%d", i), "prompt": q, "answer": a})
	}
	add(map[string]any{"id": "dup", "prompt": "  TOM has 3 apples and buys 4 more. How many apples does Tom have?", "answer": "7"})
	add(map[string]any{"id": "noref", "prompt": "Describe a quiet morning walk through the hills near the old mill."})
	add(map[string]any{"id": "bench", "prompt": benchQ, "answer": "1"})
	bad := []string{
		`{"id": "broken", "prompt": "no end`,
		"{\"id\": \"utf\", \"prompt\": \"caf\xff\"}",
		`{"id": "missing"}`,
		`{"id": "num", "prompt": 5}`,
		`{"id": "empty", "prompt": ""}`,
		`[1, 2]`,
		`{"id": ["x"], "prompt": "array id"}`,
		`{"id": "ans", "prompt": "object answer", "answer": {"v": 1}}`,
		`{"id": "null", "prompt": null}`,
	}
	firstBad := len(lines) + 1
	lines = append(lines, bad...)
	path := filepath.Join(t.TempDir(), "prompts.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	sim, err := teacher.StartSim(teacher.SimConfig{Model: "m", Accuracy: 1, Solve: func(prompt string) (teacher.Solution, bool) {
		q, _, _ := strings.Cut(prompt, "\n\n")
		a, ok := good[q]
		return teacher.Solution{Steps: []string{"Compute it."}, Answer: a}, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	r := quickRecipe(t, 1)
	r.Input.Path = path
	r.Teacher.URL, r.Teacher.Model = sim.URL(), "m"
	r.Output.MaxDeadLetterFraction = 0.9 // 9 of the 16 records are bad on purpose
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := runSFTGen(t, r); err != nil {
		t.Fatal(err)
	}
	m := checkRelease(t, r)
	want := schemas.Counts{PromptsIn: int64(len(lines)), PromptsKept: 4, PromptsRejected: 1, PromptsContaminated: 1, PromptsDuplicate: 1, PromptsDeadLetter: int64(len(bad))}
	c := m.Counts
	if c.PromptsIn != want.PromptsIn || c.PromptsKept != want.PromptsKept || c.PromptsRejected != want.PromptsRejected ||
		c.PromptsContaminated != want.PromptsContaminated || c.PromptsDuplicate != want.PromptsDuplicate || c.PromptsDeadLetter != want.PromptsDeadLetter {
		t.Errorf("counts = %+v, want %+v", c, want)
	}
	if m.Rejections[filters.ReasonNoReference] != 1 || m.Rejections[filters.ReasonDuplicate] != 1 {
		t.Errorf("rejections = %v", m.Rejections)
	}
	if m.TokenUsage["m"].Requests != 5 { // 4 good + noref; never the duplicate nor the benchmark question
		t.Errorf("teacher requests = %d, want 5: no GPU time on duplicates or contaminated prompts", m.TokenUsage["m"].Requests)
	}

	dead := readJSONL[schemas.DeadLetter](t, filepath.Join(r.VersionRoot(), "dead_letter.jsonl"))
	gotLines := map[int]bool{}
	for _, d := range dead {
		gotLines[d.Line] = true
		if d.Source != path || d.Reason == "" || d.Stage != "read" {
			t.Errorf("dead letter %+v lacks its source or reason", d)
		}
	}
	for l := firstBad; l < firstBad+len(bad); l++ {
		if !gotLines[l] {
			t.Errorf("line %d is not in the dead letters", l)
		}
	}
	contam := readJSONL[schemas.Contamination](t, filepath.Join(r.VersionRoot(), "contamination.jsonl"))
	if len(contam) != 1 || contam[0].ID != "bench" || contam[0].Benchmark != "gsm8k" || contam[0].Score < 0.9 || len(contam[0].MatchedNgrams) == 0 {
		t.Errorf("contamination report = %+v", contam)
	}
}

// gsm8kTestExcerpt is the GSM8K test set the repository carries (as
// decontam's evidence), gzipped.
const gsm8kTestExcerpt = "../decontam/testdata/benchmarks/gsm8k/test.jsonl.gz"

func firstBenchmarkQuestion(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	var rec struct{ Question string }
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	sc.Scan()
	if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.Question == "" {
		t.Fatalf("reading %s: %v", path, err)
	}
	return rec.Question
}

func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

// TestSFTGenServerDownFailsWithoutPublishing points the teacher at a server
// that drops every connection: the run must fail with one clear error, and
// no LATEST. (The port stays held by the test: a closed port could be taken
// by Prism's own gRPC servers meanwhile, which answer HTTP with a 4xx.)
func TestSFTGenServerDownFailsWithoutPublishing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	url := "http://" + ln.Addr().String() + "/v1"

	r := quickRecipe(t, 5)
	r.Teacher.URL = url
	r.Teacher.DownAfter = 300 * time.Millisecond
	r.Teacher.DownMinFailures = 1
	r.Teacher.RetryInitial, r.Teacher.RetryMaxInterval = 10*time.Millisecond, 50*time.Millisecond
	r.Teacher.MaxRetries = 1000 // retries outlast down_after, as the defaults do
	err = runSFTGen(t, r)
	if err == nil || !strings.Contains(err.Error(), "server down") {
		t.Fatalf("run error = %v, want one naming the server down", err)
	}
	if _, err := os.Stat(filepath.Join(r.NameRoot(), "LATEST")); !os.IsNotExist(err) {
		t.Errorf("a failed run published LATEST (stat: %v)", err)
	}
}

// TestDedupStage checks the dedup stage on its own with passert: prompts
// equal after normalization collapse to the first by source and line,
// through the spill in a scratch version root.
func TestDedupStage(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	prompts := beam.Create(s,
		schemas.Prompt{ID: "b", Text: "What is 2+2?", Source: "f", Line: 2},
		schemas.Prompt{ID: "a", Text: "what is 2 + 2 ?", Source: "f", Line: 1},
		schemas.Prompt{ID: "c", Text: "What is 3+3?", Source: "f", Line: 3},
		schemas.Prompt{ID: "d", Text: "WHAT IS 2+2?", Source: "f", Line: 4},
	)
	unique, rows, tallies := exactDedup(s, t.TempDir(), "", prompts)
	passert.Equals(s, beam.ParDo(s, promptID, unique), "a", "c")
	passert.Count(s, rows, "duplicate rows", 2)
	passert.Equals(s, beam.ParDo(s, formatTally, tallies), "fate:duplicate=1", "fate:duplicate=1", "reason:duplicate=1", "reason:duplicate=1")
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
}

// TestSFTGenIncremental: a second release into the same output skips the
// prompts the first one holds (as duplicates, reason in_earlier_release),
// pays only for the new ones, and never overwrites a release.
func TestSFTGenIncremental(t *testing.T) {
	r := quickRecipe(t, 20)
	r.Teacher.CacheDir = "" // only incremental releases may save requests here
	runSimulated(t, &r)
	first := checkRelease(t, r)

	r2 := r
	r2.Input.Path = "builtin:arithmetic?n=30" // the first 20 and 10 new
	r2.Output.Version = "v2"
	stop2, err := StartSimTeacher(&r2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop2()
	if err := runSFTGen(t, r2); err != nil {
		t.Fatal(err)
	}
	m := checkRelease(t, r2)
	released := first.Counts.PromptsKept + first.Counts.PromptsRejected
	if m.Counts.PromptsIn != 30 || m.Counts.PromptsDuplicate != released || m.Rejections[release.ReasonInEarlierRelease] != released {
		t.Errorf("second release counts %+v, rejections %v; want %d in earlier release", m.Counts, m.Rejections, released)
	}
	if got := m.TokenUsage["sim"].Requests; got != 30-released {
		t.Errorf("second release made %d teacher requests, want %d", got, 30-released)
	}

	p, s := beam.NewPipelineWithRoot()
	if err := SFTGen(s, r2, "test"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("building a graph over an existing release: %v", err)
	}
	_ = p
}

// TestSFTGenIncrementalNamesEarliestRelease: three releases, each over a
// longer prefix of the same prompts. The third skips what either earlier
// release holds, joining prompts and released ids partition by partition
// (skipReleased's spills), and each skipped prompt's rejection names the
// release that first held it; new prompts go on; nothing is left in the
// spill.
func TestSFTGenIncrementalNamesEarliestRelease(t *testing.T) {
	r := quickRecipe(t, 20)
	r.Teacher.CacheDir = ""
	runSimulated(t, &r)
	var released int64
	for i, n := range []int{20, 30, 40} {
		ri := r
		ri.Input.Path = fmt.Sprintf("builtin:arithmetic?n=%d", n)
		ri.Output.Version = fmt.Sprintf("v%d", i+1)
		if i > 0 {
			runSimulated(t, &ri)
		}
		m := checkRelease(t, ri)
		if got := m.Rejections[release.ReasonInEarlierRelease]; got != released {
			t.Errorf("%s: %d prompts in earlier releases, want %d", ri.Output.Version, got, released)
		}
		if m.Counts.PromptsIn != int64(n) {
			t.Errorf("%s: prompts_in %d, want %d", ri.Output.Version, m.Counts.PromptsIn, n)
		}
		if left, err := os.ReadDir(filepath.Join(ri.VersionRoot(), spillDir)); err == nil || !os.IsNotExist(err) {
			t.Errorf("%s: spill left: %v (%v)", ri.Output.Version, left, err)
		}
		var skipped int64
		for _, f := range filesOf(m, release.TableRejected) {
			rows, err := parquet.ReadFile[schemas.Rejection](filepath.Join(ri.VersionRoot(), f))
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range rows {
				if x.Reason != release.ReasonInEarlierRelease {
					continue
				}
				skipped++
				var index int
				if _, err := fmt.Sscanf(x.PromptID, "arithmetic-s1-%d", &index); err != nil {
					t.Fatalf("prompt id %q: %v", x.PromptID, err)
				}
				want := "already in release v1"
				if index >= 20 {
					want = "already in release v2"
				}
				if x.Stage != "incremental" || x.Detail != want || index >= 30 {
					t.Errorf("%s: prompt %s (index %d) rejected at %s: %q, want %q", ri.Output.Version, x.PromptID, index, x.Stage, x.Detail, want)
				}
			}
		}
		if skipped != released {
			t.Errorf("%s: %d rejection rows in earlier releases, %d counted", ri.Output.Version, skipped, released)
		}
		released += m.Counts.PromptsKept + m.Counts.PromptsRejected // skipped prompts count as duplicates
	}
}
