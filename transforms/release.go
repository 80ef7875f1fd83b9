package transforms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// TableSize is the size of one table of a release, summed over its rows.
type TableSize struct {
	Rows  int64
	Bytes int64
}

func addTableSize(a, b TableSize) TableSize { return TableSize{a.Rows + b.Rows, a.Bytes + b.Bytes} }

func rowSize(r Row) (string, TableSize) {
	return r.Table, TableSize{Rows: 1, Bytes: int64(len(r.JSON))}
}

// shardCount is how many shards a table of size s is split into: as many as
// the tighter of the row and byte bounds needs, at least one. JSONL tables
// are always one file.
func shardCount(t TableInfo, s TableSize, o OutputConfig) int {
	if !t.Sharded {
		return 1
	}
	n := max(ceilDiv(s.Rows, o.ShardRows), ceilDiv(s.Bytes, o.ShardBytes), 1)
	return int(n)
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// shardOf places a row in one of n shards by a hash of its key, so the
// assignment does not depend on the runner or on bundle boundaries.
func shardOf(key string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64() % uint64(n))
}

func shardName(table string, i, n int) string { return fmt.Sprintf("%s/%d/%d", table, i, n) }

func parseShardName(s string) (table string, i, n int, err error) {
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

// assignShardFn keys each row by its shard, sizing every table from the
// table sizes side input.
type assignShardFn struct {
	Output OutputConfig
	counts map[string]int
}

func (f *assignShardFn) ProcessElement(r Row, sizes func(*string, *TableSize) bool) (string, Row, error) {
	if f.counts == nil {
		f.counts = map[string]int{}
		var table string
		var size TableSize
		for sizes(&table, &size) {
			t, err := tableInfo(table)
			if err != nil {
				return "", r, err
			}
			f.counts[table] = shardCount(t, size, f.Output)
		}
	}
	n := f.counts[r.Table]
	if n == 0 {
		return "", r, fmt.Errorf("transforms: table %q has rows but no size", r.Table)
	}
	return shardName(r.Table, shardOf(r.Key, n), n), r, nil
}

// ShardResult describes one file written.
type ShardResult struct {
	Table string
	File  schemas.File
}

// writeShardFn writes one shard: its rows sorted by key (so the same input
// gives byte-identical files), encoded, hashed and stored atomically.
type writeShardFn struct {
	Root   string // the version root: <output>/<name>/<version>
	Output OutputConfig
	store  storage.Store
}

func (f *writeShardFn) Setup() error {
	var err error
	f.store, err = storage.Open(f.Root, &storage.Options{S3Endpoint: f.Output.S3Endpoint})
	return err
}

func (f *writeShardFn) ProcessElement(ctx context.Context, shard string, rows func(*Row) bool) (ShardResult, error) {
	table, i, n, err := parseShardName(shard)
	if err != nil {
		return ShardResult{}, err
	}
	var all []Row
	var r Row
	for rows(&r) {
		all = append(all, Row{Table: r.Table, Key: r.Key, JSON: r.JSON})
	}
	sort.Slice(all, func(a, b int) bool { return all[a].Key < all[b].Key })
	data := make([][]byte, len(all))
	for k := range all {
		data[k] = all[k].JSON
	}
	return writeTableFile(ctx, f.store, f.Output, table, i, n, data)
}

// writeTableFile encodes rows into shard i of n of table, through a local
// temporary file (hashing as it goes), then stores it under its final name.
func writeTableFile(ctx context.Context, store storage.Store, o OutputConfig, table string, i, n int, rows [][]byte) (ShardResult, error) {
	t, err := tableInfo(table)
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

// Kinds of release.
const (
	KindSFTGen   = "sftgen"
	KindDecontam = "decontam"
)

// ReleaseInfo is what the finalize step knows about the run beyond its data.
type ReleaseInfo struct {
	// Kind says which pipeline's manifest to write: KindSFTGen or KindDecontam.
	Kind string
	// Root is where the files go: <output>/<name>/<version> for sftgen, the
	// output directory itself for decontam.
	Root string
	// Tables are the tables written, each at least as one (empty) file.
	Tables       []string
	Recipe       Recipe
	Version      string
	CodeRevision string
	// Benchmarks lists the benchmark sets decontaminated against.
	Benchmarks []BenchmarkSummary
	// Lease is the token of the run's dataset lease (Recipe.Lease): the
	// manifest and LATEST are written only while it is held, or, with no
	// token, only while no run holds the lease.
	Lease string `json:",omitempty"`
}

// BenchmarkSummary is one benchmark set in the manifest.
type BenchmarkSummary struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Items   int    `json:"items"`
	// Flagged counts records flagged against this set in this run.
	Flagged int64 `json:"flagged"`
}

// Manifest is manifest.json: schemas.Manifest plus the run's detail.
type Manifest struct {
	schemas.Manifest
	Benchmarks []BenchmarkSummary `json:"benchmarks"`
	// Graded counts samples by verdict.
	Graded map[string]int64 `json:"graded"`
	// Difficulty and Skills count kept prompts.
	Difficulty map[string]int64 `json:"difficulty"`
	Skills     map[string]int64 `json:"skills"`
	// Cost is the estimated teacher cost in the price table's currency,
	// when the recipe has prices.
	Cost map[string]float64 `json:"cost,omitempty"`
	// CacheHits counts prompts whose samples all came from the cache.
	CacheHits int64 `json:"cache_hits"`
}

// finalizeFn runs once, after every shard is written: it writes empty
// shards for tables with no rows (so every table is readable), checks that
// the counts reconcile, and writes manifest.json, the dataset card and, last,
// <name>/LATEST. A run whose counts do not reconcile fails and publishes
// nothing.
type finalizeFn struct {
	// Info is the ReleaseInfo as JSON (the recipe holds free-form fields
	// that Beam's schema coder for DoFns cannot).
	Info string
}

func (f *finalizeFn) ProcessElement(ctx context.Context, _ []byte, tallies func(*string, *int64) bool, sizes func(*string, *TableSize) bool, shards func(*ShardResult) bool) error {
	var info ReleaseInfo
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
	tableSizes := map[string]TableSize{}
	var ts TableSize
	for sizes(&k, &ts) {
		tableSizes[k] = ts
	}
	written := map[string]schemas.File{}
	var sr ShardResult
	for shards(&sr) {
		written[sr.File.Path] = sr.File
	}
	files, err := completeTables(ctx, store, o, info.Tables, tableSizes, written)
	if err != nil {
		return fmt.Errorf("release %s: %w; nothing was published", info.Root, err)
	}
	if got, counted := tableSizes[TableDeadLetter].Rows, t[fateDead]; got != counted {
		return fmt.Errorf("release %s: %d dead letters written but %d counted; nothing was published", info.Root, got, counted)
	}
	if info.Kind == KindDecontam {
		return publishDecontam(ctx, store, info, t, tableSizes, files)
	}
	return publishSFTGen(ctx, store, info, t, tableSizes, files)
}

// completeTables lists every file of tables, writing an empty file for each
// shard no row hashed to (and for tables with no rows), so every table is
// readable, and checks that the files hold every row produced.
func completeTables(ctx context.Context, store storage.Store, o OutputConfig, tables []string, sizes map[string]TableSize, written map[string]schemas.File) ([]schemas.File, error) {
	var files []schemas.File
	for _, name := range tables {
		table, err := tableInfo(name)
		if err != nil {
			return nil, err
		}
		n := shardCount(table, sizes[name], o)
		var rows int64
		for i := range n {
			file, ok := written[table.File(i, n)]
			if !ok {
				res, err := writeTableFile(ctx, store, o, name, i, n, nil)
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

// publishSFTGen checks that the fates reconcile, then writes the dataset
// card, manifest.json and, last, <name>/LATEST.
func publishSFTGen(ctx context.Context, store storage.Store, info ReleaseInfo, t map[string]int64, sizes map[string]TableSize, files []schemas.File) error {
	m := manifestOf(info, t)
	m.Files = files
	m.Counts.SFTRows = sizes[TableSFT].Rows
	m.Counts.PreferenceRows = sizes[TablePreference].Rows
	m.Counts.RLVRRows = sizes[TableRLVR].Rows
	if err := m.Counts.Reconcile(); err != nil {
		return fmt.Errorf("release %s: %w; nothing was published", info.Root, err)
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	nameStore, err := storage.Open(nameRoot(info.Recipe), &storage.Options{S3Endpoint: info.Recipe.Output.S3Endpoint})
	if err != nil {
		return err
	}
	if err := release.Check(ctx, nameStore, info.Lease); err != nil {
		return fmt.Errorf("release %s: %w; nothing was published", info.Root, err)
	}
	if err := store.Put(ctx, "README.md", []byte(DatasetCard(m, info.Recipe))); err != nil {
		return err
	}
	if err := store.Put(ctx, "manifest.json", append(manifest, '\n')); err != nil {
		return err
	}
	// LATEST goes last: a release is visible only when complete, and only
	// the lease holder replaces it.
	if err := release.Check(ctx, nameStore, info.Lease); err != nil {
		return fmt.Errorf("release %s: %w; LATEST was not changed", info.Root, err)
	}
	return nameStore.Put(ctx, "LATEST", []byte(info.Version+"\n"))
}

// manifest builds the manifest from the run's tallies; files come later.
func manifestOf(info ReleaseInfo, t map[string]int64) *Manifest {
	r := info.Recipe
	m := &Manifest{
		Manifest: schemas.Manifest{
			SchemaVersion: schemas.Version,
			Name:          r.Name,
			Version:       info.Version,
			CreatedAt:     time.Now().UTC().Format(time.RFC3339),
			CodeRevision:  info.CodeRevision,
			Recipe:        r, // no secrets: the API key is named by its environment variable only
			TokenUsage:    map[string]schemas.TokenUsage{},
			Rejections:    map[string]int64{},
			DeadLetters:   map[string]int64{},
			Counts: schemas.Counts{
				PromptsIn:           t[tallyPromptsIn],
				PromptsKept:         t[fateKept],
				PromptsRejected:     t[fateRejected],
				PromptsContaminated: t[fateContam],
				PromptsDuplicate:    t[fateDuplicate],
				PromptsDeadLetter:   t[fateDead],
				SamplesGenerated:    t["samples"],
			},
		},
		Graded:     map[string]int64{},
		Difficulty: map[string]int64{},
		Skills:     map[string]int64{},
		CacheHits:  t["cache:hits"],
	}
	models := map[string]bool{}
	for k, v := range t {
		switch prefix, rest, _ := strings.Cut(k, ":"); prefix {
		case "reason":
			m.Rejections[rest] += v
		case "dead":
			m.DeadLetters[rest] += v
		case "graded":
			m.Graded[rest] += v
		case "difficulty":
			m.Difficulty[rest] += v
		case "skill":
			m.Skills[rest] += v
		case "tokens":
			i := strings.LastIndex(rest, ":")
			model, what := rest[:i], rest[i+1:]
			models[model] = true
			u := m.TokenUsage[model]
			switch what {
			case "requests":
				u.Requests += v
			case "prompt":
				u.PromptTokens += v
			case "completion":
				u.CompletionTokens += v
			}
			m.TokenUsage[model] = u
		}
	}
	for model := range models {
		m.TeacherModels = append(m.TeacherModels, model)
	}
	if len(m.TeacherModels) == 0 && r.Teacher.Model != "" {
		m.TeacherModels = []string{r.Teacher.Model}
	}
	sort.Strings(m.TeacherModels)
	for model, u := range m.TokenUsage {
		if p, ok := r.Teacher.Prices[model]; ok {
			if m.Cost == nil {
				m.Cost = map[string]float64{}
			}
			m.Cost[model] = teacher.ModelUsage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}.Cost(p)
		}
	}
	for _, b := range info.Benchmarks {
		b.Flagged = t["benchmark:"+b.Name]
		m.Benchmarks = append(m.Benchmarks, b)
	}
	return m
}

// versionRoot is <output>/<name>/<version>; nameRoot is <output>/<name>.
func versionRoot(r Recipe) string { return joinURL(nameRoot(r), r.Output.Version) }
func nameRoot(r Recipe) string    { return joinURL(r.Output.Path, r.Name) }

func joinURL(base, elem string) string {
	if rest, ok := strings.CutPrefix(base, "s3://"); ok {
		return "s3://" + path.Join(rest, elem)
	}
	return path.Join(base, elem)
}
