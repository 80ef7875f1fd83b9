package transforms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/syllabus-dev/syllabus/decontam"
	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/builtin"
	"github.com/syllabus-dev/syllabus/transforms/input"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// emitters bundles the outputs every per-record stage shares.
type emitters struct {
	row   func(release.Row)
	tally func(string, int64)
}

func (e emitters) emit(table, key string, record any) error {
	r, err := release.NewRow(table, key, record)
	if err != nil {
		return err
	}
	e.row(r)
	return nil
}

func (e emitters) dead(d schemas.DeadLetter) error {
	e.tally(release.FateDeadLetter, 1)
	e.tally("dead:"+d.Stage, 1)
	return e.emit(release.TableDeadLetter, release.SourceKey(d.Source, d.Line)+"\x00"+d.PromptID, d)
}

// readPromptsFn reads one input (a file URL or a builtin spec) into prompts;
// unusable records become dead letters. It fails only when the input
// cannot be opened at all, which is a problem of the run, not of a record.
type readPromptsFn struct {
	Mapping    input.Mapping
	S3Endpoint string
}

func (f *readPromptsFn) ProcessElement(ctx context.Context, source string, emitPrompt func(schemas.Prompt), emitRow func(release.Row), emitTally func(string, int64)) error {
	out := emitters{row: emitRow, tally: emitTally}
	if builtin.IsBuiltin(source) {
		spec, err := builtin.ParseSpec(source)
		if err != nil {
			return err
		}
		for i := range spec.N { // one at a time: the set is never held whole
			p := builtin.Nth(spec, i)
			emitPrompt(schemas.Prompt{ID: p.ID, Text: p.Text, Answer: p.Answer, Source: source, Line: i + 1, Skills: p.Skills})
		}
		emitTally(release.TallyPromptsIn, int64(spec.N))
		return nil
	}
	var recordErr error
	sink := input.Sink{
		Prompt: emitPrompt,
		Dead: func(d schemas.DeadLetter) {
			if err := out.dead(d); err != nil && recordErr == nil {
				recordErr = err
			}
		},
	}
	file, size, err := openInput(ctx, source, f.S3Endpoint)
	if err != nil {
		return err
	}
	defer file.Close()
	stats, err := input.Read(file, size, source, f.Mapping, sink)
	emitTally(release.TallyPromptsIn, int64(stats.Records))
	if err != nil {
		return err
	}
	return recordErr
}

// dedupKey is the key exact deduplication groups on: the prompt with only
// Unicode form, case and whitespace folded (filters.DedupText), so prompts
// that differ only in such things are one prompt, and prompts that differ
// in an operator, a sign or an exponent never are.
func dedupKey(p schemas.Prompt) string {
	h := sha256.Sum256([]byte(filters.DedupText(p.Text)))
	return hex.EncodeToString(h[:16])
}

// exactDedup keeps one prompt of each group of equal prompts (dedupKey)
// and rejects the rest as duplicates. The grouping is a spill (spill.go):
// prompts are written by partition of their key where they are read, and
// the GroupByKey carries only references, so no runner holds the prompts.
func exactDedup(s beam.Scope, root, s3Endpoint string, prompts beam.PCollection) (unique, rows, tallies beam.PCollection) {
	refs := beam.ParDo(s, &spillPromptsFn{spillStore: spillStore{Root: root, S3Endpoint: s3Endpoint}, Name: "dedup"}, prompts)
	return beam.ParDo3(s, &dedupPartFn{spillStore: spillStore{Root: root, S3Endpoint: s3Endpoint}}, beam.GroupByKey(s, refs))
}

// dedupPart is the spill partition of a prompt: from its dedup key, so
// equal prompts share one.
func dedupPart(key string) int {
	b, _ := hex.DecodeString(key[:2])
	return int(b[0]) % spillParts
}

// spillPromptsFn writes a bundle's prompts into a spill (folder Name), by
// dedup key (by id when ByID: see idPart).
type spillPromptsFn struct {
	spillStore
	Name  string
	ByID  bool
	spill *spiller
}

func (f *spillPromptsFn) StartBundle(_ context.Context, _ func(int, spillRef)) {
	f.spill = renewSpiller(f.spill, f.store, f.Name)
}

func (f *spillPromptsFn) ProcessElement(_ context.Context, p schemas.Prompt, _ func(int, spillRef)) error {
	rec, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if f.ByID {
		return f.spill.add(idPart(p.ID), rec)
	}
	return f.spill.add(dedupPart(dedupKey(p)), rec)
}

