package transforms

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/top"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

func init() {
	register.DoFn5x1[context.Context, int, func(*spillRef) bool, func(nearPair), func(string, int64), error](&nearPairsFn{})
	register.DoFn6x1[context.Context, nearPair, func(int, spillRef), func(release.Row), func(string, int64), func(string), error](&nearReportFn{})
	register.DoFn4x1[context.Context, int, func(*spillRef) bool, func(string, int64), error](&nearPromptsFn{})
	register.DoFn7x1[context.Context, int, func(*spillRef) bool, func(*spillRef) bool, func(schemas.Prompt), func(release.Row), func(string, int64), error](&nearRemoveFn{})
	register.DoFn4x1[context.Context, int, func(*spillRef) bool, func(schemas.Prompt), error](&readHandedOverFn{})
	register.Function2x1[string, string, bool](lessString)
	register.Function2x0[[]string, func(string, int64)](nearExampleTallies)

	register.Emitter1[nearPair]()
}

// Tally keys of near-duplicate detection (read by release.BuildManifest).
const (
	tallyNearPairs    = release.NearPrefix + "pairs"
	tallyNearSame     = release.NearPrefix + "same_problem_pairs"
	tallyNearPrompts  = release.NearPrefix + "prompts"
	tallyNearRemoved  = release.NearPrefix + "removed"
	tallyNearOverflow = release.NearPrefix + "bucket_overflow"
	nearExamples      = 5
)

// nearRef names a prompt in a near pair: its exact-dedup key (unique once
// exact duplicates are gone), id and where it was read.
type nearRef struct {
	Key    string
	ID     string
	Source string
	Line   int
}

// before orders prompts as exact dedup does (source, line, id): of a near
// pair, the earlier one is kept.
func (a nearRef) before(b nearRef) bool {
	return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Line, b.Line), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Key, b.Key)) < 0
}

// nearMember is what a prompt puts into each of its LSH buckets: about
// 0.5 KB (100 MinHash values), once per band.
type nearMember struct {
	Ref       nearRef
	Sig       []uint32
	Math      uint64
	Sentences uint64
}

// nearPair is a verified near-duplicate pair, A before B.
type nearPair struct {
	A, B        nearRef
	Similarity  float64
	SameProblem bool
}

// nearDupGraph adds near-duplicate detection (recipe dedup.near) after
// exact dedup and returns the prompts that go on to the teacher, with the
// rows and tallies it adds.
//
// Each prompt is signed once and put into those of its LSH buckets (one
// per band) that another prompt shares (nearBuckets); a bucket compares its members pairwise and verifies them
// by signature agreement; a pair sharing several bands is kept only in the
// first. In report mode the prompts pass through at once: detection runs
// beside generation and only adds report lines and counts. In remove
// mode every prompt waits for the pairs (one CoGroupByKey on the dedup
// key), and one that has an earlier near neighbour stating the same
// problem is rejected (reason near_duplicate) naming the earliest such
// neighbour: no teacher tokens are spent on it.
//
// Beside generation means in another stage: fused with exact dedup and
// the signing, generation would run in the stage whose end the buckets'
// GroupByKey waits for, and detection would start only once the last
// sample was curated. So in report mode the prompts go on through a spill
// (handOver), which ends the dedup stage as soon as the prompts are
// signed; the runner then runs detection and generation at once.
func nearDupGraph(s beam.Scope, r recipe.Recipe, prompts beam.PCollection) (beam.PCollection, []beam.PCollection, []beam.PCollection) {
	cfg := r.Dedup
	if cfg.Near == recipe.NearOff {
		return prompts, nil, nil
	}
	s = s.Scope("near_dedup")
	buckets := nearBuckets(s, cfg.NearThreshold, r.VersionRoot(), r.Output.S3Endpoint, prompts)
	pairs, pairTally := beam.ParDo2(s, &nearPairsFn{Threshold: cfg.NearThreshold, Root: r.VersionRoot(), S3Endpoint: r.Output.S3Endpoint}, buckets)
	remove := cfg.Near == recipe.NearRemove
	root, s3 := r.VersionRoot(), r.Output.S3Endpoint
	losers, reportRows, reportTally, bundleExamples := beam.ParDo4(s, &nearReportFn{Remove: remove, spillStore: spillStore{Root: root, S3Endpoint: s3}}, pairs)

	// Prompts with at least one near neighbour: one count per distinct
	// key. The references are spilled by the prompt's key (two per pair,
	// and pairs can grow much faster than the prompts): a runner holds a
	// few spill references per bundle, never one element per pair.
	promptTally := beam.ParDo(s, &nearPromptsFn{spillStore: spillStore{Root: root, S3Endpoint: s3}}, beam.GroupByKey(s, losers))

	examples := top.Smallest(s, bundleExamples, nearExamples, lessString)
	exampleTally := beam.ParDo(s, nearExampleTallies, examples)

	rows := []beam.PCollection{reportRows}
	tallies := []beam.PCollection{pairTally, reportTally, promptTally, exampleTally}
	if !remove {
		return handOver(s, "unique", root, s3, prompts), rows, tallies
	}
	// The prompts wait in a spill (spill.go), by partition of their key,
	// and the pairs' spilled references join them by partition: no runner
	// holds the prompts or the references.
	waiting := beam.ParDo(s, &spillPromptsFn{spillStore: spillStore{Root: root, S3Endpoint: s3}, Name: "near-remove"}, prompts)
	kept, rejRows, rejTally := beam.ParDo3(s, &nearRemoveFn{spillStore: spillStore{Root: root, S3Endpoint: s3}}, beam.CoGroupByKey(s, waiting, losers))
	return kept, append(rows, rejRows), append(tallies, rejTally)
}

