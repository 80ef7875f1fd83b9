package decontam

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// ErrNoBenchmarks is returned when a path or directory names no benchmark file.
var ErrNoBenchmarks = errors.New("decontam: no benchmark files")

// ErrMalformed is wrapped by errors about unreadable benchmark files.
var ErrMalformed = errors.New("decontam: malformed benchmark file")

// LoadDir builds an index over every known set under dir (<name>/test.jsonl)
// and any other <name>/test.jsonl whose fields follow the known conventions.
func LoadDir(dir string, cfg Config) (*Index, error) {
	sets, err := ReadDir(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("decontam: benchmarks %s: %w", dir, err)
	}
	return Build(sets, cfg)
}

// ReadDir reads every <name>/test.jsonl of fsys: the known sets with their
// field mappings, others by guessing (see KnownBenchmarks). Sets are sorted by
// name.
func ReadDir(fsys fs.FS) ([]Benchmark, error) {
	paths, err := fs.Glob(fsys, "*/test.jsonl")
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: no */test.jsonl", ErrNoBenchmarks)
	}
	sort.Strings(paths)
	var sets []Benchmark
	for _, p := range paths {
		name := path.Dir(p)
		spec, ok := KnownBenchmark(name)
		if !ok {
			fields, err := firstLineFields(fsys, p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if spec, ok = guessSpec(name, fields); !ok {
				return nil, fmt.Errorf("%w: %s: no question field (problem, question, content, prompt, body+question, Body+Question); add it to the recipe's decontam.benchmarks", ErrMalformed, p)
			}
		}
		b, err := ReadBenchmark(fsys, spec)
		if err != nil {
			return nil, err
		}
		sets = append(sets, b)
	}
	return sets, nil
}

// ReadBenchmark reads the set spec describes from fsys. spec.Path is a file,
// a directory (all its .jsonl and .parquet files) or a glob, relative to
// fsys. Any storage layer (local, S3) that offers an fs.FS can serve it.
func ReadBenchmark(fsys fs.FS, spec BenchmarkSpec) (Benchmark, error) {
	paths, err := expand(fsys, spec.Path)
	if err != nil {
		return Benchmark{}, fmt.Errorf("decontam: benchmark %s: %w", spec.Name, err)
	}
	b := Benchmark{Name: spec.Name}
	sum := sha256.New()
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return Benchmark{}, fmt.Errorf("decontam: benchmark %s: %w", spec.Name, err)
		}
		sum.Write(data)
		format := spec.Format
		if format == "" {
			format = formatOf(p)
		}
		var items []BenchmarkItem
		switch format {
		case "parquet":
			items, err = ReadParquet(bytes.NewReader(data), int64(len(data)), spec)
		default:
			items, err = ReadJSONL(bytes.NewReader(data), spec)
		}
		if err != nil {
			return Benchmark{}, fmt.Errorf("decontam: benchmark %s: %s: %w", spec.Name, p, err)
		}
		if len(paths) > 1 && spec.IDField == "" {
			for i := range items {
				items[i].ID = path.Base(p) + ":" + items[i].ID
			}
		}
		b.Items = append(b.Items, items...)
	}
	b.Version = "sha256:" + hex.EncodeToString(sum.Sum(nil)[:8])
	return b, nil
}

// ReadLocalBenchmark is ReadBenchmark on the local file system, spec.Path
// being an ordinary (absolute or relative) path or glob.
func ReadLocalBenchmark(spec BenchmarkSpec) (Benchmark, error) {
	abs, err := filepath.Abs(spec.Path)
	if err != nil {
		return Benchmark{}, fmt.Errorf("decontam: benchmark %s: %w", spec.Name, err)
	}
	root := filepath.VolumeName(abs) + string(filepath.Separator)
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return Benchmark{}, fmt.Errorf("decontam: benchmark %s: %w", spec.Name, err)
	}
	spec.Path = filepath.ToSlash(rel)
	return ReadBenchmark(os.DirFS(root), spec)
}

func formatOf(p string) string {
	if strings.HasSuffix(strings.ToLower(p), ".parquet") {
		return "parquet"
	}
	return "jsonl"
}

