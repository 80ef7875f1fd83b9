package decontam

import (
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

// BenchmarkCheck measures Check throughput (MB/s of candidate text, one
// goroutine, so per core) against an index over all shared benchmarks, on
// clean GSM8K-train prompts (the common case: most text is clean), and
// reports the index's memory.
//
//	go test ./decontam -run '^$' -bench Check -benchmem
func BenchmarkCheck(b *testing.B) {
	sets := readShared(b)
	clean := cleanPrompts(b)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix, err := Build(sets, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)

	text := strings.Join(clean, "\n")
	// Check works on records; feed it records of GSM8K-prompt size.
	b.Run("clean-prompts", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		start := cpuTime()
		for b.Loop() {
			for _, p := range clean {
				ix.Check(p)
			}
		}
		reportPerCore(b, start, int64(len(text)))
		b.ReportMetric(heap/(1<<20), "index-heap-MB")
	})
	var contaminated []string
	total := 0
	for _, s := range sets {
		for _, it := range s.Items[:min(len(s.Items), 100)] {
			contaminated = append(contaminated, it.Question)
			total += len(it.Question)
		}
	}
	b.Run("benchmark-questions", func(b *testing.B) {
		b.SetBytes(int64(total))
		start := cpuTime()
		for b.Loop() {
			for _, p := range contaminated {
				ix.Check(p)
			}
		}
		reportPerCore(b, start, int64(total))
	})
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
