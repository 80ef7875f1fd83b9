package input

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/storage/storagetest"
)

// chatRecord is a chat record as OpenAI/TRL datasets hold it, with the
// question also nested under problem.text (for dotted paths).
type chatRecord struct {
	ID       string            `json:"id" parquet:"id"`
	Messages []schemas.Message `json:"messages" parquet:"messages,list"`
	Problem  struct {
		Text string `json:"text" parquet:"text"`
	} `json:"problem" parquet:"problem"`
	Answer string `json:"answer,omitempty" parquet:"answer"`
}

func chatRecords() []chatRecord {
	few := []schemas.Message{
		{Role: "system", Content: "You are a careful math tutor."},
		{Role: "user", Content: "What is 1+1?"},
		{Role: "assistant", Content: "1+1 = 2. #### 2"},
	}
	var out []chatRecord
	for i, q := range []string{"What is 2+3?", "What is 7*6?"} {
		r := chatRecord{ID: []string{"a", "b"}[i]}
		r.Messages = append(append([]schemas.Message{}, few...), schemas.Message{Role: "user", Content: q})
		r.Problem.Text = q
		out = append(out, r)
	}
	out[0].Answer = "5"
	// The second record's reference is a trailing assistant turn.
	out[1].Messages = append(out[1].Messages, schemas.Message{Role: "assistant", Content: "7*6 = <<7*6=42>>42.\n#### 42"})
	return out
}

