package transforms

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/parquet-go/parquet-go"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

func init() {
	register.Function2x1[schemas.SFTExample, func(release.Row), error](sftRowsFn)
}

// sftRowsFn makes a record into rows as the stages do: an SFT row (which
// keeps its record unless its strings are not UTF-8) and a dead letter
// (JSON).
func sftRowsFn(ex schemas.SFTExample, emit func(release.Row)) error {
	row, err := release.NewRow(release.TableSFT, release.SampleKey(ex.PromptID, int(ex.SampleIndex)), ex)
	if err != nil {
		return err
	}
	emit(row)
	dl, err := release.NewRow(release.TableDeadLetter, release.SourceKey("in.jsonl", int(ex.SampleIndex)), schemas.DeadLetter{Source: "in.jsonl", Line: int(ex.SampleIndex), PromptID: ex.PromptID, Reason: "<test> & " + ex.PromptID})
	if err != nil {
		return err
	}
	emit(dl)
	return nil
}

// Rows that cross a stage boundary on a real runner (here a Reshuffle on
// Prism, which encodes every element) are written as the same rows as
// rows written in the stage that made them: Row's coder sends the record
// a row keeps as its JSON. Without that coder Beam's schema coder would
// drop the record and the write would fail.
func TestRowsCrossStages(t *testing.T) {
	var records []schemas.SFTExample
	for i := range 40 {
		reward := float64(i) / 7
		ex := schemas.SFTExample{PromptID: fmt.Sprintf("p%02d", i), SampleIndex: int32(i), PassRate: 0.625, Reward: &reward,
			Messages: []schemas.Message{{Role: "user", Content: `Compute $\frac{1}{2} < x$ & "y"` + "\u2028"}, {Role: "assistant", Content: `\boxed{3}`}},
			Skills:   []string{"algebra"}}
		if i%10 == 3 {
			ex.Messages[1].Content = "not UTF-8 \xff" // this row holds JSON from the start
		}
		records = append(records, ex)
	}
	o := recipe.OutputConfig{ShardRows: 7, ShardBytes: 1 << 20, RowGroupRows: 5}
	fused, crossed := t.TempDir(), t.TempDir()
	p, s := beam.NewPipelineWithRoot()
	rows := beam.ParDo(s, sftRowsFn, beam.CreateList(s, records))
	beam.ParDo(s.Scope("fused"), &writePartsFn{Root: fused, Output: o}, rows)
	beam.ParDo(s.Scope("crossed"), &writePartsFn{Root: crossed, Output: o}, beam.Reshuffle(s, rows))
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	want := readParts(t, fused)
	if got := want[release.TableSFT]; len(got) != len(records) {
		t.Fatalf("the fused writer wrote %d SFT rows, want %d", len(got), len(records))
	}
	if got := want[release.TableDeadLetter]; len(got) != len(records) || !strings.Contains(got[0], `\u003ctest\u003e \u0026 p`) {
		t.Fatalf("the fused writer wrote dead letters %q", got)
	}
	got := readParts(t, crossed)
	for table, rows := range want {
		if !slices.Equal(got[table], rows) {
			t.Errorf("%s rows that crossed a stage boundary:\n%s\nwritten where they were made:\n%s", table, strings.Join(got[table], "\n"), strings.Join(rows, "\n"))
		}
	}
}

// readParts reads every part written under root, each table's rows
// printed and sorted (parts follow the runner's bundles, rows do not).
func readParts(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(filepath.Join(root, release.PartsDir), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		table := filepath.Base(filepath.Dir(path))
		if strings.HasSuffix(path, ".parquet") {
			rows, err := parquet.Read[schemas.SFTExample](strings.NewReader(string(data)), int64(len(data)))
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			for _, r := range rows {
				reward := *r.Reward
				r.Reward = nil // print the value, not the pointer
				out[table] = append(out[table], fmt.Sprintf("%+v reward=%v", r, reward))
			}
			return nil
		}
		out[table] = append(out[table], strings.Split(strings.TrimSpace(string(data)), "\n")...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, rows := range out {
		slices.Sort(rows)
	}
	return out
}

// The coder gives back table, key and JSON, whether the row kept its
// record or held JSON, and refuses an encoding cut short.
func TestRowCoder(t *testing.T) {
	ex := schemas.SFTExample{PromptID: "p", Messages: []schemas.Message{{Role: "user", Content: "<x>"}}}
	kept, err := release.NewRow(release.TableSFT, "k\x00001", ex)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := kept.RecordJSON()
	for _, r := range []release.Row{kept, {Table: release.TableClean, Key: "", JSON: []byte(`{"a":1}`)}} {
		b, err := encodeRow(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeRow(b)
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := r.RecordJSON()
		if got.Table != r.Table || got.Key != r.Key || string(got.JSON) != string(wantJSON) || got.JSONSize() != r.JSONSize() {
			t.Errorf("decoded %+v (size %d), want %s %q %s (size %d)", got, got.JSONSize(), r.Table, r.Key, wantJSON, r.JSONSize())
		}
		if _, err := decodeRow(b[:len(r.Table)]); err == nil {
			t.Errorf("decoding %q, cut short, succeeded", b[:len(r.Table)])
		}
	}
	if len(js) == 0 {
		t.Error("a row that kept its record has no JSON form")
	}
}
