package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// PartsDir is the folder of the version root that holds part files while
// a run writes them; Assemble empties it.
const PartsDir = "_parts"

// Part is one temporary file of a table written by a PartWriter: some of a
// table's rows, in the order they arrived. Assemble turns parts into the
// release's shards.
type Part struct {
	Table string
	// Path is relative to the version root, under PartsDir.
	Path string
	// FirstKey is the key of the part's first row: it names the part and
	// orders the parts of a table.
	FirstKey string
	Rows     int64
	// Bytes is the size of the file; JSONBytes the length of the rows' JSON
	// (Row.JSONSize, whether or not it was made), the measure
	// output.shard_bytes bounds.
	Bytes     int64
	JSONBytes int64
	SHA256    string
}

// PartWriter writes rows into part files as they come, one open file per
// table, rolling over to a new part when one reaches output.shard_rows rows
// or output.shard_bytes bytes of JSON. Memory does not grow with the number
// of rows: a Parquet part holds at most one row group (output.row_group_rows)
// and a streamed upload one buffer.
//
// Part names derive from the table and the first row's key, so a bundle
// that a runner retries writes the same names again (each write atomic)
// rather than leaving a second copy.
type PartWriter struct {
	store storage.Store
	o     recipe.OutputConfig
	open  map[string]*partFile
	done  []Part
}

type partFile struct {
	part Part
	w    storage.Writer
	sum  hash.Hash
	size *countingWriter
	enc  rowEncoder
}

// rowEncoder encodes a table's rows one at a time, from JSON or from the
// record itself.
type rowEncoder interface {
	Write(raw []byte) error
	WriteRecord(record any) error
	Close() error
}

// NewPartWriter writes parts into store (the version root).
func NewPartWriter(store storage.Store, o recipe.OutputConfig) *PartWriter {
	return &PartWriter{store: store, o: o, open: map[string]*partFile{}}
}

// PartPath is where the part of table that starts with key is written.
func PartPath(t TableInfo, key string) string {
	sum := sha256.Sum256([]byte(t.Name + "\x00" + key))
	ext := ".jsonl"
	if t.Parquet {
		ext = ".parquet"
	}
	return fmt.Sprintf("%s/%s/%s%s", PartsDir, t.Name, hex.EncodeToString(sum[:10]), ext)
}

// Add writes r into its table's open part, starting one if needed.
func (pw *PartWriter) Add(ctx context.Context, r Row) error {
	f := pw.open[r.Table]
	if f == nil {
		t, err := LookupTable(r.Table)
		if err != nil {
			return err
		}
		p := Part{Table: r.Table, Path: PartPath(t, r.Key), FirstKey: r.Key}
		w, err := pw.store.Create(ctx, p.Path)
		if err != nil {
			return err
		}
		f = &partFile{part: p, w: w, sum: sha256.New(), size: &countingWriter{}}
		f.enc = t.encoder(io.MultiWriter(w, f.sum, f.size), pw.o)
		pw.open[r.Table] = f
	}
	var err error
	switch {
	case r.record != nil:
		err = f.enc.WriteRecord(r.record)
	case r.JSON != nil:
		err = f.enc.Write(r.JSON)
	default: // not made by NewRow, or its record lost on the way
		err = fmt.Errorf("a row (key %q) with neither record nor JSON", r.Key)
	}
	if err != nil {
		return fmt.Errorf("release: writing %s: %w", f.part.Path, err)
	}
	f.part.Rows++
	f.part.JSONBytes += r.JSONSize()
	if t, _ := LookupTable(r.Table); t.Sharded && (f.part.Rows >= pw.o.ShardRows || f.part.JSONBytes >= pw.o.ShardBytes) {
		return pw.finish(r.Table)
	}
	return nil
}

func (pw *PartWriter) finish(table string) error {
	f := pw.open[table]
	delete(pw.open, table)
	if err := f.enc.Close(); err != nil {
		f.w.Abort()
		return fmt.Errorf("release: writing %s: %w", f.part.Path, err)
	}
	if err := f.w.Close(); err != nil {
		return fmt.Errorf("release: writing %s: %w", f.part.Path, err)
	}
	f.part.Bytes = f.size.n
	f.part.SHA256 = hex.EncodeToString(f.sum.Sum(nil))
	pw.done = append(pw.done, f.part)
	return nil
}

