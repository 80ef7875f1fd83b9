package decontam

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time (user + system) the process has used. The machine
// is shared, so wall-clock MB/s understates throughput; MB per CPU-second
// is throughput per core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportPerCore reports MB of text per CPU-second since start.
func reportPerCore(b *testing.B, start time.Duration, bytes int64) {
	cpu := (cpuTime() - start).Seconds()
	b.ReportMetric(float64(bytes)*float64(b.N)/1e6/cpu, "MB/cpu-s")
}

// longDocs returns count documents of at least size bytes, each GSM8K-train
// prompts drawn at random (seeded) and joined by blank lines: long text
// that is clean unless one of its prompts is.
func longDocs(prompts []string, size, count int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, uint64(size)))
	docs := make([]string, count)
	for i := range docs {
		var b strings.Builder
		for b.Len() < size {
			if b.Len() > 0 {
				b.WriteString("\n\n")
			}
			b.WriteString(prompts[r.IntN(len(prompts))])
		}
		docs[i] = b.String()
	}
	return docs
}

// benchText is a named set of texts BenchmarkCheck checks.
type benchText struct {
	name  string
	texts []string
}

// benchTexts are the texts of BenchmarkCheck: clean GSM8K-train prompts,
// documents of 10 and 50 KB made of them, and the first 100 questions of
// each benchmark excerpt in testdata (every one contaminated).
func benchTexts(tb testing.TB) []benchText {
	clean := cleanPrompts(tb)
	var contaminated []string
	for _, s := range excerptSets(tb) {
		for _, it := range s.Items[:min(len(s.Items), 100)] {
			contaminated = append(contaminated, it.Question)
		}
	}
	return []benchText{
		{"clean-prompts", clean},
		{"clean-docs-10KB", longDocs(clean, 10<<10, 100, 1)},
		{"clean-docs-50KB", longDocs(clean, 50<<10, 20, 1)},
		{"benchmark-questions", contaminated},
	}
}

// TestWriteBenchTexts writes the texts of BenchmarkCheck, one JSON string
// a line, to $DECONTAM_BENCH_TEXTS/<name>.jsonl, and every question of the
// benchmark excerpts to contaminants.jsonl, so that bench/janitor.sh can
// time another decontaminator on the same texts.
func TestWriteBenchTexts(t *testing.T) {
	dir := os.Getenv("DECONTAM_BENCH_TEXTS")
	if dir == "" {
		t.Skip("set DECONTAM_BENCH_TEXTS to a directory to write the benchmark texts to (bench/janitor.sh does)")
	}
	write := func(name string, texts []string) {
		var b bytes.Buffer
		for _, s := range texts {
			line, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(line)
			b.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, name+".jsonl"), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, bt := range benchTexts(t) {
		write(bt.name, bt.texts)
	}
	var questions []string
	for _, s := range excerptSets(t) {
		for _, it := range s.Items {
			questions = append(questions, it.Question)
		}
	}
	write("contaminants", questions)
}

// BenchmarkCheck measures Check throughput (MB/s of candidate text, one
// goroutine, so per core; MB/cpu-s is steadier on a shared machine) with
// the built-in fingerprints of all benchmarks: on clean GSM8K-train prompts
// (the common case), on documents of 10 and 50 KB made of them (long
// reasoning traces), and on benchmark questions (every text matches and is
// scored).
//
//	go test ./decontam -run '^$' -bench Check -cpu 1
func BenchmarkCheck(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix, err := Builtin(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)

	for _, bc := range benchTexts(b) {
		total := 0
		for _, t := range bc.texts {
			total += len(t)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(total))
			start := cpuTime()
			for b.Loop() {
				for _, t := range bc.texts {
					ix.Check(t)
				}
			}
			reportPerCore(b, start, int64(total))
			b.ReportMetric(heap/(1<<20), "index-heap-MB")
		})
	}
	runtime.KeepAlive(ix)
}

func BenchmarkNormalize(b *testing.B) {
	clean := cleanPrompts(b)
	total := 0
	for _, p := range clean {
		total += len(p)
	}
	var w words
	b.SetBytes(int64(total))
	start := cpuTime()
	for b.Loop() {
		for _, p := range clean {
			w.tokenize(p)
		}
	}
	reportPerCore(b, start, int64(total))
}