// expand resolves a file, directory or glob to sorted file paths.
func expand(fsys fs.FS, p string) ([]string, error) {
	p = strings.TrimPrefix(path.Clean(p), "./")
	if info, err := fs.Stat(fsys, p); err == nil {
		if !info.IsDir() {
			return []string{p}, nil
		}
		var files []string
		err := fs.WalkDir(fsys, p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			lower := strings.ToLower(q)
			if !d.IsDir() && (strings.HasSuffix(lower, ".jsonl") || strings.HasSuffix(lower, ".parquet")) {
				files = append(files, q)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%w: %s has no .jsonl or .parquet file", ErrNoBenchmarks, p)
		}
		sort.Strings(files)
		return files, nil
	}
	files, err := fs.Glob(fsys, p)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: %s matches nothing", ErrNoBenchmarks, p)
	}
	sort.Strings(files)
	return files, nil
}

func firstLineFields(fsys fs.FS, p string) (map[string]bool, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	line, err := r.ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return nil, fmt.Errorf("%w: line 1: %v", ErrMalformed, err)
	}
	fields := map[string]bool{}
	for k := range obj {
		fields[k] = true
	}
	return fields, nil
}

// ReadJSONL reads benchmark items, one JSON object a line, with the fields of
// spec. Blank lines are skipped; a line that is not a JSON object, or a
// question that is missing or empty, is an error naming the line.
func ReadJSONL(r io.Reader, spec BenchmarkSpec) ([]BenchmarkItem, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	var items []BenchmarkItem
	row := 0
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(line, &obj); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrMalformed, lineNo, err)
		}
		get := func(field string) string { return fieldString(obj[field]) }
		item, err := makeItem(spec, row, get)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		items = append(items, item)
		row++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return items, nil
}

// ReadParquet reads benchmark items from a Parquet file whose top-level
// columns include the fields of spec.
func ReadParquet(r io.ReaderAt, size int64, spec BenchmarkSpec) (items []BenchmarkItem, err error) {
	defer func() {
		// parquet-go panics on some malformed files; report them as errors.
		if p := recover(); p != nil {
			items, err = nil, fmt.Errorf("%w: %v", ErrMalformed, p)
		}
	}()
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	schema := f.Schema()
	columns := map[string]int{}
	want := append(append([]string{spec.IDField}, spec.QuestionFields...), spec.SolutionFields...)
	for _, field := range want {
		if field == "" {
			continue
		}
		leaf, ok := schema.Lookup(field)
		if !ok {
			if field == spec.IDField || contains(spec.SolutionFields, field) {
				continue // optional fields
			}
			return nil, fmt.Errorf("%w: no column %q", ErrMalformed, field)
		}
		columns[field] = leaf.ColumnIndex
	}
	reader := parquet.NewReader(f)
	defer reader.Close()
	rows := make([]parquet.Row, 64)
	values := map[int]string{}
	row := 0
	for {
		n, err := reader.ReadRows(rows)
		for _, r := range rows[:n] {
			clear(values)
			for _, v := range r {
				if !v.IsNull() {
					values[v.Column()] = v.String()
				}
			}
			get := func(field string) string {
				if c, ok := columns[field]; ok {
					return values[c]
				}
				return ""
			}
			item, err := makeItem(spec, row, get)
			if err != nil {
				return nil, fmt.Errorf("row %d: %w", row, err)
			}
			items = append(items, item)
			row++
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	return items, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func makeItem(spec BenchmarkSpec, row int, get func(string) string) (BenchmarkItem, error) {
	item := BenchmarkItem{ID: strconv.Itoa(row)}
	if spec.IDField != "" {
		if id := get(spec.IDField); id != "" {
			item.ID = id
		}
	}
	item.Question = joinFields(spec.QuestionFields, get)
	if strings.TrimSpace(item.Question) == "" {
		return item, fmt.Errorf("%w: empty question (fields %s)", ErrMalformed, strings.Join(spec.QuestionFields, "+"))
	}
	item.Solution = joinFields(spec.SolutionFields, get)
	return item, nil
}

func joinFields(fields []string, get func(string) string) string {
	var parts []string
	for _, f := range fields {
		if v := get(f); v != "" && v != "None" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, " ")
}

// fieldString renders a JSON value as text: strings as they are, lists of
// strings joined by newlines, numbers in their shortest form.
func fieldString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, 0, len(v))
		for _, x := range v {
			parts = append(parts, fieldString(x))
		}
		return strings.Join(parts, "\n")
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func osDirFS(dir string) fs.FS { return os.DirFS(dir) }
