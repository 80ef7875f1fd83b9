package transforms

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/teacher"
)

func init() {
	register.DoFn3x0[context.Context, schemas.Prompt, func(string, int64)](&estimateFn{})
	register.DoFn3x1[context.Context, []byte, func(*string, *int64) bool, error](&writeEstimateFn{})
}

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
}

// dryRunPath is where a dry run leaves its forecast, beside the releases.
func dryRunPath(r Recipe) string { return "dry-run-" + r.Output.Version + ".json" }

// estimateFn books what the teacher would be asked for a prompt: the
// samples the response cache does not hold yet.
type estimateFn struct {
	Teacher    string // teacher.Config as JSON
	Input      InputConfig
	K          int
	S3Endpoint string
	cfg        teacher.Config
	cache      *teacher.Cache
}

func (f *estimateFn) Setup() error {
	if err := json.Unmarshal([]byte(f.Teacher), &f.cfg); err != nil {
		return err
	}
	if f.cfg.CacheDir != "" {
		store, err := openCache(f.cfg.CacheDir, f.S3Endpoint)
		if err != nil {
			return err
		}
		f.cache = teacher.NewCache(store)
	}
	return nil
}

func (f *estimateFn) ProcessElement(ctx context.Context, p schemas.Prompt, emitTally func(string, int64)) {
	emitTally("estimate:prompts", 1)
	req := f.cfg.NewRequest(Conversation(p, f.Input), f.K)
	if f.cache != nil {
		// An unreadable cache forecasts as if empty: it errs on the side of cost.
		cached, _ := f.cache.Cached(ctx, req)
		emitTally("estimate:cached_samples", int64(cached))
		if cached == f.K {
			return
		}
		req.N = f.K - cached
	}
	var e teacher.Estimate
	e.Add(req)
	emitTally("estimate:requests", e.Requests)
	emitTally("estimate:samples", e.Samples)
	emitTally("estimate:prompt_tokens", e.PromptTokens)
	emitTally("estimate:max_completion_tokens", e.MaxCompletionTokens)
}

// writeEstimateFn sums the tallies into a DryRun and stores it.
type writeEstimateFn struct {
	Recipe string // Recipe as JSON
}

func (f *writeEstimateFn) ProcessElement(ctx context.Context, _ []byte, tallies func(*string, *int64) bool) error {
	var r Recipe
	if err := json.Unmarshal([]byte(f.Recipe), &r); err != nil {
		return err
	}
	t := map[string]int64{}
	var k string
	var v int64
	for tallies(&k, &v) {
		t[k] += v
	}
	d := DryRun{
		Name: r.Name, Version: r.Output.Version, Model: r.Teacher.Model,
		PromptsIn: t[tallyPromptsIn], Duplicate: t[fateDuplicate], Contaminated: t[fateContam], DeadLetter: t[fateDead],
		Estimate: teacher.Estimate{Requests: t["estimate:requests"], Samples: t["estimate:samples"],
			PromptTokens: t["estimate:prompt_tokens"], MaxCompletionTokens: t["estimate:max_completion_tokens"]},
		CachedSamples: t["estimate:cached_samples"],
		Budget:        r.Teacher.TokenBudget,
	}
	d.ToTeacher = t["estimate:prompts"]
	d.OverBudget = d.Budget > 0 && d.Estimate.PromptTokens+d.Estimate.MaxCompletionTokens > d.Budget
	if got := d.Duplicate + d.Contaminated + d.DeadLetter + d.ToTeacher; got != d.PromptsIn {
		return fmt.Errorf("dry run: counts do not reconcile: %d read but %d accounted for", d.PromptsIn, got)
	}
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	store, err := storage.Open(nameRoot(r), &storage.Options{S3Endpoint: r.Output.S3Endpoint})
	if err != nil {
		return err
	}
	return store.Put(ctx, dryRunPath(r), append(data, '\n'))
}

// ReadDryRun reads the forecast a dry run of r left.
func ReadDryRun(ctx context.Context, r Recipe) (*DryRun, error) {
	store, err := storage.Open(nameRoot(r), &storage.Options{S3Endpoint: r.Output.S3Endpoint})
	if err != nil {
		return nil, err
	}
	data, err := store.Get(ctx, dryRunPath(r))
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
	if d.Budget > 0 {
		verdict := "fits"
		if d.OverBudget {
			verdict = "may exceed it: the run stops cleanly when the budget is spent, releasing nothing"
		}
		fmt.Fprintf(&b, "  budget:   %d tokens; the worst case %s", d.Budget, verdict)
	}
	return strings.TrimRight(b.String(), "\n")
}

// dryRunGraph ends the graph after decontamination: it estimates instead of
// generating.
func dryRunGraph(s beam.Scope, r Recipe, teacherJSON []byte, clean beam.PCollection, tallies ...beam.PCollection) error {
	s = s.Scope("dry_run")
	recipeJSON, err := json.Marshal(r)
	if err != nil {
		return err
	}
	est := beam.ParDo(s, &estimateFn{Teacher: string(teacherJSON), Input: r.Input, K: r.Sampling.SamplesPerPrompt, S3Endpoint: r.Output.S3Endpoint}, clean)
	all := beam.Flatten(s, append(tallies, est)...)
	beam.ParDo0(s, &writeEstimateFn{Recipe: string(recipeJSON)}, beam.Impulse(s), beam.SideInput{Input: all})
	return nil
}
