package transforms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"github.com/syllabus-dev/syllabus/decontam"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/input"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

func init() {
	register.DoFn5x1[context.Context, string, func(Record), func(release.Row), func(string, int64), error](&readRecordsFn{})
	register.DoFn3x1[Record, func(release.Row), func(string, int64), error](&checkRecordFn{})
	register.Emitter1[Record]()
}

// Record is an input record passed through unchanged: its prompt fields for
// checking, and the record itself as JSON.
type Record struct {
	Prompt schemas.Prompt
	Raw    []byte
}

// DecontamJob is a run of the decontam pipeline: an existing dataset checked
// against the benchmarks, split into clean and flagged records.
type DecontamJob struct {
	// Input is a local path, glob or s3:// URL of JSONL or Parquet records.
	Input   string
	Mapping input.Mapping
	// Output is a local directory or s3:// prefix; the job writes
	// clean/, flagged/, contamination.jsonl, dead_letter.jsonl and
	// manifest.json into it.
	Output     string
	S3Endpoint string
	Decontam   recipe.DecontamConfig
	// ShardRows and ShardBytes bound a shard of clean and flagged records.
	ShardRows, ShardBytes int64
}

// Validate reports every bad field at once, named as the flags are.
func (j DecontamJob) Validate() error {
	var errs []error
	if j.Input == "" {
		errs = append(errs, errors.New("--input must be set"))
	}
	if j.Mapping.Text == "" {
		errs = append(errs, errors.New("--text_field must be set"))
	}
	if j.Output == "" {
		errs = append(errs, errors.New("--output must be set"))
	}
	if j.ShardRows < 1 || j.ShardBytes < 1<<10 {
		errs = append(errs, errors.New("--shard_rows must be >= 1 and --shard_bytes >= 1024"))
	}
	if err := j.Decontam.Config.Validate(); err != nil {
		errs = append(errs, err)
	}
	if !j.Decontam.Builtin && j.Decontam.BenchmarksDir == "" && len(j.Decontam.Benchmarks) == 0 {
		errs = append(errs, errors.New("--benchmarks must name a directory when --builtin_benchmarks=false"))
	}
	return errors.Join(errs...)
}

// Decontaminate adds the decontam graph to s: read records → check each
// against the benchmark index → write clean and flagged records (as read,
// in input order within a shard), contamination.jsonl, dead letters and a
// manifest whose counts reconcile.
func Decontaminate(s beam.Scope, j DecontamJob, codeRevision string) error {
	s = s.Scope("decontam")
	if err := j.Validate(); err != nil {
		return err
	}
	sources, err := expandInputs(j.Input, j.S3Endpoint)
	if err != nil {
		return fmt.Errorf("decontam: --input: %w", err)
	}
	index, err := openIndex(j.Decontam, j.S3Endpoint)
	if err != nil {
		return fmt.Errorf("decontam: %w", err)
	}
	r := recipe.Default()
	r.Input.Path, r.Input.Mapping, r.Decontam = j.Input, j.Mapping, j.Decontam
	r.Output = recipe.OutputConfig{Path: j.Output, ShardRows: j.ShardRows, ShardBytes: j.ShardBytes, RowGroupRows: 10_000, S3Endpoint: j.S3Endpoint}
	info := release.Info{Kind: release.KindDecontam, Root: j.Output, Tables: release.DecontamTables, Recipe: r, CodeRevision: codeRevision,
		Version: recipe.DefaultVersion(time.Now())}
	for _, b := range index.Benchmarks() {
		info.Benchmarks = append(info.Benchmarks, release.BenchmarkSummary{Name: b.Name, Version: b.Version, Items: b.Items})
	}

	src := beam.Reshuffle(s, beam.CreateList(s, sources))
	records, readRows, readTally := beam.ParDo3(s.Scope("read"), &readRecordsFn{Mapping: j.Mapping, S3Endpoint: j.S3Endpoint}, src)
	checkedRows, checkTally := beam.ParDo2(s.Scope("check"), &checkRecordFn{Config: j.Decontam, S3Endpoint: j.S3Endpoint}, records)
	tallies := stats.SumPerKey(s, sumPerBundle(s, []beam.PCollection{readTally, checkTally}))
	return WriteRelease(s, info, []beam.PCollection{readRows, checkedRows}, tallies)
}

