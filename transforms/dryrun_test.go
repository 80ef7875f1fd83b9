package transforms

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/transforms/builtin"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
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
	stop, err := StartSimTeacher(&r, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := runSFTGen(t, r); err != nil {
		t.Fatal(err)
	}

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
