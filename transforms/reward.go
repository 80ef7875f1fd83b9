package transforms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

func init() {
	register.DoFn5x1[context.Context, schemas.Generation, func(schemas.Generation), func(release.Row), func(string, int64), error](&scoreFn{})
}

// scoreFn asks the reward model for the score of every sample that can be
// released: the correct ones (SFT rows, the chosen side) and, when the
// recipe builds preference pairs, the incorrect ones (the rejected side),
// once the prompt has a correct sample at all. Samples cut at max_tokens,
// longer than max_response_tokens or without an answer are never scored.
//
// Like generateFn it keeps requests in flight across elements: each prompt
// is scored on its own goroutine (its samples at once), at most
// reward.max_concurrency prompts per DoFn instance, and the worker's one
// RewardClient bounds the requests in flight, retries, caches scores
// beside the teacher's responses and books tokens in the teacher's ledger
// (so teacher.token_budget covers both). A prompt whose scoring fails
// after retries is a dead letter (stage "reward"); a fatal error (budget
// spent, bad key) stops the run.
type scoreFn struct {
	Teacher    string // teacher.Config as JSON (its ledger is shared)
	Reward     string // teacher.RewardConfig as JSON
	Sampling   recipe.SamplingConfig
	S3Endpoint string

	client   *teacher.RewardClient
	verifier filters.Verifier
	tok      *filters.Tokenizer
	slots    chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	done     []scored
	scope    bundleScope
}

// scored is one prompt back from the reward model.
type scored struct {
	g              schemas.Generation
	err            error
	n, cached      int64
	tokens         int64
	scoredAnything bool
}

func (f *scoreFn) Setup() error {
	var err error
	if f.client, err = openWorkerReward(f.Teacher, f.Reward, f.S3Endpoint); err != nil {
		return fmt.Errorf("reward: %w", err)
	}
	if f.verifier, err = filters.VerifierByName(f.Sampling.Verifier); err != nil {
		return err
	}
	if f.tok, err = filters.NewTokenizer(f.Sampling.TokenEncoding); err != nil {
		return err
	}
	var cfg teacher.RewardConfig
	if err := json.Unmarshal([]byte(f.Reward), &cfg); err != nil {
		return err
	}
	f.slots = make(chan struct{}, max(cfg.MaxConcurrency, 1))
	return nil
}

// StartBundle opens the bundle's context: no request outlives its bundle
// (as in generateFn).
func (f *scoreFn) StartBundle(_ func(schemas.Generation), _ func(release.Row), _ func(string, int64)) {
	f.scope.open(f.drain)
}

func (f *scoreFn) endBundle() { f.scope.end(f.drain) }

// drain waits for the bundle's scoring; the results are dropped.
func (f *scoreFn) drain() {
	f.wg.Wait()
	f.ready()
}

func (f *scoreFn) Teardown() error {
	f.endBundle()
	return nil
}

func (f *scoreFn) ProcessElement(ctx context.Context, g schemas.Generation, emitGen func(schemas.Generation), emitRow func(release.Row), emitTally func(string, int64)) error {
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	f.wg.Add(1)
	bundle := f.scope.ctx
	go func() {
		defer f.wg.Done()
		r := f.score(bundle, g)
		f.mu.Lock()
		f.done = append(f.done, r)
		f.mu.Unlock()
		<-f.slots
	}()
	return f.emit(f.ready(), emitGen, emitRow, emitTally)
}

func (f *scoreFn) FinishBundle(emitGen func(schemas.Generation), emitRow func(release.Row), emitTally func(string, int64)) error {
	f.wg.Wait()
	err := f.emit(f.ready(), emitGen, emitRow, emitTally)
	f.endBundle()
	return err
}

func (f *scoreFn) ready() []scored {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.done
	f.done = nil
	return r
}

