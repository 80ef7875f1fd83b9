// Package recipe is what a run of sftgen is asked to do: the YAML recipe
// file, its defaults, the flags that override it, and a Validate that
// reports every bad field at once, named as in the recipe. Plain Go: the
// Beam graph in package transforms reads a Recipe; nothing here runs it.
package recipe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/syllabus-dev/syllabus/decontam"
	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/builtin"
	"github.com/syllabus-dev/syllabus/transforms/input"
)

// Recipe is everything a run of sftgen needs, as read from a YAML recipe
// file and then overridden by flags. Start from Default.
type Recipe struct {
	// Name is the dataset's name: releases go to <output>/<name>/<version>/.
	Name     string         `yaml:"name" json:"name"`
	Input    InputConfig    `yaml:"input" json:"input"`
	Teacher  teacher.Config `yaml:"teacher" json:"teacher"`
	Sampling SamplingConfig `yaml:"sampling" json:"sampling"`
	Dedup    DedupConfig    `yaml:"dedup" json:"dedup"`
	Decontam DecontamConfig `yaml:"decontam" json:"decontam"`
	Output   OutputConfig   `yaml:"output" json:"output"`
	Skills   SkillsConfig   `yaml:"skills" json:"skills"`
	// Reward, Difficulty, RLVR and Refusal shape the stage after
	// verification (see curation.go).
	Reward     teacher.RewardConfig     `yaml:"reward" json:"reward"`
	Difficulty filters.DifficultyConfig `yaml:"difficulty" json:"difficulty"`
	RLVR       filters.RLVRConfig       `yaml:"rlvr" json:"rlvr"`
	Refusal    filters.RefusalConfig    `yaml:"refusal" json:"refusal"`
	// DryRun (--dry_run) reads, deduplicates and decontaminates, then
	// forecasts the teacher's requests and tokens instead of calling it.
	DryRun bool `yaml:"-" json:"-"`
	// Lease is the token of the run's dataset lease (see HoldDataset); the
	// release is published only while that lease is held.
	Lease string `yaml:"-" json:"-"`
}

// InputConfig is the recipe section "input".
type InputConfig struct {
	// Path is a local path or s3:// URL of a JSONL or Parquet file (a glob
	// selects several), or builtin:arithmetic?n=... for built-in prompts.
	Path          string `yaml:"path" json:"path"`
	input.Mapping `yaml:",inline" json:",inline"`
	// SystemPrompt is the old place of teacher.system_prompt: Load moves it
	// there (setting both differently is an error).
	SystemPrompt string `yaml:"system_prompt" json:"system_prompt,omitempty"`
	// Instruction is appended to every prompt sent to the teacher; the
	// default asks for a boxed final answer, which the verifier extracts.
	Instruction string `yaml:"instruction" json:"instruction"`
}

// SamplingConfig is the recipe section "sampling": rejection sampling.
type SamplingConfig struct {
	// SamplesPerPrompt is k, the samples drawn per prompt (default 4).
	SamplesPerPrompt int `yaml:"samples_per_prompt" json:"samples_per_prompt"`
	// MaxCorrect is m, the most verified samples kept per prompt as SFT rows
	// (default 1).
	MaxCorrect int `yaml:"max_correct" json:"max_correct"`
	// MaxPairs is the most preference pairs built per prompt (default 1);
	// 0 builds none.
	MaxPairs int `yaml:"max_pairs" json:"max_pairs"`
	// Verifier grades samples: "math" (default), "exact" or "choice".
	Verifier string `yaml:"verifier" json:"verifier"`
	// Reasoning is how released rows carry a reasoning model's chain of
	// thought: "inline" (default: the assistant turn is
	// "<think>\n…\n</think>\n\n<answer>"), "column" (a reasoning column) or
	// "drop". Only the answer is ever verified.
	Reasoning string `yaml:"reasoning" json:"reasoning"`
	// Policy, RankBy, MaxResponseTokens and the rest: see curation.go.
	CurationFields `yaml:",inline" json:",inline"`
}