// handOver passes prompts on to a new stage through a spill (folder
// name): only references cross the GroupByKey that ends the stage, so the
// runner holds no prompt, and the stage that reads them back starts when
// the prompts' stage ends rather than with everything fused after it.
func handOver(s beam.Scope, name, root, s3Endpoint string, prompts beam.PCollection) beam.PCollection {
	refs := beam.ParDo(s, &spillPromptsFn{spillStore: spillStore{Root: root, S3Endpoint: s3Endpoint}, Name: name}, prompts)
	return beam.ParDo(s, &readHandedOverFn{spillStore: spillStore{Root: root, S3Endpoint: s3Endpoint}}, beam.GroupByKey(s, refs))
}

// readHandedOverFn reads one partition of a handOver's spill back into
// prompts.
type readHandedOverFn struct {
	spillStore
}

func (f *readHandedOverFn) ProcessElement(ctx context.Context, _ int, refs func(*spillRef) bool, emit func(schemas.Prompt)) error {
	return readSpilledPrompts(ctx, f.store, refs, func(p schemas.Prompt) error {
		emit(p)
		return nil
	})
}

// nearMaxBucket bounds the members of one LSH bucket that are compared.
const nearMaxBucket = 2000

// nearPairsFn compares the members of each LSH bucket pairwise. Its
// input is a partition of the buckets' spill (nearBuckets): it reads the
// partition's members, groups them by bucket and compares each bucket
// (compareBucket). A bucket of n prompts costs n²/2 signature
// comparisons; buckets are small unless many prompts share a band of
// values (thousands of prompts around one long boilerplate). To keep
// memory and time bounded, a bucket keeps only its MaxBucket earliest
// members (by source, line, id: the same in every run) and counts the rest
// as near:bucket_overflow; those are still compared in their other
// buckets.
type nearPairsFn struct {
	Threshold float64
	// MaxBucket is the most members of a bucket compared (0: nearMaxBucket).
	MaxBucket  int
	Root       string
	S3Endpoint string
	nd         *filters.NearDup
	store      storage.Store
}

func (f *nearPairsFn) Setup() error {
	nd, err := filters.NewNearDup(&filters.NearDupOptions{Threshold: f.Threshold})
	if err != nil {
		return err
	}
	f.nd = nd
	if f.Root != "" {
		f.store, err = openSpill(f.Root, f.S3Endpoint)
	}
	return err
}

func (f *nearPairsFn) ProcessElement(ctx context.Context, _ int, refs func(*spillRef) bool, emit func(nearPair), emitTally func(string, int64)) error {
	buckets := map[string][]nearMember{}
	err := readSpill(ctx, f.store, refs, func(rec []byte) error {
		if len(rec) < nearBucketLen {
			return fmt.Errorf("near_dedup: a bucket record of %d bytes", len(rec))
		}
		m, err := decodeMember(rec[nearBucketLen:])
		if err != nil {
			return err
		}
		b := string(rec[:nearBucketLen])
		buckets[b] = append(buckets[b], m)
		return nil
	})
	if err != nil {
		return err
	}
	names := make([]string, 0, len(buckets))
	for b := range buckets {
		names = append(names, b)
	}
	slices.Sort(names)
	for _, b := range names {
		f.compareBucket(int(b[0])<<8|int(b[1]), buckets[b], emit, emitTally)
		delete(buckets, b)
	}
	return nil
}

