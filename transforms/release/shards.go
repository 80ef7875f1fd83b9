package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// TableSize is the size of one table of a release, summed over its rows.
type TableSize struct {
	Rows  int64
	Bytes int64
}

func AddTableSize(a, b TableSize) TableSize { return TableSize{a.Rows + b.Rows, a.Bytes + b.Bytes} }

// ShardCount is how many shards a table of size s is split into: as many as
// the tighter of the row and byte bounds needs, at least one. JSONL tables
// are always one file.
func ShardCount(t TableInfo, s TableSize, o recipe.OutputConfig) int {
	if !t.Sharded {
		return 1
	}
	n := max(ceilDiv(s.Rows, o.ShardRows), ceilDiv(s.Bytes, o.ShardBytes), 1)
	return int(n)
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// ShardOf places a row in one of n shards by a hash of its key, so the
// assignment does not depend on the runner or on bundle boundaries.
func ShardOf(key string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64() % uint64(n))
}

func ShardName(table string, i, n int) string { return fmt.Sprintf("%s/%d/%d", table, i, n) }

func ParseShardName(s string) (table string, i, n int, err error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return "", 0, 0, fmt.Errorf("transforms: bad shard name %q", s)
	}
	i, err1 := strconv.Atoi(parts[1])
	n, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil {
		return "", 0, 0, fmt.Errorf("transforms: bad shard name %q", s)
	}
	return parts[0], i, n, nil
}

// ShardResult describes one file written.
type ShardResult struct {
	Table string
	File  schemas.File
}

// WriteTableFile encodes rows into shard i of n of table, through a local
// temporary file (hashing as it goes), then stores it under its final name.
func WriteTableFile(ctx context.Context, store storage.Store, o recipe.OutputConfig, table string, i, n int, rows [][]byte) (ShardResult, error) {
	t, err := LookupTable(table)
	if err != nil {
		return ShardResult{}, err
	}
	name := t.File(i, n)
	tmp, err := os.CreateTemp("", "syllabus-shard-*")
	if err != nil {
		return ShardResult{}, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	counter := &countingWriter{}
	err = t.write(io.MultiWriter(tmp, h, counter), rows, o)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ShardResult{}, fmt.Errorf("transforms: writing %s: %w", name, err)
	}
	if err := store.PutFile(ctx, name, tmp.Name()); err != nil {
		return ShardResult{}, err
	}
	return ShardResult{Table: table, File: schemas.File{Path: name, Rows: int64(len(rows)), Bytes: counter.n, SHA256: hex.EncodeToString(h.Sum(nil)), Columns: t.Columns}}, nil
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// CompleteTables lists every file of tables, writing an empty file for each
// shard no row hashed to (and for tables with no rows), so every table is
// readable, and checks that the files hold every row produced.
func CompleteTables(ctx context.Context, store storage.Store, o recipe.OutputConfig, tables []string, sizes map[string]TableSize, written map[string]schemas.File) ([]schemas.File, error) {
	var files []schemas.File
	for _, name := range tables {
		table, err := LookupTable(name)
		if err != nil {
			return nil, err
		}
		n := ShardCount(table, sizes[name], o)
		var rows int64
		for i := range n {
			file, ok := written[table.File(i, n)]
			if !ok {
				res, err := WriteTableFile(ctx, store, o, name, i, n, nil)
				if err != nil {
					return nil, err
				}
				file = res.File
			}
			rows += file.Rows
			files = append(files, file)
		}
		if rows != sizes[name].Rows {
			return nil, fmt.Errorf("table %s: files hold %d rows but %d were produced", name, rows, sizes[name].Rows)
		}
	}
	return files, nil
}
