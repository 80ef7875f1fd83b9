package release

import (
	"testing"

	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// TestShardCount: a table is cut into as many shards as the tighter bound
// needs.
func TestShardCount(t *testing.T) {
	o := recipe.OutputConfig{ShardRows: 100, ShardBytes: 1000}
	sft, _ := LookupTable(TableSFT)
	dead, _ := LookupTable(TableDeadLetter)
	tests := []struct {
		name string
		t    TableInfo
		size TableSize
		want int
	}{
		{"empty table still has one file", sft, TableSize{}, 1},
		{"rows bound", sft, TableSize{Rows: 250, Bytes: 10}, 3},
		{"bytes bound", sft, TableSize{Rows: 10, Bytes: 4500}, 5},
		{"JSONL is one file", dead, TableSize{Rows: 1000, Bytes: 1e6}, 1},
	}
	for _, tt := range tests {
		if got := ShardCount(tt.t, tt.size, o); got != tt.want {
			t.Errorf("%s: ShardCount = %d, want %d", tt.name, got, tt.want)
		}
	}
}
