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
// \sqrt are the same word; CJK characters are words) and cut into n-grams
// of Config.NgramSize words (default 5). Every n-gram of a checked text is
// looked up; the index holds a sample of each benchmark item's n-grams in a
// table of 32-bit keys. The sample covers the whole item: its n-grams, in
// text order, are cut into blocks of 5 (of 2 to 4 for short items, so they
// keep about 8), and each block keeps its rarest n-gram that is not the
// neighbour of the last one kept. A stock question sentence of a short
// item therefore holds only its share of the sample, a copy truncated to
// 70% keeps about 70% of it, and a changed number breaks at most two kept
// n-grams. Each kept n-gram is weighted by its rarity across all items of the benchmark
// corpus (IDF, ln(items/df), as allenai/decon weighs them), so stock
// phrasing ("express your answer as a common fraction") counts for little.
//
// A candidate's score against a benchmark item (its question, or its
// solution when Config.MatchSolutions) is the weight of the item's distinct
// n-grams found inside one window of the text about the item's length
// (words*5/4 + 2n), over the weight of all its indexed n-grams: matches
// scattered over a long document do not add up. A match needs a score of at
// least Config.Threshold (default 0.5) and at least Config.MinMatchedWeight
// (default 15, about two n-grams unique to one item) of matched weight, or
// all of an item's weight when it has less. Items shorter than n words match
// only when they appear whole. N-grams shared by more than
// Config.MaxItemsPerNgram items are ignored. Check returns the matches best
// first; the order is deterministic. An Index is immutable and safe for
// concurrent use.
//
// Measured with the built-in fingerprints (go test ./decontam -run
// 'Recall|FalsePositives|RecordedMath' -v). Cases are split in halves by a
// hash of their key; the defaults were chosen looking at the tuning half
// only, and the gates apply to the held-out half:
//
//	recall (testdata/benchmarks: all GSM8K and MATH-500 questions, 150 of each other set)
//	transformation       tuning  held-out  gate
//	verbatim             0.9982  1.0000    >= 0.98
//	spacing+case         0.9982  1.0000    >= 0.98
//	instruction          0.9982  1.0000    >= 0.98
//	punctuation+quotes   0.9969  0.9982    >= 0.98
//	chat                 0.9982  1.0000    >= 0.98
//	truncated70          0.9277  0.9341    >= 0.93
//	number-changed       0.9495  0.9613    >= 0.95
//	paraphrase           0.2369  0.2352    reported (synonyms, clause moved)
//
//	false positives (clean sets)                  tuning   held-out  gate
//	GSM8K train prompts (3737 / 3736)             0        0         <= 0.005, every flag reviewed
//	clean GSM8K-train documents, 2 KB (600 each)  0        0         <= 0.005
//	                            10 KB (400 each)  0        0         <= 0.005
//	                            50 KB (200 each)  0        0         <= 0.005
//	recorded MATH questions (55 clean)            0 of 55 flagged; the 4 MATH-500 items and
//	                                              the template sibling of prealgebra/1742 flagged
//
// GSM8K-train flags reviewed as template duplicates of a benchmark item
// (testdata/gsm8k_train_review.tsv) are right to flag and are not counted
// as false positives; an unreviewed flag fails the test (3 flagged in each
// half, all template duplicates). Short items that share only their stock
// question sentence with a prompt are not flagged, while their copies are
// (TestShortItemQuestionSentence: "There are 20 birds and 8 fly away. How
// many birds are left on the wire?" against asdiv/23, and six more pairs).
// Number-changed recall stays below 0.97 (issue 10 asks for 0.97; not
// reached: a lower Threshold, 0.4, lifts the tuning half only to 0.957 and
// flags a clean recorded MATH question, a GSM8K-train prompt and a
// stock-sentence pair, so it is not taken): in short formula items one
// changed number breaks most of the 5-grams there are (both halves: College
// Math 0.70, CARP 0.87, MATH-500 0.88, MMLU-STEM 0.90; GSM8K, SVAMP and
// ASDiv 0.99-1.00). Truncation hurts the same sets (College Math 0.51,
// MMLU-STEM 0.74, MATH-500 0.88; GSM8K 0.998).
//
// # Throughput
//
// go test ./decontam -run '^$' -bench . -cpu 1 (MB/cpu-s, MB per
// CPU-second, steadier than MB/s on a shared machine), on the 2-core
// development machine. For the IDF-windowed version, median of five runs
// alternating with the version before it, under a load average near 20 (so below the figures of a quiet
// machine, where the previous version measured 45, 45, 41 and 18; compare
// the ratios):
//
//	                      before  after  ratio
//	clean prompts          33.7   44.2   1.31
//	clean 10 KB documents  32.1   44.2   1.38
//	clean 50 KB documents  32.5   43.3   1.33
//	benchmark questions    12.8   17.4   1.36 (every text scored)
//
// Index heap 9.5 MiB (14.2 before the key table was packed, below). A
// text's n-grams are hashed and looked up in a 256 KB bit filter first,
// without a branch (nine in ten of a clean text's stop there); the rest
// are probed in a second, short loop, so their cache misses overlap, in a
// table of 4-byte keys at load up to 3/4 (1 MB), whose postings (4 MB) are
// read in a third loop; hits are grouped by a counting sort. NFKC is
// checked only on the non-ASCII runs of a text.
//
// Those changes, measured on this machine against the previous version
// (8 alternating runs each, benchstat, load average 8-9 on 2 cores):
// throughput moved within the noise (MB/cpu-s medians 75.3 -> 77.7 clean
// prompts, 80.8 -> 83.6 10 KB documents, 74.4 -> 82.4 50 KB documents,
// 31.1 -> 28.8 benchmark questions; +-25-33%, p >= 0.28). In those runs
// both versions meet the clean goal (>= 50) with margin and sit at the
// contaminated goal (>= 30; single runs from 21 to 34): the latter is not
// shown met. What cachegrind counts without noise, per pass: clean prompts,
// instructions 114 M -> 125 M (the extra passes) and last-level read
// misses (8 MB cache) 11.5 K -> about 0; 10 KB documents, instructions
// 79 M -> 73 M (the NFKC check); index heap -33%.
//
// Next to lm-eval's Janitor (pure Python, 13-grams) on the same texts
// (bench/janitor.sh, with a fetched lm-evaluation-harness): per core 51x
// faster on clean prompts, 47x on 10 KB and 57x on 50 KB documents, 7x on
// benchmark questions (Janitor has no 13-gram to look up in short texts).
//
// # Built-in fingerprints
//
// fingerprints.bin, embedded (946 KB), holds no benchmark text. Exactly
// what it reveals (see WriteFingerprints for the layout): the n-gram size;
// the names, versions and item counts of the sets; every item's set and
// id, in the sets' order; for each item whether it has an indexed
// solution, and the number of normalized words of its question and
// solution; and for each of those, a
// sample of its 5-gram hashes (one per block of 5 positions, of 2 to 4 in
// short items; never two neighbours), truncated to 32 bits and sorted by
// value, so their order in the text is gone, each with a one-byte IDF
// weight (which tells roughly in how many items that n-gram occurs).
// Anyone holding a candidate 5-gram can test whether it is in the sample of
// an item; chaining such tests one word at a time with the vocabulary and
// 5-grams of GSM8K train rebuilds 4.3% of the words of the GSM8K test
// questions, 3.7% of SVAMP's and 4.2% of ASDiv's, and no question whole
// (TestFingerprintAttack; the same attack on every n-gram rebuilds 62%).
// Kept n-grams of short items are two or three positions apart, so an
// attacker who extends by two or three words at a time (|vocabulary|^2 or
// ^3 tests per step) could join more of them; the file is a deterrent
// against reconstruction, not a guarantee.
// Builtin indexes it, so decontamination works offline with nothing to
// download. Regenerate it after changing the benchmark sets, Normalize,
// the hashing or the sampling (TestBuiltinFresh, run when SYLLABUS_SHARED
// names the directory holding benchmarks/, fails until you do) with one
// command from the project root:
//
//	go run ./decontam/cmd/fingerprints -benchmarks ../shared/benchmarks -out decontam/fingerprints.bin
//
// or `go generate ./decontam`. Open combines the built-in sets, a
// --benchmarks directory and recipe sets; a set loaded from text replaces
// the built-in set of the same name.
package decontam