// compareBucket compares the members of one bucket of band band pairwise
// and emits the near pairs whose first shared band is this one.
func (f *nearPairsFn) compareBucket(band int, all []nearMember, emit func(nearPair), emitTally func(string, int64)) {
	slices.SortFunc(all, func(a, b nearMember) int {
		if a.Ref.before(b.Ref) {
			return -1
		}
		if b.Ref.before(a.Ref) {
			return 1
		}
		return 0
	})
	if limit := cmp.Or(f.MaxBucket, nearMaxBucket); len(all) > limit {
		emitTally(tallyNearOverflow, int64(len(all)-limit)) // the latest go: the earliest limit members stay
		all = all[:limit]
	}
	for i, a := range all {
		for _, b := range all[i+1:] {
			if f.nd.FirstSharedBand(a.Sig, b.Sig) != band {
				continue // counted in an earlier band
			}
			sim, near := f.nd.Near(a.Sig, b.Sig)
			if !near {
				continue
			}
			same := filters.ProblemKey{Math: a.Math, Sentences: a.Sentences}.Same(filters.ProblemKey{Math: b.Math, Sentences: b.Sentences})
			p := nearPair{A: a.Ref, B: b.Ref, Similarity: sim, SameProblem: same}
			if b.Ref.before(a.Ref) {
				p.A, p.B = b.Ref, a.Ref
			}
			emit(p)
			emitTally(tallyNearPairs, 1)
			if same {
				emitTally(tallyNearSame, 1)
			}
		}
	}
}

// nearReportFn writes a pair to near_duplicates.jsonl and names both
// members for the per-prompt steps: (B's key, A) when B is to be removed
// (remove mode and the same problem), and otherwise an empty reference,
// which only counts the prompt as one with a near neighbour. The
// references (nearLoser records) go into a spill by partition of the
// prompt's key (dedupPart, as the prompts' own spill in remove mode), and
// only the spill's references are emitted, at the end of the bundle, with
// the bundle's candidates for the manifest's examples (nearExampleSet).
type nearReportFn struct {
	Remove bool
	spillStore
	spill    *spiller
	examples *nearExampleSet
}

func (f *nearReportFn) StartBundle(_ context.Context, _ func(int, spillRef), _ func(release.Row), _ func(string, int64), _ func(string)) {
	f.spill = renewSpiller(f.spill, f.store, "near-refs")
	f.examples = &nearExampleSet{}
}

func (f *nearReportFn) ProcessElement(_ context.Context, p nearPair, _ func(int, spillRef), emitRow func(release.Row), emitTally func(string, int64), _ func(string)) error {
	if err := f.examples.add(p); err != nil {
		return err
	}
	removed := f.Remove && p.SameProblem
	rec := schemas.NearDuplicate{PromptID: p.B.ID, Source: p.B.Source, Line: p.B.Line, NearPromptID: p.A.ID, NearSource: p.A.Source, NearLine: p.A.Line,
		Similarity: p.Similarity, SameProblem: p.SameProblem, Removed: removed}
	out := emitters{row: emitRow, tally: emitTally}
	if err := out.emit(release.TableNearDuplicates, release.SourceKey(p.B.Source, p.B.Line)+"\x00"+p.B.ID+"\x00"+p.A.Key, rec); err != nil {
		return err
	}
	b := nearLoser{Key: p.B.Key}
	if removed {
		b.Ref = p.A
	}
	if err := f.addLoser(b); err != nil {
		return err
	}
	return f.addLoser(nearLoser{Key: p.A.Key})
}

func (f *nearReportFn) addLoser(l nearLoser) error {
	rec, err := l.encode()
	if err != nil {
		return fmt.Errorf("near_dedup: %w", err)
	}
	return f.spill.add(dedupPart(l.Key), rec)
}

func (f *nearReportFn) FinishBundle(ctx context.Context, emit func(int, spillRef), _ func(release.Row), _ func(string, int64), emitExample func(string)) error {
	for _, e := range f.examples.keys {
		emitExample(e)
	}
	f.examples = nil
	err := f.spill.flush(ctx, emit)
	f.spill = nil
	return err
}

// nearLoser is a reference of nearReportFn: the key of the prompt it is
// about and, if that prompt is to be removed, its earlier neighbour
// (otherwise empty).
type nearLoser struct {
	Key string
	Ref nearRef
}

// encode writes l as its key (hex, so it holds no newline) and, only when
// it names a neighbour, a newline and the neighbour as JSON: the report
// mode's references, two per pair, are then their keys alone.
func (l nearLoser) encode() ([]byte, error) {
	if l.Ref == (nearRef{}) {
		return []byte(l.Key), nil
	}
	ref, err := json.Marshal(l.Ref)
	if err != nil {
		return nil, err
	}
	return append(append([]byte(l.Key), '\n'), ref...), nil
}

func decodeLoser(rec []byte) (nearLoser, error) {
	key, ref, found := bytes.Cut(rec, []byte{'\n'})
	l := nearLoser{Key: string(key)}
	if found {
		if err := json.Unmarshal(ref, &l.Ref); err != nil {
			return nearLoser{}, err
		}
	}
	return l, nil
}

