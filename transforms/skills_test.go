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
	r.Teacher.CacheDir = t.TempDir()
	if err := runSFTGen(t, r); err != nil {
		t.Fatal(err)
	}
	m := checkRelease(t, r)
	byTable, cat := releasedSkills(t, r, m)
	defer func() {
		// A rerun takes induction and tags from the response cache.
		before := tt.tags.Load()
		r2 := r
		r2.Output.Version, r2.Output.Incremental = "v2", false
		if err := runSFTGen(t, r2); err != nil {
			t.Fatal(err)
		}
		m2 := checkRelease(t, r2)
		_, cat2 := releasedSkills(t, r2, m2)
		if tt.tags.Load() != before || cat2.Version != cat.Version {
			t.Errorf("rerun: %d more tag requests, catalogue %s then %s", tt.tags.Load()-before, cat.Version, cat2.Version)
		}
	}()
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

// TestSkillsSTAT: a crafted student that fails mostly on two skills. The
// profile skillgap builds from a release's tags ranks those two first; the
// next release, steered by it, weighs their rows clearly more (STAT-Sel)
// and adds synthesized problems tagged with them (STAT-Syn), each kept only
// when 2 of 3 teacher solutions agree; counts reconcile and the weight and
// synthesized columns read back from the Parquet shards.
func TestSkillsSTAT(t *testing.T) {
	path, key := gsm8kInput(t, 80)
	tt := startSkillsTeacher(t, key, 0)
	r := realRecipe(t, path, tt.URL)
	r.Input.Text = "question"
	r.Skills.Tag, r.Skills.K, r.Skills.InduceSample = true, 6, 30
	if err := runSFTGen(t, r); err != nil {
		t.Fatal(err)
	}
	m := checkRelease(t, r)
	_, cat := releasedSkills(t, r, m)

	// The student fails 9 in 10 problems of the two target skills and 1 in
	// 10 of the others.
	var targets []string
	for _, name := range cat.Names() {
		if s := skills.Slug(name); strings.Contains(s, "fraction") || strings.Contains(s, "rate") {
			targets = append(targets, name)
		}
	}
	if len(targets) != 2 {
		t.Fatalf("catalogue %v: want one fractions and one rates skill", cat.Names())
	}
	isTarget := func(tags []string) bool {
		for _, s := range tags {
			if s == targets[0] || s == targets[1] {
				return true
			}
		}
		return false
	}
	var results bytes.Buffer
	for i, row := range rlvrAndSFT(t, r, m) {
		correct := i%10 == 0
		if !isTarget(row.Skills) {
			correct = i%10 != 0
		}
		line, _ := json.Marshal(map[string]any{"prompt_id": row.PromptID, "correct": correct})
		results.Write(append(line, '\n'))
	}
	resultsPath := filepath.Join(t.TempDir(), "results.jsonl")
	profilePath := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(resultsPath, results.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := skills.Gap(t.Context(), skills.GapConfig{Results: resultsPath, Release: r.NameRoot(), Output: profilePath})
	if err != nil {
		t.Fatal(err)
	}
	p := sum.Profile
	t.Logf("profile: %+v", p.Skills)
	if len(sum.Unusable) != 0 || len(p.Skills) < 3 || !isTarget([]string{p.Skills[0].Skill}) || !isTarget([]string{p.Skills[1].Skill}) {
		t.Fatalf("profile does not rank the targets %v first: %+v (unusable %v)", targets, p.Skills, sum.Unusable)
	}

	// The next release, steered by the profile.
	r2 := r
	r2.Output.Version, r2.Output.Incremental = "v2", false
	r2.Skills.Profile = profilePath
	r2.Skills.Catalogue = filepath.Join(r.VersionRoot(), release.CatalogueFile)
	r2.Skills.SynthesizePerSkill = 6
	if err := runSFTGen(t, r2); err != nil {
		t.Fatal(err)
	}
	m2 := checkRelease(t, r2)
	var targetW, otherW []float64
	synthesized := map[string]bool{}
	for _, f := range filesOf(m2, release.TableSFT) {
		rows, err := parquet.ReadFile[schemas.SFTExample](filepath.Join(r2.VersionRoot(), f))
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			if row.Weight == nil {
				t.Fatalf("%s: no weight with a profile", row.PromptID)
			}
			if row.Synthesized {
				synthesized[row.PromptID] = true
				if !isTarget(row.Skills) {
					t.Errorf("synthesized %s tagged %v, none of the missing skills %v", row.PromptID, row.Skills, targets)
				}
			}
			if isTarget(row.Skills) {
				targetW = append(targetW, *row.Weight)
			} else {
				otherW = append(otherW, *row.Weight)
			}
		}
	}
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(max(len(xs), 1))
	}
	if len(synthesized) == 0 || len(targetW) == 0 || len(otherW) == 0 || mean(targetW) < 2*mean(otherW) {
		t.Errorf("%d synthesized kept; mean weight %.2f over %d target rows vs %.2f over %d others", len(synthesized), mean(targetW), len(targetW), mean(otherW), len(otherW))
	}
	rej := 0
	for _, f := range filesOf(m2, release.TableRejected) {
		rows, _ := parquet.ReadFile[schemas.Rejection](filepath.Join(r2.VersionRoot(), f))
		for _, x := range rows {
			if x.Stage == "synthesize" {
				rej++
			}
		}
	}
	t.Logf("v2: counts %+v; %d synthesized prompts released, %d synthesized rejected (no agreement); mean weight %.2f (%d target rows) vs %.2f (%d others)",
		m2.Counts, len(synthesized), rej, mean(targetW), len(targetW), mean(otherW), len(otherW))
}

