// Package schemas holds the record types that flow through syllabus and the
// files it releases: Prompt, Sample, SFTExample, PreferencePair, RLVRExample,
// Rejection, DeadLetter, Contamination and Manifest.
//
// The Parquet struct tags here are the release's column contract: trainers (TRL,
// OpenRLHF, verl), the Hugging Face datasets loader and DuckDB read these files,
// so a column is renamed or removed only with a bump of Version. The package
// imports nothing of ours.
package schemas
