// Package decontam finds training records that overlap evaluation benchmarks:
// it loads benchmark sets, normalizes text, indexes benchmark n-grams and scores
// candidates against them. It knows nothing of Beam.
package decontam
