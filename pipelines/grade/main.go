// Command grade re-grades model responses produced elsewhere against their
// references with the math verifier:
//
//	go run ./pipelines/grade --input=FILE.jsonl --output=FILE.jsonl
//
// Input lines are {id, response, reference}; output lines are
// {id, extracted, correct, has_answer, reason}, in input order. Unusable
// lines go to FILE.jsonl.dead_letter.jsonl (or --dead_letter) with file,
// line, field and reason; they never fail the run. Paths may be local or
// s3:// URLs (--s3_endpoint, credentials from the AWS environment). A
// summary (lines read, graded, correct, incorrect, no_answer, dead letters,
// accuracy) is printed on stderr.
//
// grade is a plain streaming command, not a Beam pipeline: the verifier
// grades over 100,000 responses a second per core, so a runner would spend
// more shipping the responses' text between workers than grading them (on
// Prism a Reshuffle halved throughput and grew memory 8x). It reads,
// grades on every core and writes in input order as it goes, in memory that
// does not grow with the input.
//
// Exit status: 0 when the run completed (even with dead letters), 2 for bad
// flags, 1 when the run failed (nothing is written then).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/syllabus-dev/syllabus/transforms/grading"
)

const usage = "usage: grade --input=FILE.jsonl --output=FILE.jsonl [--dead_letter=FILE.jsonl] [--s3_endpoint=HOST:PORT]"

// bindFlags registers the command's flags on fs and returns the config
// they fill in.
func bindFlags(fs *flag.FlagSet) *grading.Config {
	cfg := &grading.Config{}
	fs.StringVar(&cfg.Input, "input", "", "JSONL file or s3:// URL of {id, response, reference} lines to grade (.gz is read through gzip)")
	fs.StringVar(&cfg.Output, "output", "", "JSONL file or s3:// URL to write {id, extracted, correct, has_answer, reason} lines to")
	fs.StringVar(&cfg.DeadLetter, "dead_letter", "", "JSONL file for unusable input lines (default OUTPUT"+grading.DeadLetterSuffix+")")
	fs.StringVar(&cfg.S3Endpoint, "s3_endpoint", "", "S3-compatible endpoint for s3:// paths; credentials from the AWS environment variables")
	return cfg
}

// parse reads args into a config, reporting every problem at once.
func parse(args []string) (*grading.Config, error) {
	fs := flag.NewFlagSet("grade", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), usage)
		fs.PrintDefaults()
	}
	cfg := bindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags are written --name=value)", fs.Arg(0))
	}
	return cfg, cfg.Validate()
}

func main() {
	cfg, err := parse(os.Args[1:])
	if err == flag.ErrHelp {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "grade: bad flags:\n%v\n%s\n", err, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := grading.Run(ctx, *cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v\ngrade: the run failed, nothing was written\n", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, sum.String())
}
