package release

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// writeBundles writes each bundle of SFT prompt ids (and one dead letter
// per bundle) through its own PartWriter, as writePartsFn does per bundle.
func writeBundles(t *testing.T, store storage.Store, o recipe.OutputConfig, bundles [][]string) []Part {
	t.Helper()
	ctx := context.Background()
	var parts []Part
	for b, ids := range bundles {
		pw := NewPartWriter(store, o)
		for _, id := range ids {
			row, err := NewRow(TableSFT, SampleKey(id, 0), schemas.SFTExample{PromptID: id, Messages: []schemas.Message{{Role: "user", Content: "q " + id}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := pw.Add(ctx, row); err != nil {
				t.Fatal(err)
			}
		}
		dl, _ := NewRow(TableDeadLetter, SourceKey("in.jsonl", b), map[string]any{"line": b})
		if err := pw.Add(ctx, dl); err != nil {
			t.Fatal(err)
		}
		got, err := pw.Close()
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, got...)
	}
	return parts
}

// Parts written bundle by bundle become shards named train-0000i-of-0000N
// within the row bound (a lone part copied, several merged), every table
// gets a file, each file's manifest entry matches its bytes, and no part
// is left behind.
func TestAssemble(t *testing.T) {
	ctx := context.Background()
	store := storage.NewMem()
	o := recipe.OutputConfig{ShardRows: 3, ShardBytes: 1 << 20, RowGroupRows: 2}
	// Bundle 1 rolls over after 3 rows: parts of 3 and 1 rows; bundle 2 is
	// one part of 2 rows. Packed by 3: [3] and [1+2].
	parts := writeBundles(t, store, o, [][]string{{"p0", "p1", "p2", "p3"}, {"p4", "p5"}})
	if len(parts) != 5 {
		t.Fatalf("wrote %d parts, want 3 SFT + 2 dead-letter", len(parts))
	}
	files, sizes, err := Assemble(ctx, store, o, SFTGenTables, parts)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var ids []string
	for _, f := range files {
		names = append(names, f.Path)
		data, err := store.Get(ctx, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if f.Bytes != int64(len(data)) || f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: manifest says %d bytes sha256 %s, file has %d bytes sha256 %x", f.Path, f.Bytes, f.SHA256, len(data), sum)
		}
		if strings.HasPrefix(f.Path, "sft/") {
			rows, err := parquet.Read[schemas.SFTExample](bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			if int64(len(rows)) != f.Rows || f.Rows != 3 {
				t.Errorf("%s holds %d rows, manifest says %d, want 3", f.Path, len(rows), f.Rows)
			}
			for _, r := range rows {
				ids = append(ids, r.PromptID)
			}
		}
		if f.Path == "dead_letter.jsonl" && (f.Rows != 2 || bytes.Count(data, []byte("\n")) != 2) {
			t.Errorf("dead_letter.jsonl: %d rows, %q", f.Rows, data)
		}
	}
	want := []string{"sft/train-00000-of-00002.parquet", "sft/train-00001-of-00002.parquet", "preference/train-00000-of-00001.parquet",
		"rlvr/train-00000-of-00001.parquet", "rejected/rejected-00000-of-00001.parquet", "contamination.jsonl", "near_duplicates.jsonl", "dead_letter.jsonl"}
	if !slices.Equal(names, want) {
		t.Errorf("files = %v, want %v", names, want)
	}
	slices.Sort(ids)
	if fmt.Sprint(ids) != "[p0 p1 p2 p3 p4 p5]" {
		t.Errorf("SFT shards hold %v, want p0..p5 once each", ids)
	}
	if sizes[TableSFT].Rows != 6 || sizes[TableDeadLetter].Rows != 2 {
		t.Errorf("sizes = %+v", sizes)
	}
	if left, _ := store.List(ctx, PartsDir); len(left) != 0 {
		t.Errorf("parts left behind: %v", left)
	}
}

// A part whose bytes changed after it was written fails the release,
// naming the part.
func TestAssembleChecksParts(t *testing.T) {
	ctx := context.Background()
	store := storage.NewMem()
	o := recipe.OutputConfig{ShardRows: 100, ShardBytes: 1 << 20, RowGroupRows: 10}
	parts := writeBundles(t, store, o, [][]string{{"p0", "p1"}})
	var dl Part
	for _, p := range parts {
		if p.Table == TableDeadLetter {
			dl = p
		}
	}
	if err := store.Put(ctx, dl.Path, []byte(`{"line":9}`+"\n")); err != nil {
		t.Fatal(err)
	}
	_, _, err := Assemble(ctx, store, o, SFTGenTables, parts)
	if err == nil || !strings.Contains(err.Error(), dl.Path) {
		t.Fatalf("Assemble with a changed part = %v, want an error naming %s", err, dl.Path)
	}
}

// SampleKey is fmt's "%s\x00%06d" (part names and shard order derive from
// keys, so they must not change).
func TestSampleKey(t *testing.T) {
	for _, id := range []string{"", "p", "gsm8k-123\x00x", "é"} {
		for _, i := range []int{0, 7, 42, 99999, 999999, 1000000, 123456789012, -1, -123456, math.MaxInt, math.MinInt} {
			if got, want := SampleKey(id, i), fmt.Sprintf("%s\x00%06d", id, i); got != want {
				t.Errorf("SampleKey(%q, %d) = %q, want %q", id, i, got, want)
			}
		}
	}
}
