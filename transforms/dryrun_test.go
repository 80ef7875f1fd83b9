package transforms

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/transforms/builtin"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
	"github.com/syllabus-dev/syllabus/transforms/skills"
)

// TestDryRunCallsNoTeacher: a dry run forecasts requests and tokens from
// the prompts that survive dedup and decontamination, with no teacher URL
// at all, and publishes no release.
func TestDryRunCallsNoTeacher(t *testing.T) {
	r := quickRecipe(t, 30)
	r.DryRun = true
	r.Teacher.URL = "" // nothing to call
	r.Teacher.MaxTokens = 1000
	r.Teacher.TokenBudget = 50_000
	if err := runSFTGen(t, r); err != nil {
		t.Fatal(err)
	}
	d, err := release.ReadDryRun(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if d.PromptsIn != 30 || d.ToTeacher != 30 || d.Estimate.Requests != 30 || d.Estimate.Samples != 120 {
		t.Errorf("forecast = %+v", d)
	}
	if d.Estimate.MaxCompletionTokens != 120*1000 || d.Estimate.PromptTokens <= 0 || !d.OverBudget {
		t.Errorf("token forecast = %+v, over budget %v", d.Estimate, d.OverBudget)
	}
	if _, err := os.Stat(filepath.Join(r.NameRoot(), "LATEST")); !os.IsNotExist(err) {
		t.Errorf("a dry run published a release (LATEST: %v)", err)
	}
	// Prompt tokens are counted with tiktoken (cl100k_base), not 4 bytes
	// a token: the forecast is the sum of the conversations' counts.
	tok, err := filters.NewTokenizer("")
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	spec, err := builtin.ParseSpec(r.Input.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range builtin.Generate(spec) {
		want += promptTokens(tok, recipe.Conversation(schemas.Prompt{Text: p.Text}, r.TeacherInput()))
	}
	if d.Estimate.PromptTokens != want {
		t.Errorf("prompt tokens forecast %d, tiktoken counts %d", d.Estimate.PromptTokens, want)
	}
}

// TestDryRunCountsTheCache: after a real run of a third of the prompts, a
// dry run of all of them forecasts only the two thirds left to pay for.
func TestDryRunCountsTheCache(t *testing.T) {
	r := quickRecipe(t, 10)
	r.Resolve(time.Now()) // the default cache, under the output
	runSimulated(t, &r)

	all := r
	all.Input.Path = "builtin:arithmetic?n=30"
	all.Output.Version = "v2"
	all.DryRun = true
	all.Output.Incremental = false // the cache is under test here, not incremental releases
	if err := runSFTGen(t, all); err != nil {
		t.Fatal(err)
	}
	d, err := release.ReadDryRun(context.Background(), all)
	if err != nil {
		t.Fatal(err)
	}
	if d.ToTeacher != 30 || d.CachedSamples != 10*4 || d.Estimate.Requests != 20 || d.Estimate.Samples != 20*4 {
		t.Errorf("forecast = %+v", d)
	}
}

// TestDryRunForecastsTagging: with skills tagging on, the forecast adds a
// tag request per prompt whose tags are not cached, and the induction
// requests when no catalogue is pinned, and counts them against the budget.
func TestDryRunForecastsTagging(t *testing.T) {
	catalogue := skills.Catalogue{Format: skills.FormatVersion, Skills: []schemas.Skill{
		{Name: "addition", Description: "adding whole numbers"}, {Name: "multiplication", Description: "multiplying whole numbers"}}}
	catalogue.Version = catalogue.ContentVersion()
	text, err := catalogue.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "skills.yaml")
	if err := os.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
	r := quickRecipe(t, 10)
	r.Skills.Catalogue = path
	r.Resolve(time.Now()) // the default cache, under the output
	stop, err := StartSimTeacher(&r, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := runSFTGen(t, r); err != nil { // tags 10 prompts, into the cache
		t.Fatal(err)
	}

	all := r
	all.Input.Path = "builtin:arithmetic?n=30"
	all.Output.Version = "v2"
	all.DryRun = true
	all.Output.Incremental = false
	all.Teacher.TokenBudget = 1 << 40
	if err := runSFTGen(t, all); err != nil {
		t.Fatal(err)
	}
	d, err := release.ReadDryRun(context.Background(), all)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := filters.NewTokenizer("")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := builtin.ParseSpec(all.Input.Path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := all.Teacher
	var want int64
	for _, p := range builtin.Generate(spec)[10:] {
		want += promptTokens(tok, cfg.TagRequest(catalogue.Skills, p.Text, 0).Messages)
	}
	sk := d.Skills
	if sk == nil || sk.CachedTags != 10 || sk.InduceRequests != 0 || sk.Estimate.Requests != 20 || sk.Estimate.MaxCompletionTokens != 20*512 || sk.Estimate.PromptTokens != want {
		t.Fatalf("pinned catalogue, 10 of 30 tagged before: skills forecast %+v, want 20 tag requests of %d prompt tokens in all", sk, want)
	}
	if !strings.Contains(d.String(), "skills:   20 requests (0 to induce the catalogue, 20 to tag)") {
		t.Errorf("the forecast does not show the tagging:\n%s", d)
	}
	all.Teacher.TokenBudget = d.Estimate.PromptTokens + d.Estimate.MaxCompletionTokens + 1 // generation fits, tagging does not
	all.Output.Version = "v3"
	if err := runSFTGen(t, all); err != nil {
		t.Fatal(err)
	}
	if d, err = release.ReadDryRun(context.Background(), all); err != nil || !d.OverBudget {
		t.Errorf("a budget that fits generation but not tagging: over budget %v (%v)", d.OverBudget, err)
	}

	induced := all
	induced.Skills.Catalogue, induced.Skills.Tag = "", true
	induced.Skills.InduceSample = 12
	induced.Output.Version = "v4"
	if err := runSFTGen(t, induced); err != nil {
		t.Fatal(err)
	}
	if d, err = release.ReadDryRun(context.Background(), induced); err != nil {
		t.Fatal(err)
	}
	if sk := d.Skills; sk == nil || sk.CataloguePinned || sk.InduceRequests != 12 || sk.Estimate.Requests != 30+12 || sk.Estimate.MaxCompletionTokens != 42*512 {
		t.Errorf("induced catalogue: skills forecast %+v, want 30 tag and 12 induction requests", d.Skills)
	}
}
