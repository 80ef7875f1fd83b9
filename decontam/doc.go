// Package decontam finds training records that overlap evaluation
// benchmarks: it loads benchmark sets, normalizes text, indexes benchmark
// n-grams and scores candidates against them. It knows nothing of Beam;
// transforms/ wraps it.
//
// # Sets
//
// KnownBenchmarks maps the standard sets of ../shared/benchmarks (GSM8K,
// MATH-500, AIME24, AMC23, OlympiadBench, Minerva, GaoKao 2023 En, College
// Math, SVAMP, ASDiv, SAT math, MMLU-STEM, CMATH, CARP-En) to their fields
// (question in problem, question, content, body+question or Body+Question;
// reference solutions where present). A recipe adds sets with
// Config.Benchmarks (path, glob or directory; JSONL or Parquet; fields),
// read through any fs.FS, so a storage layer can serve S3. Each set is
// versioned by a hash of its file contents (BenchmarkInfo.Version), for the
// manifest.
//
// # Matching
//
// Text is normalized (see Normalize: NFKC, case folding, punctuation,
// quotes, whitespace and LaTeX markup do not matter; π and \pi, √ and
// \sqrt are the same word; CJK characters are words) and cut into n-grams of Config.NgramSize words (default 5).
// Benchmark n-grams live in a bloom filter (bits-and-blooms/bloom/v3, sized
// from the data for Config.BloomFalsePositiveRate, default 1%) in front of
// an exact hash table, so a bloom false positive costs one lookup and is
// never reported; a table slot holds an n-gram's hash with its posting (or
// where its postings are), so a hit costs one cache line. Hashes are 48-bit; a chance collision needs to recur
// along a chain covering half an item to matter, which does not happen in
// practice.
//
// A candidate's score against a benchmark item (its question, or its
// solution when Config.MatchSolutions) is the fraction of the item's words
// covered by the longest chain of shared n-grams that advance together in
// both texts. Items shorter than n words match only when they appear whole.
// N-grams shared by more than Config.MaxItemsPerNgram items are stock
// phrasing and are ignored. Check returns the items scoring at or above
// Config.Threshold (default 0.5), best first; the order is deterministic.
// An Index is immutable and safe for concurrent use.
//
// Measured on our evaluation set (every question of every shared benchmark,
// verbatim, respaced and recased, wrapped in an instruction, with
// punctuation and quotes changed, embedded in a chat message, truncated to
// 70%, and with one number changed; mixed with the 7,473 GSM8K train
// prompts): recall 0.988 overall, precision 0.9997 counting each of the 25
// flagged train prompts as a false positive, 0.99995 with the hand review in
// testdata/gsm8k_train_review.tsv (20 are template duplicates of benchmark
// items, 5 share only a stock phrase with a short item). Run it with
//
//	go test ./decontam -run TestPrecisionRecall -v
//
// # Throughput
//
// Check runs at about 70-80 MB of clean prompt text per second per core
// against all shared benchmarks (about 15 MB/s on text that matches, which
// is scored), in an index of 19 MB (IndexStats.Bytes). Normalizing is about
// 40% of that time and the bloom filter's cache misses most of the rest;
// parts whose hits are too few to reach the threshold are never sorted or
// scored. Measure with
//
//	go test ./decontam -run '^$' -bench 'Check|Normalize' -cpu 1 -count 5
//
// (MB/cpu-s is MB per CPU-second, steadier than MB/s on a shared machine).
//
// # Built-in fingerprints
//
// fingerprints.bin, embedded, holds the n-gram hashes, word counts, item
// ids and set versions of ../shared/benchmarks, and no benchmark text.
// Builtin indexes it, so decontamination works offline with nothing to
// download. Regenerate it after changing the shared sets, Normalize or the
// hashing (TestBuiltinFresh fails until you do) with one command from the
// project root:
//
//	go run ./decontam/cmd/fingerprints -benchmarks ../shared/benchmarks -out decontam/fingerprints.bin
//
// or `go generate ./decontam`. Open combines the built-in sets, a
// --benchmarks directory and recipe sets; a set loaded from text replaces
// the built-in set of the same name.
package decontam
