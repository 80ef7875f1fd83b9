package transforms

import (
	"context"
	"os"
	"path/filepath"
	"testing"
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
	d, err := ReadDryRun(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if d.PromptsIn != 30 || d.ToTeacher != 30 || d.Estimate.Requests != 30 || d.Estimate.Samples != 120 {
		t.Errorf("forecast = %+v", d)
	}
	if d.Estimate.MaxCompletionTokens != 120*1000 || d.Estimate.PromptTokens <= 0 || !d.OverBudget {
		t.Errorf("token forecast = %+v, over budget %v", d.Estimate, d.OverBudget)
	}
	if _, err := os.Stat(filepath.Join(nameRoot(r), "LATEST")); !os.IsNotExist(err) {
		t.Errorf("a dry run published a release (LATEST: %v)", err)
	}
}
