// Package release is what a release is made of and how it is published,
// in plain Go: the tables and their files (tables.go: Parquet for the
// trainer-facing tables, JSONL for reports), shard counts and names
// (shards.go), the manifest built from the run's tallies and the dataset
// card (manifest.go, card.go), publishing (manifest, card, then LATEST
// last), the dry-run forecast, and the files of earlier releases that an
// incremental run skips. Package transforms wires these into the Beam graph;
// nothing here imports Beam, so it is tested as plain Go.
//
// Guarantees: a release is visible only when complete (LATEST is written
// last, after the manifest whose counts reconcile); the same rows give
// byte-identical shard files (rows sorted by key, shard chosen by a pinned
// FNV-1a hash of the key); every file in the manifest carries its rows,
// bytes and sha256.
package release
