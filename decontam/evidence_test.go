package decontam

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// The evidence these tests carry: benchmark excerpts (testdata/benchmarks,
// see its README), GSM8K train as published and the recorded MATH
// questions (../testdata). Checks that need the full benchmark sets read
// $SYLLABUS_SHARED/benchmarks.

const (
	excerptDir       = "testdata/benchmarks"
	gsm8kTrainGz     = "../testdata/datasets/gsm8k/train.jsonl.gz"
	mathRecordings   = "../testdata/recordings/qwen25-math-instruct-math-8samples.jsonl"
	sharedEnv        = "SYLLABUS_SHARED"
	sharedBenchmarks = "benchmarks" // under $SYLLABUS_SHARED
)

// fullBenchmarksDir returns $SYLLABUS_SHARED/benchmarks. Unset, the test is
// skipped with what it needs; set to a directory without the sets, it fails.
func fullBenchmarksDir(t testing.TB, purpose string) string {
	t.Helper()
	root := os.Getenv(sharedEnv)
	if root == "" {
		t.Skipf("set SYLLABUS_SHARED=<dir with benchmarks/> to %s", purpose)
	}
	dir := filepath.Join(root, sharedBenchmarks)
	if _, err := os.Stat(filepath.Join(dir, "gsm8k", "test.jsonl")); err != nil {
		t.Fatalf("%s=%s: %v (it must hold benchmarks/<name>/test.jsonl)", sharedEnv, root, err)
	}
	return dir
}

// readGzBytes returns data decompressed.
func readGzBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readGz returns the decompressed contents of a gzipped file.
func readGz(t testing.TB, name string) []byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return data
}

// excerptSets reads testdata/benchmarks with the field mappings of the
// known sets; a set without an id field is keyed by its source row, as in
// the built-in fingerprints.
func excerptSets(t testing.TB) []Benchmark {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(excerptDir, "*", "test.jsonl.gz"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no benchmark excerpts under %s: %v", excerptDir, err)
	}
	var sets []Benchmark
	for _, p := range paths {
		name := filepath.Base(filepath.Dir(p))
		spec, ok := KnownBenchmark(name)
		if !ok {
			t.Fatalf("%s: not a known set", p)
		}
		if spec.IDField == "" {
			spec.IDField = "row"
		}
		b, err := ReadBenchmark(fstest.MapFS{path.Join(name, "test.jsonl"): {Data: readGz(t, p)}}, spec)
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, b)
	}
	return sets
}

// cleanPrompts returns the questions of GSM8K train, in file order.
func cleanPrompts(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, line := range jsonLines(t, readGz(t, gsm8kTrainGz)) {
		var rec struct {
			Question string `json:"question"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatal(err)
		}
		out = append(out, rec.Question)
	}
	return out
}

// recordedMath is one recorded MATH question.
type recordedMath struct {
	Idx      int    `json:"idx"`
	Question string `json:"question"`
}

func recordedMathQuestions(t testing.TB) []recordedMath {
	t.Helper()
	data, err := os.ReadFile(mathRecordings)
	if err != nil {
		t.Fatal(err)
	}
	var out []recordedMath
	for _, line := range jsonLines(t, data) {
		var r recordedMath
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func jsonLines(t testing.TB, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if len(sc.Bytes()) > 0 {
			out = append(out, append([]byte(nil), sc.Bytes()...))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