// score scores the samples of g worth scoring, all at once.
func (f *scoreFn) score(ctx context.Context, g schemas.Generation) scored {
	gr := filters.GradeSamples(g, f.verifier, f.tok, f.Sampling.Reasoning, f.Sampling.MaxResponseTokens)
	out := scored{g: g}
	if gr.Correct() == 0 {
		return out
	}
	var want []int
	for i, k := range gr.Kind {
		if k == filters.VerdictCorrect || (k == filters.VerdictIncorrect && f.Sampling.MaxPairs > 0) {
			want = append(want, i)
		}
	}
	samples := append([]schemas.Sample(nil), g.Samples...)
	errs := make([]error, len(want))
	res := make([]teacher.RewardScore, len(want))
	var wg sync.WaitGroup
	for j, i := range want {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := samples[i]
			// The reward model reads the assistant turn as released.
			turn, _ := filters.AssistantTurn(f.Sampling.Reasoning, s.Reasoning, s.Text)
			res[j], errs[j] = f.client.ScoreDetail(ctx, g.Messages, turn)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		out.err = err
		return out
	}
	for j, i := range want {
		samples[i].Reward, samples[i].Scored = res[j].Reward, true
		out.n++
		out.tokens += res[j].PromptTokens
		if res[j].Cached {
			out.cached++
		}
	}
	out.g.Samples = samples
	out.scoredAnything = len(want) > 0
	return out
}

func (f *scoreFn) emit(results []scored, emitGen func(schemas.Generation), emitRow func(release.Row), emitTally func(string, int64)) error {
	out := emitters{row: emitRow, tally: emitTally}
	var fatal error
	for _, r := range results {
		p := r.g.Prompt
		if r.err != nil {
			if teacher.IsFatal(r.err) {
				fatal = errors.Join(fatal, r.err)
				continue
			}
			if err := out.dead(schemas.DeadLetter{Source: p.Source, Line: p.Line, PromptID: p.ID, Stage: "reward",
				Reason: fmt.Sprintf("prompt %s (%s:%d): %v", p.ID, p.Source, p.Line, r.err)}); err != nil {
				return err
			}
			continue
		}
		if r.scoredAnything {
			emitTally(release.TallyRewardPromptsScored, 1)
			emitTally(release.TallyRewardScored, r.n)
			emitTally(release.TallyRewardCached, r.cached)
			emitTally(release.TallyRewardPromptTokens, r.tokens)
		}
		emitGen(r.g)
	}
	if fatal != nil {
		f.endBundle()
		return fmt.Errorf("reward: the run stops: %w", fatal)
	}
	return nil
}

var workerRewards sync.Map // reward config JSON -> func() (*teacher.RewardClient, error)

// openWorkerReward returns the process's reward client for cfgJSON, opening
// it on first use; it shares the worker teacher's ledger, so the token
// budget covers the teacher and the reward model together.
func openWorkerReward(teacherJSON, cfgJSON, s3Endpoint string) (*teacher.RewardClient, error) {
	var cfg teacher.RewardConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		return nil, fmt.Errorf("reward config: %w", err)
	}
	once, _ := workerRewards.LoadOrStore(teacherJSON+"\x00"+cfgJSON+"\x00"+s3Endpoint, sync.OnceValues(func() (*teacher.RewardClient, error) {
		w, _, err := openWorkerTeacher(teacherJSON, s3Endpoint)
		if err != nil {
			return nil, err
		}
		opts := &teacher.RewardOptions{Ledger: w.client.Ledger()}
		c := cfg
		if c.CacheDir != "" {
			store, err := openCache(c.CacheDir, s3Endpoint)
			if err != nil {
				return nil, fmt.Errorf("reward.cache_dir: %w", err)
			}
			opts.Cache = store
			c.CacheDir = ""
		}
		return teacher.NewRewardClient(c, opts)
	}))
	return once.(func() (*teacher.RewardClient, error))()
}

// flushWorkerRewards writes the scores the reward clients hold back (see
// flushWorkerTeachers); a failed write costs a rerun the calls, never the
// release.
func flushWorkerRewards() {
	workerRewards.Range(func(_, v any) bool {
		if c, err := v.(func() (*teacher.RewardClient, error))(); err == nil {
			_ = c.Close()
		}
		return true
	})
}
