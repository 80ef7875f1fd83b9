// Package filters decides what a teacher sample is worth: it extracts the
// final answer from a response, verifies it against a reference, and checks
// length, format and quality. It knows nothing of Beam.
package filters
