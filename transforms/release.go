package transforms

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// writePartsFn writes rows into part files as they arrive (Beam's
// WriteFiles pattern): each bundle streams its rows into one open part per
// table, and emits the parts it finished when the bundle ends. No step holds
// the rows of a table, or of a shard, at once; the finalize step names the
// parts as shards.
type writePartsFn struct {
	Root   string // the version root: <output>/<name>/<version>
	Output recipe.OutputConfig
	store  storage.Store
	w      *release.PartWriter
}

func (f *writePartsFn) Setup() error {
	var err error
	f.store, err = storage.Open(f.Root, &storage.Options{S3Endpoint: f.Output.S3Endpoint})
	return err
}

func (f *writePartsFn) StartBundle(_ context.Context, _ func(release.Part)) {
	if f.w != nil {
		f.w.Abort() // a bundle that failed left its parts open
	}
	f.w = release.NewPartWriter(f.store, f.Output)
}

func (f *writePartsFn) ProcessElement(ctx context.Context, r release.Row, _ func(release.Part)) error {
	return f.w.Add(ctx, r)
}

func (f *writePartsFn) FinishBundle(_ context.Context, emit func(release.Part)) error {
	parts, err := f.w.Close()
	f.w = nil
	if err != nil {
		return err
	}
	for _, p := range parts {
		emit(p)
	}
	return nil
}

// finalizeFn runs once, after every part is written: it assembles the
// parts into shards (writing an empty file for tables with no rows, so every
// table is readable), checks that the counts reconcile, and writes
// manifest.json, the dataset card and, last, <name>/LATEST. A run whose
// counts do not reconcile fails and publishes nothing.
type finalizeFn struct {
	// Info is the release.Info as JSON (the recipe holds free-form fields
	// that Beam's schema coder for DoFns cannot).
	Info string
}

func (f *finalizeFn) ProcessElement(ctx context.Context, _ []byte, tallies func(*string, *int64) bool, parts func(*release.Part) bool) error {
	var info release.Info
	if err := json.Unmarshal([]byte(f.Info), &info); err != nil {
		return fmt.Errorf("release: %w", err)
	}
	o := info.Recipe.Output
	store, err := storage.Open(info.Root, &storage.Options{S3Endpoint: o.S3Endpoint})
	if err != nil {
		return err
	}
	t := map[string]int64{}
	var k string
	var v int64
	for tallies(&k, &v) {
		t[k] += v
	}
	flushWorkerTeachers(ctx)
	flushWorkerRewards()
	var all []release.Part
	var p release.Part
	for parts(&p) {
		all = append(all, p)
	}
	if err := removeSpill(ctx, store); err != nil { // every stage that read a spill has ended
		return fmt.Errorf("release %s: removing %s: %w; nothing was published", info.Root, spillDir, err)
	}
	files, tableSizes, err := release.Assemble(ctx, store, o, info.Tables, all)
	if err != nil {
		return fmt.Errorf("release %s: %w; nothing was published", info.Root, err)
	}
	if got, counted := tableSizes[release.TableDeadLetter].Rows, t[release.FateDeadLetter]; got != counted {
		return fmt.Errorf("release %s: %d dead letters written but %d counted; nothing was published", info.Root, got, counted)
	}
	if info.Kind == release.KindDecontam {
		return release.PublishDecontam(ctx, store, info, t, tableSizes, files)
	}
	return release.PublishSFTGen(ctx, store, info, t, tableSizes, files)
}
