package release

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	gojson "github.com/goccy/go-json"
	"github.com/parquet-go/parquet-go"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// parquetEncoder writes rows of T as a zstd-compressed Parquet file with row
// groups of at most o.RowGroupRows rows (parquet-go otherwise keeps every
// page of the file in memory until Close), in batches.
//
// String columns are dictionary-encoded while their dictionary stays under
// dictionaryMaxBytes per row group and PLAIN after, as DuckDB and Arrow
// write them: repeated values (roles, sources, verdicts, the system prompt,
// a skill list) are then written and compressed once, not once a row. The
// encoding is not part of the schema: readers see the same columns.
//
// Rows usually arrive as records (WriteRecord: a Row that NewRow made and
// that never left its stage), written as they are. Rows that arrive as
// JSON (they crossed a stage boundary, or their record would not survive
// JSON unchanged) are decoded with goccy/go-json, which decodes into the
// same structs by the same json tags as encoding/json at several times its
// speed (the backslash-heavy LaTeX of math responses is encoding/json's
// slow path). Such rows are json.Marshal output of schemas structs, so
// their keys are the tags exactly: goccy/go-json matches keys
// case-sensitively, which is the one difference
// TestRowDecodingMatchesEncodingJSON found. Both paths write the same
// bytes (TestRecordAndJSONWriteSameFile).
type parquetEncoder[T any] struct {
	pw    *parquet.GenericWriter[T]
	batch []T
}

// dictionaryMaxBytes bounds a column's dictionary in a row group (Arrow's
// default dictionary page size limit) and so the memory it holds.
const dictionaryMaxBytes = 1 << 20

func newParquetEncoder[T any](w io.Writer, o recipe.OutputConfig) rowEncoder {
	return &parquetEncoder[T]{
		pw: parquet.NewGenericWriter[T](w,
			parquet.Compression(&parquet.Zstd),
			parquet.DefaultEncodingFor(parquet.ByteArray, &parquet.RLEDictionary),
			parquet.DictionaryMaxBytes(dictionaryMaxBytes),
			parquet.MaxRowsPerRowGroup(o.RowGroupRows),
			parquet.CreatedBy("syllabus", schemas.Version, ""),
			parquet.KeyValueMetadata("syllabus.schema_version", schemas.Version),
		),
		batch: make([]T, 0, 256),
	}
}

func (e *parquetEncoder[T]) Write(raw []byte) error {
	var v T
	if err := gojson.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("decoding row: %w", err)
	}
	return e.add(v)
}

// WriteRecord writes a T (or *T) as it is.
func (e *parquetEncoder[T]) WriteRecord(record any) error {
	switch r := record.(type) {
	case T:
		return e.add(r)
	case *T:
		if r != nil {
			return e.add(*r)
		}
	}
	var zero T
	return fmt.Errorf("a %T record in a table of %T", record, zero)
}

func (e *parquetEncoder[T]) add(v T) error {
	e.batch = append(e.batch, v)
	if len(e.batch) == cap(e.batch) {
		return e.flush()
	}
	return nil
}

func (e *parquetEncoder[T]) flush() error {
	if len(e.batch) == 0 {
		return nil
	}
	_, err := e.pw.Write(e.batch)
	clear(e.batch)
	e.batch = e.batch[:0]
	return err
}

func (e *parquetEncoder[T]) Close() error {
	if err := e.flush(); err != nil {
		return err
	}
	return e.pw.Close()
}

// copyParquetRows reads the Parquet file r of size bytes and writes its rows
// into enc, which must be a parquetEncoder[T]; it returns the rows copied.
func copyParquetRows[T any](enc rowEncoder, r io.ReaderAt, size int64) (int64, error) {
	pe, ok := enc.(*parquetEncoder[T])
	if !ok {
		return 0, fmt.Errorf("merging Parquet parts into a %T", enc)
	}
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return 0, err
	}
	rd := parquet.NewGenericReader[T](f)
	defer rd.Close()
	buf := make([]T, 256)
	var n int64
	for {
		k, err := rd.Read(buf)
		for _, v := range buf[:k] {
			if err := pe.add(v); err != nil {
				return n, err
			}
		}
		n += int64(k)
		clear(buf[:k])
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// jsonlEncoder writes rows as JSON lines.
type jsonlEncoder struct{ w *bufio.Writer }

func newJSONLEncoder(w io.Writer, _ recipe.OutputConfig) rowEncoder {
	return &jsonlEncoder{bufio.NewWriterSize(w, 64<<10)}
}

func (e *jsonlEncoder) Write(raw []byte) error {
	e.w.Write(bytes.TrimSpace(raw))
	return e.w.WriteByte('\n')
}

func (e *jsonlEncoder) WriteRecord(record any) error { return writeMarshalled(e, record) }

func (e *jsonlEncoder) Close() error { return e.w.Flush() }

// writeMarshalled writes record through enc's JSON path, marshalled as
// NewRow marshals it, for encoders that write JSON anyway.
func writeMarshalled(enc rowEncoder, record any) error {
	data, err := json.Marshal(record)
	if err != nil {
		return fmt.Errorf("encoding row: %w", err)
	}
	return enc.Write(data)
}
