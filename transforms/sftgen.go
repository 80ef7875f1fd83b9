package transforms

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/builtin"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

func init() {
	register.DoFn5x1[context.Context, string, func(schemas.Prompt), func(release.Row), func(string, int64), error](&readPromptsFn{})
	register.DoFn3x1[context.Context, schemas.Prompt, func(int, spillRef), error](&spillPromptsFn{})
	register.DoFn6x1[context.Context, int, func(*spillRef) bool, func(schemas.Prompt), func(release.Row), func(string, int64), error](&dedupPartFn{})
	register.Emitter2[int, spillRef]()
	register.Iter1[spillRef]()
	register.DoFn4x1[schemas.Prompt, func(schemas.Prompt), func(release.Row), func(string, int64), error](&decontamPromptsFn{})
	register.DoFn5x1[context.Context, schemas.Prompt, func(schemas.Generation), func(release.Row), func(string, int64), error](&generateFn{})
	register.DoFn4x1[schemas.Generation, func(schemas.Generation), func(release.Row), func(string, int64), error](&decontamResponsesFn{})
	register.DoFn3x1[context.Context, release.Row, func(release.Part), error](&writePartsFn{})
	register.DoFn4x1[context.Context, []byte, func(*string, *int64) bool, func(*release.Part) bool, error](&finalizeFn{})
	register.DoFn3x0[context.Context, string, int64](&watchTalliesFn{})

	register.Emitter1[schemas.Prompt]()
	register.Emitter1[schemas.Generation]()
	register.Emitter1[release.Row]()
	register.Emitter2[string, int64]()
	register.Iter1[schemas.Prompt]()
	register.Iter1[release.Row]()
	register.Emitter1[release.Part]()
	register.Iter1[release.Part]()
	register.Iter2[string, int64]()
	register.Iter2[string, release.TableSize]()
}

