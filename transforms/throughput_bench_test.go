package transforms

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// BenchmarkSFTGenCPU measures the CPU stages of sftgen (read, dedup,
// decontaminate prompts and responses, verify, select, write Parquet)
// with an instant teacher: the replay server serving real recorded
// Qwen2.5-Math output with no latency, so the teacher costs only its HTTP
// round trip. The input is 2,500 prompts, each a recorded MATH problem
// numbered to make it unique, with k = 4; one iteration is one whole run on
// the embedded Prism runner, start-up included. It reports samples (drawn
// from the teacher) per second of the run. Goal (issue 11): >= 5,000 on 2
// cores.
//
//	go test ./transforms -run '^$' -bench SFTGenCPU -benchtime 2x
func BenchmarkSFTGenCPU(b *testing.B) {
	recs, err := teacher.ReadRecordings("../testdata/recordings/qwen25-math-instruct-math-8samples.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	const prompts = 2500
	var input strings.Builder
	replay := make([]teacher.Recording, prompts)
	for i := range replay {
		rec := recs[i%len(recs)]
		q := fmt.Sprintf("Problem %d. %s", i, rec.Question)
		line, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("math-%d", i), "prompt": q, "answer": rec.Answer})
		input.Write(append(line, '\n'))
		rec.Question = q + "\n\n" + recipe.DefaultInstruction // the user turn sftgen sends
		replay[i] = rec
	}
	path := filepath.Join(b.TempDir(), "prompts.jsonl")
	if err := os.WriteFile(path, []byte(input.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	srv, err := teacher.StartReplay(teacher.ReplayConfig{Recordings: replay, Slots: 1024})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()

	r := recipe.Default()
	r.Input.Path = path
	r.Output.Path = b.TempDir()
	r.Output.Incremental = false
	r.Teacher.URL, r.Teacher.Model = srv.URL(), srv.Model()
	r.Sampling.SamplesPerPrompt = 4
	var samples, kept int64
	runs := 0
	cpu0 := cpuSeconds(b)
	for b.Loop() {
		runs++
		r.Output.Version = fmt.Sprintf("v%d", runs)
		if err := r.Validate(); err != nil {
			b.Fatal(err)
		}
		if err := runRecipe(b, r); err != nil {
			b.Fatal(err)
		}
		m := readManifest(b, r)
		samples += m.Counts.SamplesGenerated
		kept += m.Counts.PromptsKept
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(samples)/secs, "samples/s")
	// On a machine shared with others wall time measures them too; CPU time
	// (user + system of every thread: runner, DoFns and the replay server)
	// measures the work.
	b.ReportMetric(float64(samples)/(cpuSeconds(b)-cpu0), "samples/cpu-s")
	b.ReportMetric(float64(runs*prompts)/secs, "prompts/s")
	b.ReportMetric(float64(samples)/float64(runs), "samples/run")
	b.ReportMetric(float64(kept)/float64(runs), "kept/run")
}

// cpuSeconds is the CPU time (user + system) the process has used.
func cpuSeconds(tb testing.TB) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
