package release

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	gojson "github.com/goccy/go-json"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// TestRowDecodingMatchesEncodingJSON checks that the Parquet writer's JSON
// decoder (goccy/go-json) reads rows exactly as encoding/json does: real
// teacher output, and values where decoders are known to differ (float
// rounding, escapes, invalid surrogates, null pointers, unknown keys).
// Keys are compared as written: rows are json.Marshal output of the
// schemas structs, so their keys are the tags exactly (goccy/go-json,
// unlike encoding/json, does not match "PROMPT_ID" to prompt_id).
func TestRowDecodingMatchesEncodingJSON(t *testing.T) {
	rows := benchRows(t, 480) // every recorded response once
	for _, raw := range []string{
		`{"prompt_id":"a","pass_rate":0.30000000000000004,"pass_rate_low":1e-7,"pass_rate_high":0.1,"reward":null,"weight":2.5e300}`,
		`{"prompt_id":"b\u2028\u00e9\ud83d\ude00","answer":"\\frac{1}{2}","extracted":"\ud800","messages":[{"role":"user","content":"x\ty\n\"z\""}]}`,
		`{"prompt_id":"c","skills":[],"sample_index":-3,"response_tokens":2147483647,"unknown":{"nested":[1,2]},"synthesized":true}`,
	} {
		rows = append(rows, []byte(raw))
	}
	for _, raw := range rows {
		var want, got schemas.SFTExample
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if err := gojson.Unmarshal(raw, &got); err != nil {
			t.Fatalf("goccy/go-json: %v on %.200s", err, raw)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decoded %+v, encoding/json decodes %+v from %.200s", got, want, raw)
		}
	}
}

// A row that carries its record and a row that carries the record's JSON
// (the path every row took before rows kept their records, and the one a
// row takes after crossing a stage boundary) make the same part, byte for
// byte, with the same JSON size: random records of every Parquet table,
// real teacher output among them, with the strings, floats, nil and empty
// lists and pointers where JSON and Parquet could disagree.
func TestRecordAndJSONWriteSameFile(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	var real []string
	for _, raw := range benchRows(t, 480) {
		var ex schemas.SFTExample
		if err := json.Unmarshal(raw, &ex); err != nil {
			t.Fatal(err)
		}
		real = append(real, ex.Messages[2].Content)
	}
	strs := append(append([]string(nil), trickyStrings...), real...)
	o := recipe.OutputConfig{ShardRows: 1 << 20, ShardBytes: 1 << 40, RowGroupRows: 97}
	for table, typ := range map[string]reflect.Type{
		TableSFT: reflect.TypeFor[schemas.SFTExample](), TablePreference: reflect.TypeFor[schemas.PreferencePair](),
		TableRLVR: reflect.TypeFor[schemas.RLVRExample](), TableRefusal: reflect.TypeFor[schemas.RefusalExample](),
		TableRejected: reflect.TypeFor[schemas.Rejection](),
	} {
		t.Run(table, func(t *testing.T) {
			fromRecords, fromJSON := NewPartWriter(storage.NewMem(), o), NewPartWriter(storage.NewMem(), o)
			var kept int
			for i := range 1000 {
				v := randomRecord(rng, typ, strs)
				rec := v.Interface()
				if i%2 == 1 {
					rec = v.Addr().Interface() // stages may emit pointers
				}
				key := SampleKey("p", i)
				row, err := NewRow(table, key, rec)
				if err != nil {
					t.Fatal(err)
				}
				if row.record != nil {
					kept++
				}
				data, err := json.Marshal(rec)
				if err != nil {
					t.Fatal(err)
				}
				if err := fromRecords.Add(ctx, row); err != nil {
					t.Fatal(err)
				}
				if err := fromJSON.Add(ctx, Row{Table: table, Key: key, JSON: data}); err != nil {
					t.Fatal(err)
				}
			}
			a, err := fromRecords.Close()
			if err != nil {
				t.Fatal(err)
			}
			b, err := fromJSON.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != 1 || len(b) != 1 || a[0] != b[0] {
				t.Errorf("from records: %+v\nfrom JSON:    %+v", a, b)
			}
			if kept < 500 {
				t.Errorf("%d of 1000 rows kept their record, want most (those with UTF-8 strings)", kept)
			}
		})
	}
}

// RecordJSON of a row that kept its record is what NewRow would have
// marshalled, and a row with neither record nor JSON (a zero Row, or one
// whose record a coder dropped) fails the write instead of writing an
// empty row.
func TestRowJSONForms(t *testing.T) {
	rec := schemas.SFTExample{PromptID: "p<1>", Messages: []schemas.Message{{Role: "user", Content: `\frac{1}{2} & more`}}, PassRate: 0.1 + 0.2}
	row, err := NewRow(TableSFT, "k", rec)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(rec)
	got, err := row.RecordJSON()
	if err != nil || !bytes.Equal(got, want) || row.JSON != nil || row.JSONSize() != int64(len(want)) {
		t.Errorf("RecordJSON = %s, %v; JSON %q, JSONSize %d; want %s (%d bytes)", got, err, row.JSON, row.JSONSize(), want, len(want))
	}
	dl, err := NewRow(TableDeadLetter, "k", schemas.DeadLetter{Source: "a<b>.jsonl", Line: 3, Reason: "x"})
	if err != nil {
		t.Fatal(err)
	}
	want, _ = json.Marshal(schemas.DeadLetter{Source: "a<b>.jsonl", Line: 3, Reason: "x"})
	if !bytes.Equal(dl.JSON, want) || dl.record != nil {
		t.Errorf("a dead letter row holds %s (record %v), want its JSON %s", dl.JSON, dl.record, want)
	}
	if _, err := NewRow(TableSFT, "k", schemas.SFTExample{PassRate: math.NaN()}); err == nil {
		t.Error("NewRow of a NaN pass rate succeeded, want encoding/json's error")
	}
	pw := NewPartWriter(storage.NewMem(), recipe.Default().Output)
	if err := pw.Add(context.Background(), Row{Table: TableSFT, Key: "k"}); err == nil || !strings.Contains(err.Error(), "neither record nor JSON") {
		t.Errorf("Add of an empty row = %v, want an error", err)
	}
}
