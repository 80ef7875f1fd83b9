package release

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// Row is one record on its way to a release file: the table it belongs to,
// a key that orders it within its shard, and the record. One envelope for
// every table lets one sharding and writing path serve them all.
//
// A row holds its record either as JSON or, when NewRow made it for a
// Parquet table of the record's type, as the record itself (JSON is then
// nil): the table's encoder writes the record as it is, with no JSON made
// and decoded again, which was most of the cost of writing a row. Such a
// row lives in the stage that made it (rows are written where they are
// made); a row that leaves it is sent as its JSON (RecordJSON), which
// package transforms registers as Row's Beam coder, and written from that.
// Either way the table holds the same content. Like every element a stage
// emits, a row's record must not be changed after it is emitted.
type Row struct {
	Table string
	Key   string
	JSON  []byte
	// record is the record NewRow was given, when JSON is nil; size is
	// the length of its JSON.
	record any
	size   int64
}

// JSONSize is the length of the row's JSON, whether or not it was made:
// the measure output.shard_bytes bounds.
func (r Row) JSONSize() int64 {
	if r.record != nil {
		return r.size
	}
	return int64(len(r.JSON))
}

// RecordJSON is the row's record as JSON: the JSON it holds, or its record
// marshalled as NewRow would have.
func (r Row) RecordJSON() ([]byte, error) {
	if r.record == nil {
		return r.JSON, nil
	}
	data, err := json.Marshal(r.record)
	if err != nil {
		return nil, fmt.Errorf("transforms: encoding a %s row: %w", r.Table, err)
	}
	return data, nil
}

// Tables of a release. Parquet tables are sharded; JSONL reports are one
// file; the decontam pipeline's clean and flagged records are sharded JSONL.
const (
	TableSFT           = "sft"
	TablePreference    = "preference"
	TableRLVR          = "rlvr"
	TableRefusal       = "refusal" // R-Tuning rows, written when refusal.enabled
	TableRejected      = "rejected"
	TableContamination = "contamination"
	TableDeadLetter    = "dead_letter"
	TableClean         = "clean"
	TableFlagged       = "flagged"
)

// SFTGenTables and DecontamTables are the tables each pipeline writes.
var (
	SFTGenTables   = []string{TableSFT, TablePreference, TableRLVR, TableRejected, TableContamination, TableNearDuplicates, TableDeadLetter}
	DecontamTables = []string{TableClean, TableFlagged, TableContamination, TableDeadLetter}
)

// TableInfo says how a table is written.
type TableInfo struct {
	Name    string
	Parquet bool
	// Sharded tables are split into shards by size; others are one file.
	Sharded bool
	// File names shard i of n (0-based), relative to the version root.
	File func(i, n int) string
	// Columns are the top-level columns of a Parquet table.
	Columns []string
	// encoder encodes rows (JSON records) into w, one at a time.
	encoder func(w io.Writer, o recipe.OutputConfig) rowEncoder
	// takes is true for a record the table's encoder writes as it is (nil:
	// none; rows then hold JSON).
	takes func(record any) bool
	// copyRows copies the rows of a Parquet file of this table into an
	// encoder of this table (nil for JSONL tables).
	copyRows func(enc rowEncoder, r io.ReaderAt, size int64) (int64, error)
}

// Tables lists every table syllabus writes.
var Tables = []TableInfo{
	parquetTable[schemas.SFTExample](TableSFT, "train"),
	parquetTable[schemas.PreferencePair](TablePreference, "train"),
	parquetTable[schemas.RLVRExample](TableRLVR, "train"),
	parquetTable[schemas.RefusalExample](TableRefusal, "train"),
	parquetTable[schemas.Rejection](TableRejected, "rejected"),
	jsonlTable(TableContamination),
	jsonlTable(TableNearDuplicates),
	jsonlTable(TableDeadLetter),
	shardedJSONLTable(TableClean),
	shardedJSONLTable(TableFlagged),
}

// LookupTable returns the TableInfo of name.
func LookupTable(name string) (TableInfo, error) {
	for _, t := range Tables {
		if t.Name == name {
			return t, nil
		}
	}
	return TableInfo{}, fmt.Errorf("transforms: unknown table %q", name)
}

func parquetTable[T any](name, split string) TableInfo {
	return TableInfo{
		Name:    name,
		Parquet: true,
		Sharded: true,
		File: func(i, n int) string {
			return fmt.Sprintf("%s/%s-%05d-of-%05d.parquet", name, split, i, n)
		},
		Columns:  columnsOf[T](),
		encoder:  newParquetEncoder[T],
		takes:    isRecordOf[T],
		copyRows: copyParquetRows[T],
	}
}

// isRecordOf is true for a T or a non-nil *T.
func isRecordOf[T any](record any) bool {
	switch r := record.(type) {
	case T:
		return true
	case *T:
		return r != nil
	}
	return false
}

func columnsOf[T any]() []string {
	var cols []string
	for _, f := range parquet.SchemaOf(new(T)).Fields() {
		cols = append(cols, f.Name())
	}
	return cols
}

// shardedJSONLTable holds input records passed through unchanged.
func shardedJSONLTable(name string) TableInfo {
	return TableInfo{
		Name:    name,
		Sharded: true,
		File: func(i, n int) string {
			return fmt.Sprintf("%s/data-%05d-of-%05d.jsonl", name, i, n)
		},
		encoder: newJSONLEncoder,
	}
}

func jsonlTable(name string) TableInfo {
	return TableInfo{
		Name:    name,
		File:    func(int, int) string { return name + ".jsonl" },
		encoder: newJSONLEncoder,
	}
}

// NewRow wraps a record for table. A record of a Parquet table's own type
// is kept as it is, measured by jsonSize rather than marshalled, unless
// its JSON would not give it back unchanged (a string that is not valid
// UTF-8, say); every other record is marshalled with encoding/json. An
// error is what json.Marshal reports for the record.
func NewRow(table, key string, record any) (Row, error) {
	if t, err := LookupTable(table); err == nil && t.takes != nil && t.takes(record) {
		if n, ok := jsonSize(record); ok {
			return Row{Table: table, Key: key, record: record, size: n}, nil
		}
	}
	data, err := json.Marshal(record)
	if err != nil {
		return Row{}, fmt.Errorf("transforms: encoding a %s row: %w", table, err)
	}
	return Row{Table: table, Key: key, JSON: data}, nil
}

// SampleKey orders rows of one prompt: prompt id, then sample index
// (fmt's "%s\x00%06d", made without fmt: every row's key is one).
func SampleKey(promptID string, index int) string {
	if index < 0 {
		return fmt.Sprintf("%s\x00%06d", promptID, index)
	}
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(index), 10)
	b := make([]byte, 0, len(promptID)+1+max(6, len(d)))
	b = append(append(b, promptID...), 0)
	for range 6 - len(d) {
		b = append(b, '0')
	}
	return string(append(b, d...))
}

// SourceKey orders dead letters by where they were read.
func SourceKey(source string, line int) string {
	return fmt.Sprintf("%s\x00%012d", strings.ReplaceAll(source, "\x00", ""), line)
}
