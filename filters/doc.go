// Package filters decides what a teacher sample is worth: it extracts the
// final answer from a response, verifies it against a reference, and checks
// length, format and quality. It knows nothing of Beam.
//
// # Verifiers
//
// A Verifier grades one response against one reference and explains its
// Verdict in one line. Implementations: MathVerifier (mathematical
// equivalence), ExactStringVerifier and MultipleChoiceVerifier; a reward-model
// or judge verifier is to follow. Every implementation passes the shared
// conformance suite in package verifiertest.
//
// A response with no extractable final answer gets HasAnswer=false and
// Reason ReasonNoAnswer ("no_answer"): the sample is rejected for that
// reason and is not counted as wrong. A reference may be a bare answer
// ("\frac{3}{4}"), a GSM8K solution ending in "#### 18", or a MATH solution
// with a \boxed{} answer (ReferenceAnswer). SplitReference splits a
// published reference into its final answer and its full solution, in a
// format the recipe may force (gsm8k, boxed, plain).
//
// # Dedup
//
// DedupText is the form exact deduplication compares: Unicode form (NFKC),
// case and spacing folded, every operator, sign, digit, exponent and LaTeX
// command kept, so two different problems never share it.
//
// NearDup finds near-duplicates: MinHash signatures over 3-token shingles
// (tokens keep numbers, operators, signs and LaTeX commands), LSH banding
// into candidate pairs, and verification by signature agreement (an
// estimate of Jaccard similarity). Signatures use fixed seeds: the same
// text gives the same signature on every worker and in every run. On
// GSM8K train it finds 99.5-100% of near copies (a word changed, a clause
// appended, sentences swapped) at the default threshold 0.7 and flags 3 of
// the 27.9 million pairs of the clean set, each adjudicated in
// testdata/gsm8k_near_pairs.txt. ProblemKeys decides whether a near pair
// may be removed: only when both state the same problem (the same math
// tokens in the same order, or the same sentences reordered); pairs that
// differ in a number, operator, sign or exponent never are.
//
// # Extraction
//
// ExtractAnswer cuts a response at its first leaked chat-template token
// (<|im_start|>, <|im_end|>, <|endoftext|>, ...), then reads, in order of
// precedence: every box of the final statement (the last brace-matched
// \boxed{} or \fbox{} and the boxes joined to it by "and", "or",
// punctuation or a few words, as a list); failing that, the latest of "The
// answer is ...", "Final Answer: ...", "#### n" and an "Answer: ..." line
// (when that is a prose sentence, what follows its last "is"/"are"); failing
// that, the last math span ($...$, $$...$$, \(...\), \[...\]) when it ends
// the response; failing that, the whole response when it is a one-line
// answer with no prose ("-5", "28 percent"). A truncated last box, an empty
// box, or a candidate longer than MaxAnswerBytes is no answer.
//
// # Where we differ from Math-Verify on purpose
//
// bench/mathverify measures agreement with huggingface/Math-Verify's test
// cases (244 of 269, 90.7%, at its commit 5d148cf) and lists every case we
// decide differently, with the reason, in
// bench/mathverify/testdata/disagreements.txt. Two differences are policy:
//
//   - No decimal comma. "1000,99" is not 1000.99 and "0,111" is not 0.111:
//     a comma separates list items or groups thousands (1,000), because
//     lists of answers ("2, 5") are far more common in math answers than
//     decimal commas, and reading "2,5" as 2.5 would accept wrong lists.
//   - No bare numbers pulled out of free text. A response without a box,
//     a final-answer marker or a closing math span ("so the number is 10
//     which is 1,000.99") has no answer (reason no_answer), rather than
//     its last number: a guessed number grades steps and asides as answers,
//     and a no_answer sample is rejected without being counted wrong.
//
// Math-Verify's options (precision=, strict=False,
// allow_set_relation_comp=) have no counterpart: our rules are fixed.
//
// # Equivalence (MathVerifier)
//
// Both answers are normalized (NormalizeAnswer: notation only, never value),
// then compared by structure:
//
//   - numbers (integers, decimals, fractions, mixed numbers 1\frac{1}{2},
//     percentages, and +, -, *, /, integer powers, exact roots, factorials of
//     them) exactly, as math/big rationals: 0.333 is not 1/3;
//   - the rounding rule: a decimal with k digits after the point equals an
//     exact value only when it is that value correctly rounded to k digits
//     (|v - d| <= 1/2 * 10^-k) and either the response states that it
//     rounds ("rounded", "approximately", "to the nearest", "decimal place",
//     \approx) or k >= MinFloatDecimals (a printed float such as
//     0.0833333333333333 for 1/12). So 0.33 is 1/3 only in a response that
//     says it rounds, and a wrongly rounded value (0.34, 0.666 for 2/3) is
//     never accepted;
//   - values that are irrational (\pi, e^{16}, \sqrt{2}, trigonometric and
//     logarithmic functions) as float64 within MathOptions.RelTolerance
//     (default 1e-4) or AbsTolerance near zero;
//   - a percentage a% equals a and a/100;
//   - expressions with variables by evaluation at up to 8 fixed rational
//     points (exact where the operations allow), of which at least 3 must be
//     defined on both sides; verdicts are deterministic;
//   - labels are dropped on both sides: x =, x_{1} =, AB =, (p,q) =,
//     V_1:V_2 =, |AB| =, f(x) =, and "x \in"; a chain x = 5+5+1 = 11 counts
//     its last side, "5 \cdot 6 = 30" its result, x = 1/3 \approx 0.33 its
//     exact side;
//   - equations and inequalities by their sides: a = b equals c = d when
//     a - b = k (c - d) for a constant k != 0 (k > 0 for inequalities, so a
//     flipped inequality is wrong); \geq and >=, \neq and != are one sign;
//     a double inequality a < x <= b is the interval (a, b];
//   - tuples and intervals element by element with the same brackets, so
//     (1, 2) is not [1, 2] and (1;0;2) is (1, 0, 2); sets ({1, 2} too),
//     unions of intervals and bare lists ("2, -3", "1 \pm \sqrt{2}",
//     "6 and 8", "(11,7) or (7,11)", "-12;-11") in any order, as multisets
//     when both sides have as many elements and as sets otherwise (a
//     solution listed twice counts once); matrices (pmatrix, bmatrix, an
//     array in brackets) cell by cell;
//   - anything else (words, times like 4:30 p.m.) as case-insensitive text.
//
// # Guarantees
//
// Bounded work: ExtractAnswer reads at most the last MaxResponseBytes bytes
// of a response in linear time; answers are at most MaxAnswerBytes; an
// expression has at most 1024 nodes and 64 levels of nesting, a collection
// 64 elements and 4 levels, an expression 8 variables; exact intermediate
// results above MathOptions.MaxRationalBits (default 1024 bits) continue as
// floats and powers, roots and factorials are capped before they are
// computed. So a hostile answer such as 10^{10^{10}} or 100000! costs
// microseconds, not memory; there is no timeout because none is needed.
//
// No panics: parsers return errors for input outside their subset (the
// answer is then compared as text), and Verify also recovers, reporting a
// failed grade as not correct. The extractor, normalizer and comparison are
// fuzzed (FuzzExtractAnswer, FuzzNormalize, FuzzEqual).
//
// Concurrency: verifiers hold only immutable options; every Verify call
// uses its own state, so one verifier may be shared by any number of
// goroutines.
//
// Throughput: about 140,000 grades per second per core on the recorded
// Qwen2.5-Math MATH responses, about 100,000 on mixed harder answers
// without extraction (BenchmarkMathVerify, BenchmarkEqual).
//
// # One pass over the k samples
//
// DifficultyConfig.Estimate gives a prompt's pass rate with its 95 % Wilson
// score interval (PassRateLow, PassRateHigh) and a bucket with configurable
// cut points (unsolved 0, hard <= 0.3, medium <= 0.7, easy < 1, trivial 1).
// Rank keeps at most m correct, distinct rationales (best reward first, else
// a rule: first, shortest, longest, random with a seed) and up to p
// (correct, incorrect) pairs by reward margin; texts are never modified.
// AdaptivePolicy draws in rounds and stops a prompt whose quotas are met and
// whose pass rate is settled (on the recordings: 38 % fewer completion
// tokens per kept prompt than fixed k = 8, every prompt kept). Tokenizer
// counts tokens with tiktoken-go's ranks embedded in the binary (no
// download; cl100k_base split by hand, equal to tiktoken-go's counts and
// about 20 times faster), approximating the teacher's own tokenizer;
// SummarizeLengths
// gives the card's percentiles.
//
// GradeSamples and Curate put these together for sftgen's stage after
// verification: every sample graded once (correct, incorrect, no_answer,
// truncated, too_long), then SFT rows (best-of-N with rewards), pairs,
// an RLVR row inside RLVRConfig's pass-rate range (zero variance dropped by
// default), an R-Tuning refusal row when RefusalConfig asks, or exactly one
// rejection with its reason. Curate is deterministic: the same samples and
// rewards give the same rows. Select, the earlier first-correct rejection
// sampling with fixed buckets (Difficulty), is no longer used by sftgen.
package filters
