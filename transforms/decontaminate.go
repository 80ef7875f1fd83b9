package transforms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"github.com/syllabus-dev/syllabus/decontam"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/input"
)

func init() {
	register.DoFn5x1[context.Context, string, func(Record), func(Row), func(string, int64), error](&readRecordsFn{})
	register.DoFn3x1[Record, func(Row), func(string, int64), error](&checkRecordFn{})
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
	Decontam   DecontamConfig
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
	r := DefaultRecipe()
	r.Input.Path, r.Input.Mapping, r.Decontam = j.Input, j.Mapping, j.Decontam
	r.Output = OutputConfig{Path: j.Output, ShardRows: j.ShardRows, ShardBytes: j.ShardBytes, RowGroupRows: 10_000, S3Endpoint: j.S3Endpoint}
	info := ReleaseInfo{Kind: KindDecontam, Root: j.Output, Tables: DecontamTables, Recipe: r, CodeRevision: codeRevision,
		Version: DefaultVersion(time.Now())}
	for _, b := range index.Benchmarks() {
		info.Benchmarks = append(info.Benchmarks, BenchmarkSummary{Name: b.Name, Version: b.Version, Items: b.Items})
	}

	src := beam.Reshuffle(s, beam.CreateList(s, sources))
	records, readRows, readTally := beam.ParDo3(s.Scope("read"), &readRecordsFn{Mapping: j.Mapping, S3Endpoint: j.S3Endpoint}, src)
	checkedRows, checkTally := beam.ParDo2(s.Scope("check"), &checkRecordFn{Config: j.Decontam, S3Endpoint: j.S3Endpoint}, records)
	rows := beam.Flatten(s, readRows, checkedRows)
	tallies := stats.SumPerKey(s, beam.Flatten(s, readTally, checkTally))
	return WriteRelease(s, info, rows, tallies)
}

// readRecordsFn reads one input file into records; unusable records become
// dead letters.
type readRecordsFn struct {
	Mapping    input.Mapping
	S3Endpoint string
}

func (f *readRecordsFn) ProcessElement(ctx context.Context, source string, emit func(Record), emitRow func(Row), emitTally func(string, int64)) error {
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
	emitTally(tallyPromptsIn, int64(st.Records))
	if err != nil {
		return err
	}
	return rowErr
}

// checkRecordFn routes a record to clean or flagged, reporting its best
// match when flagged.
type checkRecordFn struct {
	Config     DecontamConfig
	S3Endpoint string
	index      *decontam.Index
}

func (f *checkRecordFn) Setup() error {
	var err error
	f.index, err = openIndex(f.Config, f.S3Endpoint)
	return err
}

func (f *checkRecordFn) ProcessElement(rec Record, emitRow func(Row), emitTally func(string, int64)) error {
	p := rec.Prompt
	key := sourceKey(p.Source, p.Line)
	matches := f.index.Check(p.Text)
	if len(matches) == 0 {
		emitTally("fate:clean", 1)
		emitRow(Row{Table: TableClean, Key: key, JSON: rec.Raw})
		return nil
	}
	emitTally("fate:flagged", 1)
	emitTally("benchmark:"+matches[0].Benchmark, 1)
	emitRow(Row{Table: TableFlagged, Key: key, JSON: rec.Raw})
	return emitters{row: emitRow, tally: emitTally}.emit(TableContamination, key, contamination(p.ID, "", matches))
}

// DecontamManifest is manifest.json of a decontam run.
type DecontamManifest struct {
	SchemaVersion string             `json:"schema_version"`
	CreatedAt     string             `json:"created_at"`
	CodeRevision  string             `json:"code_revision"`
	Input         string             `json:"input"`
	Mapping       input.Mapping      `json:"mapping"`
	Decontam      DecontamConfig     `json:"decontam"`
	Counts        DecontamCounts     `json:"counts"`
	Benchmarks    []BenchmarkSummary `json:"benchmarks"`
	Files         []schemas.File     `json:"files"`
}

// DecontamCounts says where every input record went.
type DecontamCounts struct {
	RecordsIn  int64 `json:"records_in"`
	Clean      int64 `json:"clean"`
	Flagged    int64 `json:"flagged"`
	DeadLetter int64 `json:"dead_letter"`
}

// publishDecontam checks that every record is clean, flagged or a dead
// letter, then writes manifest.json (last, so its presence means complete).
func publishDecontam(ctx context.Context, store storage.Store, info ReleaseInfo, t map[string]int64, sizes map[string]TableSize, files []schemas.File) error {
	r := info.Recipe
	m := DecontamManifest{
		SchemaVersion: schemas.Version,
		CreatedAt:     time.Now().UTC().Format(time.RFC3339),
		CodeRevision:  info.CodeRevision,
		Input:         r.Input.Path,
		Mapping:       r.Input.Mapping,
		Decontam:      r.Decontam,
		Counts:        DecontamCounts{RecordsIn: t[tallyPromptsIn], Clean: t["fate:clean"], Flagged: t["fate:flagged"], DeadLetter: t[fateDead]},
		Files:         files,
	}
	for _, b := range info.Benchmarks {
		b.Flagged = t["benchmark:"+b.Name]
		m.Benchmarks = append(m.Benchmarks, b)
	}
	c := m.Counts
	if c.Clean+c.Flagged+c.DeadLetter != c.RecordsIn || sizes[TableClean].Rows != c.Clean || sizes[TableFlagged].Rows != c.Flagged {
		return fmt.Errorf("decontam %s: counts do not reconcile: %d read but %d clean + %d flagged + %d dead letters (files: %d clean, %d flagged); nothing was published",
			info.Root, c.RecordsIn, c.Clean, c.Flagged, c.DeadLetter, sizes[TableClean].Rows, sizes[TableFlagged].Rows)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return store.Put(ctx, "manifest.json", append(data, '\n'))
}