func chatJSONL(t *testing.T) []byte {
	var b bytes.Buffer
	for _, r := range chatRecords() {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	return b.Bytes()
}

func chatParquet(t *testing.T) []byte {
	var b bytes.Buffer
	if err := parquet.Write(&b, chatRecords()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// checkChat checks what reading chatRecords gives, whatever the format.
func checkChat(t *testing.T, prompts []schemas.Prompt) {
	t.Helper()
	if len(prompts) != 2 {
		t.Fatalf("got %d prompts, want 2", len(prompts))
	}
	for _, p := range prompts {
		if len(p.Messages) != 4 || p.Messages[0].Role != "system" || p.Messages[0].Content != "You are a careful math tutor." {
			t.Errorf("%s: messages %+v: want the system turn, a few-shot pair and the question, as written", p.ID, p.Messages)
		}
		if last := p.Messages[len(p.Messages)-1]; last.Role != "user" {
			t.Errorf("%s: the prompt ends in a %s turn, want user", p.ID, last.Role)
		}
	}
	a, b := prompts[0], prompts[1]
	if a.Answer != "5" || a.Solution != "" {
		t.Errorf("a: answer %q solution %q, want 5 and none", a.Answer, a.Solution)
	}
	if b.Answer != "42" || !strings.Contains(b.Solution, "<<7*6=42>>") {
		t.Errorf("b: answer %q solution %q: the trailing assistant turn must be the reference (answer 42, whole solution kept)", b.Answer, b.Solution)
	}
	for _, m := range b.Messages {
		if strings.Contains(m.Content, "#### 42") {
			t.Errorf("b: the reference solution leaked into the prompt: %+v", b.Messages)
		}
	}
}

func TestReadChatJSONL(t *testing.T) {
	prompts, dead, _ := collect(t, func(s Sink) (Stats, error) {
		return Read(nopFile{bytes.NewReader(chatJSONL(t))}, 0, "chat.jsonl", DefaultMapping(), s)
	})
	if len(dead) > 0 {
		t.Fatalf("dead letters: %+v", dead)
	}
	checkChat(t, prompts)
}

// TestReadChatParquet reads the same records from Parquet, whose messages
// column is list<struct<role, content>>.
func TestReadChatParquet(t *testing.T) {
	data := chatParquet(t)
	prompts, dead, _ := collect(t, func(s Sink) (Stats, error) {
		return Read(nopFile{bytes.NewReader(data)}, int64(len(data)), "chat.parquet", DefaultMapping(), s)
	})
	if len(dead) > 0 {
		t.Fatalf("dead letters: %+v", dead)
	}
	checkChat(t, prompts)
}

// TestReadDottedPath reads problem.text from JSONL and Parquet alike.
func TestReadDottedPath(t *testing.T) {
	m := DefaultMapping()
	m.Text = "problem.text"
	jsonl, pq := chatJSONL(t), chatParquet(t)
	for _, c := range []struct {
		source string
		data   []byte
	}{{"chat.jsonl", jsonl}, {"chat.parquet", pq}} {
		t.Run(c.source, func(t *testing.T) {
			prompts, dead, _ := collect(t, func(s Sink) (Stats, error) {
				return Read(nopFile{bytes.NewReader(c.data)}, int64(len(c.data)), c.source, m, s)
			})
			if len(dead) > 0 {
				t.Fatalf("dead letters: %+v", dead)
			}
			got := []string{prompts[0].Text, prompts[1].Text}
			if !reflect.DeepEqual(got, []string{"What is 2+3?", "What is 7*6?"}) || prompts[0].Messages != nil {
				t.Errorf("got texts %q (messages %v), want the nested problem texts", got, prompts[0].Messages)
			}
		})
	}
}

func TestReadChatBadConversations(t *testing.T) {
	lines := strings.Join([]string{
		`{"id":"1","messages":[{"role":"system","content":"s"}]}`,
		`{"id":"2","messages":[{"role":"user","content":"q"},{"role":"tool","content":"x"}]}`,
		`{"id":"3","messages":[{"role":"user","content":5}]}`,
		`{"id":"4","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"},{"role":"assistant","content":"b"}]}`,
		`{"id":"5","messages":[{"role":"user","content":"q"}]}`,
	}, "\n")
	prompts, dead, _ := collect(t, func(s Sink) (Stats, error) {
		return ReadJSONL(strings.NewReader(lines), "bad.jsonl", DefaultMapping(), s)
	})
	if len(prompts) != 1 || prompts[0].ID != "5" {
		t.Errorf("prompts %+v, want only record 5", prompts)
	}
	want := map[int]string{1: "must end in a user turn", 2: `role tool`, 3: "content a number", 4: "must end in a user turn"}
	for _, d := range dead {
		if d.Field != "messages" || !strings.Contains(d.Reason, want[d.Line]) {
			t.Errorf("line %d: field %q reason %q, want field messages and %q", d.Line, d.Field, d.Reason, want[d.Line])
		}
	}
	if len(dead) != len(want) {
		t.Errorf("%d dead letters, want %d", len(dead), len(want))
	}
}

func TestReadAnswerFormat(t *testing.T) {
	lines := `{"prompt":"q1","answer":"Half is <<48/2=24>>24.\n#### 72"}
{"prompt":"q2","answer":"So $x=\\boxed{\\frac{1}{2}}$."}
{"prompt":"q3","answer":"7"}`
	prompts, dead, _ := collect(t, func(s Sink) (Stats, error) {
		return ReadJSONL(strings.NewReader(lines), "refs.jsonl", DefaultMapping(), s)
	})
	if len(dead) != 0 {
		t.Fatalf("dead letters %+v", dead)
	}
	want := [][2]string{{"72", "Half is <<48/2=24>>24.\n#### 72"}, {"\\frac{1}{2}", "So $x=\\boxed{\\frac{1}{2}}$."}, {"7", ""}}
	for i, p := range prompts {
		if p.Answer != want[i][0] || p.Solution != want[i][1] {
			t.Errorf("%s: (%q, %q), want %q", p.Text, p.Answer, p.Solution, want[i])
		}
	}
	// Forced gsm8k: a reference without "####" is a dead letter naming the field.
	m := DefaultMapping()
	m.AnswerFormat = "gsm8k"
	prompts, dead, _ = collect(t, func(s Sink) (Stats, error) {
		return ReadJSONL(strings.NewReader(lines), "refs.jsonl", m, s)
	})
	if len(prompts) != 1 || len(dead) != 2 || dead[0].Field != "answer" || !strings.Contains(dead[0].Reason, "####") {
		t.Errorf("forced gsm8k: %d prompts, dead %+v", len(prompts), dead)
	}
}

// TestReadParquetFromS3 reads a Parquet file through the storage layer from
// a real S3 server (it panicked in parquet-go: the size of an S3 object
// reader is unknown to it).
func TestReadParquetFromS3(t *testing.T) {
	bucket, opts := storagetest.NewS3Bucket(t)
	ctx := context.Background()
	store, err := storage.Open(bucket+"/in", opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(ctx, "chat.parquet", chatParquet(t)); err != nil {
		t.Fatal(err)
	}
	f, size, err := store.Open(ctx, "chat.parquet")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	prompts, dead, _ := collect(t, func(s Sink) (Stats, error) {
		return Read(f, size, store.URL("chat.parquet"), DefaultMapping(), s)
	})
	if len(dead) > 0 {
		t.Fatalf("dead letters: %+v", dead)
	}
	checkChat(t, prompts)
}

// nopFile gives a bytes.Reader the File interface.
type nopFile struct{ *bytes.Reader }
