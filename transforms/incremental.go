package transforms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"path"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/parquet-go/parquet-go"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

func init() {
	register.DoFn3x1[context.Context, string, func(int, spillRef), error](&releasedIDsFn{})
	register.DoFn7x1[context.Context, int, func(*spillRef) bool, func(*spillRef) bool, func(schemas.Prompt), func(release.Row), func(string, int64), error](&skipReleasedFn{})
}

// idPart is the spill partition of a prompt id: the prompts' spill and the
// released ids' spill of skipReleased both cut by it, so a prompt and its
// earlier release meet in one partition.
func idPart(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % spillParts)
}

// releasedIDsFn reads the prompt ids of files of earlier releases and
// writes them, with the version that holds them, into a spill by idPart
// (records "id\x00version"); it emits the spill's references at the end
// of the bundle. Every table of a release leads with prompt_id; the
// contamination report calls it id.
type releasedIDsFn struct {
	Root       string // <output>/<name>, where the earlier releases are
	Spill      string // the version root, where the spill goes
	S3Endpoint string
	store      storage.Store
	spillStore storage.Store
	spill      *spiller
}

func (f *releasedIDsFn) Setup() error {
	var err error
	if f.store, err = storage.Open(f.Root, &storage.Options{S3Endpoint: f.S3Endpoint}); err != nil {
		return err
	}
	f.spillStore, err = openSpill(f.Spill, f.S3Endpoint)
	return err
}

func (f *releasedIDsFn) StartBundle(_ context.Context, _ func(int, spillRef)) {
	f.spill = renewSpiller(f.spill, f.spillStore, "incremental-released")
}

func (f *releasedIDsFn) ProcessElement(ctx context.Context, file string, _ func(int, spillRef)) error {
	version, _, _ := strings.Cut(file, "/")
	var last string // rows of one prompt are mostly adjacent: spill each run of them once
	add := func(id string) error {
		if id == last {
			return nil
		}
		last = id
		return f.spill.add(idPart(id), []byte(id+"\x00"+version))
	}
	r, size, err := f.store.Open(ctx, file)
	if err != nil {
		return fmt.Errorf("earlier release: %w", err)
	}
	defer r.Close()
	if path.Ext(file) == ".jsonl" {
		dec := json.NewDecoder(r)
		for {
			var c schemas.Contamination
			if err := dec.Decode(&c); err == io.EOF {
				return nil
			} else if err != nil {
				return fmt.Errorf("earlier release %s: %w", file, err)
			}
			if err := add(c.ID); err != nil {
				return err
			}
		}
	}
	type idOnly struct {
		PromptID string `parquet:"prompt_id"`
	}
	// A section reader has the size parquet-go needs, which an S3 object
	// does not tell by itself.
	rows := parquet.NewGenericReader[idOnly](io.NewSectionReader(r, 0, size), parquet.NewSchema("ids", parquet.SchemaOf(idOnly{})))
	defer rows.Close()
	buf := make([]idOnly, 1024)
	for {
		n, err := rows.Read(buf)
		for _, row := range buf[:n] {
			if err := add(row.PromptID); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("earlier release %s: %w", file, err)
		}
	}
}

func (f *releasedIDsFn) FinishBundle(ctx context.Context, emit func(int, spillRef)) error {
	err := f.spill.flush(ctx, emit)
	f.spill = nil
	return err
}

// skipReleasedFn joins one partition of the prompts' spill with the same
// partition of the released ids' spill: it passes on prompts no earlier
// release holds and counts the rest as duplicates of their earlier release
// (the earliest version, when several hold one). It holds the partition's
// released ids, 1/spillParts of them, and streams the prompts.
type skipReleasedFn struct {
	spillStore
}

func (f *skipReleasedFn) ProcessElement(ctx context.Context, _ int, prompts, released func(*spillRef) bool, emitPrompt func(schemas.Prompt), emitRow func(release.Row), emitTally func(string, int64)) error {
	versions := map[string]string{} // prompt id -> the earliest release that holds it
	err := readSpill(ctx, f.store, released, func(rec []byte) error {
		id, version, ok := bytes.Cut(rec, []byte{0})
		if !ok {
			return fmt.Errorf("incremental: a released id record of %d bytes without a version", len(rec))
		}
		if v, seen := versions[string(id)]; !seen || string(version) < v {
			versions[string(id)] = string(version)
		}
		return nil
	})
	if err != nil {
		return err
	}
	out := emitters{row: emitRow, tally: emitTally}
	return readSpilledPrompts(ctx, f.store, prompts, func(p schemas.Prompt) error {
		version, ok := versions[p.ID]
		if !ok {
			emitPrompt(p)
			return nil
		}
		emitTally(release.FateDuplicate, 1)
		emitTally("reason:"+release.ReasonInEarlierRelease, 1)
		rej := schemas.Rejection{PromptID: p.ID, Stage: "incremental", Reason: release.ReasonInEarlierRelease,
			Detail: "already in release " + version, Source: p.Source, Line: int64(p.Line)}
		return out.emit(release.TableRejected, release.SampleKey(p.ID, 0), rej)
	})
}

// skipReleased drops prompts that earlier releases of the same dataset hold,
// so a scheduled refresh pays only for new prompts. It returns prompts
// unchanged when there is no earlier release.
//
// The join is a spill (spill.go), like exact dedup: the prompts are written
// by partition of their id where they are made, the released ids by the
// same partition where they are read, and the CoGroupByKey carries only
// references; each partition is joined on its own (skipReleasedFn). No
// runner holds the prompts or the ids, so an incremental run's memory does
// not grow with its input or with the earlier releases.
func skipReleased(s beam.Scope, r recipe.Recipe, prompts beam.PCollection) (kept, rows, tallies beam.PCollection, err error) {
	files, err := release.EarlierReleaseFiles(context.Background(), r)
	if err != nil || len(files) == 0 {
		return prompts, beam.PCollection{}, beam.PCollection{}, err
	}
	s = s.Scope("incremental")
	root, s3 := r.VersionRoot(), r.Output.S3Endpoint
	ids := beam.ParDo(s, &releasedIDsFn{Root: r.NameRoot(), Spill: root, S3Endpoint: s3}, beam.Reshuffle(s, beam.CreateList(s, files)))
	waiting := beam.ParDo(s, &spillPromptsFn{spillStore: spillStore{Root: root, S3Endpoint: s3}, Name: "incremental-prompts", ByID: true}, prompts)
	kept, rows, tallies = beam.ParDo3(s, &skipReleasedFn{spillStore: spillStore{Root: root, S3Endpoint: s3}}, beam.CoGroupByKey(s, waiting, ids))
	return kept, rows, tallies, nil
}
