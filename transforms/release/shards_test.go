package release

import (
	"fmt"
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

// TestShardOf: a row's shard depends only on its key, through a fixed hash
// (FNV-1a), so the same input gives the same shards on any runner and in
// any later release; and keys spread evenly over the shards.
func TestShardOf(t *testing.T) {
	// Pinned: changing the hash reshuffles every release's shards.
	for key, want := range map[string]int{"p1\x00000001": 4, "gsm8k-0\x00000000": 1, "": 2} {
		if got := ShardOf(key, 7); got != want {
			t.Errorf("ShardOf(%q, 7) = %d, want %d", key, got, want)
		}
	}
	counts := make([]int, 7)
	const keys = 70_000
	for i := range keys {
		counts[ShardOf(SampleKey(fmt.Sprintf("p%d", i), i%4), 7)]++
	}
	for shard, n := range counts {
		if n < keys/7*9/10 || n > keys/7*11/10 {
			t.Errorf("shard %d holds %d of %d keys, want within 10%% of %d", shard, n, keys, keys/7)
		}
	}
}
