package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/storage"
)

// checkOnlyVersions fails if the dataset folder holds a version folder
// other than versions (a failed or nothing-new run must leave none).
func checkOnlyVersions(t *testing.T, dataset storage.Store, versions []string) {
	t.Helper()
	files, err := dataset.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		dir, _, nested := strings.Cut(f, "/")
		if nested && dir != ".cache" && !slices.Contains(versions, dir) {
			t.Errorf("unexpected file %s: want only the versions %q", f, versions)
		}
	}
	if u := dataset.URL(""); !strings.HasPrefix(u, "s3://") { // local folders outlive their files
		entries, _ := os.ReadDir(u)
		for _, e := range entries {
			if e.IsDir() && e.Name() != ".cache" && !slices.Contains(versions, e.Name()) {
				t.Errorf("a version folder %s was left", e.Name())
			}
		}
	}
}

// TestQuickstartTwice: the quickstart run twice into one output. The first
// releases; the second finds every prompt in the first release and exits
// with the "nothing new" code, 3, publishing nothing: LATEST still names
// the first release and no second version folder is left.
func TestQuickstartTwice(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	dataset, err := storage.Open(out+"/quickstart", nil)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--output=" + out, "--input=builtin:arithmetic?n=40"}
	first := startSFTGen(t, nil, args...)
	if code := first.wait(t); code != 0 {
		t.Fatalf("the first run exited %d: %s", code, first.stderr.String())
	}
	v1 := latest(t, dataset)
	checkRelease(t, dataset, v1)
	second := startSFTGen(t, nil, args...)
	code := second.wait(t)
	msg := strings.TrimSpace(second.stderr.String())
	if code != 3 || !strings.Contains(msg, "nothing new to release") {
		t.Errorf("the second run exited %d: %s; want 3 and a line saying nothing is new", code, msg)
	}
	t.Logf("second run: exit %d: %s", code, lastLine(msg))
	if got := latest(t, dataset); got != v1 {
		t.Errorf("LATEST = %q, want the first release %q", got, v1)
	}
	checkOnlyVersions(t, dataset, []string{v1})
}

// TestWrongFields: a --text_field or --answer_field that no record has
// fails the run before any teacher call (the teacher URL here has no
// server), exit 1, with a line naming the field and the fields there are;
// nothing is published and no version folder is left. A dry run says so
// too.
func TestWrongFields(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "gsm8k.jsonl")
	if err := os.WriteFile(in, []byte(`{"id":"1","question":"What is 2+2?","answer":"#### 4"}`+"\n"+`{"id":"2","question":"What is 3+3?","answer":"#### 6"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	base := []string{"--name=gsm8k", "--input=" + in, "--output=" + out, "--teacher_url=http://127.0.0.1:9/v1", "--teacher_model=m"}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"text_field", []string{"--text_field=prompt"}, `has the field "prompt" (set --text_field; fields: answer, id, question)`},
		{"answer_field", []string{"--text_field=question", "--answer_field=solution"}, `reference field "solution" (set --answer_field`},
		{"answer_field dry run", []string{"--text_field=question", "--answer_field=solution", "--dry_run"}, `reference field "solution"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := startSFTGen(t, nil, append(slices.Clone(base), c.args...)...)
			code := p.wait(t)
			msg := strings.TrimSpace(p.stderr.String())
			if code != 1 || !strings.Contains(msg, c.want) {
				t.Errorf("exit %d: %s; want 1 and %q", code, msg, c.want)
			}
			t.Logf("exit %d: %s", code, lastLine(msg))
			if _, err := os.Stat(filepath.Join(out, "gsm8k", "LATEST")); !os.IsNotExist(err) {
				t.Errorf("LATEST was written (stat: %v)", err)
			}
			dataset, err := storage.Open(filepath.Join(out, "gsm8k"), nil)
			if err != nil {
				t.Fatal(err)
			}
			checkOnlyVersions(t, dataset, nil)
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