// SFTGen adds the sftgen graph to s: read prompts → skip prompts earlier
// releases hold (output.incremental) → dedup → decontaminate
// prompts → generate k samples → decontaminate responses → verify and
// select → shard and write → manifest, dataset card, LATEST.
//
// r must be validated, with r.Output.Version and r.Teacher.URL set. Bad
// parameters (inputs that match nothing, unreadable benchmark sets) fail
// here, while the graph is built, not on a worker.
func SFTGen(s beam.Scope, r recipe.Recipe, codeRevision string) error {
	s = s.Scope("sftgen")
	if r.Output.Version == "" || (r.Teacher.URL == "" && !r.DryRun) {
		return fmt.Errorf("sftgen: output.version and teacher.url must be set before the graph is built")
	}
	sources, err := expandInputs(r.Input.Path, r.Output.S3Endpoint)
	if err != nil {
		return fmt.Errorf("sftgen: input.path: %w", err)
	}
	if err := probeInputs(context.Background(), sources, r); err != nil {
		return fmt.Errorf("sftgen: %w", err)
	}
	if err := checkNewVersion(r); err != nil {
		return err
	}
	index, err := openIndex(r.Decontam, r.Output.S3Endpoint)
	if err != nil {
		return fmt.Errorf("sftgen: decontam: %w", err)
	}
	info := release.Info{Kind: release.KindSFTGen, Root: r.VersionRoot(), Tables: release.SFTGenTables, Recipe: r.Rerunnable(), Version: r.Output.Version, CodeRevision: codeRevision, Lease: r.Lease}
	if r.Refusal.Enabled {
		info.Tables = append(slices.Clone(info.Tables), release.TableRefusal)
	}
	for _, b := range index.Benchmarks() {
		info.Benchmarks = append(info.Benchmarks, release.BenchmarkSummary{Name: b.Name, Version: b.Version, Items: b.Items})
	}

	teacherJSON, err := json.Marshal(r.Teacher)
	if err != nil {
		return fmt.Errorf("sftgen: teacher: %w", err)
	}

	src := beam.Reshuffle(s, beam.CreateList(s, sources))
	prompts, readRows, readTally := beam.ParDo3(s.Scope("read"), &readPromptsFn{Mapping: r.Input.Mapping, S3Endpoint: r.Output.S3Endpoint}, src)
	prompts, skillRows, skillTally, err := addSynthesized(s, r, string(teacherJSON), prompts) // STAT-Syn problems join the input
	if err != nil {
		return fmt.Errorf("sftgen: %w", err)
	}

	var incRows, incTally []beam.PCollection
	if r.Output.Incremental {
		var rows, tallies beam.PCollection
		if prompts, rows, tallies, err = skipReleased(s, r, prompts); err != nil {
			return fmt.Errorf("sftgen: earlier releases: %w", err)
		}
		if rows.IsValid() {
			incRows, incTally = []beam.PCollection{rows}, []beam.PCollection{tallies}
		}
	}

	ds := s.Scope("dedup")
	unique, dupRows, dupTally := exactDedup(ds, r.VersionRoot(), r.Output.S3Endpoint, prompts)
	unique, nearRows, nearTally := nearDupGraph(ds, r, unique)

	clean, contamRows, contamTally := beam.ParDo3(s.Scope("decontam_prompts"), &decontamPromptsFn{Config: r.Decontam, S3Endpoint: r.Output.S3Endpoint}, unique)
	if r.DryRun {
		return dryRunGraph(s, r, teacherJSON, clean, append(append(incTally, readTally, dupTally, contamTally), nearTally...)...)
	}
	clean, tagRows, tagTally, err := tagSkills(s, r, &info, string(teacherJSON), clean)
	if err != nil {
		return fmt.Errorf("sftgen: %w", err)
	}
	incRows, incTally = append(append(incRows, skillRows...), tagRows...), append(append(incTally, skillTally...), tagTally...)
	gens, genRows, genTally := beam.ParDo3(s.Scope("generate"), generateStage(r, teacherJSON), clean)
	checked, respRows, respTally := beam.ParDo3(s.Scope("decontam_responses"), &decontamResponsesFn{Config: r.Decontam, S3Endpoint: r.Output.S3Endpoint}, gens)
	selRows, selTally, err := curationStages(s, r, teacherJSON, checked)
	if err != nil {
		return fmt.Errorf("sftgen: %w", err)
	}

	rows := append(append(append(incRows, readRows, dupRows, contamRows, genRows, respRows), selRows...), nearRows...)
	allTallies := sumPerBundle(s, append(append(append(incTally, readTally, dupTally, contamTally, genTally, respTally), selTally...), nearTally...))
	beam.ParDo0(s.Scope("progress"), &watchTalliesFn{Run: r.VersionRoot()}, allTallies)
	tallies := stats.SumPerKey(s, allTallies)
	return WriteRelease(s, info, rows, tallies)
}

// WriteRelease writes rows into part files as they arrive, in the stage
// that makes them (see writeRowsWhereMade), then names the parts as shards
// and writes the manifest, the dataset card and LATEST. tallies are the
// run's counters (see the fate keys). No step holds all rows of a table:
// memory does not grow with the input.
func WriteRelease(s beam.Scope, info release.Info, rows []beam.PCollection, tallies beam.PCollection) error {
	infoJSON, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	s = s.Scope("write")
	parts := writeRowsWhereMade(s, info.Root, info.Recipe.Output, rows)
	beam.ParDo0(s, &finalizeFn{Info: string(infoJSON)}, beam.Impulse(s),
		beam.SideInput{Input: tallies}, beam.SideInput{Input: parts})
	return nil
}

// expandInputs turns input.path into the list of files to read: a builtin
// spec as is, a glob into its matches, a file into itself. Matching nothing
// is an error, never an empty run.
func expandInputs(input, s3Endpoint string) ([]string, error) {
	if builtin.IsBuiltin(input) {
		return []string{input}, nil
	}
	if strings.HasPrefix(input, "s3://") {
		dir, pattern := path.Split(strings.TrimPrefix(input, "s3://"))
		store, err := storage.Open("s3://"+dir, &storage.Options{S3Endpoint: s3Endpoint})
		if err != nil {
			return nil, err
		}
		names, err := store.List(context.Background(), "")
		if err != nil {
			return nil, err
		}
		var out []string
		for _, n := range names {
			if ok, _ := path.Match(pattern, n); ok {
				out = append(out, "s3://"+dir+n)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s matches no object", input)
		}
		return out, nil
	}
	matches, err := filepath.Glob(input)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", input, err)
	}
	if len(matches) == 0 {
		if _, err := os.Stat(input); err != nil {
			return nil, fmt.Errorf("%s: %w", input, err)
		}
		return nil, fmt.Errorf("%s matches no file", input)
	}
	return matches, nil
}

