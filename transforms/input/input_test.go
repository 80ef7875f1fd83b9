package input

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/syllabus-dev/syllabus/schemas"
)

func collect(t *testing.T, read func(Sink) (Stats, error)) ([]schemas.Prompt, []schemas.DeadLetter, Stats) {
	t.Helper()
	var prompts []schemas.Prompt
	var dead []schemas.DeadLetter
	stats, err := read(Sink{
		Prompt: func(p schemas.Prompt) { prompts = append(prompts, p) },
		Dead:   func(d schemas.DeadLetter) { dead = append(dead, d) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Records != stats.Prompts+stats.Dead || stats.Prompts != len(prompts) || stats.Dead != len(dead) {
		t.Fatalf("counts do not reconcile: %+v with %d prompts and %d dead letters", stats, len(prompts), len(dead))
	}
	return prompts, dead, stats
}

// TestReadJSONLBadLines feeds one file holding many kinds of bad line: each
// must land in the dead letter with its line number and a reason naming the
// problem, and the good lines around them must come through.
func TestReadJSONLBadLines(t *testing.T) {
	const path = "testdata/bad_lines.jsonl"
	prompts, dead, stats := collect(t, func(s Sink) (Stats, error) { return ReadPath(path, DefaultMapping(), s) })

	wantDead := map[int]struct{ field, reason string }{
		2:  {"", "malformed JSON"},
		3:  {"", "invalid UTF-8 at byte 33"},
		6:  {"prompt", `field "prompt" is a number, want a string`},
		4:  {"prompt", `missing field "prompt"`},
		7:  {"prompt", `field "prompt" is empty`},
		8:  {"", "must hold a JSON object, got an array"},
		9:  {"id", `field "id" is an object, want a string`},
		10: {"answer", `field "answer" is an array, want a string`},
		11: {"prompt", `field "prompt" is null`},
		12: {"", "unexpected data after the JSON value"},
		14: {"id", `id "ok-1" is already used on line 1 for a different prompt`},
		15: {"id", `field "id" is empty`},
		16: {"", "got a string"},
		17: {"answer", `field "answer" is a boolean`},
	}
	if len(dead) != len(wantDead) {
		t.Errorf("got %d dead letters, want %d: %+v", len(dead), len(wantDead), dead)
	}
	for _, d := range dead {
		want, ok := wantDead[d.Line]
		if !ok {
			t.Errorf("unexpected dead letter at line %d: %s", d.Line, d.Reason)
			continue
		}
		if d.Field != want.field || !strings.Contains(d.Reason, want.reason) {
			t.Errorf("line %d: got field %q reason %q, want field %q reason containing %q", d.Line, d.Field, d.Reason, want.field, want.reason)
		}
		if d.Source != path || d.Stage != "read" || !strings.HasPrefix(d.Reason, path+":") {
			t.Errorf("line %d: dead letter does not name its file: %+v", d.Line, d)
		}
	}

	wantPrompts := []schemas.Prompt{
		{ID: "ok-1", Text: "What is 2 + 2?", Answer: "4", Source: path, Line: 1},
		{ID: "7", Text: "A numeric id is fine.", Answer: "12", Source: path, Line: 13},
		{ID: DerivedID("No id at all: derive one."), Text: "No id at all: derive one.", Source: path, Line: 19},
	}
	if len(prompts) != len(wantPrompts) {
		t.Fatalf("got prompts %+v, want %+v", prompts, wantPrompts)
	}
	for i := range prompts {
		if prompts[i].ID != wantPrompts[i].ID || prompts[i].Text != wantPrompts[i].Text || prompts[i].Answer != wantPrompts[i].Answer || prompts[i].Line != wantPrompts[i].Line {
			t.Errorf("prompt %d = %+v, want %+v", i, prompts[i], wantPrompts[i])
		}
	}
	if stats.Records != 17 {
		t.Errorf("records = %d, want 17 (19 lines less 2 blank)", stats.Records)
	}
}

func TestReadJSONLLineTooLong(t *testing.T) {
	long := `{"id": "long", "prompt": "` + strings.Repeat("x", MaxLineBytes) + `"}`
	data := "{\"id\":\"a\",\"prompt\":\"before\"}\n" + long + "\n{\"id\":\"b\",\"prompt\":\"after\"}\n"
	prompts, dead, _ := collect(t, func(s Sink) (Stats, error) {
		return ReadJSONL(strings.NewReader(data), "long.jsonl", DefaultMapping(), s)
	})
	if len(prompts) != 2 || prompts[1].Text != "after" || prompts[1].Line != 3 {
		t.Errorf("prompts around the long line: %+v", prompts)
	}
	if len(dead) != 1 || dead[0].Line != 2 || !strings.Contains(dead[0].Reason, "longer than") || len(dead[0].Raw) > PreviewBytes {
		t.Errorf("dead letters: %+v", dead)
	}
}

func TestReadJSONLFieldMapping(t *testing.T) {
	data := `{"qid": 3, "question": "Q?", "solution": "So #### 5"}`
	prompts, _, _ := collect(t, func(s Sink) (Stats, error) {
		return ReadJSONL(strings.NewReader(data), "m.jsonl", Mapping{ID: "qid", Text: "question", Answer: "solution"}, s)
	})
	if len(prompts) != 1 || prompts[0].ID != "3" || prompts[0].Answer != "5" || prompts[0].Solution != "So #### 5" {
		t.Errorf("got %+v", prompts)
	}
}

func TestReadJSONLConversationsAndRaw(t *testing.T) {
	data := `{"id": "c1", "messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}], "extra": 1}
{"id": "c2", "messages": [{"role": "user"}]}
`
	var raws []string
	var prompts []schemas.Prompt
	var dead []schemas.DeadLetter
	_, err := ReadJSONL(strings.NewReader(data), "c.jsonl", Mapping{ID: "id", Text: "messages"}, Sink{
		Record: func(p schemas.Prompt, raw []byte) { prompts = append(prompts, p); raws = append(raws, string(raw)) },
		Dead:   func(d schemas.DeadLetter) { dead = append(dead, d) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(prompts) != 1 || prompts[0].Text != "Hi?\nHello." || !strings.Contains(raws[0], `"extra": 1`) {
		t.Errorf("conversation record: %+v %q", prompts, raws)
	}
	if len(dead) != 1 || dead[0].Line != 2 || !strings.Contains(dead[0].Reason, "content null, want a string") {
		t.Errorf("a conversation without contents: %+v", dead)
	}
}

func TestReadParquet(t *testing.T) {
	type row struct {
		ID     string  `parquet:"id"`
		Prompt *string `parquet:"prompt,optional"`
		Answer int64   `parquet:"answer"`
	}
	str := func(s string) *string { return &s }
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf)
	if _, err := w.Write([]row{{"p1", str("One?"), 1}, {"p2", nil, 2}, {"p3", str(" "), 3}, {"p4", str("Four?"), 4}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(buf.Bytes())
	prompts, dead, _ := collect(t, func(s Sink) (Stats, error) {
		return Read(r, int64(buf.Len()), "p.parquet", DefaultMapping(), s)
	})
	if len(prompts) != 2 || prompts[0].ID != "p1" || prompts[0].Answer != "1" || prompts[1].Line != 4 {
		t.Errorf("prompts: %+v", prompts)
	}
	if len(dead) != 2 || dead[0].Line != 2 || dead[1].Line != 3 || dead[1].Field != "prompt" {
		t.Errorf("dead letters: %+v", dead)
	}

	_, err := ReadParquet(r, int64(buf.Len()), "p.parquet", Mapping{ID: "id", Text: "question"}, Sink{})
	if err == nil || !strings.Contains(err.Error(), `no column "question"`) || !strings.Contains(err.Error(), "id, prompt, answer") {
		t.Errorf("missing text column: got %v", err)
	}
}

func TestReadUnknownFormat(t *testing.T) {
	_, err := Read(bytes.NewReader(nil), 0, "prompts.csv", DefaultMapping(), Sink{})
	if err == nil || !strings.Contains(err.Error(), "prompts.csv") {
		t.Errorf("got %v", err)
	}
}

func FuzzReadJSONL(f *testing.F) {
	data, _ := os.ReadFile("testdata/bad_lines.jsonl")
	for _, line := range bytes.Split(data, []byte("\n")) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		collect(t, func(s Sink) (Stats, error) {
			return ReadJSONL(bytes.NewReader(data), "fuzz.jsonl", DefaultMapping(), s)
		})
	})
}
