package transforms

import (
	"encoding/json"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

func init() {
	register.DoFn3x1[schemas.Generation, func(release.Row), func(string, int64), error](&curateFn{})
}

// curateFn is the stage after verification (and the reward model): it
// grades each prompt's samples, measures them, and keeps what
// filters.Curate allows: best-of-N SFT rows, preference pairs by reward
// margin, an RLVR row inside the pass-rate range, a refusal row. A prompt
// that releases no row is one rejection with its reason; counts of kept
// prompts left out of the RLVR table, lengths (a histogram) and
// near-duplicates go to the manifest as tallies.
type curateFn struct {
	// Config is the filters.CurateConfig as JSON.
	Config   string
	Sampling recipe.SamplingConfig

	cfg      filters.CurateConfig
	verifier filters.Verifier
	tok      *filters.Tokenizer
	// queue grades and curates a bundle's prompts on every core (inOrder).
	queue *inOrder[schemas.Generation, curated]
}

// curated is one prompt's samples graded and curated.
type curated struct {
	g schemas.Generation
	c filters.Curation
}

func newCurateFn(r recipe.Recipe) (*curateFn, error) {
	cfg, err := json.Marshal(r.Curation())
	if err != nil {
		return nil, fmt.Errorf("curate: %w", err)
	}
	return &curateFn{Config: string(cfg), Sampling: r.Sampling}, nil
}

func (f *curateFn) Setup() error {
	if err := json.Unmarshal([]byte(f.Config), &f.cfg); err != nil {
		return fmt.Errorf("curate: %w", err)
	}
	var err error
	if f.verifier, err = filters.VerifierByName(f.Sampling.Verifier); err != nil {
		return err
	}
	f.tok, err = filters.NewTokenizer(f.Sampling.TokenEncoding)
	return err
}

// StartBundle starts the bundle's queue; a queue a failed bundle left is
// dropped (its goroutines end on their own).
func (f *curateFn) StartBundle(_ func(release.Row), _ func(string, int64)) {
	f.queue = newInOrder(0, f.curate)
}

func (f *curateFn) ProcessElement(g schemas.Generation, emitRow func(release.Row), emitTally func(string, int64)) error {
	return f.emit(f.queue.submit(g), emitRow, emitTally)
}

func (f *curateFn) FinishBundle(emitRow func(release.Row), emitTally func(string, int64)) error {
	return f.emit(f.queue.drain(), emitRow, emitTally)
}

// curate grades a prompt's samples and applies filters.Curate: the work,
// which touches no state of the DoFn's but its read-only configuration.
func (f *curateFn) curate(g schemas.Generation) curated {
	gr := filters.GradeSamples(g, f.verifier, f.tok, f.cfg.Reasoning, f.cfg.MaxResponseTokens)
	return curated{g, filters.Curate(g, gr, f.cfg)}
}

func (f *curateFn) emit(done []curated, emitRow func(release.Row), emitTally func(string, int64)) error {
	for _, d := range done {
		if err := f.emitOne(d.g, d.c, emitRow, emitTally); err != nil {
			return err
		}
	}
	return nil
}

func (f *curateFn) emitOne(g schemas.Generation, c filters.Curation, emitRow func(release.Row), emitTally func(string, int64)) error {
	out := emitters{row: emitRow, tally: emitTally}
	for verdict, n := range c.Graded {
		emitTally("graded:"+verdict, int64(n))
	}
	if c.Rejection != nil {
		emitTally(release.FateRejected, 1)
		emitTally("reason:"+c.Rejection.Reason, 1)
		return out.emit(release.TableRejected, release.SampleKey(g.Prompt.ID, 0), c.Rejection)
	}
	emitTally(release.FateKept, 1)
	emitTally("difficulty:"+c.Estimate.Difficulty, 1)
	for _, s := range g.Prompt.Skills {
		emitTally("skill:"+s, 1)
		emitTally(release.CoverageKey(s, c.Estimate.Difficulty), 1)
	}
	if c.RLVRExcluded != "" {
		emitTally(release.TallyRLVRExcluded+c.RLVRExcluded, 1)
	}
	if c.NearDuplicates > 0 {
		emitTally(release.TallyNearIdentical, int64(c.NearDuplicates))
	}
	for _, r := range c.SFT {
		emitTally(release.LengthKey("sft", int(r.ResponseTokens)), 1)
		if err := out.emit(release.TableSFT, release.SampleKey(r.PromptID, int(r.SampleIndex)), r); err != nil {
			return err
		}
	}
	for _, r := range c.Pairs {
		emitTally(release.LengthKey("chosen", int(r.ChosenTokens)), 1)
		emitTally(release.LengthKey("rejected", int(r.RejectedTokens)), 1)
		if err := out.emit(release.TablePreference, release.SampleKey(r.PromptID, int(r.ChosenIndex)), r); err != nil {
			return err
		}
	}
	for _, r := range c.RLVR {
		if err := out.emit(release.TableRLVR, release.SampleKey(r.PromptID, 0), r); err != nil {
			return err
		}
	}
	for _, r := range c.Refusal {
		emitTally("refusal", 1)
		if err := out.emit(release.TableRefusal, release.SampleKey(r.PromptID, 0), r); err != nil {
			return err
		}
	}
	return nil
}

// curationStages adds the stages after response decontamination: the
// reward model (when the recipe names one), then curation. It returns
// their rows and tallies.
func curationStages(s beam.Scope, r recipe.Recipe, teacherJSON []byte, checked beam.PCollection) (rows, tallies []beam.PCollection, err error) {
	if r.UsesReward() {
		rewardJSON, err := json.Marshal(r.Reward)
		if err != nil {
			return nil, nil, fmt.Errorf("reward: %w", err)
		}
		var rwRows, rwTally beam.PCollection
		checked, rwRows, rwTally = beam.ParDo3(s.Scope("reward"), &scoreFn{Teacher: string(teacherJSON), Reward: string(rewardJSON), Sampling: r.Sampling, S3Endpoint: r.Output.S3Endpoint}, checked)
		rows, tallies = append(rows, rwRows), append(tallies, rwTally)
	}
	fn, err := newCurateFn(r)
	if err != nil {
		return nil, nil, err
	}
	selRows, selTally := beam.ParDo2(s.Scope("select"), fn, checked)
	return append(rows, selRows), append(tallies, selTally), nil
}
