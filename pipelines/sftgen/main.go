// Command sftgen turns prompts into a released SFT and preference dataset:
// read → dedup → decontaminate → teacher samples → verify → select → write
// sharded Parquet, manifest and dataset card.
//
// With no flags it runs the offline quickstart: built-in arithmetic prompts,
// the simulated teacher started in-process, the embedded Prism runner, and
// output under ./out/.
//
//	go run ./pipelines/sftgen
//	go run ./pipelines/sftgen --recipe=recipe.yaml --output=s3://bucket/prefix
//	go run ./pipelines/sftgen --runner=universal --endpoint=localhost:8073 ...
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec/optimized" // reflection-free DoFn calls, as beamx linked

	"github.com/syllabus-dev/syllabus/transforms"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// beamFlags are the flags Beam's packages defined before ours: --help
// shows them apart.
var beamFlags = flagNames()

var (
	runnerName   = flag.String("runner", "prism", "Beam runner: "+transforms.RunnerNames)
	recipePath   = flag.String("recipe", "", "YAML recipe; flags override its fields")
	name         = flag.String("name", "", "dataset name (recipe name)")
	inputPath    = flag.String("input", "", "prompts: a local path, glob or s3:// URL of JSONL or Parquet, or builtin:arithmetic?n=200 (recipe input.path)")
	idField      = flag.String("id_field", "", "input field holding the record id (recipe input.id_field, default id)")
	textField    = flag.String("text_field", "", "input field holding the prompt (recipe input.text_field, default prompt)")
	answerField  = flag.String("answer_field", "", "input field holding the reference answer (recipe input.answer_field, default answer)")
	systemPrompt = flag.String("system_prompt", "", "a system turn added to every prompt that has none (recipe teacher.system_prompt)")
	answerFormat = flag.String("answer_format", "", "how the reference is written: auto, gsm8k (#### n), boxed (last \\boxed{}) or plain (recipe input.answer_format, default auto)")
	teacherURL   = flag.String("teacher_url", "", "OpenAI-compatible base URL ending in /v1 (recipe teacher.url)")
	model        = flag.String("teacher_model", "", "teacher model id; sim selects the simulated teacher (recipe teacher.model)")
	concurrency  = flag.Int("teacher_max_concurrency", 0, "teacher requests in flight per worker (recipe teacher.max_concurrency)")
	samples      = flag.Int("samples_per_prompt", 0, "k, samples drawn per prompt (recipe sampling.samples_per_prompt)")
	rewardURL    = flag.String("reward_url", "", "reward-model server root, without /v1 (vLLM /pooling); SFT rows are then the best-of-N (recipe reward.url)")
	rewardModel  = flag.String("reward_model", "", "reward model id, e.g. Qwen/Qwen2.5-Math-RM-72B, or sim for the simulated teacher's (recipe reward.model)")
	policy       = flag.String("sampling_policy", "", "fixed (always k samples) or adaptive (rounds, stop a prompt once settled) (recipe sampling.policy)")
	benchmarks   = flag.String("benchmarks", "", "directory of benchmark sets to decontaminate against, besides the built-in ones (recipe decontam.benchmarks_dir)")
	output       = flag.String("output", "", "release root: a local directory or s3://bucket/prefix (recipe output.path)")
	version      = flag.String("version", "", "release version (default: UTC timestamp)")
	s3Endpoint   = flag.String("s3_endpoint", "", "S3-compatible endpoint for s3:// URLs; credentials from the AWS environment variables (recipe output.s3_endpoint)")
	maxTokens    = flag.Int64("max_teacher_tokens", 0, "hard budget of teacher tokens; the run stops cleanly past it (recipe teacher.token_budget)")
	simAccuracy  = flag.Float64("sim_accuracy", 0.7, "probability that a simulated-teacher sample is correct (quickstart only)")
	incremental  = flag.Bool("incremental", true, "skip prompts that earlier releases of the same name hold (recipe output.incremental)")
	teacherCache = flag.String("teacher_cache", "", "response cache: a local directory or s3:// URL, or off (recipe teacher.cache_dir; default <output>/.cache/teacher)")
	verbose      = flag.Bool("verbose", false, "log the runner's progress (Prism job and worker messages)")
	waitLease    = flag.Duration("wait_for_lease", 0, "how long to wait while another run holds the dataset's lease; 0 fails at once (recipe output.wait_for_lease)")
	skillProfile = flag.String("skill_profile", "", "a student's missing-skill profile from pipelines/skillgap: STAT-Sel weights and STAT-Syn problems for its missing skills (recipe skills.profile)")
	skillsTag    = flag.Bool("skills_tag", false, "have the teacher tag every prompt with 1-3 catalogue skills, one short request per prompt (recipe skills.tag)")
	skillsCat    = flag.String("skills_catalogue", "", "skill catalogue YAML to tag with, taken as is; default: induced from a sample of prompts (recipe skills.catalogue)")
	leaseTTL     = flag.Duration("lease_ttl", 0, "how long the dataset lease lives unrenewed: how long a killed run keeps others out (recipe output.lease_ttl, default 2m)")
	progressTick = flag.Duration("progress_every", 5*time.Second, "how often to print the progress line on stderr; 0 turns it off")
)

