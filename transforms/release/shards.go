package release

import "github.com/syllabus-dev/syllabus/transforms/recipe"

// TableSize is the size of one table of a release, summed over its rows.
type TableSize struct {
	Rows  int64
	Bytes int64
}

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

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