func (f *spillPromptsFn) FinishBundle(ctx context.Context, emit func(int, spillRef)) error {
	err := f.spill.flush(ctx, emit)
	f.spill = nil
	return err
}

// readSpilledPrompts calls fn with each prompt that spillPromptsFn wrote
// into the partitions refs names.
func readSpilledPrompts(ctx context.Context, store storage.Store, refs func(*spillRef) bool, fn func(schemas.Prompt) error) error {
	return readSpill(ctx, store, refs, func(rec []byte) error {
		var p schemas.Prompt
		if err := json.Unmarshal(rec, &p); err != nil {
			return fmt.Errorf("spill: a prompt record: %w", err)
		}
		return fn(p)
	})
}

// dedupPartFn reads one partition of the prompts' spill and deduplicates
// each group of equal prompts in it (dedupGroup), in key order.
type dedupPartFn struct {
	spillStore
}

func (f *dedupPartFn) ProcessElement(ctx context.Context, _ int, refs func(*spillRef) bool, emitPrompt func(schemas.Prompt), emitRow func(release.Row), emitTally func(string, int64)) error {
	groups := map[string][]schemas.Prompt{}
	err := readSpilledPrompts(ctx, f.store, refs, func(p schemas.Prompt) error {
		k := dedupKey(p)
		groups[k] = append(groups[k], p)
		return nil
	})
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := dedupGroup(groups[k], emitPrompt, emitRow, emitTally); err != nil {
			return err
		}
		delete(groups, k)
	}
	return nil
}

// dedupGroup keeps the first of a group of equal prompts (by source, then
// line, then id, so the choice does not depend on the runner) and rejects
// the rest as duplicates naming the one kept.
func dedupGroup(all []schemas.Prompt, emitPrompt func(schemas.Prompt), emitRow func(release.Row), emitTally func(string, int64)) error {
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.ID < b.ID
	})
	emitPrompt(all[0])
	out := emitters{row: emitRow, tally: emitTally}
	for _, d := range all[1:] {
		emitTally(release.FateDuplicate, 1)
		emitTally("reason:"+filters.ReasonDuplicate, 1)
		rej := schemas.Rejection{PromptID: d.ID, Stage: "dedup", Reason: filters.ReasonDuplicate,
			Detail: fmt.Sprintf("same prompt as %s (%s:%d)", all[0].ID, all[0].Source, all[0].Line), Source: d.Source, Line: int64(d.Line)}
		if err := out.emit(release.TableRejected, release.SampleKey(d.ID, 0), rej); err != nil {
			return err
		}
	}
	return nil
}

// indexes shares one decontamination index per configuration among the
// DoFn instances of a worker process: building it takes a moment and a few
// megabytes, and it is immutable.
var indexes sync.Map // config JSON -> func() (*decontam.Index, error)

func openIndex(cfg recipe.DecontamConfig, s3Endpoint string) (*decontam.Index, error) {
	key, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	once, _ := indexes.LoadOrStore(string(key)+"\x00"+s3Endpoint, sync.OnceValues(func() (*decontam.Index, error) {
		if !strings.HasPrefix(cfg.BenchmarksDir, "s3://") {
			return decontam.Open(cfg.Config, cfg.BenchmarksDir, nil)
		}
		// Benchmark sets on S3: read through the storage layer; recipe
		// benchmark paths are then relative to benchmarks_dir.
		store, err := storage.Open(cfg.BenchmarksDir, &storage.Options{S3Endpoint: s3Endpoint})
		if err != nil {
			return nil, fmt.Errorf("decontam.benchmarks_dir: %w", err)
		}
		return decontam.Open(cfg.Config, ".", storage.FS(context.Background(), store))
	}))
	return once.(func() (*decontam.Index, error))()
}

// contamination turns the best match of a check into a report line.
func contamination(id, stage string, matches []decontam.Match) schemas.Contamination {
	m := matches[0]
	ngrams := m.MatchedNgrams
	if ngrams == nil {
		ngrams = []string{}
	}
	return schemas.Contamination{ID: id, Benchmark: m.Benchmark, BenchmarkID: m.BenchmarkID, Score: m.Score, MatchedNgrams: ngrams, Stage: stage}
}

