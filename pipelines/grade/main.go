// Command grade re-grades model responses produced elsewhere against their
// references with the math verifier:
//
//	go run ./pipelines/grade --input=FILE.jsonl --output=FILE.jsonl
//
// Input lines are {id, response, reference}; output lines are
// {id, extracted, correct, has_answer, reason}, in input order. Unusable
// lines go to FILE.jsonl.dead_letter.jsonl (or --dead_letter) with file,
// line, field and reason; they never fail the run. A summary (lines read,
// graded, correct, incorrect, no_answer, dead letters, accuracy) is printed
// on stderr. The runner is Prism, embedded, unless --runner says otherwise.
//
// Exit status: 0 when the run completed (even with dead letters), 2 for bad
// flags, 1 when the run failed (nothing is written then).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec/optimized" // reflection-free DoFn calls, as beamx linked

	"github.com/syllabus-dev/syllabus/transforms"
	"github.com/syllabus-dev/syllabus/transforms/grading"
)

// bindFlags registers the command's flags on fs and returns the config
// they fill in.
func bindFlags(fs *flag.FlagSet) *grading.Config {
	cfg := &grading.Config{}
	fs.StringVar(&cfg.Input, "input", "", "JSONL file of {id, response, reference} lines to grade (.gz is read through gzip)")
	fs.StringVar(&cfg.Output, "output", "", "JSONL file to write {id, extracted, correct, has_answer, reason} lines to")
	fs.StringVar(&cfg.DeadLetter, "dead_letter", "", "JSONL file for unusable input lines (default OUTPUT"+grading.DeadLetterSuffix+")")
	return cfg
}

func main() {
	cfg := bindFlags(flag.CommandLine)
	verbose := flag.Bool("verbose", false, "log the runner's progress (Prism job and worker messages)")
	runnerName := flag.String("runner", "prism", transforms.RunnerNames)
	flag.Parse()
	beam.Init()
	if !*verbose { // Prism narrates every job step; a failure is reported below
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 1})))
	}

	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "grade: bad flags:\n%v\nusage: grade --input=FILE.jsonl --output=FILE.jsonl [--dead_letter=FILE.jsonl] [--runner=prism]\n", err)
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	res, err := grading.Grade(s, *cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	grading.LogSummary(s, res.Summary)
	execute, err := transforms.Runner(*runnerName)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grade:", err)
		os.Exit(2)
	}
	if _, err := execute(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "grade: the run failed, nothing was written: %v\n", err)
		os.Exit(1)
	}
}