// DecontamConfig is the recipe section "decontam": the decontam package's
// settings plus the --benchmarks directory.
type DecontamConfig struct {
	decontam.Config `yaml:",inline"`
	// BenchmarksDir is a directory of benchmark sets (<name>/test.jsonl) that
	// add to, or with the same name replace, the built-in ones.
	BenchmarksDir string `yaml:"benchmarks_dir" json:"benchmarks_dir,omitempty"`
}

// OutputConfig is the recipe section "output".
type OutputConfig struct {
	// Path is the release root: a local directory or s3://bucket/prefix.
	Path string `yaml:"path" json:"path"`
	// Version names this release (default: UTC timestamp, to the second).
	Version string `yaml:"version" json:"version,omitempty"`
	// ShardRows and ShardBytes bound a shard: a table is split into as many
	// shards as the tighter bound needs (defaults 100,000 rows, 256 MiB).
	// ShardBytes counts the rows' size as JSON (what encoding/json writes
	// for them), not the compressed file.
	ShardRows  int64 `yaml:"shard_rows" json:"shard_rows"`
	ShardBytes int64 `yaml:"shard_bytes" json:"shard_bytes"`
	// RowGroupRows caps a Parquet row group, which bounds writer memory
	// (default 10,000).
	RowGroupRows int64 `yaml:"row_group_rows" json:"row_group_rows"`
	// S3Endpoint is the S3-compatible endpoint for s3:// URLs.
	S3Endpoint string `yaml:"s3_endpoint" json:"s3_endpoint,omitempty"`
	// Incremental skips prompts that earlier releases of the same name hold
	// (counted as duplicates, reason in_earlier_release), so a scheduled
	// refresh pays only for new prompts (default true).
	Incremental bool `yaml:"incremental" json:"incremental"`
	// LeaseTTL is how long the run's lease on <output>/<name>/ lives
	// unrenewed (renewed every third of it): how long a killed run keeps
	// other runs out at most (default 2m, at least 1s).
	LeaseTTL time.Duration `yaml:"lease_ttl" json:"-"`
	// WaitForLease is how long a run waits for another run's lease before
	// failing (default 0: fail at once, naming the holder).
	WaitForLease time.Duration `yaml:"wait_for_lease" json:"-"`
	// MaxDeadLetterFraction is the largest share of new records that may
	// end as dead letters in a published release (default 0.5); a run
	// past it fails and publishes nothing.
	MaxDeadLetterFraction float64 `yaml:"max_dead_letter_fraction" json:"max_dead_letter_fraction"`
}

// DefaultLeaseTTL is how long a dataset lease lives unrenewed: how long a
// killed run keeps the next one waiting (output.lease_ttl).
const DefaultLeaseTTL = 2 * time.Minute

// MinLeaseTTL is the shortest output.lease_ttl.
const MinLeaseTTL = time.Second

// DefaultInstruction asks for the answer format the math verifier reads.
const DefaultInstruction = "Please reason step by step, and put your final answer within \\boxed{}."

// Default is the offline quickstart: built-in prompts, the simulated
// teacher, the built-in benchmark fingerprints, output under ./out.
func Default() Recipe {
	t := teacher.DefaultConfig()
	t.Model = "sim"
	r := Recipe{
		Name:     "quickstart",
		Input:    InputConfig{Path: "builtin:arithmetic?n=200", Mapping: input.DefaultMapping(), Instruction: DefaultInstruction},
		Teacher:  t,
		Sampling: SamplingConfig{SamplesPerPrompt: 4, MaxCorrect: 1, MaxPairs: 1, Verifier: "math", Reasoning: filters.ReasoningInline},
		Dedup:    DefaultDedup(),
		Decontam: DecontamConfig{Config: decontam.DefaultConfig()},
		Output:   OutputConfig{Path: "./out", ShardRows: 100_000, ShardBytes: 256 << 20, RowGroupRows: 10_000, Incremental: true, LeaseTTL: DefaultLeaseTTL, MaxDeadLetterFraction: 0.5},
		Skills:   DefaultSkills(),
	}
	r.Sampling.CurationFields = DefaultCurationFields()
	r.Reward, r.Difficulty, r.RLVR, r.Refusal = teacher.DefaultRewardConfig(), filters.DefaultDifficultyConfig(), filters.DefaultRLVRConfig(), filters.DefaultRefusalConfig()
	return r
}

