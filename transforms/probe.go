package transforms

import (
	"context"
	"fmt"

	"github.com/syllabus-dev/syllabus/transforms/builtin"
	"github.com/syllabus-dev/syllabus/transforms/input"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// probeInputs reads the start of the first input file (input.Probe) while
// the graph is built, so a field mapping that matches nothing fails the run
// before any teacher call, dry runs included.
func probeInputs(ctx context.Context, sources []string, r recipe.Recipe) error {
	if len(sources) == 0 || builtin.IsBuiltin(sources[0]) {
		return nil
	}
	f, size, err := openInput(ctx, sources[0], r.Output.S3Endpoint)
	if err != nil {
		return err
	}
	defer f.Close()
	return input.Probe(f, size, sources[0], r.Input.Mapping)
}

// CheckInput reads the start of r's input and fails, naming the fields the
// records do have, when none of them holds the text or reference field.
// sftgen calls it before the teacher preflight, so a wrong field mapping is
// reported as such even when the teacher is unreachable; SFTGen checks the
// same while building the graph.
func CheckInput(ctx context.Context, r recipe.Recipe) error {
	sources, err := expandInputs(r.Input.Path, r.Output.S3Endpoint)
	if err != nil {
		return fmt.Errorf("input.path: %w", err)
	}
	return probeInputs(ctx, sources, r)
}
