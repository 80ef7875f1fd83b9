// Package transforms is the Beam wiring of syllabus: composite transforms
// that turn the plain-Go stages (input readers, decontam.Index,
// teacher.Client and teacher.RewardClient, filters.Curate, the release
// writer) into one graph.
//
// Beam lives only here and in pipelines/. Every DoFn routes a per-record
// problem to the dead-letter output instead of returning an error, because an
// error fails the whole job on Prism and restarts a whole task on Flink.
//
// Everything that is policy rather than wiring lives in packages that do
// not import Beam, tested as plain Go: transforms/recipe (the recipe and its
// validation), transforms/release (tables, shards, manifest, card,
// publishing), transforms/input (readers), filters (verification, selection,
// difficulty).
package transforms
