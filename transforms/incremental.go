package transforms

import (
	"context"
	"encoding/json"
	"fmt"
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
	register.DoFn3x1[context.Context, string, func(string, string), error](&releasedIDsFn{})
	register.Function1x2[schemas.Prompt, string, schemas.Prompt](keyByID)
	register.Function6x1[string, func(*schemas.Prompt) bool, func(*string) bool, func(schemas.Prompt), func(release.Row), func(string, int64), error](skipReleasedFn)
	register.Emitter2[string, string]()
	register.Iter1[string]()
}

// releasedIDsFn reads the prompt ids of one file of an earlier release and
// emits (id, version). Every table of a release leads with prompt_id; the
// contamination report calls it id.
type releasedIDsFn struct {
	Root       string // <output>/<name>
	S3Endpoint string
	store      storage.Store
}

func (f *releasedIDsFn) Setup() error {
	var err error
	f.store, err = storage.Open(f.Root, &storage.Options{S3Endpoint: f.S3Endpoint})
	return err
}

func (f *releasedIDsFn) ProcessElement(ctx context.Context, file string, emit func(string, string)) error {
	version, _, _ := strings.Cut(file, "/")
	r, _, err := f.store.Open(ctx, file)
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
			emit(c.ID, version)
		}
	}
	type idOnly struct {
		PromptID string `parquet:"prompt_id"`
	}
	rows := parquet.NewGenericReader[idOnly](r, parquet.NewSchema("ids", parquet.SchemaOf(idOnly{})))
	defer rows.Close()
	buf := make([]idOnly, 1024)
	for {
		n, err := rows.Read(buf)
		for _, row := range buf[:n] {
			emit(row.PromptID, version)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("earlier release %s: %w", file, err)
		}
	}
}

func keyByID(p schemas.Prompt) (string, schemas.Prompt) { return p.ID, p }

// skipReleasedFn passes on prompts no earlier release holds and counts the
// rest as duplicates of their earlier release.
func skipReleasedFn(id string, prompts func(*schemas.Prompt) bool, versions func(*string) bool, emitPrompt func(schemas.Prompt), emitRow func(release.Row), emitTally func(string, int64)) error {
	var version string
	versions(&version)
	var p schemas.Prompt
	out := emitters{row: emitRow, tally: emitTally}
	for prompts(&p) {
		if version == "" {
			emitPrompt(p)
			continue
		}
		emitTally(release.FateDuplicate, 1)
		emitTally("reason:"+release.ReasonInEarlierRelease, 1)
		rej := schemas.Rejection{PromptID: id, Stage: "incremental", Reason: release.ReasonInEarlierRelease,
			Detail: "already in release " + version, Source: p.Source, Line: int64(p.Line)}
		if err := out.emit(release.TableRejected, release.SampleKey(id, 0), rej); err != nil {
			return err
		}
	}
	return nil
}

// skipReleased drops prompts that earlier releases of the same dataset hold,
// so a scheduled refresh pays only for new prompts. It returns prompts
// unchanged when there is no earlier release.
func skipReleased(s beam.Scope, r recipe.Recipe, prompts beam.PCollection) (kept, rows, tallies beam.PCollection, err error) {
	files, err := release.EarlierReleaseFiles(context.Background(), r)
	if err != nil || len(files) == 0 {
		return prompts, beam.PCollection{}, beam.PCollection{}, err
	}
	s = s.Scope("incremental")
	ids := beam.ParDo(s, &releasedIDsFn{Root: r.NameRoot(), S3Endpoint: r.Output.S3Endpoint}, beam.Reshuffle(s, beam.CreateList(s, files)))
	grouped := beam.CoGroupByKey(s, beam.ParDo(s, keyByID, prompts), ids)
	kept, rows, tallies = beam.ParDo3(s, skipReleasedFn, grouped)
	return kept, rows, tallies, nil
}