// openInput opens one input file, local or on S3.
func openInput(ctx context.Context, source, s3Endpoint string) (storage.File, int64, error) {
	if strings.HasPrefix(source, "s3://") {
		dir, name := path.Split(source)
		store, err := storage.Open(dir, &storage.Options{S3Endpoint: s3Endpoint})
		if err != nil {
			return nil, 0, err
		}
		return store.Open(ctx, name)
	}
	f, err := os.Open(source)
	if err != nil {
		return nil, 0, fmt.Errorf("input: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("input: %w", err)
	}
	return f, info.Size(), nil
}

// SimOptions configure the simulated teacher of StartSimTeacher.
type SimOptions struct {
	// Accuracy is the probability that a sample is correct (default 0.7).
	Accuracy float64
	// Slots is the number of decode slots (default 64).
	Slots int
}

// StartSimTeacher starts the simulated teacher in-process for a recipe
// whose input is a builtin set, gives it that set's answer key, and points
// r.Teacher at it, and r.Reward at its reward model when the recipe asks
// for the simulated one (reward.model sim). Call stop when the pipeline is
// done.
func StartSimTeacher(r *recipe.Recipe, opts *SimOptions) (stop func() error, err error) {
	if opts == nil {
		opts = &SimOptions{Accuracy: 0.7}
	}
	spec, err := builtin.ParseSpec(r.Input.Path)
	if err != nil {
		return nil, fmt.Errorf("the simulated teacher only knows builtin prompts: %w", err)
	}
	solve := simAnswerKey(spec)
	sim, err := teacher.StartSim(teacher.SimConfig{Model: r.Teacher.Model, Accuracy: opts.Accuracy, Slots: opts.Slots, Solve: solve, Seed: int64(spec.Seed)})
	if err != nil {
		return nil, err
	}
	r.Teacher.URL = sim.URL()
	if r.UsesSimReward() {
		r.Reward.URL = sim.RootURL()
	}
	return sim.Close, nil
}

// simAnswerKey is the simulated teacher's answer key for a builtin set:
// it finds a prompt's problem by a hash of its text (one small entry per
// problem, sorted) and makes the problem again (builtin.Nth) to answer,
// so the key of a million prompts holds no prompt text.
func simAnswerKey(spec builtin.Spec) func(prompt string) (teacher.Solution, bool) {
	type entry struct {
		hash  uint64
		index int32
	}
	hash := func(text string) uint64 {
		h := fnv.New64a()
		h.Write([]byte(text))
		return h.Sum64()
	}
	entries := make([]entry, spec.N)
	for i := range spec.N {
		entries[i] = entry{hash(builtin.Nth(spec, i).Text), int32(i)}
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.hash, b.hash) })
	lookup := func(text string) (teacher.Solution, bool) {
		h := hash(text)
		i, _ := slices.BinarySearchFunc(entries, h, func(e entry, h uint64) int { return cmp.Compare(e.hash, h) })
		for ; i < len(entries) && entries[i].hash == h; i++ {
			if p := builtin.Nth(spec, int(entries[i].index)); p.Text == text { // hashes can collide
				return teacher.Solution{Steps: p.Steps, Answer: p.Answer}, true
			}
		}
		return teacher.Solution{}, false
	}
	return func(prompt string) (teacher.Solution, bool) {
		if sol, ok := lookup(prompt); ok {
			return sol, true
		}
		text, _, _ := strings.Cut(prompt, "\n\n") // the prompt before our instruction
		return lookup(text)
	}
}

// checkNewVersion refuses to write over a release: a version is written once.
func checkNewVersion(r recipe.Recipe) error {
	store, err := storage.Open(r.VersionRoot(), &storage.Options{S3Endpoint: r.Output.S3Endpoint})
	if err != nil {
		return err
	}
	if _, err := store.Get(context.Background(), "manifest.json"); err == nil {
		return fmt.Errorf("sftgen: release %s already exists; a release is never overwritten (choose another --version)", store.URL(""))
	}
	return nil
}
