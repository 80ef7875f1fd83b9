// Package release is what a release is made of and how it is published,
// in plain Go: the tables and their files (tables.go: Parquet for the
// trainer-facing tables, JSONL for reports), part files written as rows
// arrive and assembled into named shards (parts.go), the manifest built from the run's tallies and the dataset
// card (manifest.go, card.go), publishing (manifest, card, then LATEST
// last), the dry-run forecast, and the files of earlier releases that an
// incremental run skips. Package transforms wires these into the Beam graph;
// nothing here imports Beam, so it is tested as plain Go.
//
// Guarantees: a release is visible only when complete (LATEST is written
// last, after the manifest whose counts reconcile); no step holds all rows
// of a table (a writer holds one Parquet row group per open part); every
// part is checked against its writer's rows, bytes and sha256 before it
// becomes a shard; every file in the manifest carries its rows, bytes and
// sha256; a row written from the record it keeps and one written from its
// JSON give the same file, byte for byte. Which rows share a shard follows the runner's bundles, so the
// same input gives the same rows, not always byte-identical files.
package release
