package release

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/input"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// Tally keys. Every stage counts what it did into one stream of
// (key, count) pairs that the manifest sums; "fate:" keys count where each
// input record ended and must add up to "prompts_in".
const (
	TallyPromptsIn   = "prompts_in"
	FatePrefix       = "fate:"
	FateKept         = FatePrefix + "kept"
	FateRejected     = FatePrefix + "rejected"
	FateContaminated = FatePrefix + "contaminated"
	FateDuplicate    = FatePrefix + "duplicate"
	FateDeadLetter   = FatePrefix + "dead_letter"
)

// Kinds of release.
const (
	KindSFTGen   = "sftgen"
	KindDecontam = "decontam"
)

// Info is what the finalize step knows about the run beyond its data.
type Info struct {
	// Kind says which pipeline's manifest to write: KindSFTGen or KindDecontam.
	Kind string
	// Root is where the files go: <output>/<name>/<version> for sftgen, the
	// output directory itself for decontam.
	Root string
	// Tables are the tables written, each at least as one (empty) file.
	Tables       []string
	Recipe       recipe.Recipe
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
	// Coverage counts kept prompts per skill and difficulty bucket.
	Coverage map[string]map[string]int64 `json:"coverage,omitempty"`
	// Cost is the estimated teacher cost in the price table's currency,
	// when the recipe has prices.
	Cost map[string]float64 `json:"cost,omitempty"`
	// CacheHits counts prompts whose samples all came from the cache.
	CacheHits int64 `json:"cache_hits"`
	// HTTPRequests counts requests sent to the teacher (retries
	// included); Retries counts retries by cause (rate_limited,
	// server_error, transport); RateLimited counts 429 answers. They sum
	// the teacher's token_usage over its models.
	HTTPRequests int64            `json:"http_requests"`
	Retries      map[string]int64 `json:"retries"`
	RateLimited  int64            `json:"rate_limited"`
	// Cache counts samples looked up in the response cache.
	Cache CacheCounts `json:"cache"`
	// NearDuplicates is what near-duplicate detection found (absent when
	// dedup.near is off).
	NearDuplicates *NearDupSummary `json:"near_duplicates,omitempty"`
	// Curation is what the stage after verification did (curation.go).
	Curation
}

// CacheCounts counts samples looked up in the response cache: found,
// missing, and lookups or writes that failed (each costs a rerun a call).
type CacheCounts struct {
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
	Errors int64 `json:"errors"`
}

// PublishSFTGen checks that the fates reconcile, then writes the dataset
// card, manifest.json and, last, <name>/LATEST.
func PublishSFTGen(ctx context.Context, store storage.Store, info Info, t map[string]int64, sizes map[string]TableSize, files []schemas.File) error {
	m := BuildManifest(info, t)
	m.Files = files
	m.Counts.SFTRows = sizes[TableSFT].Rows
	m.Counts.PreferenceRows = sizes[TablePreference].Rows
	m.Counts.RLVRRows = sizes[TableRLVR].Rows
	m.Counts.RefusalRows = sizes[TableRefusal].Rows
	if err := m.Counts.Reconcile(); err != nil {
		return fmt.Errorf("release %s: %w; nothing was published", info.Root, err)
	}
	if err := CheckWorthPublishing(t, info.Recipe.Output.MaxDeadLetterFraction); err != nil {
		return fmt.Errorf("the run stops: %w; nothing was published", err)
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	nameStore, err := storage.Open(info.Recipe.NameRoot(), &storage.Options{S3Endpoint: info.Recipe.Output.S3Endpoint})
	if err != nil {
		return err
	}
	if err := Check(ctx, nameStore, info.Lease); err != nil {
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
	if err := Check(ctx, nameStore, info.Lease); err != nil {
		return fmt.Errorf("release %s: %w; LATEST was not changed", info.Root, err)
	}
	return nameStore.Put(ctx, "LATEST", []byte(info.Version+"\n"))
}

// manifest builds the manifest from the run's tallies; files come later.
func BuildManifest(info Info, t map[string]int64) *Manifest {
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
				PromptsIn:           t[TallyPromptsIn],
				PromptsKept:         t[FateKept],
				PromptsRejected:     t[FateRejected],
				PromptsContaminated: t[FateContaminated],
				PromptsDuplicate:    t[FateDuplicate],
				PromptsDeadLetter:   t[FateDeadLetter],
				SamplesGenerated:    t["samples"],
			},
		},
		Graded:     map[string]int64{},
		Difficulty: map[string]int64{},
		Skills:     map[string]int64{},
		CacheHits:  t["cache:hits"],
		Retries:    map[string]int64{},
	}
	m.NearDuplicates = nearSummary(r, t)
	models := map[string]bool{}
	for k, v := range t {
		if addCoverage(m, k, v) {
			continue
		}
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
		case "cache_samples":
			switch rest {
			case "hits":
				m.Cache.Hits += v
			case "misses":
				m.Cache.Misses += v
			case "errors":
				m.Cache.Errors += v
			}
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
			case "reasoning":
				u.ReasoningTokens += v
			case "estimated_prompt":
				u.EstimatedPromptTokens += v
			case "estimated_completion":
				u.EstimatedCompletionTokens += v
			case "rate_limited":
				u.RateLimited += v
			case "single_sample":
				u.SingleSampleRequests = v > 0
			default:
				if cause, ok := strings.CutPrefix(what, "retry_"); ok {
					if u.Retries == nil {
						u.Retries = map[string]int64{}
					}
					u.Retries[cause] += v
				}
			}
			u.Estimated = u.EstimatedPromptTokens > 0 || u.EstimatedCompletionTokens > 0
			m.TokenUsage[model] = u
		}
	}
	for model := range models {
		m.TeacherModels = append(m.TeacherModels, model)
		u := m.TokenUsage[model]
		m.HTTPRequests += u.Requests
		m.RateLimited += u.RateLimited
		for cause, v := range u.Retries {
			m.Retries[cause] += v
		}
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
	m.Curation = buildCuration(info, t, m.TeacherModels)
	return m
}

