// Package grading is the grade command: it re-grades model responses
// produced elsewhere against their references with the math verifier of
// package filters. It is plain streaming Go, not a Beam pipeline (see
// pipelines/grade for why): Run reads, grades on every core and writes in
// input order as it goes, in memory that does not grow with the input.
//
// Input is JSON Lines, one {id, response, reference} object a line (other
// fields are ignored; a .gz name is read through gzip). id and reference may
// be strings or numbers and are kept as written; reference may be a bare
// answer, a GSM8K solution ending in "#### n" or a solution with a \boxed{}
// answer (filters.ReferenceAnswer). Output is JSON Lines, one
// {id, extracted, correct, has_answer, reason} object per graded line.
//
// Guarantees:
//
//   - Every non-blank input line ends in exactly one place: a line of the
//     output or a dead letter (schemas.DeadLetter naming file, line, field
//     and reason). Bad input never fails the job; a run whose counts do not
//     reconcile (read = graded + dead letters) does.
//   - Output and dead letters are in input order.
//   - Both files are written through storage.Store.Create (local paths or
//     s3:// URLs) and become visible only when the whole input was read and
//     the counts reconcile, the dead letters first: a failed or cancelled
//     run leaves no partial output, and an output file is always complete.
//   - Grading is deterministic, so reruns give identical files.
//
// A response with no extractable final answer is graded with has_answer
// false and reason "no_answer"; it counts as not correct in the accuracy
// (correct / graded), and the summary reports it apart from incorrect.
//
// Blank lines are not records. ids need not be unique: output lines follow
// input lines one to one, in order.
package grading
