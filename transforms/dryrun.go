package transforms

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
	"github.com/syllabus-dev/syllabus/transforms/skills"
)

func init() {
	register.DoFn3x0[context.Context, schemas.Prompt, func(string, int64)](&estimateFn{})
	register.DoFn3x1[context.Context, []byte, func(*string, *int64) bool, error](&writeEstimateFn{})
}

// estimateFn books what the teacher would be asked for a prompt: the
// samples the response cache does not hold yet.
type estimateFn struct {
	Teacher    string // teacher.Config as JSON
	Input      recipe.InputConfig
	K          int
	S3Endpoint string
	// Encoding is the tiktoken encoding that counts prompt tokens
	// (sampling.token_encoding).
	Encoding string
	// Tagging is whether the run tags skills; Catalogue is the pinned
	// catalogue's skills, nil when the run would induce one.
	Tagging   bool
	Catalogue []schemas.Skill
	cfg       teacher.Config
	cache     *teacher.Cache
	tok       *filters.Tokenizer
}

func (f *estimateFn) Setup() error {
	if err := json.Unmarshal([]byte(f.Teacher), &f.cfg); err != nil {
		return err
	}
	var err error
	if f.tok, err = filters.NewTokenizer(f.Encoding); err != nil {
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
	if f.Tagging {
		f.estimateTagging(ctx, p, emitTally)
	}
	req := f.cfg.NewRequest(recipe.Conversation(p, f.Input), f.K)
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
	e.PromptTokens = promptTokens(f.tok, req.Messages)
	emitTally("estimate:requests", e.Requests)
	emitTally("estimate:samples", e.Samples)
	emitTally("estimate:prompt_tokens", e.PromptTokens)
	emitTally("estimate:max_completion_tokens", e.MaxCompletionTokens)
}

// estimateTagging books the skill-tagging request a prompt would cost
// (tagging comes before generation, so every prompt that reaches the
// teacher is tagged), unless the cache holds its answer, and the tokens of
// the induction request it would cost were it in the induction sample.
// Without a pinned catalogue the tag request is counted without the
// catalogue's text, which is not known before induction.
func (f *estimateFn) estimateTagging(ctx context.Context, p schemas.Prompt, emitTally func(string, int64)) {
	emitTally("estimate:induce_prompt_tokens", promptTokens(f.tok, f.cfg.InductionRequest(p.Text).Messages))
	req := f.cfg.TagRequest(f.Catalogue, p.Text, 0)
	if f.cache != nil && f.Catalogue != nil {
		if cached, _ := f.cache.Cached(ctx, req); cached > 0 {
			emitTally("estimate:tag_cached", 1)
			return
		}
	}
	emitTally("estimate:tag_requests", 1)
	emitTally("estimate:tag_prompt_tokens", promptTokens(f.tok, req.Messages))
	emitTally("estimate:tag_max_completion_tokens", int64(req.MaxTokens))
}

// promptTokens counts a conversation's tokens with tok, plus the chat
// template's few per message (OpenAI's rule of thumb: 4 per message and 3
// to prime the reply). Not the teacher's own tokenizer, but far closer on
// math and code than 4 bytes a token.
func promptTokens(tok *filters.Tokenizer, msgs []schemas.Message) int64 {
	n := 3
	for _, m := range msgs {
		n += 4 + tok.Count(m.Content)
	}
	return int64(n)
}

// writeEstimateFn sums the tallies into a release.DryRun and stores it.
type writeEstimateFn struct {
	Recipe string // the recipe as JSON
}

func (f *writeEstimateFn) ProcessElement(ctx context.Context, _ []byte, tallies func(*string, *int64) bool) error {
	var r recipe.Recipe
	if err := json.Unmarshal([]byte(f.Recipe), &r); err != nil {
		return err
	}
	t := map[string]int64{}
	var k string
	var v int64
	for tallies(&k, &v) {
		t[k] += v
	}
	d := release.DryRun{
		Name: r.Name, Version: r.Output.Version, Model: r.Teacher.Model,
		PromptsIn: t[release.TallyPromptsIn], Duplicate: t[release.FateDuplicate], Contaminated: t[release.FateContaminated], DeadLetter: t[release.FateDeadLetter],
		Estimate: teacher.Estimate{Requests: t["estimate:requests"], Samples: t["estimate:samples"],
			PromptTokens: t["estimate:prompt_tokens"], MaxCompletionTokens: t["estimate:max_completion_tokens"]},
		CachedSamples: t["estimate:cached_samples"],
		Budget:        r.Teacher.TokenBudget,
	}
	d.ToTeacher = t["estimate:prompts"]
	if r.Skills.Tagging() {
		d.Skills = skillsEstimate(r, t, d.ToTeacher)
	}
	worst := d.Estimate.PromptTokens + d.Estimate.MaxCompletionTokens
	if d.Skills != nil {
		worst += d.Skills.Estimate.PromptTokens + d.Skills.Estimate.MaxCompletionTokens
	}
	d.OverBudget = d.Budget > 0 && worst > d.Budget
	if got := d.Duplicate + d.Contaminated + d.DeadLetter + d.ToTeacher; got != d.PromptsIn {
		return fmt.Errorf("dry run: counts do not reconcile: %d read but %d accounted for", d.PromptsIn, got)
	}
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	spill, err := openSpill(r.VersionRoot(), r.Output.S3Endpoint)
	if err != nil {
		return err
	}
	if err := removeSpill(ctx, spill); err != nil { // dedup's spill: a dry run leaves no files in the version root
		return err
	}
	store, err := storage.Open(r.NameRoot(), &storage.Options{S3Endpoint: r.Output.S3Endpoint})
	if err != nil {
		return err
	}
	return store.Put(ctx, release.DryRunPath(r), append(data, '\n'))
}

// skillsEstimate forecasts the skills stage from the tallies: the tag
// requests of the prompts whose tags are not cached and, without a pinned
// catalogue, the induction requests of a sample of skills.induce_sample
// prompts (prompt tokens: the mean per prompt times the sample).
func skillsEstimate(r recipe.Recipe, t map[string]int64, toTeacher int64) *release.SkillsEstimate {
	const maxTokens = 512 // teacher.Config.skillRequest's limit
	e := &release.SkillsEstimate{CataloguePinned: r.Skills.Catalogue != "", CachedTags: t["estimate:tag_cached"],
		Estimate: teacher.Estimate{Requests: t["estimate:tag_requests"], Samples: t["estimate:tag_requests"],
			PromptTokens: t["estimate:tag_prompt_tokens"], MaxCompletionTokens: t["estimate:tag_max_completion_tokens"]}}
	if !e.CataloguePinned && toTeacher > 0 {
		e.InduceRequests = min(int64(r.Skills.InduceSample), toTeacher)
		e.Estimate.Requests += e.InduceRequests
		e.Estimate.Samples += e.InduceRequests
		e.Estimate.PromptTokens += t["estimate:induce_prompt_tokens"] * e.InduceRequests / toTeacher
		e.Estimate.MaxCompletionTokens += e.InduceRequests * maxTokens
	}
	e.Synthesis = r.Skills.Profile != ""
	return e
}

// dryRunGraph ends the graph after decontamination: it estimates instead of
// generating.
func dryRunGraph(s beam.Scope, r recipe.Recipe, teacherJSON []byte, clean beam.PCollection, tallies ...beam.PCollection) error {
	s = s.Scope("dry_run")
	recipeJSON, err := json.Marshal(r)
	if err != nil {
		return err
	}
	estimate := &estimateFn{Teacher: string(teacherJSON), Input: r.TeacherInput(), K: r.Sampling.SamplesPerPrompt, S3Endpoint: r.Output.S3Endpoint,
		Encoding: r.Sampling.TokenEncoding, Tagging: r.Skills.Tagging()}
	if r.Skills.Catalogue != "" {
		c, err := skills.Load(context.Background(), r.Skills.Catalogue, r.Output.S3Endpoint)
		if err != nil {
			return fmt.Errorf("skills.catalogue: %w", err)
		}
		estimate.Catalogue = c.Skills
	}
	est := beam.ParDo(s, estimate, clean)
	all := beam.Flatten(s, append(tallies, est)...)
	beam.ParDo0(s, &writeEstimateFn{Recipe: string(recipeJSON)}, beam.Impulse(s), beam.SideInput{Input: all})
	return nil
}
