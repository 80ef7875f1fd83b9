package release

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// DryRun is what a dry run forecasts: what reading, dedup and
// decontamination would leave for the teacher, and what the teacher would
// be asked for. No teacher is called and nothing is released.
type DryRun struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Model   string `json:"teacher_model"`
	// PromptsIn counts records read; Duplicate, Contaminated and DeadLetter
	// those that would never reach the teacher; ToTeacher the rest.
	PromptsIn    int64 `json:"prompts_in"`
	Duplicate    int64 `json:"prompts_duplicate"`
	Contaminated int64 `json:"prompts_contaminated"`
	DeadLetter   int64 `json:"prompts_dead_letter"`
	ToTeacher    int64 `json:"prompts_to_teacher"`
	// Estimate counts only what the response cache does not already hold;
	// CachedSamples are the samples it does (free on a real run).
	Estimate      teacher.Estimate `json:"estimate"`
	CachedSamples int64            `json:"cached_samples"`
	// Budget is teacher.token_budget (0: none); OverBudget is true when the
	// worst case (prompt + max completion tokens) exceeds it.
	Budget     int64 `json:"token_budget"`
	OverBudget bool  `json:"over_budget"`
	// Skills forecasts skill tagging when the run tags (nil otherwise).
	Skills *SkillsEstimate `json:"skills,omitempty"`
}

// SkillsEstimate is the teacher cost of the skills stage: one tag request
// per prompt whose tags the cache does not hold (CachedTags: those it
// does, known only with a pinned catalogue) and, when the catalogue is
// induced, InduceRequests more. Estimate sums both. Without a pinned
// catalogue the tag requests' prompt tokens leave out the catalogue's
// text, unknown before induction. Synthesis is true when a skill profile
// asks for STAT-Syn problems, whose requests are not forecast.
type SkillsEstimate struct {
	Estimate        teacher.Estimate `json:"estimate"`
	InduceRequests  int64            `json:"induce_requests"`
	CachedTags      int64            `json:"cached_tags"`
	CataloguePinned bool             `json:"catalogue_pinned"`
	Synthesis       bool             `json:"synthesis_not_forecast"`
}

// DryRunPath is where a dry run leaves its forecast, beside the releases.
func DryRunPath(r recipe.Recipe) string { return "dry-run-" + r.Output.Version + ".json" }

// ReadDryRun reads the forecast a dry run of r left.
func ReadDryRun(ctx context.Context, r recipe.Recipe) (*DryRun, error) {
	store, err := storage.Open(r.NameRoot(), &storage.Options{S3Endpoint: r.Output.S3Endpoint})
	if err != nil {
		return nil, err
	}
	data, err := store.Get(ctx, DryRunPath(r))
	if err != nil {
		return nil, err
	}
	var d DryRun
	return &d, json.Unmarshal(data, &d)
}

// String renders the forecast for a person.
func (d *DryRun) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dry run of %s (no teacher called, nothing released)\n", d.Name)
	fmt.Fprintf(&b, "  prompts:  %d read: %d duplicate, %d contaminated, %d dead letter, %d reach the teacher stage\n",
		d.PromptsIn, d.Duplicate, d.Contaminated, d.DeadLetter, d.ToTeacher)
	fmt.Fprintf(&b, "  teacher:  %s: %d requests, %d samples, ~%d prompt tokens, at most %d completion tokens\n",
		d.Model, d.Estimate.Requests, d.Estimate.Samples, d.Estimate.PromptTokens, d.Estimate.MaxCompletionTokens)
	if d.CachedSamples > 0 {
		fmt.Fprintf(&b, "  cache:    %d samples are already in the response cache and cost nothing\n", d.CachedSamples)
	}
	if sk := d.Skills; sk != nil {
		fmt.Fprintf(&b, "  skills:   %d requests (%d to induce the catalogue, %d to tag), ~%d prompt tokens, at most %d completion tokens",
			sk.Estimate.Requests, sk.InduceRequests, sk.Estimate.Requests-sk.InduceRequests, sk.Estimate.PromptTokens, sk.Estimate.MaxCompletionTokens)
		switch {
		case !sk.CataloguePinned:
			b.WriteString(" (tag prompts counted without the induced catalogue's text)")
		case sk.CachedTags > 0:
			fmt.Fprintf(&b, "; %d prompts' tags are cached", sk.CachedTags)
		}
		b.WriteString("\n")
		if sk.Synthesis {
			b.WriteString("  skills:   STAT-Syn's synthesized problems (skill profile) are not in this forecast\n")
		}
	}
	if d.Budget > 0 {
		verdict := "fits"
		if d.OverBudget {
			verdict = "may exceed it: the run stops cleanly when the budget is spent, releasing nothing"
		}
		fmt.Fprintf(&b, "  budget:   %d tokens; the worst case %s", d.Budget, verdict)
	}
	return strings.TrimRight(b.String(), "\n")
}
