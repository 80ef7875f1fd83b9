package transforms

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
	"github.com/syllabus-dev/syllabus/transforms/skills"
)

// gsm8kInput writes the first n GSM8K training records as published
// (question, answer with "#### n") to a JSONL file and returns its path and
// the simulated teacher's answer key for them.
func gsm8kInput(t *testing.T, n int) (string, map[string]teacher.Solution) {
	t.Helper()
	f, err := os.Open("../testdata/datasets/gsm8k/train.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	var out bytes.Buffer
	key := map[string]teacher.Solution{}
	for i := 0; i < n && sc.Scan(); i++ {
		var rec struct{ Question, Answer string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		_, after, _ := strings.Cut(rec.Answer, "####")
		key[rec.Question] = teacher.Solution{Steps: []string{"Work it out."}, Answer: strings.TrimSpace(after)}
		line, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("gsm8k-train-%d", i), "question": rec.Question, "answer": rec.Answer})
		out.Write(append(line, '\n'))
	}
	path := filepath.Join(t.TempDir(), "gsm8k.jsonl")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, key
}

// countingTeacher is a simulated teacher behind a proxy that counts the
// skill-tag requests it forwards.
type countingTeacher struct {
	URL  string
	tags atomic.Int64
}

func startSkillsTeacher(t *testing.T, key map[string]teacher.Solution, invalidTagRate float64) *countingTeacher {
	t.Helper()
	sim, err := teacher.StartSim(teacher.SimConfig{Model: "m", Accuracy: 0.75, Seed: 7, InvalidTagRate: invalidTagRate,
		Solve: func(prompt string) (teacher.Solution, bool) {
			text, _, _ := strings.Cut(prompt, "\n\n")
			s, ok := key[text]
			return s, ok
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	target, _ := url.Parse(strings.TrimSuffix(sim.URL(), "/v1"))
	proxy := httputil.NewSingleHostReverseProxy(target)
	ct := &countingTeacher{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(`"name":"`+teacher.SchemaSkillTags+`"`)) {
			ct.tags.Add(1)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ct.URL = srv.URL + "/v1"
	return ct
}

// releasedSkills reads every Parquet table of the release and returns the
// skills of each row by table, and the release's catalogue.
func releasedSkills(t *testing.T, r recipe.Recipe, m release.Manifest) (map[string][][]string, skills.Catalogue) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.VersionRoot(), release.CatalogueFile))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := skills.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		PromptID string   `parquet:"prompt_id"`
		Stage    string   `parquet:"stage,optional"`
		Skills   []string `parquet:"skills,list"`
	}
	out := map[string][][]string{}
	for _, table := range []string{release.TableSFT, release.TablePreference, release.TableRLVR, release.TableRejected} {
		for _, f := range filesOf(m, table) {
			rows, err := parquet.ReadFile[row](filepath.Join(r.VersionRoot(), f))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, x := range rows {
				if table == release.TableRejected && x.Stage != "verify" {
					continue // rejected before tagging (dedup)
				}
				out[table] = append(out[table], x.Skills)
			}
		}
	}
	return out, cat
}

func checkTags(t *testing.T, byTable map[string][][]string, cat skills.Catalogue) int {
	t.Helper()
	n := 0
	for table, rows := range byTable {
		for _, tags := range rows {
			n++
			if len(tags) < 1 || len(tags) > teacher.MaxTagsPerPrompt {
				t.Errorf("%s: a row has %d skills %v", table, len(tags), tags)
			}
			for _, s := range tags {
				if !cat.Has(s) {
					t.Errorf("%s: skill %q is not in the catalogue %v", table, s, cat.Names())
				}
			}
		}
	}
	return n
}

