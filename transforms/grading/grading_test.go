package grading

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/storage/storagetest"
)

// deadKey projects a dead letter onto what the tests assert.
func deadKey(d schemas.DeadLetter) string { return fmt.Sprintf("%d %s", d.Line, d.Field) }

// TestGradeMixed grades a file of good and bad lines:
// every good line is graded, every bad one is a dead letter naming its
// field, both files come out in input order, and the counts reconcile.
func TestGradeMixed(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Input: mixedPath, Output: filepath.Join(dir, "graded.jsonl")}
	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	wantGraded := []string{
		`1 "ok-1" "4" correct=true has_answer=true`,
		`2 7 "72" correct=true has_answer=true`,
		`3 "wrong" "5" correct=false has_answer=true`,
		`7 "no-answer" "" correct=false has_answer=false`,
		`14 "frac" "\\dfrac{3}{4}" correct=true has_answer=true`,
		`17 "ok-1" "5" correct=false has_answer=true`,
		`21 1e3 "12" correct=true has_answer=true`,
	}
	var wantDead []string
	for line := range 22 {
		if d, ok := mixedDead[line]; ok {
			wantDead = append(wantDead, fmt.Sprintf("%d %s", line, d.field))
		}
	}
	wantSummary := Summary{Lines: 19, Graded: 7, Correct: 4, Incorrect: 2, NoAnswer: 1, DeadLetters: 12,
		Output: cfg.Output, DeadLetterFile: cfg.Output + DeadLetterSuffix}
	if sum != wantSummary {
		t.Errorf("summary = %+v, want %+v", sum, wantSummary)
	}

	// The output: one line per graded response, in input order, with the
	// contract fields; ids kept as written.
	out := readLines(t, cfg.Output)
	if len(out) != len(wantGraded) {
		t.Fatalf("output has %d lines, want %d", len(out), len(wantGraded))
	}
	wantIDs := []string{`"ok-1"`, `7`, `"wrong"`, `"no-answer"`, `"frac"`, `"ok-1"`, `1e3`}
	for i, line := range out {
		var o map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("output line %d: %v", i+1, err)
		}
		for _, f := range []string{"id", "extracted", "correct", "has_answer", "reason"} {
			if _, ok := o[f]; !ok {
				t.Errorf("output line %d has no %q: %s", i+1, f, line)
			}
		}
		if string(o["id"]) != wantIDs[i] {
			t.Errorf("output line %d: id %s, want %s (input order, as written)", i+1, o["id"], wantIDs[i])
		}
		var g GradedResponse
		_ = json.Unmarshal(o["extracted"], &g.Extracted)
		_ = json.Unmarshal(o["correct"], &g.Correct)
		_ = json.Unmarshal(o["has_answer"], &g.HasAnswer)
		g.ID = string(o["id"])
		if got := fmt.Sprintf("%s %q correct=%t has_answer=%t", g.ID, g.Extracted, g.Correct, g.HasAnswer); !strings.HasSuffix(wantGraded[i], got) {
			t.Errorf("output line %d = %s, want %s", i+1, got, wantGraded[i])
		}
	}
	if !strings.Contains(out[3], `"reason":"no_answer"`) || !strings.Contains(out[4], `"extracted":"\\dfrac{3}{4}"`) {
		t.Errorf("output lines 4-5: %s\n%s", out[3], out[4])
	}

	// The dead letters, in input order, each naming file, line and reason.
	dead := readLines(t, cfg.DeadLetterPath())
	if len(dead) != len(wantDead) {
		t.Fatalf("dead-letter file has %d lines, want %d", len(dead), len(wantDead))
	}
	for i, line := range dead {
		var d schemas.DeadLetter
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("dead letter %d: %v", i+1, err)
		}
		if got := deadKey(d); got != wantDead[i] || d.Source != mixedPath || !strings.Contains(d.Reason, mixedDead[d.Line].reason) {
			t.Errorf("dead letter %d = %+v, want %s", i+1, d, wantDead[i])
		}
	}

	// Nothing else is left beside them (no temporary files).
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("output directory holds %d entries, want the output and the dead letters", len(entries))
	}
}

