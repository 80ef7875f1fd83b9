package grading

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/filters"
)

// recordingsPath is the recording of 480 real Qwen2.5-Math-Instruct
// responses to 60 MATH problems that the repository carries.
const recordingsPath = "../../testdata/recordings/qwen25-math-instruct-math-8samples.jsonl"

// writeRecordingsInput converts the recordings into a grade input of
// {id, response, reference} lines, ids "<idx>-<sample>" in recording order.
// It returns the path and the verdicts filters gives directly, line by line.
func writeRecordingsInput(t *testing.T, dir string) (string, []filters.Verdict) {
	t.Helper()
	f, err := os.Open(recordingsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	path := filepath.Join(dir, "responses.jsonl")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	v := filters.NewMathVerifier(nil)
	var direct []filters.Verdict
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var p struct {
			Idx     int    `json:"idx"`
			Answer  string `json:"answer"`
			Samples []struct {
				Response string `json:"response"`
			} `json:"samples"`
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("%s: %v", recordingsPath, err)
		}
		for i, s := range p.Samples {
			line := map[string]string{"id": fmt.Sprintf("%d-%d", p.Idx, i), "response": s.Response, "reference": p.Answer}
			if err := enc.Encode(line); err != nil {
				t.Fatal(err)
			}
			direct = append(direct, v.Verify(s.Response, p.Answer))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path, direct
}

// TestGradeRecordings grades the 480 recorded responses and checks that the
// command's verdicts, line by line, and its accuracy are what
// filters gives directly.
func TestGradeRecordings(t *testing.T) {
	dir := t.TempDir()
	in, direct := writeRecordingsInput(t, dir)
	if len(direct) != 480 {
		t.Fatalf("recordings hold %d responses, want 480", len(direct))
	}
	want := Summary{Lines: int64(len(direct)), Output: filepath.Join(dir, "graded.jsonl"), DeadLetterFile: filepath.Join(dir, "graded.jsonl"+DeadLetterSuffix)}
	for _, d := range direct {
		want.add(GradedResponse{Correct: d.Correct, HasAnswer: d.HasAnswer})
	}

	cfg := Config{Input: in, Output: want.Output}
	start := time.Now()
	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum != want {
		t.Errorf("summary = %+v, want %+v", sum, want)
	}
	t.Logf("graded %d responses in %v: accuracy %.4f (%d correct, %d incorrect, %d no_answer)",
		want.Graded, time.Since(start).Round(time.Millisecond), want.Accuracy(), want.Correct, want.Incorrect, want.NoAnswer)

	lines := readLines(t, cfg.Output)
	if len(lines) != len(direct) {
		t.Fatalf("output has %d lines, want %d", len(lines), len(direct))
	}
	correct := 0
	for i, line := range lines {
		var o struct {
			ID        string `json:"id"`
			Extracted string `json:"extracted"`
			Correct   bool   `json:"correct"`
			HasAnswer bool   `json:"has_answer"`
			Reason    string `json:"reason"`
		}
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("output line %d: %v", i+1, err)
		}
		d := direct[i]
		if o.Extracted != d.Extracted || o.Correct != d.Correct || o.HasAnswer != d.HasAnswer || o.Reason != d.Reason {
			t.Errorf("output line %d (%s) = %+v, filters says %+v", i+1, o.ID, o, d)
		}
		if o.Correct {
			correct++
		}
	}
	if got := float64(correct) / float64(len(lines)); got != want.Accuracy() {
		t.Errorf("accuracy of the output file %.4f, filters gives %.4f", got, want.Accuracy())
	}
	if want.Accuracy() < 0.5 {
		t.Errorf("accuracy %.4f is implausibly low for Qwen2.5-Math-Instruct on these problems", want.Accuracy())
	}
}
