// Command decontam checks an existing dataset against evaluation benchmarks
// and splits it into clean and flagged records, passed through unchanged:
//
//	go run ./pipelines/decontam --input=data.jsonl --text_field=prompt --benchmarks=DIR --output=OUT
//
// It writes OUT/clean/data-*.jsonl, OUT/flagged/data-*.jsonl,
// OUT/contamination.jsonl (one line per flagged record: id, benchmark,
// benchmark_id, score, matched_ngrams), OUT/dead_letter.jsonl and, last,
// OUT/manifest.json with counts that reconcile. The built-in fingerprints of
// the standard math benchmarks are always checked unless
// --builtin_benchmarks=false; --benchmarks adds sets (a set of the same name
// replaces the built-in one).
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
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

var (
	inputPath  = flag.String("input", "", "records: a local path, glob or s3:// URL of JSONL or Parquet")
	idField    = flag.String("id_field", "id", "field holding the record id (records without one get a hash of their text)")
	textField  = flag.String("text_field", "prompt", "field holding the text to check (a string, or a list of {role, content} messages)")
	benchmarks = flag.String("benchmarks", "", "directory of benchmark sets (<name>/test.jsonl) to check against, besides the built-in ones")
	useBuiltin = flag.Bool("builtin_benchmarks", true, "also check the built-in fingerprints of the standard math benchmarks")
	threshold  = flag.Float64("threshold", 0, "score at or above which a record is flagged (default: the decontam default)")
	output     = flag.String("output", "", "output directory or s3://bucket/prefix")
	s3Endpoint = flag.String("s3_endpoint", "", "S3-compatible endpoint for s3:// URLs; credentials from the AWS environment variables")
	shardRows  = flag.Int64("shard_rows", 100_000, "most records in one clean or flagged shard")
	verbose    = flag.Bool("verbose", false, "log the runner's progress")
	runnerName = flag.String("runner", "prism", transforms.RunnerNames)
)

func main() {
	flag.Parse()
	beam.Init()
	if !*verbose { // Prism narrates every job step; run reports a failure itself
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 1})))
	}
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "decontam:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	r := recipe.Default()
	d := r.Decontam
	d.Builtin = *useBuiltin
	d.BenchmarksDir = *benchmarks
	if *threshold != 0 {
		d.Threshold = *threshold
	}
	job := transforms.DecontamJob{
		Input:      *inputPath,
		Mapping:    r.Input.Mapping,
		Output:     *output,
		S3Endpoint: *s3Endpoint,
		Decontam:   d,
		ShardRows:  *shardRows,
		ShardBytes: r.Output.ShardBytes,
	}
	job.Mapping.ID, job.Mapping.Text = *idField, *textField
	execute, err := transforms.Runner(*runnerName)
	if err != nil {
		return err
	}
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: flags are written --name=value, and every flag after a stray word is ignored", flag.Arg(0))
	}
	p, s := beam.NewPipelineWithRoot()
	if err := transforms.Decontaminate(s, job, release.CodeRevision()); err != nil {
		return err
	}
	if _, err := execute(ctx, p); err != nil {
		return fmt.Errorf("pipeline failed: %w", err)
	}
	summary, err := transforms.DecontamSummary(ctx, job)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, summary)
	return nil
}
