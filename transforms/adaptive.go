package transforms

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

func init() {
	register.DoFn5x1[context.Context, schemas.Prompt, func(schemas.Generation), func(release.Row), func(string, int64), error](&generateRoundsFn{})
}

// generateRoundsFn is the generate stage under sampling.policy adaptive:
// it draws a prompt's samples in rounds of sampling.round_size, grades
// each round's answers, and asks filters.AdaptivePolicy whether to draw
// more, up to k. A round is a request for the prompt's next samples
// (teacher.Request.First), so cache keys and sample indexes are those a
// fixed run would have used. Like generateFn it keeps
// teacher.max_concurrency requests in flight through a teacher.Pool;
// FinishBundle drains rounds until every prompt of the bundle has stopped.
//
// The Generation it emits holds every sample drawn: the prompt's pass rate
// is over those. Its tallies book what was drawn and, for prompts stopped
// before k, the samples saved and the completion tokens they would have
// cost (the prompt's mean sample length, in tokens of
// sampling.token_encoding, times the samples saved).
type generateRoundsFn struct {
	Teacher    string // teacher.Config as JSON
	Input      recipe.InputConfig
	Sampling   recipe.SamplingConfig
	S3Endpoint string
	// Run names the run's Progress (its version root).
	Run string

	cfg      teacher.Config
	pool     *teacher.Pool
	policy   *filters.AdaptivePolicy
	verifier filters.Verifier
	tok      *filters.Tokenizer
	progress *Progress
	scope    bundleScope
}

// roundsPrompt is one prompt between rounds.
type roundsPrompt struct {
	prompt             schemas.Prompt
	msgs               []schemas.Message
	samples            []schemas.Sample
	usage              schemas.TokenUsage
	model              string
	cached             bool
	correct, incorrect int
}

// roundKey is the pool key of one round: the prompt and the request
// counter of this round alone.
type roundKey struct {
	state *roundsPrompt
	calls *teacher.Calls
}

func (f *generateRoundsFn) Setup() error {
	w, cfg, err := openWorkerTeacher(f.Teacher, f.S3Endpoint)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	f.cfg = cfg
	if f.policy, err = filters.NewAdaptivePolicy(f.Sampling.Adaptive()); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if f.verifier, err = filters.VerifierByName(f.Sampling.Verifier); err != nil {
		return err
	}
	if f.tok, err = filters.NewTokenizer(f.Sampling.TokenEncoding); err != nil {
		return err
	}
	f.pool = teacher.NewPool(w, cfg.MaxConcurrency)
	f.progress = RunProgress(f.Run)
	return nil
}

// StartBundle opens the bundle's context, as generateFn's does: no round
// outlives its bundle.
func (f *generateRoundsFn) StartBundle(_ func(schemas.Generation), _ func(release.Row), _ func(string, int64)) {
	f.scope.open(f.drain)
}

func (f *generateRoundsFn) endBundle() { f.scope.end(f.drain) }

func (f *generateRoundsFn) drain() { f.pool.Drain() }

func (f *generateRoundsFn) Teardown() error {
	f.endBundle()
	return nil
}

func (f *generateRoundsFn) ProcessElement(ctx context.Context, p schemas.Prompt, emitGen func(schemas.Generation), emitRow func(release.Row), emitTally func(string, int64)) error {
	st := &roundsPrompt{prompt: p, msgs: recipe.Conversation(p, f.Input), cached: true}
	n, _ := f.policy.Next(0, 0, 0)
	if err := f.submit(st, n); err != nil {
		return err
	}
	return f.emit(ctx, f.pool.Ready(), emitGen, emitRow, emitTally)
}

func (f *generateRoundsFn) FinishBundle(ctx context.Context, emitGen func(schemas.Generation), emitRow func(release.Row), emitTally func(string, int64)) error {
	defer f.endBundle()
	for {
		results := f.pool.Drain()
		if len(results) == 0 {
			return nil
		}
		if err := f.emit(ctx, results, emitGen, emitRow, emitTally); err != nil {
			return err
		}
	}
}

// submit asks for the prompt's next n samples.
func (f *generateRoundsFn) submit(st *roundsPrompt, n int) error {
	req := f.cfg.NewRequest(st.msgs, n)
	req.First = len(st.samples)
	reqCtx, calls := teacher.WithCalls(f.scope.ctx)
	if err := f.pool.Submit(reqCtx, roundKey{st, calls}, req); err != nil {
		f.endBundle()
		return fmt.Errorf("generate: %w", err)
	}
	f.progress.inFlight.Add(1)
	return nil
}

