package grading

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// DeadLetterSuffix is appended to the output path to name the dead-letter
// file when Config.DeadLetter is empty.
const DeadLetterSuffix = ".dead_letter.jsonl"

// Config is what a grade run needs. Field names follow the command's flags.
type Config struct {
	// Input is the JSONL file of {id, response, reference} lines (--input).
	Input string
	// Output is the JSONL file of graded lines to write (--output).
	Output string
	// DeadLetter is the file of unusable input lines (--dead_letter);
	// default Output + DeadLetterSuffix.
	DeadLetter string
	// S3Endpoint is the S3-compatible endpoint for s3:// paths
	// (--s3_endpoint); credentials come from the AWS environment variables.
	S3Endpoint string
}

// DeadLetterPath is the dead-letter file in effect.
func (c Config) DeadLetterPath() string {
	if c.DeadLetter != "" {
		return c.DeadLetter
	}
	return c.Output + DeadLetterSuffix
}

// Validate reports every bad field at once, each naming its flag.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, f := range []struct{ flag, value, what string }{
		{"--input", c.Input, "the JSONL file of {id, response, reference} lines to grade"},
		{"--output", c.Output, "the JSONL file to write graded lines to"},
	} {
		if strings.TrimSpace(f.value) == "" {
			bad("%s is required: %s", f.flag, f.what)
		}
	}
	same := func(a, b string) bool { return a != "" && b != "" && filepath.Clean(a) == filepath.Clean(b) }
	if same(c.Input, c.Output) {
		bad("--output must differ from --input (%s): grading never overwrites its input", c.Input)
	}
	if c.Output != "" {
		if dl := c.DeadLetterPath(); same(dl, c.Input) || same(dl, c.Output) {
			bad("--dead_letter must differ from --input and --output (%s)", dl)
		}
	}
	return errors.Join(errs...)
}
