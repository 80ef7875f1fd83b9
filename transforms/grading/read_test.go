package grading

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/transforms/input"
)

const mixedPath = "testdata/mixed.jsonl"

func collect(t *testing.T, read func(Sink) (ReadStats, error)) ([]Response, []schemas.DeadLetter, ReadStats) {
	t.Helper()
	var rs []Response
	var dead []schemas.DeadLetter
	st, err := read(Sink{
		Response: func(r Response) { rs = append(rs, r) },
		Dead:     func(d schemas.DeadLetter) { dead = append(dead, d) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != st.Responses+st.Dead || st.Responses != len(rs) || st.Dead != len(dead) {
		t.Fatalf("counts do not reconcile: %+v with %d responses and %d dead letters", st, len(rs), len(dead))
	}
	return rs, dead, st
}

// mixedDead is what each bad line of testdata/mixed.jsonl must become.
var mixedDead = map[int]struct{ field, reason string }{
	4:  {"", "malformed JSON"},
	5:  {"", "invalid UTF-8 at byte 35"},
	8:  {"", "must hold a JSON object {id, response, reference}, got an array"},
	9:  {"id", `missing field "id"`},
	10: {"id", `field "id" is a boolean, want a string or a number`},
	11: {"response", `field "response" is a number, want a string`},
	12: {"reference", `field "reference" is null, want a string or a number`},
	13: {"reference", `missing field "reference"`},
	15: {"reference", `field "reference" holds no final answer`},
	16: {"id", `field "id" is empty`},
	18: {"", "got a string"},
	19: {"", "unexpected data after the JSON value"},
}

func TestReadJSONLMixed(t *testing.T) {
	rs, dead, st := collect(t, func(s Sink) (ReadStats, error) { return ReadFile(mixedPath, s) })
	if st.Lines != 19 {
		t.Errorf("lines = %d, want 19 (21 lines less 2 blank)", st.Lines)
	}
	if len(dead) != len(mixedDead) {
		t.Errorf("got %d dead letters, want %d: %+v", len(dead), len(mixedDead), dead)
	}
	for _, d := range dead {
		want, ok := mixedDead[d.Line]
		if !ok {
			t.Errorf("unexpected dead letter at line %d: %s", d.Line, d.Reason)
			continue
		}
		if d.Field != want.field || !strings.Contains(d.Reason, want.reason) {
			t.Errorf("line %d: got field %q reason %q, want field %q reason containing %q", d.Line, d.Field, d.Reason, want.field, want.reason)
		}
		if d.Source != mixedPath || d.Stage != "read" || !strings.HasPrefix(d.Reason, mixedPath+":") || d.Raw == "" {
			t.Errorf("line %d: dead letter does not name its file or keep the line: %+v", d.Line, d)
		}
	}
	if d := dead[len(dead)-3]; d.Line != 16 || d.PromptID != "" {
		t.Errorf("empty id: %+v", d)
	}
	if d := dead[5]; d.Line != 11 || d.PromptID != "response-number" {
		t.Errorf("a dead letter past the id names it: %+v", d)
	}

	want := []Response{
		{ID: `"ok-1"`, Reference: "4", Line: 1},
		{ID: `7`, Reference: "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72", Line: 2},
		{ID: `"wrong"`, Reference: "6", Line: 3},
		{ID: `"no-answer"`, Reference: `\frac{3}{4}`, Line: 7},
		{ID: `"frac"`, Reference: "0.75", Line: 14},
		{ID: `"ok-1"`, Reference: "4", Line: 17},
		{ID: `1e3`, Reference: "12.0", Line: 21}, // numbers kept as written
	}
	if len(rs) != len(want) {
		t.Fatalf("got %d responses, want %d: %+v", len(rs), len(want), rs)
	}
	for i, r := range rs {
		if r.ID != want[i].ID || r.Reference != want[i].Reference || r.Line != want[i].Line || r.Source != mixedPath || r.Response == "" {
			t.Errorf("response %d = %+v, want %+v", i, r, want[i])
		}
	}
	if got := rs[1].IDText(); got != "7" {
		t.Errorf("IDText of a numeric id = %q", got)
	}
}

func TestReadJSONLLineTooLong(t *testing.T) {
	long := `{"id": "long", "response": "` + strings.Repeat("é", input.MaxLineBytes/2) + `", "reference": "1"}`
	data := `{"id":"a","response":"\\boxed{1}","reference":"1"}` + "\n" + long + "\n" + `{"id":"b","response":"x","reference":"2"}`
	rs, dead, _ := collect(t, func(s Sink) (ReadStats, error) { return ReadJSONL(strings.NewReader(data), "long.jsonl", s) })
	if len(rs) != 2 || rs[1].Line != 3 {
		t.Errorf("responses around the long line: %+v", rs)
	}
	if len(dead) != 1 || dead[0].Line != 2 || !strings.Contains(dead[0].Reason, "longer than") || len(dead[0].Raw) > input.PreviewBytes {
		t.Errorf("dead letters: %+v", dead)
	}
}

func TestPreview(t *testing.T) {
	if got, want := input.Preview([]byte("caf\xff \"au\" lait")), `caf\xff "au" lait`; got != want {
		t.Errorf("preview escapes only invalid bytes: got %q, want %q", got, want)
	}
	raw := []byte("a" + strings.Repeat("é", input.PreviewBytes)) // byte input.PreviewBytes is inside an é
	if p := input.Preview(raw); strings.Contains(p, `\x`) || len(p) != input.PreviewBytes-1 {
		t.Errorf("preview cut a character or escaped valid text: %q", p)
	}
}

func FuzzReadJSONL(f *testing.F) {
	data, _ := os.ReadFile(mixedPath)
	for _, line := range bytes.Split(data, []byte("\n")) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, dead, _ := collect(t, func(s Sink) (ReadStats, error) { return ReadJSONL(bytes.NewReader(data), "fuzz.jsonl", s) })
		for _, r := range rs {
			if !json.Valid([]byte(r.ID)) || r.IDText() == "" || r.Reference == "" {
				t.Errorf("bad response %+v", r)
			}
		}
		for _, d := range dead {
			if d.Line < 1 || d.Reason == "" {
				t.Errorf("bad dead letter %+v", d)
			}
		}
	})
}