// rlvrAndSFT returns one row per released prompt (its id and skills).
func rlvrAndSFT(t *testing.T, r recipe.Recipe, m release.Manifest) []schemas.SFTExample {
	t.Helper()
	return sftRows(t, r, m)
}

// TestSTATSynKeepsOnlyAgreedProblems: with a teacher right only 40% of the
// time, some synthesized problems get fewer than 2 agreeing solutions of 3;
// those are rejected (stage synthesize, reason no_agreement), the others
// are released marked synthesized, and the counts reconcile.
func TestSTATSynKeepsOnlyAgreedProblems(t *testing.T) {
	sim, err := teacher.StartSim(teacher.SimConfig{Model: "m", Accuracy: 0.4, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	dir := t.TempDir()
	cat := filepath.Join(dir, "skills.yaml")
	prof := filepath.Join(dir, "profile.json")
	os.WriteFile(cat, []byte("format: 1\nskills:\n  - name: percentages\n    description: percent of a quantity\n  - name: fractions\n    description: part of a whole\n  - name: addition_and_subtraction\n    description: add and take away\n  - name: multiplication\n    description: equal groups\n"), 0o644)
	os.WriteFile(prof, []byte(`{"skills":[{"skill":"percentages","failure_rate":0.9,"failed":9,"attempted":10},{"skill":"fractions","failure_rate":0.8,"failed":8,"attempted":10},{"skill":"multiplication","failure_rate":0.1,"failed":1,"attempted":10}]}`), 0o644)
	r := realRecipe(t, "builtin:arithmetic?n=10", sim.URL())
	r.Skills.Profile, r.Skills.Catalogue, r.Skills.SynthesizePerSkill = prof, cat, 15
	if err := runSFTGen(t, r); err != nil {
		t.Fatal(err)
	}
	m := checkRelease(t, r)
	var noAgreement int
	for _, f := range filesOf(m, release.TableRejected) {
		rows, err := parquet.ReadFile[schemas.Rejection](filepath.Join(r.VersionRoot(), f))
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range rows {
			if x.Stage == "synthesize" && x.Reason == "no_agreement" && strings.HasPrefix(x.PromptID, "stat-syn-") {
				noAgreement++
			}
		}
	}
	synth := map[string]bool{}
	for _, f := range filesOf(m, release.TableRLVR) {
		rows, err := parquet.ReadFile[schemas.RLVRExample](filepath.Join(r.VersionRoot(), f))
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range rows {
			if x.Synthesized != strings.HasPrefix(x.PromptID, "stat-syn-") || (x.Synthesized && !strings.HasPrefix(x.Source, "stat-syn:")) {
				t.Errorf("row %s: synthesized %v, source %s", x.PromptID, x.Synthesized, x.Source)
			}
			if x.Synthesized {
				synth[x.PromptID] = true
			}
		}
	}
	synthIn := m.Counts.PromptsIn - 10
	if synthIn != 30 || noAgreement == 0 || noAgreement == 30 || len(synth) == 0 {
		t.Errorf("%d synthesized problems in, %d rejected for no agreement, %d in RLVR rows (counts %+v)", synthIn, noAgreement, len(synth), m.Counts)
	}
	t.Logf("accuracy 0.4: %d synthesized problems, %d rejected (fewer than 2 of 3 agree), %d released as RLVR rows; counts %+v", synthIn, noAgreement, len(synth), m.Counts)
}
