// Command skillgap turns a student model's evaluation results into a
// missing-skill profile: the skills of the problems it got wrong, ranked by
// failure rate, with counts.
//
//	go run ./pipelines/skillgap --results=FILE.jsonl --release=DIR --output=profile.json
//	go run ./pipelines/skillgap --results=FILE.jsonl --catalogue=skills.yaml \
//	    --teacher_url=http://host:8000/v1 --teacher_model=MODEL --output=profile.json
//
// Result lines are {prompt_id, correct} or {prompt, response, reference}
// (graded with the math verifier). With --release the skills of the
// release's rows are reused (by prompt_id, else by prompt text); results
// the release does not cover are tagged by the teacher against the
// catalogue (--catalogue, default the release's skills/catalogue.yaml);
// --teacher_model=sim with no URL starts the simulated teacher. Lines that
// can be neither are listed on stderr with their line number, never
// silently dropped. The profile feeds sftgen --skill_profile.
//
// Exit status: 0 written, 2 bad flags, 1 failed (nothing written).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/skills"
)

const usage = "usage: skillgap --results=FILE.jsonl (--release=DIR | --catalogue=FILE.yaml --teacher_url=URL --teacher_model=M) --output=profile.json"

func parse(args []string) (skills.GapConfig, error) {
	fs := flag.NewFlagSet("skillgap", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), usage)
		fs.PrintDefaults()
	}
	cfg := skills.GapConfig{Teacher: recipe.Default().Teacher}
	cfg.Teacher.Model = ""
	fs.StringVar(&cfg.Results, "results", "", "JSONL of {prompt_id, correct} or {prompt, response, reference} lines (local or s3://)")
	fs.StringVar(&cfg.Release, "release", "", "release directory whose rows' skills are reused (a version, or a dataset root with LATEST)")
	fs.StringVar(&cfg.Catalogue, "catalogue", "", "skill catalogue YAML to tag with (default: the release's skills/catalogue.yaml)")
	fs.StringVar(&cfg.Teacher.URL, "teacher_url", "", "OpenAI-compatible base URL ending in /v1, to tag results the release does not cover")
	fs.StringVar(&cfg.Teacher.Model, "teacher_model", "", "teacher model id; sim (with no --teacher_url) starts the simulated teacher")
	fs.IntVar(&cfg.Teacher.MaxConcurrency, "teacher_max_concurrency", cfg.Teacher.MaxConcurrency, "tag requests in flight")
	fs.IntVar(&cfg.Attempts, "tag_attempts", 3, "answers one tag may take before the line is reported unusable")
	fs.StringVar(&cfg.Output, "output", "", "profile JSON to write (local or s3://)")
	fs.StringVar(&cfg.S3Endpoint, "s3_endpoint", "", "S3-compatible endpoint for s3:// paths; credentials from the AWS environment")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (flags are written --name=value)", fs.Arg(0))
	}
	return cfg, nil
}

func main() {
	cfg, err := parse(os.Args[1:])
	if err == flag.ErrHelp {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "skillgap: bad flags: %v\n%s\n", err, usage)
		os.Exit(2)
	}
	sum, err := run(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "skillgap: %v\nskillgap: nothing was written\n", err)
		os.Exit(1)
	}
	fmt.Fprint(os.Stderr, sum)
}

func run(cfg skills.GapConfig) (skills.GapSummary, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.Teacher.Model == recipe.SimTeacher && cfg.Teacher.URL == "" {
		stopSim, err := skills.StartSimTeacher(&cfg.Teacher)
		if err != nil {
			return skills.GapSummary{}, err
		}
		defer stopSim()
	}
	if cfg.Teacher.URL != "" {
		if err := cfg.Teacher.Validate(); err != nil {
			return skills.GapSummary{}, err
		}
	}
	return skills.Gap(ctx, cfg)
}