// readLosers calls fn with each reference of the partitions refs names.
func readLosers(ctx context.Context, store storage.Store, refs func(*spillRef) bool, fn func(nearLoser)) error {
	return readSpill(ctx, store, refs, func(rec []byte) error {
		l, err := decodeLoser(rec)
		if err != nil {
			return fmt.Errorf("near_dedup: %w", err)
		}
		fn(l)
		return nil
	})
}

// nearPromptsFn reads a partition of the references and counts the
// distinct prompts in it (near:prompts): the prompts with a near
// neighbour. A prompt's references are all in its key's partition.
type nearPromptsFn struct {
	spillStore
}

func (f *nearPromptsFn) ProcessElement(ctx context.Context, _ int, refs func(*spillRef) bool, emitTally func(string, int64)) error {
	seen := map[string]struct{}{}
	if err := readLosers(ctx, f.store, refs, func(l nearLoser) { seen[l.Key] = struct{}{} }); err != nil {
		return err
	}
	if len(seen) > 0 {
		emitTally(tallyNearPrompts, int64(len(seen)))
	}
	return nil
}

// nearRemoveFn reads a partition of the prompts' spill and passes each
// prompt on, or rejects it as a near duplicate of the earliest neighbour
// that states the same problem. losers names the partition's part of the
// references' spill (nearReportFn): one record per near pair of a prompt
// of the partition; records with an empty reference are pairs that do not
// remove it.
type nearRemoveFn struct {
	spillStore
}

func (f *nearRemoveFn) ProcessElement(ctx context.Context, _ int, prompts, losers func(*spillRef) bool, emitPrompt func(schemas.Prompt), emitRow func(release.Row), emitTally func(string, int64)) error {
	kept := map[string]nearRef{} // prompt key -> the earliest neighbour that removes it
	err := readLosers(ctx, f.store, losers, func(l nearLoser) {
		if k, ok := kept[l.Key]; l.Ref.Key != "" && (!ok || l.Ref.before(k)) {
			kept[l.Key] = l.Ref
		}
	})
	if err != nil {
		return err
	}
	out := emitters{row: emitRow, tally: emitTally}
	return readSpilledPrompts(ctx, f.store, prompts, func(p schemas.Prompt) error {
		k, ok := kept[dedupKey(p)]
		if !ok {
			emitPrompt(p)
			return nil
		}
		rej := schemas.Rejection{PromptID: p.ID, Stage: "dedup", Reason: filters.ReasonNearDuplicate,
			Detail: fmt.Sprintf("near duplicate of %s (%s:%d); see near_duplicates.jsonl", k.ID, k.Source, k.Line), Source: p.Source, Line: int64(p.Line)}
		emitTally(release.FateDuplicate, 1)
		emitTally("reason:"+filters.ReasonNearDuplicate, 1)
		emitTally(tallyNearRemoved, 1)
		return out.emit(release.TableRejected, release.SampleKey(p.ID, 0), rej)
	})
}

// nearExampleSet keeps the nearExamples pairs of a bundle that come first
// by a hash of the pair, as strings (the hash, then the example as JSON)
// for top.Smallest over all bundles: the few examples the manifest shows
// are a fair sample, the same in every run, and cost one hash a pair.
type nearExampleSet struct {
	hashes []string // sorted, at most nearExamples
	keys   []string // the same order: hash + JSON
}

func (e *nearExampleSet) add(p nearPair) error {
	sum := sha256.Sum256([]byte(p.A.Key + "\x00" + p.B.Key))
	h := hex.EncodeToString(sum[:4])
	i, _ := slices.BinarySearch(e.hashes, h)
	if i >= nearExamples {
		return nil
	}
	ex, err := json.Marshal(release.NearExample{PromptID: p.B.ID, NearPromptID: p.A.ID, Similarity: p.Similarity, SameProblem: p.SameProblem})
	if err != nil {
		return err
	}
	e.hashes, e.keys = slices.Insert(e.hashes, i, h), slices.Insert(e.keys, i, h+string(ex))
	if len(e.hashes) > nearExamples {
		e.hashes, e.keys = e.hashes[:nearExamples], e.keys[:nearExamples]
	}
	return nil
}

func lessString(a, b string) bool { return a < b }

// nearExampleTallies passes the chosen examples to the manifest as tally
// keys (the one channel from the workers to the finalize step).
func nearExampleTallies(examples []string, emit func(string, int64)) {
	slices.Sort(examples)
	for i, e := range examples {
		emit(fmt.Sprintf("%s%d:%s", release.NearExamplePrefix, i, e[8:]), 1)
	}
}