// decontamPromptsFn checks prompts against the benchmarks before any teacher
// call: a contaminated prompt costs no GPU time.
type decontamPromptsFn struct {
	Config     recipe.DecontamConfig
	S3Endpoint string
	index      *decontam.Index
}

func (f *decontamPromptsFn) Setup() error {
	var err error
	f.index, err = openIndex(f.Config, f.S3Endpoint)
	return err
}

func (f *decontamPromptsFn) ProcessElement(p schemas.Prompt, emitPrompt func(schemas.Prompt), emitRow func(release.Row), emitTally func(string, int64)) error {
	matches := f.index.Check(p.Text)
	if len(matches) == 0 {
		emitPrompt(p)
		return nil
	}
	emitTally(release.FateContaminated, 1)
	emitTally("benchmark:"+matches[0].Benchmark, 1)
	return emitters{row: emitRow, tally: emitTally}.emit(release.TableContamination, release.SampleKey(p.ID, 0), contamination(p.ID, "prompt", matches))
}

// decontamResponsesFn checks every sample: a teacher that recites a
// benchmark item or its solution makes the whole prompt contaminated.
type decontamResponsesFn struct {
	Config     recipe.DecontamConfig
	S3Endpoint string
	index      *decontam.Index
	queue      *inOrder[schemas.Generation, checkedGeneration]
}

func (f *decontamResponsesFn) Setup() error {
	var err error
	f.index, err = openIndex(f.Config, f.S3Endpoint)
	return err
}

// StartBundle starts the bundle's queue: the checks, most of the stage's
// CPU, run on every core (inOrder).
func (f *decontamResponsesFn) StartBundle(_ func(schemas.Generation), _ func(release.Row), _ func(string, int64)) {
	f.queue = newInOrder(0, f.check)
}

// checkedGeneration is a prompt's samples checked: matches of the first
// sample that recites a benchmark (none when all are clean).
type checkedGeneration struct {
	g       schemas.Generation
	sample  int
	matches []decontam.Match
}

func (f *decontamResponsesFn) check(g schemas.Generation) checkedGeneration {
	for _, s := range g.Samples {
		matches := f.index.Check(s.Text)
		if len(matches) == 0 && s.Reasoning != "" {
			matches = f.index.Check(s.Reasoning) // reciting in the reasoning counts too
		}
		if len(matches) > 0 {
			return checkedGeneration{g, s.Index, matches}
		}
	}
	return checkedGeneration{g: g}
}

func (f *decontamResponsesFn) ProcessElement(g schemas.Generation, emitGen func(schemas.Generation), emitRow func(release.Row), emitTally func(string, int64)) error {
	return f.emit(f.queue.submit(g), emitGen, emitRow, emitTally)
}

func (f *decontamResponsesFn) FinishBundle(emitGen func(schemas.Generation), emitRow func(release.Row), emitTally func(string, int64)) error {
	return f.emit(f.queue.drain(), emitGen, emitRow, emitTally)
}

func (f *decontamResponsesFn) emit(done []checkedGeneration, emitGen func(schemas.Generation), emitRow func(release.Row), emitTally func(string, int64)) error {
	for _, c := range done {
		if len(c.matches) == 0 {
			emitGen(c.g)
			continue
		}
		emitTally(release.FateContaminated, 1)
		emitTally("benchmark:"+c.matches[0].Benchmark, 1)
		if err := (emitters{row: emitRow, tally: emitTally}).emit(release.TableContamination, release.SampleKey(c.g.Prompt.ID, c.sample), contamination(c.g.Prompt.ID, "response", c.matches)); err != nil {
			return err
		}
	}
	return nil
}

// generateFn draws k samples per prompt from the teacher. Prism hands a
// DoFn a whole input as one bundle, element by element, so the DoFn keeps
// teacher.max_concurrency requests in flight itself: ProcessElement submits
// to a bounded pool (blocking only when it is full) and emits whatever has
// finished; FinishBundle waits for the rest. Emitting happens only on the
// DoFn's own goroutine, as Beam requires. When Submit blocks, Prism sees the
// bundle stall and splits it; the extra bundles get their own pools but share
// the worker's client and its bound on requests in flight (teachers.go), so
// a worker never has more than max_concurrency requests out.
//
// A failure of one prompt (rejected request, retries exhausted) becomes a
// dead letter. A failure of the run (server down, bad key, token budget
// spent) is returned, which stops the job: nothing partial is released.
//
// Requests run under a context of the bundle: it is cancelled when the
// bundle finishes or fails, so no request outlives its bundle and keeps
// spending tokens for results no one will emit.
type generateFn struct {
	// Teacher is the teacher.Config as JSON: its pass-through sampling
	// fields are free-form, which Beam's schema coder for DoFns cannot hold.
	Teacher    string
	Input      recipe.InputConfig
	K          int
	S3Endpoint string
	// Run names the run's Progress (its version root).
	Run string

	cfg      teacher.Config
	pool     *teacher.Pool
	progress *Progress
	scope    bundleScope
}

