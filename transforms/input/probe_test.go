package input

import (
	"bytes"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	jsonl := []byte(`{"id":"1","question":"q1","answer":"#### 1"}
{"id":"2","question":"q2","answer":"#### 2"}
`)
	pq := chatParquet(t)
	for _, c := range []struct {
		name, source string
		data         []byte
		m            Mapping
		want         string // "" for no error
	}{
		{"jsonl ok", "a.jsonl", jsonl, Mapping{Text: "question", Answer: "answer"}, ""},
		{"jsonl wrong text field", "a.jsonl", jsonl, Mapping{Text: "prompt", Answer: "answer"}, `has the field "prompt" (set --text_field; fields: answer, id, question)`},
		{"jsonl wrong answer field", "a.jsonl", jsonl, Mapping{Text: "question", Answer: "solution"}, `reference field "solution" (set --answer_field`},
		{"parquet chat ok", "c.parquet", pq, DefaultMapping(), ""},
		{"parquet dotted ok", "c.parquet", pq, Mapping{Text: "problem.text", Answer: "answer"}, ""},
		{"parquet wrong text", "c.parquet", pq, Mapping{Text: "question", Answer: "answer"}, `no column "question"`},
		{"parquet wrong answer", "c.parquet", pq, Mapping{Text: "problem.text", Answer: "solution"}, `no column "solution"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Probe(nopFile{bytes.NewReader(c.data)}, int64(len(c.data)), c.source, c.m)
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}
