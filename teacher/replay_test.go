package teacher

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/schemas"
)

// recordingsPath is the recording of real Qwen2.5-Math-Instruct output the
// repository carries.
const recordingsPath = "../testdata/recordings/qwen25-math-instruct-math-8samples.jsonl"

func readRecordings(t *testing.T) []Recording {
	t.Helper()
	recs, err := ReadRecordings(recordingsPath)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestReplayServesRecordedSamplesInOrder(t *testing.T) {
	recs := readRecordings(t)
	if len(recs) != 60 {
		t.Errorf("%d recordings, want 60", len(recs))
	}
	srv, err := StartReplay(ReplayConfig{Recordings: recs})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := NewClient(testConfig(srv.URL(), srv.Model()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, rec := range recs[:10] {
		msgs := []schemas.Message{{Role: schemas.RoleSystem, Content: rec.System}, {Role: schemas.RoleUser, Content: rec.Question}}
		resp, err := c.Complete(ctx, Request{Messages: msgs, N: 8, Temperature: 0.7})
		if err != nil {
			t.Fatal(err)
		}
		for i, ch := range resp.Choices {
			if ch.Text != rec.Samples[i].Response {
				t.Errorf("prompt %d sample %d is not the recorded one", rec.Idx, i)
			}
		}
		// The next request continues in order, wrapping around.
		resp, err = c.Complete(ctx, Request{Messages: msgs, N: 3, Temperature: 0.7})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Choices[0].Text != rec.Samples[0].Response || resp.Choices[2].Text != rec.Samples[2].Response {
			t.Errorf("prompt %d: second request did not wrap to the first samples", rec.Idx)
		}
	}
	_, err = c.Complete(ctx, Request{Messages: userMsg("What is the capital of France?")})
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "no recording") {
		t.Errorf("unknown prompt: err = %v, want ErrBadRequest naming it", err)
	}
}

func TestReadRecordingsRejectsMalformed(t *testing.T) {
	tests := []struct{ name, body string }{
		{"not json", "{oops\n"},
		{"no samples", `{"idx":1,"question":"q","samples":[]}` + "\n"},
		{"no question", `{"idx":1,"samples":[{"response":"r"}]}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := t.TempDir() + "/r.jsonl"
			os.WriteFile(p, []byte(tt.body), 0o644)
			if _, err := ReadRecordings(p); err == nil || !strings.Contains(err.Error(), "r.jsonl:1") {
				t.Errorf("err = %v, want one naming the line", err)
			}
		})
	}
}
