package release

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// Row is one record on its way to a release file: the table it belongs to,
// a key that orders it within its shard, and the record as JSON. One
// envelope for every table lets one sharding and writing path serve them all.
type Row struct {
	Table string
	Key   string
	JSON  []byte
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
		copyRows: copyParquetRows[T],
	}
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

// NewRow wraps a record for table.
func NewRow(table, key string, record any) (Row, error) {
	data, err := json.Marshal(record)
	if err != nil {
		return Row{}, fmt.Errorf("transforms: encoding a %s row: %w", table, err)
	}
	return Row{Table: table, Key: key, JSON: data}, nil
}

// SampleKey orders rows of one prompt: prompt id, then sample index.
func SampleKey(promptID string, index int) string {
	return fmt.Sprintf("%s\x00%06d", promptID, index)
}

// SourceKey orders dead letters by where they were read.
func SourceKey(source string, line int) string {
	return fmt.Sprintf("%s\x00%012d", strings.ReplaceAll(source, "\x00", ""), line)
}
