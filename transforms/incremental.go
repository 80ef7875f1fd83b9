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
)

func init() {
	register.DoFn3x1[context.Context, string, func(string, string), error](&releasedIDsFn{})
	register.Function1x2[schemas.Prompt, string, schemas.Prompt](keyByID)
	register.Function6x1[string, func(*schemas.Prompt) bool, func(*string) bool, func(schemas.Prompt), func(Row), func(string, int64), error](skipReleasedFn)
	register.Emitter2[string, string]()
	register.Iter1[string]()
}

// ReasonInEarlierRelease rejects a prompt an earlier release already holds.
const ReasonInEarlierRelease = "in_earlier_release"

// earlierReleaseFiles lists, under <output>/<name>/, the files of every
// complete earlier release (one with a manifest) that name prompts: the
// Parquet tables and the contamination report. Paths are relative to
// <output>/<name>.
func earlierReleaseFiles(ctx context.Context, r Recipe) ([]string, error) {
	store, err := storage.Open(nameRoot(r), &storage.Options{S3Endpoint: r.Output.S3Endpoint})
	if err != nil {
		return nil, err
	}
	paths, err := store.List(ctx, "")
	if err != nil {
		return nil, err
	}
	var files []string
	for _, p := range paths {
		version, name, ok := strings.Cut(p, "/")
		if !ok || name != "manifest.json" || version == r.Output.Version {
			continue
		}
		data, err := store.Get(ctx, p)
		if err != nil {
			return nil, err
		}
		var m schemas.Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("earlier release %s: %w", p, err)
		}
		for _, f := range m.Files {
			if strings.HasSuffix(f.Path, ".parquet") || f.Path == TableContamination+".jsonl" {
				files = append(files, version+"/"+f.Path)
			}
		}
	}
	return files, nil
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
func skipReleasedFn(id string, prompts func(*schemas.Prompt) bool, versions func(*string) bool, emitPrompt func(schemas.Prompt), emitRow func(Row), emitTally func(string, int64)) error {
	var version string
	versions(&version)
	var p schemas.Prompt
	out := emitters{row: emitRow, tally: emitTally}
	for prompts(&p) {
		if version == "" {
			emitPrompt(p)
			continue
		}
		emitTally(fateDuplicate, 1)
		emitTally("reason:"+ReasonInEarlierRelease, 1)
		rej := schemas.Rejection{PromptID: id, Stage: "incremental", Reason: ReasonInEarlierRelease,
			Detail: "already in release " + version, Source: p.Source, Line: int64(p.Line)}
		if err := out.emit(TableRejected, sampleKey(id, 0), rej); err != nil {
			return err
		}
	}
	return nil
}

// skipReleased drops prompts that earlier releases of the same dataset hold,
// so a scheduled refresh pays only for new prompts. It returns prompts
// unchanged when there is no earlier release.
func skipReleased(s beam.Scope, r Recipe, prompts beam.PCollection) (kept, rows, tallies beam.PCollection, err error) {
	files, err := earlierReleaseFiles(context.Background(), r)
	if err != nil || len(files) == 0 {
		return prompts, beam.PCollection{}, beam.PCollection{}, err
	}
	s = s.Scope("incremental")
	ids := beam.ParDo(s, &releasedIDsFn{Root: nameRoot(r), S3Endpoint: r.Output.S3Endpoint}, beam.Reshuffle(s, beam.CreateList(s, files)))
	grouped := beam.CoGroupByKey(s, beam.ParDo(s, keyByID, prompts), ids)
	kept, rows, tallies = beam.ParDo3(s, skipReleasedFn, grouped)
	return kept, rows, tallies, nil
}