// TestSkillsInducedAndTaggedOnGSM8K: real-shaped input (GSM8K as
// published, not builtin), no catalogue given: the simulated teacher
// induces one from a sample, every prompt is tagged with 1 to 3 of its
// skills, and every row of every table carries them.
func TestSkillsInducedAndTaggedOnGSM8K(t *testing.T) {
	path, key := gsm8kInput(t, 80)
	tt := startSkillsTeacher(t, key, 0)
	r := realRecipe(t, path, tt.URL)
	r.Input.Text = "question"
	r.Skills.Tag, r.Skills.K, r.Skills.InduceSample = true, 6, 30
	if err := runSFTGen(t, r); err != nil {
		t.Fatal(err)
	}
	m := checkRelease(t, r)
	byTable, cat := releasedSkills(t, r, m)
	if len(cat.Skills) < 3 || len(cat.Skills) > 6 {
		t.Errorf("induced catalogue has %d skills, want 3 to K=6: %v", len(cat.Skills), cat.Names())
	}
	rows := checkTags(t, byTable, cat)
	tagged := m.Counts.PromptsKept + int64(len(byTable[release.TableRejected]))
	if m.Counts.PromptsDeadLetter != 0 || tagged != m.Counts.PromptsIn-m.Counts.PromptsDuplicate-m.Counts.PromptsContaminated {
		t.Errorf("counts %+v: %d prompts tagged", m.Counts, tagged)
	}
	if tt.tags.Load() != tagged {
		t.Errorf("%d tag requests for %d prompts (no retry expected)", tt.tags.Load(), tagged)
	}
	if len(m.Coverage) == 0 {
		t.Error("manifest has no skill coverage")
	}
	card, _ := os.ReadFile(filepath.Join(r.VersionRoot(), "README.md"))
	if !strings.Contains(string(card), "## Skill coverage") {
		t.Error("dataset card has no skill coverage table")
	}
	t.Logf("catalogue %s: %v; %d prompts tagged, %d rows checked; coverage %v", cat.Version, cat.Names(), tagged, rows, m.Coverage)
}

// TestSkillsInvalidTagsRetriedThenDeadLettered: a teacher that answers half
// of the tag requests with a skill outside the catalogue or with prose:
// those prompts are asked again, the ones whose answers stay invalid are
// dead-lettered naming the reason, and no invalid tag reaches a row.
func TestSkillsInvalidTagsRetriedThenDeadLettered(t *testing.T) {
	path, key := gsm8kInput(t, 60)
	tt := startSkillsTeacher(t, key, 0.5)
	r := realRecipe(t, path, tt.URL)
	r.Input.Text = "question"
	r.Skills.Tag, r.Skills.K, r.Skills.InduceSample, r.Skills.TagAttempts = true, 6, 20, 3
	r.Output.MaxDeadLetterFraction = 1
	if err := runSFTGen(t, r); err != nil {
		t.Fatal(err)
	}
	m := checkRelease(t, r)
	byTable, cat := releasedSkills(t, r, m)
	checkTags(t, byTable, cat)
	dead := readJSONLIfAny[schemas.DeadLetter](t, filepath.Join(r.VersionRoot(), "dead_letter.jsonl"))
	for _, d := range dead {
		if d.Stage != "tag" || d.Field != "skills" || !strings.Contains(d.Reason, "invalid 3 times") {
			t.Errorf("dead letter %+v", d)
		}
	}
	tagged := m.Counts.PromptsKept + int64(len(byTable[release.TableRejected]))
	prompts := tagged + int64(len(dead))
	if len(dead) == 0 || tagged == 0 || tt.tags.Load() <= prompts+int64(len(dead)) {
		t.Errorf("%d prompts: %d dead-lettered, %d tagged, %d tag requests: want some of each and retries beyond the dead letters'", prompts, len(dead), tagged, tt.tags.Load())
	}
	t.Logf("%d prompts, invalid-tag rate 0.5, 3 attempts: %d tag requests, %d tagged, %d dead-lettered (expected ~%.0f)", prompts, tt.tags.Load(), tagged, len(dead), float64(prompts)*0.125)
}
