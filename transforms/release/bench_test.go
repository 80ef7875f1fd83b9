package release

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// benchRows builds n SFT rows from real recorded teacher output (MATH
// problems and Qwen2.5-Math responses), as JSON, the form the writer gets.
func benchRows(tb testing.TB, n int) [][]byte {
	tb.Helper()
	recs, err := teacher.ReadRecordings("../../testdata/recordings/qwen25-math-instruct-math-8samples.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	rows := make([][]byte, n)
	for i := range rows {
		rec := recs[i%len(recs)]
		s := rec.Samples[(i/len(recs))%len(rec.Samples)]
		ex := schemas.SFTExample{
			PromptID: fmt.Sprintf("math-%d", i),
			Messages: []schemas.Message{{Role: "system", Content: rec.System}, {Role: "user", Content: rec.Question}, {Role: "assistant", Content: s.Response}},
			Answer:   rec.Answer, Extracted: s.Pred, Verdict: "equal", Skills: []string{"algebra", "arithmetic"},
			Difficulty: "medium", PassRate: 0.625, Source: "recordings.jsonl", TeacherModel: "qwen2.5-math-instruct", SampleIndex: int32(i % 8),
		}
		if rows[i], err = json.Marshal(ex); err != nil {
			tb.Fatal(err)
		}
	}
	return rows
}

// cpuSeconds is the CPU time (user + system) the process has used.
func cpuSeconds(tb testing.TB) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkParquetWrite writes 50,000 SFT rows of real teacher output as
// one zstd Parquet file, as a release shard is written, three ways:
// from-rows is the pipeline's path (each record made into a Row with
// NewRow, as the stages do, then PartWriter.Add into a part on local
// storage: the row keeps its record and is measured, not marshalled);
// from-json the encoder fed the rows' JSON (the path of a row that crossed
// a stage boundary, and every row's path before rows kept their records);
// from-records the encoder fed decoded records (the encoder alone).
// bench/parquet.sh runs it next to DuckDB's COPY ... (FORMAT parquet,
// COMPRESSION zstd) on the same rows, which it finds in the file named by
// $SYLLABUS_BENCH_ROWS when that is set; its header has the figures.
func BenchmarkParquetWrite(b *testing.B) {
	const n = 50_000
	rows := benchRows(b, n)
	var size int64
	for _, r := range rows {
		size += int64(len(r))
	}
	if path := os.Getenv("SYLLABUS_BENCH_ROWS"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rows {
			f.Write(append(r, '\n'))
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	o := recipe.Default().Output
	records := make([]schemas.SFTExample, n)
	for i, r := range rows {
		if err := json.Unmarshal(r, &records[i]); err != nil {
			b.Fatal(err)
		}
	}
	report := func(b *testing.B, cpu0 float64) {
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		// On a shared machine wall time measures the neighbours; CPU time
		// (user + system, every thread of the process) measures the work.
		b.ReportMetric(float64(n)*float64(b.N)/(cpuSeconds(b)-cpu0), "rows/cpu-s")
	}
	write := func(b *testing.B, add func(enc *parquetEncoder[schemas.SFTExample]) error) {
		b.SetBytes(size)
		out := b.TempDir() + "/sft.parquet"
		cpu0 := cpuSeconds(b)
		for b.Loop() {
			f, err := os.Create(out)
			if err != nil {
				b.Fatal(err)
			}
			enc := newParquetEncoder[schemas.SFTExample](f, o).(*parquetEncoder[schemas.SFTExample])
			if err := add(enc); err != nil {
				b.Fatal(err)
			}
			if err := enc.Close(); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
		}
		report(b, cpu0)
	}
	b.Run("from-rows", func(b *testing.B) {
		b.SetBytes(size)
		store, err := storage.NewLocal(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		cpu0 := cpuSeconds(b)
		for b.Loop() {
			pw := NewPartWriter(store, o)
			for _, r := range records {
				row, err := NewRow(TableSFT, SampleKey(r.PromptID, int(r.SampleIndex)), r)
				if err != nil {
					b.Fatal(err)
				}
				if err := pw.Add(ctx, row); err != nil {
					b.Fatal(err)
				}
			}
			parts, err := pw.Close()
			if err != nil {
				b.Fatal(err)
			}
			if len(parts) != 1 || parts[0].Rows != n {
				b.Fatalf("wrote %+v, want one part of %d rows", parts, n)
			}
		}
		report(b, cpu0)
	})
	b.Run("from-json", func(b *testing.B) {
		write(b, func(enc *parquetEncoder[schemas.SFTExample]) error {
			for _, r := range rows {
				if err := enc.Write(r); err != nil {
					return err
				}
			}
			return nil
		})
	})
	b.Run("from-records", func(b *testing.B) {
		write(b, func(enc *parquetEncoder[schemas.SFTExample]) error {
			for _, r := range records {
				if err := enc.add(r); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
