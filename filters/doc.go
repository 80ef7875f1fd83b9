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
// with a \boxed{} answer (ReferenceAnswer).
//
// # Extraction
//
// ExtractAnswer takes the last brace-matched \boxed{} or \fbox{}; failing
// that, the latest of "The answer is ...", "#### n" and an "Answer: ..."
// line. A truncated last box, an empty box, or a candidate longer than
// MaxAnswerBytes is no answer. It never guesses from the last number.
//
// # Equivalence (MathVerifier)
//
// Both answers are normalized (NormalizeAnswer: notation only, never value),
// then compared by structure:
//
//   - numbers (integers, decimals, fractions, mixed numbers 1\frac{1}{2},
//     percentages, and +, -, *, /, integer powers, exact roots, factorials of
//     them) exactly, as math/big rationals: 0.333 is not 1/3;
//   - values that are irrational (\pi, e^{16}, \sqrt{2}, trigonometric and
//     logarithmic functions) as float64 within MathOptions.RelTolerance
//     (default 1e-4) or AbsTolerance near zero;
//   - a percentage a% equals a and a/100;
//   - expressions with variables by evaluation at up to 8 fixed rational
//     points (exact where the operations allow), of which at least 3 must be
//     defined on both sides; verdicts are deterministic;
//   - equations and inequalities by their sides: a = b equals c = d when
//     a - b = k (c - d) for a constant k != 0 (k > 0 for inequalities), and a
//     leading "y =" may be dropped;
//   - tuples and intervals element by element with the same brackets, so
//     (1, 2) is not [1, 2]; sets, unions of intervals and bare lists
//     ("2, -3", "1 \pm \sqrt{2}") in any order; matrices cell by cell;
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
package filters
