package transforms

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

func rowSize(r release.Row) (string, release.TableSize) {
	return r.Table, release.TableSize{Rows: 1, Bytes: int64(len(r.JSON))}
}

// assignShardFn keys each row by its shard, sizing every table from the
// table sizes side input.
type assignShardFn struct {
	Output recipe.OutputConfig
	counts map[string]int
}

func (f *assignShardFn) ProcessElement(r release.Row, sizes func(*string, *release.TableSize) bool) (string, release.Row, error) {
	if f.counts == nil {
		f.counts = map[string]int{}
		var table string
		var size release.TableSize
		for sizes(&table, &size) {
			t, err := release.LookupTable(table)
			if err != nil {
				return "", r, err
			}
			f.counts[table] = release.ShardCount(t, size, f.Output)
		}
	}
	n := f.counts[r.Table]
	if n == 0 {
		return "", r, fmt.Errorf("transforms: table %q has rows but no size", r.Table)
	}
	return release.ShardName(r.Table, release.ShardOf(r.Key, n), n), r, nil
}

// writeShardFn writes one shard: its rows sorted by key (so the same input
// gives byte-identical files), encoded, hashed and stored atomically.
type writeShardFn struct {
	Root   string // the version root: <output>/<name>/<version>
	Output recipe.OutputConfig
	store  storage.Store
}

func (f *writeShardFn) Setup() error {
	var err error
	f.store, err = storage.Open(f.Root, &storage.Options{S3Endpoint: f.Output.S3Endpoint})
	return err
}

func (f *writeShardFn) ProcessElement(ctx context.Context, shard string, rows func(*release.Row) bool) (release.ShardResult, error) {
	table, i, n, err := release.ParseShardName(shard)
	if err != nil {
		return release.ShardResult{}, err
	}
	var all []release.Row
	var r release.Row
	for rows(&r) {
		all = append(all, release.Row{Table: r.Table, Key: r.Key, JSON: r.JSON})
	}
	sort.Slice(all, func(a, b int) bool { return all[a].Key < all[b].Key })
	data := make([][]byte, len(all))
	for k := range all {
		data[k] = all[k].JSON
	}
	return release.WriteTableFile(ctx, f.store, f.Output, table, i, n, data)
}

// finalizeFn runs once, after every shard is written: it writes empty
// shards for tables with no rows (so every table is readable), checks that
// the counts reconcile, and writes manifest.json, the dataset card and, last,
// <name>/LATEST. A run whose counts do not reconcile fails and publishes
// nothing.
type finalizeFn struct {
	// Info is the release.Info as JSON (the recipe holds free-form fields
	// that Beam's schema coder for DoFns cannot).
	Info string
}

func (f *finalizeFn) ProcessElement(ctx context.Context, _ []byte, tallies func(*string, *int64) bool, sizes func(*string, *release.TableSize) bool, shards func(*release.ShardResult) bool) error {
	var info release.Info
	if err := json.Unmarshal([]byte(f.Info), &info); err != nil {
		return fmt.Errorf("release: %w", err)
	}
	o := info.Recipe.Output
	store, err := storage.Open(info.Root, &storage.Options{S3Endpoint: o.S3Endpoint})
	if err != nil {
		return err
	}
	t := map[string]int64{}
	var k string
	var v int64
	for tallies(&k, &v) {
		t[k] += v
	}
	tableSizes := map[string]release.TableSize{}
	var ts release.TableSize
	for sizes(&k, &ts) {
		tableSizes[k] = ts
	}
	written := map[string]schemas.File{}
	var sr release.ShardResult
	for shards(&sr) {
		written[sr.File.Path] = sr.File
	}
	files, err := release.CompleteTables(ctx, store, o, info.Tables, tableSizes, written)
	if err != nil {
		return fmt.Errorf("release %s: %w; nothing was published", info.Root, err)
	}
	if got, counted := tableSizes[release.TableDeadLetter].Rows, t[release.FateDeadLetter]; got != counted {
		return fmt.Errorf("release %s: %d dead letters written but %d counted; nothing was published", info.Root, got, counted)
	}
	if info.Kind == release.KindDecontam {
		return release.PublishDecontam(ctx, store, info, t, tableSizes, files)
	}
	return release.PublishSFTGen(ctx, store, info, t, tableSizes, files)
}