// Close finishes every open part and returns the parts written since the
// writer was made (or last closed).
func (pw *PartWriter) Close() ([]Part, error) {
	tables := make([]string, 0, len(pw.open))
	for t := range pw.open {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	var errs []error
	for _, t := range tables {
		errs = append(errs, pw.finish(t))
	}
	done := pw.done
	pw.done = nil
	return done, errors.Join(errs...)
}

// Abort discards every open part.
func (pw *PartWriter) Abort() {
	for t, f := range pw.open {
		f.w.Abort()
		delete(pw.open, t)
	}
	pw.done = nil
}

// Assemble turns the parts of a run into the release's files: for each
// table, parts ordered by their first key are packed, in that order, into
// shards of at most output.shard_rows rows and output.shard_bytes bytes of
// JSON (a single part is copied as is; several are merged row by row),
// named <split>-0000i-of-0000N; an unsharded table's parts become its one
// file; a table with no rows gets one empty file, so every table is
// readable. Every part is checked against the rows, bytes and SHA-256 its
// writer reported before it is used, and deleted after. Assemble returns
// the files, in table order, and each table's size.
//
// Which rows share a shard depends on how the runner cut the input into
// bundles, so two runs of the same input hold the same rows but not always
// byte-identical files.
func Assemble(ctx context.Context, store storage.Store, o recipe.OutputConfig, tables []string, parts []Part) ([]schemas.File, map[string]TableSize, error) {
	byTable := map[string][]Part{}
	for _, p := range parts {
		byTable[p.Table] = append(byTable[p.Table], p)
	}
	sizes := map[string]TableSize{}
	var files []schemas.File
	for _, name := range tables {
		t, err := LookupTable(name)
		if err != nil {
			return nil, nil, err
		}
		ps := byTable[name]
		delete(byTable, name)
		sort.Slice(ps, func(i, j int) bool { return ps[i].FirstKey < ps[j].FirstKey })
		var size TableSize
		for _, p := range ps {
			size.Rows += p.Rows
			size.Bytes += p.JSONBytes
		}
		sizes[name] = size
		groups := packParts(t, ps, o)
		for i, g := range groups {
			f, err := writeShard(ctx, store, o, t, t.File(i, len(groups)), g)
			if err != nil {
				return nil, nil, err
			}
			files = append(files, f)
		}
	}
	for name := range byTable {
		return nil, nil, fmt.Errorf("release: parts of table %q, which this release does not have", name)
	}
	for _, p := range parts {
		if err := store.Delete(ctx, p.Path); err != nil {
			return nil, nil, err
		}
	}
	if l, ok := store.(*storage.Local); ok { // the folders that held parts; S3 has none
		removeEmptyDirs(l.URL(PartsDir))
	}
	return files, sizes, nil
}

// packParts groups consecutive parts into shards within the bounds. An
// unsharded table is one group; a table with no parts one empty group.
func packParts(t TableInfo, ps []Part, o recipe.OutputConfig) [][]Part {
	if !t.Sharded || len(ps) == 0 {
		return [][]Part{ps}
	}
	var groups [][]Part
	var cur []Part
	var rows, bytes int64
	for _, p := range ps {
		if len(cur) > 0 && (rows+p.Rows > o.ShardRows || bytes+p.JSONBytes > o.ShardBytes) {
			groups = append(groups, cur)
			cur, rows, bytes = nil, 0, 0
		}
		cur = append(cur, p)
		rows += p.Rows
		bytes += p.JSONBytes
	}
	return append(groups, cur)
}

// writeShard writes the file name of table t from parts: a copy of a single
// part, or the parts' rows merged into one file (JSONL parts concatenated,
// Parquet parts re-encoded row group by row group).
func writeShard(ctx context.Context, store storage.Store, o recipe.OutputConfig, t TableInfo, name string, parts []Part) (schemas.File, error) {
	w, err := store.Create(ctx, name)
	if err != nil {
		return schemas.File{}, err
	}
	sum, size := sha256.New(), &countingWriter{}
	out := io.MultiWriter(w, sum, size)
	var rows int64
	if len(parts) == 1 || !t.Parquet {
		for _, p := range parts {
			if err := copyPart(ctx, store, out, p); err != nil {
				w.Abort()
				return schemas.File{}, err
			}
			rows += p.Rows
		}
		if len(parts) == 0 && t.Parquet {
			err = t.encoder(out, o).Close()
		}
	} else {
		rows, err = mergeParquet(ctx, store, t, out, o, parts)
	}
	if err != nil {
		w.Abort()
		return schemas.File{}, fmt.Errorf("release: writing %s: %w", name, err)
	}
	if err := w.Close(); err != nil {
		return schemas.File{}, fmt.Errorf("release: writing %s: %w", name, err)
	}
	return schemas.File{Path: name, Rows: rows, Bytes: size.n, SHA256: hex.EncodeToString(sum.Sum(nil)), Columns: t.Columns}, nil
}

// copyPart copies part p into w, checking its size and SHA-256 against
// what its writer reported.
func copyPart(ctx context.Context, store storage.Store, w io.Writer, p Part) error {
	f, _, err := store.Open(ctx, p.Path)
	if err != nil {
		return fmt.Errorf("release: part %s: %w", p.Path, err)
	}
	defer f.Close()
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, sum), f)
	if err != nil {
		return fmt.Errorf("release: part %s: %w", p.Path, err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); n != p.Bytes || got != p.SHA256 {
		return fmt.Errorf("release: part %s holds %d bytes with sha256 %s, but %d bytes with sha256 %s were written", p.Path, n, got, p.Bytes, p.SHA256)
	}
	return nil
}

// mergeParquet re-encodes the rows of Parquet parts into one file,
// checking each part's SHA-256 and row count.
func mergeParquet(ctx context.Context, store storage.Store, t TableInfo, w io.Writer, o recipe.OutputConfig, parts []Part) (int64, error) {
	enc := t.encoder(w, o)
	var rows int64
	for _, p := range parts {
		f, size, err := store.Open(ctx, p.Path)
		if err != nil {
			return rows, fmt.Errorf("part %s: %w", p.Path, err)
		}
		if err := checkSum(f, p); err != nil {
			f.Close()
			return rows, err
		}
		n, err := t.copyRows(enc, f, size)
		f.Close()
		if err != nil {
			return rows, fmt.Errorf("part %s: %w", p.Path, err)
		}
		if n != p.Rows {
			return rows, fmt.Errorf("part %s holds %d rows, but %d were written", p.Path, n, p.Rows)
		}
		rows += n
	}
	return rows, enc.Close()
}

func checkSum(f io.Reader, p Part) error {
	sum := sha256.New()
	n, err := io.Copy(sum, f)
	if err != nil {
		return fmt.Errorf("part %s: %w", p.Path, err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); n != p.Bytes || got != p.SHA256 {
		return fmt.Errorf("part %s holds %d bytes with sha256 %s, but %d bytes with sha256 %s were written", p.Path, n, got, p.Bytes, p.SHA256)
	}
	return nil
}