// readRecordsFn reads one input file into records; unusable records become
// dead letters.
type readRecordsFn struct {
	Mapping    input.Mapping
	S3Endpoint string
}

func (f *readRecordsFn) ProcessElement(ctx context.Context, source string, emit func(Record), emitRow func(release.Row), emitTally func(string, int64)) error {
	out := emitters{row: emitRow, tally: emitTally}
	var rowErr error
	sink := input.Sink{
		Record: func(p schemas.Prompt, raw []byte) { emit(Record{Prompt: p, Raw: raw}) },
		Dead: func(d schemas.DeadLetter) {
			if err := out.dead(d); err != nil && rowErr == nil {
				rowErr = err
			}
		},
	}
	file, size, err := openInput(ctx, source, f.S3Endpoint)
	if err != nil {
		return err
	}
	defer file.Close()
	st, err := input.Read(file, size, source, f.Mapping, sink)
	emitTally(release.TallyPromptsIn, int64(st.Records))
	if err != nil {
		return err
	}
	return rowErr
}

// checkRecordFn routes a record to clean or flagged, reporting its best
// match when flagged.
type checkRecordFn struct {
	Config     recipe.DecontamConfig
	S3Endpoint string
	index      *decontam.Index
}

func (f *checkRecordFn) Setup() error {
	var err error
	f.index, err = openIndex(f.Config, f.S3Endpoint)
	return err
}

func (f *checkRecordFn) ProcessElement(rec Record, emitRow func(release.Row), emitTally func(string, int64)) error {
	p := rec.Prompt
	key := release.SourceKey(p.Source, p.Line)
	matches := f.index.Check(p.Text)
	if len(matches) == 0 {
		emitTally("fate:clean", 1)
		emitRow(release.Row{Table: release.TableClean, Key: key, JSON: rec.Raw})
		return nil
	}
	emitTally("fate:flagged", 1)
	emitTally("benchmark:"+matches[0].Benchmark, 1)
	emitRow(release.Row{Table: release.TableFlagged, Key: key, JSON: rec.Raw})
	return emitters{row: emitRow, tally: emitTally}.emit(release.TableContamination, key, contamination(p.ID, "", matches))
}

// DecontamSummary reads the manifest of a finished decontam job and says
// where every record went.
func DecontamSummary(ctx context.Context, j DecontamJob) (string, error) {
	store, err := storage.Open(j.Output, &storage.Options{S3Endpoint: j.S3Endpoint})
	if err != nil {
		return "", err
	}
	data, err := store.Get(ctx, "manifest.json")
	if err != nil {
		return "", fmt.Errorf("%s has no manifest: %w", j.Output, err)
	}
	var m release.DecontamManifest
	if err := json.Unmarshal(data, &m); err != nil {
		return "", fmt.Errorf("%s: manifest.json: %w", j.Output, err)
	}
	c := m.Counts
	var b strings.Builder
	fmt.Fprintf(&b, "decontam %s\n  records: %d read = %d clean + %d flagged + %d dead letter\n", store.URL(""), c.RecordsIn, c.Clean, c.Flagged, c.DeadLetter)
	for _, bm := range m.Benchmarks {
		if bm.Flagged > 0 {
			fmt.Fprintf(&b, "  %-14s %d flagged\n", bm.Name, bm.Flagged)
		}
	}
	fmt.Fprintf(&b, "  report:  %s", store.URL("contamination.jsonl"))
	return b.String(), nil
}