func (f *generateRoundsFn) emit(ctx context.Context, results []teacher.Result, emitGen func(schemas.Generation), emitRow func(release.Row), emitTally func(string, int64)) error {
	out := emitters{row: emitRow, tally: emitTally}
	var fatal error
	for _, r := range results {
		key := r.Key.(roundKey)
		st, p := key.state, key.state.prompt
		tallyCalls(emitTally, teacher.Result{Key: pendingPrompt{p, key.calls}, Request: r.Request, Response: r.Response})
		emitTally(release.TallySamplingRounds, 1)
		f.progress.requestDone()
		if r.Err != nil {
			if teacher.IsFatal(r.Err) {
				fatal = errors.Join(fatal, r.Err)
				continue
			}
			if err := out.dead(schemas.DeadLetter{Source: p.Source, Line: p.Line, PromptID: p.ID, Stage: "generate",
				Reason: fmt.Sprintf("prompt %s (%s:%d): %v", p.ID, p.Source, p.Line, r.Err)}); err != nil {
				return err
			}
			continue
		}
		model := r.Response.Model
		if model == "" {
			model = r.Request.Model
		}
		if st.model == "" {
			st.model = r.Response.Model
		}
		st.cached = st.cached && r.Response.Cached
		u := r.Response.Usage
		st.usage.Requests += key.calls.Counts().Requests
		st.usage.PromptTokens += u.PromptTokens
		st.usage.CompletionTokens += u.CompletionTokens
		f.progress.samples.Add(int64(len(r.Response.Choices)))
		if !r.Response.Cached {
			tallyUsage(emitTally, model, u)
			f.progress.tokens.Add(u.PromptTokens + u.CompletionTokens)
			requestTokens.Update(ctx, u.PromptTokens+u.CompletionTokens)
		}
		hasRef := strings.TrimSpace(p.Answer) != ""
		for _, c := range r.Response.Choices {
			st.samples = append(st.samples, schemas.Sample{PromptID: p.ID, Index: c.Index, Text: c.Text, Reasoning: c.Reasoning, Model: model, FinishReason: c.FinishReason, Truncated: c.Truncated})
			if c.Truncated || !hasRef {
				continue
			}
			switch v := f.verifier.Verify(c.Text, p.Answer); {
			case v.Correct:
				st.correct++
			case v.HasAnswer:
				st.incorrect++
			}
		}
		n, _ := f.policy.Next(len(st.samples), st.correct, st.incorrect)
		if n > 0 && hasRef {
			if err := f.submit(st, n); err != nil {
				return err
			}
			continue
		}
		f.finish(st, emitGen, emitTally)
	}
	requestsInFlight.Set(ctx, f.progress.inFlight.Load())
	if fatal != nil {
		f.endBundle()
		return fmt.Errorf("generate: the run stops: %w", fatal)
	}
	return nil
}

// finish emits a prompt whose sampling stopped, booking what it saved.
func (f *generateRoundsFn) finish(st *roundsPrompt, emitGen func(schemas.Generation), emitTally func(string, int64)) {
	k := f.Sampling.SamplesPerPrompt
	drawn := len(st.samples)
	emitTally(release.TallySamplingPrompts, 1)
	emitTally(release.TallySamplingMax, int64(k))
	if saved := k - drawn; saved > 0 && drawn > 0 {
		tokens := 0
		for _, s := range st.samples {
			tokens += f.tok.Count(s.Text) + f.tok.Count(s.Reasoning)
		}
		emitTally(release.TallySamplingStopped, 1)
		emitTally(release.TallySamplingSaved, int64(saved))
		emitTally(release.TallySamplingTokensSaved, int64(saved*tokens/drawn))
	}
	if st.cached {
		emitTally("cache:hits", 1)
	}
	emitTally("samples", int64(drawn))
	emitGen(schemas.Generation{Prompt: st.prompt, Messages: st.msgs, Samples: st.samples, Model: st.model, Cached: st.cached, Usage: st.usage})
}

// generateStage is the generate DoFn for the recipe's sampling policy.
func generateStage(r recipe.Recipe, teacherJSON []byte) any {
	if r.Sampling.Policy == filters.PolicyAdaptive {
		return &generateRoundsFn{Teacher: string(teacherJSON), Input: r.TeacherInput(), Sampling: r.Sampling, S3Endpoint: r.Output.S3Endpoint, Run: r.VersionRoot()}
	}
	return &generateFn{Teacher: string(teacherJSON), Input: r.TeacherInput(), K: r.Sampling.SamplesPerPrompt, S3Endpoint: r.Output.S3Endpoint, Run: r.VersionRoot()}
}