// SimTeacher is the teacher model name that selects the simulated teacher.
const SimTeacher = "sim"

// UsesSimTeacher reports whether the recipe asks for the simulated teacher:
// model "sim" and no URL.
func (r Recipe) UsesSimTeacher() bool { return r.Teacher.Model == SimTeacher && r.Teacher.URL == "" }

// Load reads a YAML recipe over Default. Unknown keys are an
// error naming the key and its line. It does not validate: flags may still
// change the recipe, so call Validate after applying them.
func Load(path string) (Recipe, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Default(), fmt.Errorf("recipe: %w", err)
	}
	r, err := parse(data)
	if err != nil {
		return r, fmt.Errorf("recipe %s: %w", path, err)
	}
	return r, nil
}

// parse reads a YAML recipe over Default; unknown keys are an error.
func parse(data []byte) (Recipe, error) {
	r := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil && !errors.Is(err, io.EOF) { // an empty recipe is the defaults
		return r, errors.New(friendlyYAMLError(err))
	}
	if err := r.migrate(); err != nil {
		return r, err
	}
	return r, nil
}

var unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type \S+`)

// friendlyYAMLError rewrites yaml's "field x not found in type pkg.T" into
// "line N: unknown key "x"", keeping every problem the decoder found.
func friendlyYAMLError(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		msgs = append(msgs, unknownField.ReplaceAllString(e, `line $1: unknown key "$2"`))
	}
	return strings.Join(msgs, "; ")
}

// Validate reports every bad field at once, named as in the recipe.
func (r Recipe) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if r.Name == "" || strings.ContainsAny(r.Name, "/\\ ") {
		bad("name must be set and hold no slashes or spaces, got %q", r.Name)
	}
	switch {
	case r.Input.Path == "":
		bad("input.path must be set")
	case builtin.IsBuiltin(r.Input.Path):
		if _, err := builtin.ParseSpec(r.Input.Path); err != nil {
			bad("input.path: %v", err)
		}
	case !strings.HasPrefix(r.Input.Path, "s3://") && input.FormatOf(r.Input.Path) == input.FormatUnknown && !strings.ContainsAny(r.Input.Path, "*?["):
		bad("input.path %q: want a .jsonl, .jsonl.gz or .parquet file", r.Input.Path)
	}
	if r.Input.Text == "" {
		bad("input.text_field must be set")
	}
	if f := r.Input.AnswerFormat; f != "" && !slices.Contains(filters.ReferenceFormats, f) {
		bad("input.answer_format must be one of %s, got %q", strings.Join(filters.ReferenceFormats, ", "), f)
	}
	if r.UsesSimTeacher() {
		if !builtin.IsBuiltin(r.Input.Path) {
			bad("teacher.url must be set for real input: the simulated teacher only knows the built-in prompts (set teacher.url and teacher.model, or use --input=builtin:...)")
		}
		sim := r.Teacher
		sim.URL = "http://127.0.0.1/v1" // filled in when the simulated teacher starts
		if err := sim.Validate(); err != nil {
			errs = append(errs, err)
		}
	} else if err := r.Teacher.Validate(); err != nil {
		errs = append(errs, err)
	}
	s := r.Sampling
	if s.SamplesPerPrompt < 1 || s.SamplesPerPrompt > 128 {
		bad("sampling.samples_per_prompt must be from 1 to 128, got %d", s.SamplesPerPrompt)
	}
	if s.MaxCorrect < 1 {
		bad("sampling.max_correct must be >= 1, got %d", s.MaxCorrect)
	}
	if s.MaxPairs < 0 {
		bad("sampling.max_pairs must be >= 0, got %d", s.MaxPairs)
	}
	if _, err := filters.VerifierByName(s.Verifier); err != nil {
		bad("sampling.verifier: %v", err)
	}
	if err := filters.CheckReasoningForm(s.Reasoning); err != nil {
		bad("sampling.reasoning: %v", err)
	}
	errs = append(errs, r.validateCuration()...)
	errs = append(errs, r.Dedup.validate()...)
	if err := r.Decontam.Config.Validate(); err != nil {
		errs = append(errs, err)
	}
	if !r.Decontam.Builtin && r.Decontam.BenchmarksDir == "" && len(r.Decontam.Benchmarks) == 0 {
		bad("decontam: with decontam.builtin false, set decontam.benchmarks_dir (--benchmarks) or decontam.benchmarks: decontamination is never turned off by accident")
	}
	o := r.Output
	if o.Path == "" {
		bad("output.path must be set")
	}
	if strings.ContainsAny(o.Version, "/\\ ") {
		bad("output.version must hold no slashes or spaces, got %q", o.Version)
	}
	if o.ShardRows < 1 {
		bad("output.shard_rows must be >= 1")
	}
	if o.ShardBytes < 1<<10 {
		bad("output.shard_bytes must be >= 1024")
	}
	if o.RowGroupRows < 1 {
		bad("output.row_group_rows must be >= 1")
	}
	if o.LeaseTTL != 0 && o.LeaseTTL < MinLeaseTTL { // 0 (a recipe that went through JSON) means the default
		bad("output.lease_ttl must be >= %s, got %s", MinLeaseTTL, o.LeaseTTL)
	}
	if o.MaxDeadLetterFraction < 0 || o.MaxDeadLetterFraction > 1 {
		bad("output.max_dead_letter_fraction must be from 0 to 1, got %g", o.MaxDeadLetterFraction)
	}
	if o.WaitForLease < 0 {
		bad("output.wait_for_lease must be >= 0, got %s", o.WaitForLease)
	}
	r.Skills.validate(bad)
	return errors.Join(errs...)
}

// CacheOff in teacher.cache_dir turns the response cache off.
const CacheOff = "off"

// Resolve fills in what defaults to something computed: the version (a UTC
// timestamp of now) and the teacher's response cache (<output>/.cache/teacher,
// so a rerun into the same output never pays twice; "off" turns it off).
func (r *Recipe) Resolve(now time.Time) {
	if r.Output.Version == "" {
		r.Output.Version = DefaultVersion(now)
	}
	switch r.Teacher.CacheDir {
	case "":
		r.Teacher.CacheDir = JoinURL(r.Output.Path, ".cache/teacher")
	case CacheOff:
		r.Teacher.CacheDir = ""
	}
	r.resolveReward()
}

// DefaultVersion is the version of a release made now: a UTC timestamp.
func DefaultVersion(now time.Time) string { return now.UTC().Format("20060102T150405Z") }

// Selection is the filters' view of the sampling section.
func (s SamplingConfig) Selection() filters.SelectionConfig {
	return filters.SelectionConfig{MaxCorrect: s.MaxCorrect, MaxPairs: s.MaxPairs, Reasoning: s.Reasoning}
}

// Conversation is what the teacher is sent for a prompt: an optional system
// turn, then the prompt followed by the instruction. A chat prompt
// (p.Messages) is sent as written, with the system turn added only when it
// has none, and no instruction: its turns are the user's.
func Conversation(p schemas.Prompt, in InputConfig) []schemas.Message {
	if len(p.Messages) > 0 {
		if in.SystemPrompt == "" || p.Messages[0].Role == schemas.RoleSystem {
			return p.Messages
		}
		return append([]schemas.Message{{Role: schemas.RoleSystem, Content: in.SystemPrompt}}, p.Messages...)
	}
	var msgs []schemas.Message
	if in.SystemPrompt != "" {
		msgs = append(msgs, schemas.Message{Role: schemas.RoleSystem, Content: in.SystemPrompt})
	}
	text := p.Text
	if in.Instruction != "" {
		text += "\n\n" + in.Instruction
	}
	return append(msgs, schemas.Message{Role: schemas.RoleUser, Content: text})
}

// VersionRoot is <output>/<name>/<version>, where the release's files go.
func (r Recipe) VersionRoot() string { return JoinURL(r.NameRoot(), r.Output.Version) }

// NameRoot is <output>/<name>, where LATEST and every version live.
func (r Recipe) NameRoot() string { return JoinURL(r.Output.Path, r.Name) }

// JoinURL joins a path element to a local path or an s3:// URL.
func JoinURL(base, elem string) string {
	if rest, ok := strings.CutPrefix(base, "s3://"); ok {
		return "s3://" + path.Join(rest, elem)
	}
	return path.Join(base, elem)
}
