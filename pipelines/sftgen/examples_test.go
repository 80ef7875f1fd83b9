package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// TestDocsExamplesRun runs every recipe under docs/examples the way its
// header comment says, from a folder laid out as the recipe expects (the
// input file, the house eval set), with one change: --teacher_url points at
// a simulated teacher serving the recipe's model that knows the answers of
// the GSM8K problems it is given. Each must release rows whose counts
// reconcile and whose files match their checksums.
func TestDocsExamplesRun(t *testing.T) {
	examples, err := filepath.Glob("../../docs/examples/*.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples under docs/examples: %v", err)
	}
	problems := gsm8kProblems(t, 40)
	for _, path := range examples {
		t.Run(filepath.Base(path), func(t *testing.T) {
			abs, err := filepath.Abs(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := recipe.Load(abs)
			if err != nil {
				t.Fatal(err)
			}
			sim, err := teacher.StartSim(teacher.SimConfig{Model: r.Teacher.Model, Accuracy: 0.7, Seed: 1, Solve: func(prompt string) (teacher.Solution, bool) {
				for q, a := range problems {
					if strings.Contains(prompt, q) {
						return teacher.Solution{Steps: []string{"Reading the problem carefully."}, Answer: a}, true
					}
				}
				return teacher.Solution{}, false
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()

			dir := t.TempDir()
			writeGSM8K(t, filepath.Join(dir, "train.jsonl"), problems)
			writeGSM8K(t, filepath.Join(dir, "data", "gsm8k", "train.jsonl"), problems)
			for _, b := range r.Decontam.Benchmarks { // house eval sets the recipe names
				f := filepath.Join(dir, strings.ReplaceAll(b.Path, "*", "house"))
				if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
					t.Fatal(err)
				}
				line, _ := json.Marshal(map[string]string{b.IDField: "h1", b.QuestionFields[0]: "A house evaluation question about seventeen purple giraffes crossing a very long bridge at midnight.", "solution": "17"})
				if err := os.WriteFile(f, append(line, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p := startSFTGenIn(t, dir, nil, "--recipe="+abs, "--input=train.jsonl", "--teacher_url="+sim.URL())
			if code := p.wait(t); code != 0 {
				t.Fatalf("exit %d: %s", code, p.stderr.String())
			}
			out := r.Output.Path
			if !filepath.IsAbs(out) {
				out = filepath.Join(dir, out)
			}
			dataset, err := storage.Open(filepath.Join(out, r.Name), nil)
			if err != nil {
				t.Fatal(err)
			}
			m := checkRelease(t, dataset, latest(t, dataset))
			if m.Counts.PromptsIn != int64(len(problems)) || m.Counts.SFTRows == 0 {
				t.Errorf("counts %+v", m.Counts)
			}
		})
	}
}

// gsm8kProblems reads the first n GSM8K training problems as published:
// question -> final answer (after ####).
func gsm8kProblems(t *testing.T, n int) map[string]string {
	t.Helper()
	f, err := os.Open("../../testdata/datasets/gsm8k/train.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(out) < n {
		var rec struct{ Question, Answer string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		out[rec.Question] = filters.ReferenceAnswer(rec.Answer)
	}
	return out
}

// writeGSM8K writes problems as GSM8K publishes them: {question, answer}
// with the answer after "#### ".
func writeGSM8K(t *testing.T, path string, problems map[string]string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for q, a := range problems {
		line, _ := json.Marshal(map[string]string{"question": q, "answer": "Work it out.\n#### " + a})
		b.Write(append(line, '\n'))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownRunner: a runner sftgen does not link fails at once, naming
// the ones it does.
func TestUnknownRunner(t *testing.T) {
	p := startSFTGen(t, nil, "--runner=bogus", "--output=out")
	if code := p.wait(t); code != 1 || !strings.Contains(p.stderr.String(), `unknown --runner="bogus": want prism (embedded), universal or flink`) {
		t.Errorf("exit %d: %s", code, p.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(p.cmd.Dir, "out", "quickstart", "LATEST")); err == nil {
		t.Error("a run with an unknown runner published a release")
	}
}
