package transforms

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// TestDecontaminate runs the decontam pipeline on Prism over records that
// are clean, copy a built-in benchmark, copy a user benchmark given with
// --benchmarks, or are unreadable: each must land in exactly one output, the
// clean and flagged records unchanged, and the report must name the item.
func TestDecontaminate(t *testing.T) {
	gsm := firstBenchmarkQuestion(t, gsm8kTestExcerpt)
	benchDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(benchDir, "house_eval"), 0o755); err != nil {
		t.Fatal(err)
	}
	house := "A heron stands on one leg in a pond for 14 minutes and then on the other leg for 9 minutes. For how many minutes does it stand in the pond?"
	if err := os.WriteFile(filepath.Join(benchDir, "house_eval", "test.jsonl"), []byte(`{"id": "h1", "question": "`+house+`"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := []string{
		`{"id": "clean-1", "prompt": "Maya has 4 kites and builds 3 more on a windy afternoon. How many kites does she have?", "meta": {"keep": true}}`,
		`{"id": "gsm", "prompt": "Please solve: ` + strings.ReplaceAll(gsm, `"`, `\"`) + `"}`,
		`{"id": "house", "messages": [{"role": "user", "content": "` + house + `"}], "prompt": "` + house + `"}`,
		`{"id": "clean-2", "prompt": "Name three colours of the rainbow that children like to paint on paper."}`,
		`{"id": "bad", "prompt": 7}`,
	}
	in := filepath.Join(t.TempDir(), "data.jsonl")
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	r := recipe.Default()
	job := DecontamJob{Input: in, Mapping: r.Input.Mapping, Output: out, Decontam: r.Decontam, ShardRows: 1000, ShardBytes: 1 << 20}
	job.Decontam.BenchmarksDir = benchDir

	p, s := beam.NewPipelineWithRoot()
	if err := Decontaminate(s, job, "test"); err != nil {
		t.Fatal(err)
	}
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}

	var m release.DecontamManifest
	data, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.Counts != (release.DecontamCounts{RecordsIn: 5, Clean: 2, Flagged: 2, DeadLetter: 1}) {
		t.Errorf("counts = %+v", m.Counts)
	}
	clean := readLines(t, filepath.Join(out, "clean", "data-00000-of-00001.jsonl"))
	if len(clean) != 2 || clean[0] != lines[0] || clean[1] != lines[3] {
		t.Errorf("clean records are not the input lines, in order:\n%q", clean)
	}
	flagged := readLines(t, filepath.Join(out, "flagged", "data-00000-of-00001.jsonl"))
	if len(flagged) != 2 || flagged[0] != lines[1] || flagged[1] != lines[2] {
		t.Errorf("flagged records:\n%q", flagged)
	}
	report := readJSONL[schemas.Contamination](t, filepath.Join(out, "contamination.jsonl"))
	got := map[string]string{}
	for _, c := range report {
		got[c.ID] = c.Benchmark + "/" + c.BenchmarkID
		if c.Score <= 0 || len(c.MatchedNgrams) == 0 {
			t.Errorf("report line %+v lacks score or n-grams", c)
		}
	}
	if got["gsm"] != "gsm8k/0" || got["house"] != "house_eval/h1" {
		t.Errorf("report = %v", got)
	}
	var houseFlagged int64
	for _, b := range m.Benchmarks {
		if b.Name == "house_eval" {
			houseFlagged = b.Flagged
		}
	}
	if houseFlagged != 1 || len(m.Files) != 4 {
		t.Errorf("benchmarks %+v files %+v", m.Benchmarks, m.Files)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}
