package input

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Format is how a prompt file is encoded.
type Format int

// Formats known to FormatOf.
const (
	FormatUnknown Format = iota
	FormatJSONL
	FormatJSONLGzip
	FormatParquet
)

// FormatOf tells a file's format from its name.
func FormatOf(path string) Format {
	p := strings.ToLower(path)
	switch {
	case strings.HasSuffix(p, ".jsonl"), strings.HasSuffix(p, ".ndjson"), strings.HasSuffix(p, ".json"):
		return FormatJSONL
	case strings.HasSuffix(p, ".jsonl.gz"), strings.HasSuffix(p, ".ndjson.gz"):
		return FormatJSONLGzip
	case strings.HasSuffix(p, ".parquet"):
		return FormatParquet
	}
	return FormatUnknown
}

// File is an opened input: sequential and random access, and its size.
type File interface {
	io.Reader
	io.ReaderAt
}

// Read reads one prompt file of any known format. source names it in dead
// letters (usually its path or URL).
func Read(f File, size int64, source string, m Mapping, sink Sink) (Stats, error) {
	switch FormatOf(source) {
	case FormatJSONL:
		return ReadJSONL(f, source, m, sink)
	case FormatJSONLGzip:
		zr, err := gzip.NewReader(f)
		if err != nil {
			return Stats{}, fmt.Errorf("input: %s: %w", source, err)
		}
		defer zr.Close()
		return ReadJSONL(zr, source, m, sink)
	case FormatParquet:
		return ReadParquet(f, size, source, m, sink)
	}
	return Stats{}, fmt.Errorf("%w: %s", ErrUnknownFormat, source)
}

// ReadPath reads a local prompt file.
func ReadPath(path string, m Mapping, sink Sink) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, fmt.Errorf("input: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Stats{}, fmt.Errorf("input: %w", err)
	}
	return Read(f, info.Size(), path, m, sink)
}

// ReadParquet reads a Parquet prompt file; a record's "line" is its 1-based
// row number. Columns may be strings or numbers (kept as written).
func ReadParquet(ra io.ReaderAt, size int64, source string, m Mapping, sink Sink) (Stats, error) {
	pf, err := parquet.OpenFile(ra, size)
	if err != nil {
		return Stats{}, fmt.Errorf("input: %s is not a readable Parquet file: %w", source, err)
	}
	if !hasColumn(pf.Schema(), m.Text) && (m.Messages == "" || !hasColumn(pf.Schema(), m.Messages)) {
		return Stats{}, fmt.Errorf("input: %s has no column %q (set --text_field; columns: %s)", source, m.Text, columnNames(pf.Schema()))
	}
	r := newReader(source, m, sink)
	// Read through pf, not ra: pf knows the size, which parquet-go cannot
	// tell from a reader of an S3 object.
	rows := parquet.NewGenericReader[any](pf)
	defer rows.Close()
	buf := make([]any, 256)
	row := 0
	for {
		n, err := rows.Read(buf)
		for _, v := range buf[:n] {
			row++
			r.stats.Records++
			record, ok := v.(map[string]any)
			if !ok {
				r.dead(row, "", fmt.Sprintf("row is %T, not a record", v), nil)
				continue
			}
			r.record(row, record, nil)
		}
		if err == io.EOF {
			return r.stats, nil
		}
		if err != nil {
			return r.stats, fmt.Errorf("input: reading %s at row %d: %w", source, row+1, err)
		}
	}
}

// hasColumn reports whether the schema has a field at the dotted path
// name, leaf or group (a list<struct<role, content>> column is a group).
func hasColumn(s *parquet.Schema, name string) bool {
	var node parquet.Node = s
	if hasField(node, name) {
		return true
	}
	for _, part := range strings.Split(name, ".") {
		next := fieldNamed(node, part)
		if next == nil {
			return false
		}
		node = next
	}
	return true
}

func hasField(n parquet.Node, name string) bool { return fieldNamed(n, name) != nil }

func fieldNamed(n parquet.Node, name string) parquet.Node {
	if n.Leaf() {
		return nil
	}
	for _, f := range n.Fields() {
		if f.Name() == name {
			return f
		}
	}
	return nil
}

func columnNames(s *parquet.Schema) string {
	var names []string
	for _, f := range s.Fields() {
		names = append(names, f.Name())
	}
	return strings.Join(names, ", ")
}