func TestGradeBadParametersFailBeforeWriting(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"missing input file", Config{Input: filepath.Join(dir, "nope.jsonl"), Output: filepath.Join(dir, "o.jsonl")}, []string{"grade: --input", "nope.jsonl"}},
		{"no output directory", Config{Input: mixedPath, Output: filepath.Join(dir, "no", "o.jsonl")}, []string{"--output: directory of", "--dead_letter: directory of"}},
		{"input is a directory", Config{Input: dir, Output: filepath.Join(dir, "o.jsonl")}, []string{"--input", "is a directory"}},
		{"invalid config", Config{Output: mixedPath}, []string{"--input is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(t.Context(), tc.cfg)
			if err == nil {
				t.Fatal("Run accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestGradeCancelledWritesNothing: a run stopped midway (its context
// cancelled) leaves neither file, not even a partial one.
func TestGradeCancelledWritesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Run(ctx, Config{Input: mixedPath, Output: filepath.Join(dir, "o.jsonl")})
	if err == nil {
		t.Fatal("a cancelled run succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a cancelled run left %d files", len(entries))
	}
}

// TestGradeLargeInputInOrder grades many more lines than a batch, with a
// bad line every so often, and checks that both files keep input order
// across the workers.
func TestGradeLargeInputInOrder(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	var b strings.Builder
	const n = 5000
	for i := range n {
		if i%97 == 0 {
			fmt.Fprintf(&b, "{\"id\": \"bad-%d\"}\n", i)
			continue
		}
		fmt.Fprintf(&b, "{\"id\": %d, \"response\": \"so \\\\boxed{%d}\", \"reference\": \"%d\"}\n", i, i, i+i%2)
	}
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Input: in, Output: filepath.Join(dir, "out.jsonl")}
	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lines != n || sum.DeadLetters != (n+96)/97 || sum.Correct+sum.Incorrect != sum.Graded {
		t.Fatalf("summary %+v", sum)
	}
	prev := -1
	for i, line := range readLines(t, cfg.Output) {
		var o struct {
			ID      int  `json:"id"`
			Correct bool `json:"correct"`
		}
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatal(err)
		}
		if o.ID <= prev || o.Correct != (o.ID%2 == 0) {
			t.Fatalf("output line %d: %s after id %d", i+1, line, prev)
		}
		prev = o.ID
	}
	prevLine := 0
	for _, line := range readLines(t, cfg.DeadLetterPath()) {
		var d schemas.DeadLetter
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatal(err)
		}
		if d.Line <= prevLine {
			t.Fatalf("dead letter at line %d after line %d", d.Line, prevLine)
		}
		prevLine = d.Line
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// TestGradeOnS3 reads the input from and writes both files to the real S3
// server, through the storage layer.
func TestGradeOnS3(t *testing.T) {
	bucket, opts := storagetest.NewS3Bucket(t)
	store, err := storage.Open(bucket, opts)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(mixedPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(t.Context(), "in/responses.jsonl", data); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Input: bucket + "/in/responses.jsonl", Output: bucket + "/out/graded.jsonl", S3Endpoint: opts.S3Endpoint}
	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Graded != 7 || sum.DeadLetters != 12 {
		t.Errorf("summary %+v", sum)
	}
	got, err := store.List(t.Context(), "out/")
	if err != nil || len(got) != 2 {
		t.Fatalf("S3 holds %q, %v; want the output and the dead letters", got, err)
	}
	out, err := store.Get(t.Context(), "out/graded.jsonl")
	if err != nil || bytes.Count(out, []byte("\n")) != 7 {
		t.Errorf("output on S3: %d lines, %v", bytes.Count(out, []byte("\n")), err)
	}
}

// BenchmarkRun grades the 480 recorded real responses, 50 times over
// (24,000 lines, so the two fsyncs of a run do not dominate), end to end:
// read, verify on every core, write. Responses per second.
func BenchmarkRun(b *testing.B) {
	dir := b.TempDir()
	in, direct := writeRecordingsInput(&testing.T{}, dir)
	once, err := os.ReadFile(in)
	if err != nil {
		b.Fatal(err)
	}
	const copies = 50
	if err := os.WriteFile(in, bytes.Repeat(once, copies), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg := Config{Input: in, Output: filepath.Join(dir, "out.jsonl")}
	b.SetBytes(int64(len(once) * copies))
	for b.Loop() {
		if _, err := Run(b.Context(), cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(copies*len(direct)*b.N)/b.Elapsed().Seconds(), "responses/s")
}