// DecontamManifest is manifest.json of a decontam run.
type DecontamManifest struct {
	SchemaVersion string                `json:"schema_version"`
	CreatedAt     string                `json:"created_at"`
	CodeRevision  string                `json:"code_revision"`
	Input         string                `json:"input"`
	Mapping       input.Mapping         `json:"mapping"`
	Decontam      recipe.DecontamConfig `json:"decontam"`
	Counts        DecontamCounts        `json:"counts"`
	Benchmarks    []BenchmarkSummary    `json:"benchmarks"`
	Files         []schemas.File        `json:"files"`
}

// DecontamCounts says where every input record went.
type DecontamCounts struct {
	RecordsIn  int64 `json:"records_in"`
	Clean      int64 `json:"clean"`
	Flagged    int64 `json:"flagged"`
	DeadLetter int64 `json:"dead_letter"`
}

// PublishDecontam checks that every record is clean, flagged or a dead
// letter, then writes manifest.json (last, so its presence means complete).
func PublishDecontam(ctx context.Context, store storage.Store, info Info, t map[string]int64, sizes map[string]TableSize, files []schemas.File) error {
	r := info.Recipe
	m := DecontamManifest{
		SchemaVersion: schemas.Version,
		CreatedAt:     time.Now().UTC().Format(time.RFC3339),
		CodeRevision:  info.CodeRevision,
		Input:         r.Input.Path,
		Mapping:       r.Input.Mapping,
		Decontam:      r.Decontam,
		Counts:        DecontamCounts{RecordsIn: t[TallyPromptsIn], Clean: t["fate:clean"], Flagged: t["fate:flagged"], DeadLetter: t[FateDeadLetter]},
		Files:         files,
	}
	for _, b := range info.Benchmarks {
		b.Flagged = t["benchmark:"+b.Name]
		m.Benchmarks = append(m.Benchmarks, b)
	}
	c := m.Counts
	if c.Clean+c.Flagged+c.DeadLetter != c.RecordsIn || sizes[TableClean].Rows != c.Clean || sizes[TableFlagged].Rows != c.Flagged {
		return fmt.Errorf("decontam %s: counts do not reconcile: %d read but %d clean + %d flagged + %d dead letters (files: %d clean, %d flagged); nothing was published",
			info.Root, c.RecordsIn, c.Clean, c.Flagged, c.DeadLetter, sizes[TableClean].Rows, sizes[TableFlagged].Rows)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return store.Put(ctx, "manifest.json", append(data, '\n'))
}