func main() {
	flag.Usage = usage
	flag.Parse()
	beam.Init()
	if !*verbose {
		// Prism narrates every job step, and logs a failed bundle with its
		// whole execution plan; run reports the failure itself.
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 1})))
	}
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "sftgen:", err)
		if strings.Contains(err.Error(), release.NothingNewMarker) {
			os.Exit(release.ExitNothingNew)
		}
		os.Exit(release.ExitFailed)
	}
}

func run(ctx context.Context) (err error) {
	execute, err := checkCommandLine()
	if err != nil {
		return err
	}
	r, err := recipeFromFlags()
	if err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("invalid recipe:\n%w", err)
	}
	// One writer per dataset: hold its lease for the whole run.
	ctx, releaseLease, err := transforms.HoldDataset(ctx, &r, func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "sftgen: "+format+"\n", args...)
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := releaseLease(); err != nil {
			fmt.Fprintln(os.Stderr, "sftgen: warning:", err)
		}
	}()
	defer func() { // runs before the lease is released
		if err != nil {
			if cerr := transforms.AbandonVersion(context.WithoutCancel(ctx), r); cerr != nil {
				fmt.Fprintln(os.Stderr, "sftgen: warning: removing the unreleased version folder:", cerr)
			}
		}
	}()
	if r.UsesSimTeacher() && !r.DryRun {
		stop, err := transforms.StartSimTeacher(&r, &transforms.SimOptions{Accuracy: *simAccuracy})
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(os.Stderr, "sftgen: simulated teacher listening at %s\n", r.Teacher.URL)
	}
	if err := transforms.CheckInput(ctx, r); err != nil {
		return err
	}
	if !r.DryRun {
		// URL, key and model checked in seconds, before any work.
		note, err := transforms.Preflight(ctx, &r)
		if err != nil {
			return err
		}
		if note != "" {
			fmt.Fprintln(os.Stderr, "sftgen:", note)
		}
	}

	start := time.Now()
	p, s := beam.NewPipelineWithRoot()
	if err := transforms.SFTGen(s, r, release.CodeRevision()); err != nil {
		return err
	}
	progress := transforms.RunProgress(r.VersionRoot())
	stopProgress := watchProgress(os.Stderr, progress, *progressTick, r.DryRun || !workersInProcess())
	if _, err := execute(ctx, p); err != nil {
		stopProgress("got as far as")
		return runError(err)
	}
	stopProgress("done")
	if r.DryRun {
		d, err := release.ReadDryRun(ctx, r)
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, d)
		return nil
	}
	summary, err := release.Summary(ctx, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s\nfinished in %s\n", summary, time.Since(start).Round(time.Millisecond))
	return nil
}

