package grading

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/syllabus-dev/syllabus/schemas"
)

func init() {
	register.Function1x1[GradedResponse, string](gradedKey)
	register.Function1x1[schemas.DeadLetter, string](deadKey)
}

func TestMain(m *testing.M) { ptest.Main(m) }

// gradedKey and deadKey project results onto what the tests assert.
func gradedKey(g GradedResponse) string {
	return fmt.Sprintf("%d %s %q correct=%t has_answer=%t", g.Line, g.ID, g.Extracted, g.Correct, g.HasAnswer)
}

func deadKey(d schemas.DeadLetter) string { return fmt.Sprintf("%d %s", d.Line, d.Field) }

// TestGradeMixed runs the graph on Prism over a file of good and bad lines:
// every good line is graded, every bad one is a dead letter naming its
// field, both files come out in input order, and the counts reconcile.
func TestGradeMixed(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Input: mixedPath, Output: filepath.Join(dir, "graded.jsonl")}
	p, s := beam.NewPipelineWithRoot()
	res, err := Grade(s, cfg)
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
	passert.Equals(s, beam.ParDo(s, gradedKey, res.Graded), toAny(wantGraded)...)
	var wantDead []string
	for line := range 22 {
		if d, ok := mixedDead[line]; ok {
			wantDead = append(wantDead, fmt.Sprintf("%d %s", line, d.field))
		}
	}
	passert.Equals(s, beam.ParDo(s, deadKey, res.DeadLetters), toAny(wantDead)...)
	wantSummary := Summary{Lines: 19, Graded: 7, Correct: 4, Incorrect: 2, NoAnswer: 1, DeadLetters: 12,
		Output: cfg.Output, DeadLetterFile: cfg.Output + DeadLetterSuffix}
	passert.Equals(s, res.Summary, wantSummary)
	ptest.RunAndValidate(t, p)

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

func TestGradeBadParametersFailWhileBuilding(t *testing.T) {
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
			_, s := beam.NewPipelineWithRoot()
			_, err := Grade(s, tc.cfg)
			if err == nil {
				t.Fatal("Grade accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestWriteRefusesUnreconciledCounts checks that the writer fails, and
// leaves no file behind, when the counts do not add up.
func TestWriteRefusesUnreconciledCounts(t *testing.T) {
	dir := t.TempDir()
	f := &writeFn{Output: filepath.Join(dir, "o.jsonl"), DeadLetter: filepath.Join(dir, "d.jsonl")}
	graded := iter([]GradedResponse{{ID: `"a"`, Line: 1, Correct: true, HasAnswer: true}})
	_, err := f.ProcessElement(nil, graded, iter[schemas.DeadLetter](nil), iter([]int64{2}))
	if err == nil || !strings.Contains(err.Error(), "do not reconcile") {
		t.Fatalf("got %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed write left %d files", len(entries))
	}
}

func iter[T any](xs []T) func(*T) bool {
	return func(x *T) bool {
		if len(xs) == 0 {
			return false
		}
		*x, xs = xs[0], xs[1:]
		return true
	}
}

func toAny[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
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
