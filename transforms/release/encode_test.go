package release

import (
	"encoding/json"
	"reflect"
	"testing"

	gojson "github.com/goccy/go-json"

	"github.com/syllabus-dev/syllabus/schemas"
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