// recipeFromFlags reads --recipe (or starts from the quickstart defaults)
// and applies every flag that was set on the command line.
func recipeFromFlags() (recipe.Recipe, error) {
	r := recipe.Default()
	if *recipePath != "" {
		var err error
		if r, err = recipe.Load(*recipePath); err != nil {
			return r, err
		}
	}
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	apply := func(flagName string, do func()) {
		if set[flagName] {
			do()
		}
	}
	apply("name", func() { r.Name = *name })
	apply("input", func() { r.Input.Path = *inputPath })
	apply("id_field", func() { r.Input.ID = *idField })
	apply("text_field", func() { r.Input.Text = *textField })
	apply("answer_field", func() { r.Input.Answer = *answerField })
	apply("system_prompt", func() { r.Teacher.SystemPrompt = *systemPrompt })
	apply("answer_format", func() { r.Input.AnswerFormat = *answerFormat })
	apply("teacher_url", func() { r.Teacher.URL = *teacherURL })
	apply("teacher_model", func() { r.Teacher.Model = *model })
	apply("teacher_max_concurrency", func() { r.Teacher.MaxConcurrency = *concurrency })
	apply("samples_per_prompt", func() { r.Sampling.SamplesPerPrompt = *samples })
	apply("reward_url", func() { r.Reward.URL = *rewardURL })
	apply("reward_model", func() { r.Reward.Model = *rewardModel })
	apply("sampling_policy", func() { r.Sampling.Policy = *policy })
	apply("benchmarks", func() { r.Decontam.BenchmarksDir = *benchmarks })
	apply("output", func() { r.Output.Path = *output })
	apply("version", func() { r.Output.Version = *version })
	apply("s3_endpoint", func() { r.Output.S3Endpoint = *s3Endpoint })
	apply("max_teacher_tokens", func() { r.Teacher.TokenBudget = *maxTokens })
	apply("teacher_cache", func() { r.Teacher.CacheDir = *teacherCache })
	apply("incremental", func() { r.Output.Incremental = *incremental })
	apply("wait_for_lease", func() { r.Output.WaitForLease = *waitLease })
	apply("lease_ttl", func() { r.Output.LeaseTTL = *leaseTTL })
	apply("skill_profile", func() { r.Skills.Profile = *skillProfile })
	apply("skills_tag", func() { r.Skills.Tag = *skillsTag })
	apply("skills_catalogue", func() { r.Skills.Catalogue = *skillsCat })
	r.DryRun = isDryRun()
	// r.Resolve runs once the dataset's lease is held (HoldDataset), so a
	// default version is the time the run got it.
	return r, nil
}

// dryRunFlag is sftgen's --dry_run: read, dedup and decontaminate, then
// estimate the teacher's calls and tokens without calling it, and release
// nothing. (Beam's Dataflow runner defines a flag of that name too; sftgen
// does not link it.)
var dryRunFlag = func() *bool {
	if flag.Lookup("dry_run") != nil {
		return nil
	}
	return flag.Bool("dry_run", false, "read, dedup and decontaminate, then forecast the teacher's requests and tokens without calling it; release nothing")
}()

// isDryRun reads --dry_run.
func isDryRun() bool {
	if dryRunFlag != nil {
		return *dryRunFlag
	}
	f := flag.Lookup("dry_run")
	return f != nil && f.Value.String() == "true"
}

// runError shortens a failed job's error to the reason a person needs when
// one of our stages stopped the run on purpose (server down, budget spent):
// the runner wraps it in the whole execution plan. The full error is still
// printed with --verbose.
func runError(err error) error {
	const marker = "the run stops: "
	msg := err.Error()
	i := strings.Index(msg, marker)
	if i < 0 || *verbose {
		return fmt.Errorf("pipeline failed (rerun with --verbose for the runner's log): %w", err)
	}
	reason, _, _ := strings.Cut(msg[i+len(marker):], "\n")
	return fmt.Errorf("the run stopped and released nothing: %s", reason)
}