func (f *generateFn) Setup() error {
	w, cfg, err := openWorkerTeacher(f.Teacher, f.S3Endpoint)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	f.cfg = cfg
	f.pool = teacher.NewPool(w, cfg.MaxConcurrency)
	f.progress = RunProgress(f.Run)
	return nil
}

// StartBundle opens the bundle's context, ending any earlier bundle's
// requests (a bundle that failed elsewhere in its stage never reaches
// FinishBundle). Beam wants the emitters of ProcessElement here too.
func (f *generateFn) StartBundle(_ func(schemas.Generation), _ func(release.Row), _ func(string, int64)) {
	f.scope.open(f.drain)
}

func (f *generateFn) endBundle() { f.scope.end(f.drain) }

func (f *generateFn) drain() { f.pool.Drain() }

func (f *generateFn) Teardown() error {
	f.endBundle()
	return nil
}

func (f *generateFn) ProcessElement(ctx context.Context, p schemas.Prompt, emitGen func(schemas.Generation), emitRow func(release.Row), emitTally func(string, int64)) error {
	msgs := recipe.Conversation(p, f.Input)
	reqCtx, calls := teacher.WithCalls(f.scope.ctx) // books the HTTP requests this prompt costs
	if err := f.pool.Submit(reqCtx, pendingPrompt{p, calls}, f.cfg.NewRequest(msgs, f.K)); err != nil {
		f.endBundle()
		return fmt.Errorf("generate: %w", err)
	}
	f.progress.inFlight.Add(1)
	return f.emit(ctx, f.pool.Ready(), emitGen, emitRow, emitTally)
}

func (f *generateFn) FinishBundle(ctx context.Context, emitGen func(schemas.Generation), emitRow func(release.Row), emitTally func(string, int64)) error {
	err := f.emit(ctx, f.pool.Drain(), emitGen, emitRow, emitTally)
	f.endBundle()
	return err
}

func (f *generateFn) emit(ctx context.Context, results []teacher.Result, emitGen func(schemas.Generation), emitRow func(release.Row), emitTally func(string, int64)) error {
	out := emitters{row: emitRow, tally: emitTally}
	var fatal error
	for _, r := range results {
		p := r.Key.(pendingPrompt).prompt
		tallyCalls(emitTally, r)
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
		g := schemas.Generation{Prompt: p, Messages: r.Request.Messages, Model: r.Response.Model, Cached: r.Response.Cached,
			Usage: schemas.TokenUsage{Requests: r.Key.(pendingPrompt).calls.Counts().Requests, PromptTokens: r.Response.Usage.PromptTokens, CompletionTokens: r.Response.Usage.CompletionTokens}}
		model := g.Model
		if model == "" {
			model = r.Request.Model
		}
		for _, c := range r.Response.Choices {
			g.Samples = append(g.Samples, schemas.Sample{PromptID: p.ID, Index: c.Index, Text: c.Text, Reasoning: c.Reasoning, Model: model, FinishReason: c.FinishReason, Truncated: c.Truncated})
		}
		if !g.Cached {
			tallyUsage(emitTally, model, r.Response.Usage)
		} else {
			emitTally("cache:hits", 1)
		}
		emitTally("samples", int64(len(g.Samples)))
		emitTally(release.TallySamplingPrompts, 1)
		emitTally(release.TallySamplingMax, int64(f.K))
		f.progress.samples.Add(int64(len(g.Samples)))
		if !g.Cached {
			tokens := g.Usage.PromptTokens + g.Usage.CompletionTokens
			f.progress.tokens.Add(tokens)
			requestTokens.Update(ctx, tokens)
		}
		emitGen(g)
	}
	requestsInFlight.Set(ctx, f.progress.inFlight.Load())
	if fatal != nil {
		// Stop the bundle's other requests now: the run is over.
		f.endBundle()
		return fmt.Errorf("generate: the run stops: %w", fatal)
	}
	return nil
}
