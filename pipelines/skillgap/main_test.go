package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/schemas"
)

// TestSkillgapTagsWithTheSimulatedTeacher: results as {prompt, response,
// reference} (graded here), no release, tagged by the simulated teacher
// against a pinned catalogue. The student gets every percent problem wrong
// and every other right: percentages ranks first at failure rate 1. A bad
// line is listed, not counted.
func TestSkillgapTagsWithTheSimulatedTeacher(t *testing.T) {
	dir := t.TempDir()
	cat := "format: 1\nskills:\n  - name: percentages\n    description: percent of a quantity\n  - name: multiplication\n    description: equal groups\n  - name: multi_step_reasoning\n    description: several steps\n"
	catPath := filepath.Join(dir, "skills.yaml")
	os.WriteFile(catPath, []byte(cat), 0o644)
	var lines []string
	for i := range 10 {
		line := map[string]string{"prompt": fmt.Sprintf("What is %d percent of %d?", 10*(i+1), 200), "response": `\boxed{1}`, "reference": fmt.Sprint(2 * (i + 1) * 10)}
		b, _ := json.Marshal(line)
		lines = append(lines, string(b))
		line = map[string]string{"prompt": fmt.Sprintf("Each box holds %d pens. How many pens are in 3 boxes?", i+2), "response": fmt.Sprintf(`so \boxed{%d}`, 3*(i+2)), "reference": fmt.Sprintf("#### %d", 3*(i+2))}
		b, _ = json.Marshal(line)
		lines = append(lines, string(b))
	}
	lines = append(lines, `{"prompt": "no answer here"}`)
	results := filepath.Join(dir, "results.jsonl")
	os.WriteFile(results, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	out := filepath.Join(dir, "profile.json")
	cfg, err := parse([]string{"--results=" + results, "--catalogue=" + catPath, "--teacher_model=sim", "--output=" + out})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var p schemas.SkillProfile
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Skills) != 2 || p.Skills[0] != (schemas.SkillFailure{Skill: "percentages", FailureRate: 1, Failed: 10, Attempted: 10}) ||
		p.Skills[1] != (schemas.SkillFailure{Skill: "multiplication", FailureRate: 0, Failed: 0, Attempted: 10}) {
		t.Fatalf("profile %s", data)
	}
	if len(sum.Unusable) != 1 || !strings.Contains(sum.Unusable[0], "results.jsonl:21:") || sum.Graded != 20 {
		t.Errorf("summary %+v", sum)
	}
}

func TestSkillgapFlagsNameWhatIsMissing(t *testing.T) {
	cfg, err := parse([]string{"--results=r.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	for _, want := range []string{"--output", "--release", "--catalogue"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}
