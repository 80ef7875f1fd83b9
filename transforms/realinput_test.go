package transforms

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/builtin"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// recordingTeacher is the simulated teacher behind a reverse proxy that
// keeps the messages of every request, so a test sees exactly what a
// teacher server received.
type recordingTeacher struct {
	URL  string
	mu   sync.Mutex
	sent [][]schemas.Message
}

func startRecordingTeacher(t *testing.T, key map[string]teacher.Solution) *recordingTeacher {
	t.Helper()
	sim, err := teacher.StartSim(teacher.SimConfig{Model: "m", Accuracy: 0.75, Seed: 7, Solve: func(prompt string) (teacher.Solution, bool) {
		s, ok := key[prompt]
		return s, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	target, _ := url.Parse(strings.TrimSuffix(sim.URL(), "/v1"))
	proxy := httputil.NewSingleHostReverseProxy(target)
	rt := &recordingTeacher{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Messages []schemas.Message `json:"messages"`
		}
		if json.Unmarshal(body, &req) == nil && len(req.Messages) > 0 {
			rt.mu.Lock()
			rt.sent = append(rt.sent, req.Messages)
			rt.mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rt.URL = srv.URL + "/v1"
	return rt
}

func realRecipe(t *testing.T, inputPath, teacherURL string) recipe.Recipe {
	t.Helper()
	r := recipe.Default()
	r.Name = "real"
	r.Input.Path = inputPath
	r.Output.Path = t.TempDir()
	r.Output.Version = "v1"
	r.Teacher.URL, r.Teacher.Model = teacherURL, "m"
	r.Teacher.CacheDir = ""
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSFTGenChatInput runs chat records (system turn, a few-shot pair, the
// question) as JSONL and as Parquet with a nested messages column; half the
// records have no system turn and get teacher.system_prompt. The teacher
// must receive the system turn first in every request, and every SFT row
// must start with it and hold the few-shot turns as written.
func TestSFTGenChatInput(t *testing.T) {
	const system = "You are a careful math tutor."
	spec, _ := builtin.ParseSpec("builtin:arithmetic?n=24&seed=3")
	problems := builtin.Generate(spec)
	key := map[string]teacher.Solution{}
	type rec struct {
		ID       string            `json:"id" parquet:"id"`
		Messages []schemas.Message `json:"messages" parquet:"messages,list"`
		Answer   string            `json:"answer" parquet:"answer"`
	}
	var recs []rec
	for i, p := range problems {
		key[p.Text] = teacher.Solution{Steps: p.Steps, Answer: p.Answer}
		msgs := []schemas.Message{{Role: "user", Content: "What is 1+1?"}, {Role: "assistant", Content: "1+1 = 2, so the answer is \\boxed{2}."}, {Role: "user", Content: p.Text}}
		if i%2 == 0 {
			msgs = append([]schemas.Message{{Role: "system", Content: system}}, msgs...)
		}
		recs = append(recs, rec{ID: p.ID, Messages: msgs, Answer: p.Answer})
	}
	dir := t.TempDir()
	var jsonl bytes.Buffer
	for _, r := range recs {
		b, _ := json.Marshal(r)
		jsonl.Write(append(b, '\n'))
	}
	var pq bytes.Buffer
	if err := parquet.Write(&pq, recs); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"chat.jsonl": jsonl.Bytes(), "chat.parquet": pq.Bytes()} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			tt := startRecordingTeacher(t, key)
			r := realRecipe(t, path, tt.URL)
			r.Teacher.SystemPrompt = system
			if err := runSFTGen(t, r); err != nil {
				t.Fatal(err)
			}
			m := checkRelease(t, r)
			if len(tt.sent) != len(recs) {
				t.Errorf("the teacher got %d requests, want %d", len(tt.sent), len(recs))
			}
			for _, msgs := range tt.sent {
				if len(msgs) != 4 || msgs[0] != (schemas.Message{Role: "system", Content: system}) || msgs[2].Role != "assistant" {
					t.Errorf("the teacher received %+v: want the system turn, the few-shot pair and the question", msgs)
					break
				}
			}
			rows, err := parquet.ReadFile[schemas.SFTExample](filepath.Join(r.VersionRoot(), filesOf(m, release.TableSFT)[0]))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) == 0 {
				t.Fatal("no SFT rows")
			}
			for _, row := range rows {
				if len(row.Messages) != 5 || row.Messages[0].Role != "system" || row.Messages[0].Content != system || row.Messages[1].Content != "What is 1+1?" {
					t.Errorf("SFT row %s: %+v, want system, few-shot pair, question, answer", row.PromptID, row.Messages)
					break
				}
			}
			t.Logf("%s: %d requests, all with the system turn; %d SFT rows, all starting with it", name, len(tt.sent), len(rows))
		})
	}
}

// TestSFTGenGSM8KAsPublished runs the first 300 records of GSM8K train as
// published (answer = worked solution ending in "#### n"): every RLVR
// ground_truth must be the number after ####, and the whole solution must
// be in the solution column.
func TestSFTGenGSM8KAsPublished(t *testing.T) {
	const n = 300
	f, err := os.Open("../testdata/datasets/gsm8k/train.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	var out bytes.Buffer
	key := map[string]teacher.Solution{}
	want := map[string]string{} // id -> number after ####
	solution := map[string]string{}
	for i := 0; i < n && sc.Scan(); i++ {
		var rec struct{ Question, Answer string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("gsm8k-train-%d", i)
		_, after, _ := strings.Cut(rec.Answer, "####")
		want[id] = strings.TrimSpace(after)
		solution[id] = rec.Answer
		key[rec.Question+"\n\n"+recipe.DefaultInstruction] = teacher.Solution{Steps: []string{"Work it out."}, Answer: want[id]}
		line, _ := json.Marshal(map[string]string{"id": id, "question": rec.Question, "answer": rec.Answer})
		out.Write(append(line, '\n'))
	}
	path := filepath.Join(t.TempDir(), "gsm8k.jsonl")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tt := startRecordingTeacher(t, key)
	r := realRecipe(t, path, tt.URL)
	r.Input.Text = "question"
	if err := runSFTGen(t, r); err != nil {
		t.Fatal(err)
	}
	m := checkRelease(t, r)
	var rlvr []schemas.RLVRExample
	for _, p := range filesOf(m, release.TableRLVR) {
		rows, err := parquet.ReadFile[schemas.RLVRExample](filepath.Join(r.VersionRoot(), p))
		if err != nil {
			t.Fatal(err)
		}
		rlvr = append(rlvr, rows...)
	}
	if len(rlvr) < 20 {
		t.Fatalf("only %d RLVR rows (counts %+v)", len(rlvr), m.Counts)
	}
	for _, row := range rlvr {
		if row.GroundTruth != want[row.PromptID] || row.Solution != strings.TrimSpace(solution[row.PromptID]) {
			t.Errorf("%s: ground_truth %q (solution %q), want %q after ####", row.PromptID, row.GroundTruth, row.Solution, want[row.PromptID])
		}
	}
	t.Logf("%d GSM8K records: %d RLVR rows, every ground_truth the number after ####", n, len(rlvr))
}
