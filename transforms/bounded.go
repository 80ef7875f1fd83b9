package transforms

import (
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

func init() {
	register.DoFn3x0[string, int64, func(string, int64)](&sumTalliesFn{})
}

// What crosses a stage boundary is what a runner holds. Prism, the embedded
// runner, fuses chains of DoFns into one stage, but a Flatten or a
// GroupByKey ends a stage, and between stages it keeps every element of a
// PCollection in memory (its ElementManager), copies a bundle's whole input
// into one gRPC message, and buffers a bundle's whole output until the
// bundle ends; a stage's bundle is all its pending input. So memory is set
// by the bytes that leave a stage, several times over (bench/memory.sh).
// Three shapes keep those bytes small, and are right on any runner: rows
// are written by the stage that makes them (writeRowsWhereMade), tallies
// are summed per bundle before they leave it (sumPerBundle), and records
// that must be grouped by key go through a spill (spill.go): a file per
// bundle on the run's storage, with only references crossing.

// writeRowsWhereMade writes each PCollection of rows with its own
// writePartsFn, with no Flatten in front, so the writer fuses into the
// stage that makes the rows and the rows never leave it: only the parts
// written (a few per bundle) do. A row that stays in its stage is written
// from the record it keeps, with no JSON made (release.Row); one that a
// runner does send on goes as its JSON (rowcoder.go). It returns all parts.
func writeRowsWhereMade(s beam.Scope, root string, o recipe.OutputConfig, rows []beam.PCollection) beam.PCollection {
	parts := make([]beam.PCollection, len(rows))
	for i, r := range rows {
		parts[i] = beam.ParDo(s, &writePartsFn{Root: root, Output: o}, r)
	}
	return beam.Flatten(s, parts...)
}

// sumPerBundle sums each tally PCollection per key within a bundle, in
// the stage that makes it (combiner lifting, done by hand so the partial
// sums can feed the progress line too), and flattens the sums: a bundle
// sends on one element per tally key instead of several per record.
func sumPerBundle(s beam.Scope, tallies []beam.PCollection) beam.PCollection {
	sums := make([]beam.PCollection, len(tallies))
	for i, t := range tallies {
		sums[i] = beam.ParDo(s, &sumTalliesFn{}, t)
	}
	return beam.Flatten(s, sums...)
}

// sumTalliesFn holds one sum per tally key (a bounded set: fates, reasons,
// stages, benchmarks, skills) for the length of a bundle.
type sumTalliesFn struct {
	sums map[string]int64
}

func (f *sumTalliesFn) StartBundle(_ func(string, int64)) { f.sums = map[string]int64{} }

func (f *sumTalliesFn) ProcessElement(key string, n int64, _ func(string, int64)) { f.sums[key] += n }

func (f *sumTalliesFn) FinishBundle(emit func(string, int64)) {
	for k, n := range f.sums {
		emit(k, n)
	}
	f.sums = nil
}
