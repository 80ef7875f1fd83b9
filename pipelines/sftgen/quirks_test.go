package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/builtin"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// These tests run the real sftgen main (a child process, Prism inside)
// against a simulated teacher with one quirk of real servers each.

const quirkInput = "builtin:arithmetic?n=12"

// startQuirkySim starts a simulated teacher that knows the answers of
// quirkInput, with the quirks set in cfg.
func startQuirkySim(t *testing.T, cfg teacher.SimConfig) *teacher.Sim {
	t.Helper()
	spec, err := builtin.ParseSpec(quirkInput)
	if err != nil {
		t.Fatal(err)
	}
	key := map[string]teacher.Solution{}
	for _, p := range builtin.Generate(spec) {
		key[p.Text] = teacher.Solution{Steps: p.Steps, Answer: p.Answer}
	}
	cfg.Solve = func(prompt string) (teacher.Solution, bool) {
		text, _, _ := strings.Cut(prompt, "\n\n") // the prompt before the instruction
		sol, ok := key[text]
		return sol, ok
	}
	cfg.Accuracy = 0.8
	cfg.Model = "quirky-r1"
	sim, err := teacher.StartSim(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

// quirkRun is one finished sftgen run of a test.
type quirkRun struct {
	code    int
	stderr  string
	elapsed time.Duration
	dataset string // <output>/<name>
}

// runAgainst runs sftgen on quirkInput against sim and waits for it.
func runAgainst(t *testing.T, sim *teacher.Sim, env []string, args ...string) quirkRun {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	args = append([]string{"--input=" + quirkInput, "--teacher_url=" + sim.URL(), "--teacher_model=quirky-r1", "--output=" + out, "--name=quirks", "--samples_per_prompt=4"}, args...)
	p := startSFTGen(t, env, args...)
	code := p.wait(t)
	return quirkRun{code: code, stderr: p.stderr.String(), elapsed: time.Since(p.start), dataset: filepath.Join(out, "quirks")}
}

// released reads the manifest and SFT rows of a successful run.
func (q quirkRun) released(t *testing.T) (release.Manifest, []schemas.SFTExample) {
	t.Helper()
	if q.code != 0 {
		t.Fatalf("sftgen exited %d: %s", q.code, q.stderr)
	}
	v, err := os.ReadFile(filepath.Join(q.dataset, "LATEST"))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(q.dataset, strings.TrimSpace(string(v)))
	data, err := os.ReadFile(filepath.Join(root, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m release.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var rows []schemas.SFTExample
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, release.TableSFT+"/") {
			r, err := parquet.ReadFile[schemas.SFTExample](filepath.Join(root, f.Path))
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r...)
		}
	}
	if len(rows) == 0 || int64(len(rows)) != m.Counts.SFTRows {
		t.Fatalf("%d SFT rows read, manifest says %d", len(rows), m.Counts.SFTRows)
	}
	return m, rows
}

// Reasoning wherever the server puts it (reasoning_content, reasoning,
// inline <think>) is in every released SFT row, in the inline form by
// default; reasoning tokens are counted apart where the server reports
// them. The verifier graded the answer alone: rows were kept.
func TestReasoningReleased(t *testing.T) {
	for _, field := range []string{"reasoning_content", "reasoning", "think"} {
		t.Run(field, func(t *testing.T) {
			sim := startQuirkySim(t, teacher.SimConfig{ReasoningField: field})
			m, rows := runAgainst(t, sim, nil).released(t)
			for _, r := range rows {
				turn := r.Messages[len(r.Messages)-1]
				thought, answer, ok := teacher.SplitThink(turn.Content)
				if turn.Role != schemas.RoleAssistant || !strings.HasPrefix(turn.Content, "<think>\n") || !ok ||
					!strings.Contains(thought, "Step 1") || !strings.HasPrefix(answer, "Therefore") || r.Reasoning != "" {
					t.Fatalf("row %s/%d: assistant turn %q (reasoning column %q)", r.PromptID, r.SampleIndex, turn.Content, r.Reasoning)
				}
			}
			u := m.TokenUsage["quirky-r1"]
			if wantReasoning := field != "think"; (u.ReasoningTokens > 0) != wantReasoning || u.ReasoningTokens >= u.CompletionTokens {
				t.Errorf("token usage %+v: reasoning tokens reported: %v", u, wantReasoning)
			}
			t.Logf("%s: %d SFT rows, all with reasoning inline; %d of %d completion tokens reasoning", field, len(rows), u.ReasoningTokens, u.CompletionTokens)
		})
	}
}

// sampling.reasoning: column keeps the turn the answer alone and the
// reasoning in its own column.
func TestReasoningColumn(t *testing.T) {
	sim := startQuirkySim(t, teacher.SimConfig{ReasoningField: "reasoning"})
	recipe := filepath.Join(t.TempDir(), "recipe.yaml")
	if err := os.WriteFile(recipe, []byte("sampling:\n  reasoning: column\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, rows := runAgainst(t, sim, nil, "--recipe="+recipe).released(t)
	for _, r := range rows {
		turn := r.Messages[len(r.Messages)-1].Content
		if strings.Contains(turn, "<think>") || !strings.HasPrefix(turn, "Therefore") || !strings.Contains(r.Reasoning, "Step 1") {
			t.Fatalf("row %s/%d: turn %q, reasoning column %q", r.PromptID, r.SampleIndex, turn, r.Reasoning)
		}
	}
}

// A server that answers n > 1 with HTTP 400 still yields k samples per
// prompt and no dead letter.
func TestServerRefusingN(t *testing.T) {
	sim := startQuirkySim(t, teacher.SimConfig{SingleSample: true})
	q := runAgainst(t, sim, nil)
	m, _ := q.released(t)
	c := m.Counts
	toTeacher := c.PromptsIn - c.PromptsContaminated - c.PromptsDuplicate
	if c.PromptsDeadLetter != 0 || c.SamplesGenerated != 4*toTeacher || toTeacher == 0 {
		t.Errorf("counts %+v: want no dead letter and 4 samples for each of %d prompts", c, toTeacher)
	}
	if u := m.TokenUsage["quirky-r1"]; !u.SingleSampleRequests || u.Requests != 4*toTeacher {
		t.Errorf("token usage %+v: want %d single-sample requests", u, 4*toTeacher)
	}
	if !strings.Contains(q.stderr, "refuses n > 1") {
		t.Errorf("stderr does not say the server refuses n > 1: %s", q.stderr)
	}
	t.Logf("%d prompts to the teacher, %d samples, %d dead letters; server refused %d requests", toTeacher, c.SamplesGenerated, c.PromptsDeadLetter, sim.Stats().BadRequests)
}

// The manifest counts HTTP requests, 429s and retries as the server saw
// them, and marks token counts estimated for want of usage.
func TestAccountingAsMade(t *testing.T) {
	sim := startQuirkySim(t, teacher.SimConfig{NoUsage: true, RateLimitRate: 0.25, RetryAfter: 10 * time.Millisecond, Seed: 9})
	m, _ := runAgainst(t, sim, nil).released(t)
	u := m.TokenUsage["quirky-r1"]
	st := sim.Stats()
	const preflight = 2 // one tiny request with n = 1, one with n = 2
	// The preflight's requests are not the run's; a preflight request
	// answered 429 does not count as the run's either.
	if u.Requests < st.Requests-preflight || u.Requests > st.Requests || u.RateLimited > st.RateLimited || u.RateLimited < st.RateLimited-preflight || u.Retries[teacher.CauseRateLimited] != u.RateLimited {
		t.Errorf("manifest books %d requests, %d 429s, retries %v; the server saw %d requests (%d from the preflight), %d 429s", u.Requests, u.RateLimited, u.Retries, st.Requests, preflight, st.RateLimited)
	}
	if !u.Estimated || u.EstimatedPromptTokens != u.PromptTokens || u.EstimatedCompletionTokens != u.CompletionTokens || u.PromptTokens == 0 {
		t.Errorf("token usage %+v: every count is an estimate and must say so", u)
	}
	t.Logf("manifest: %d requests, %d 429s, retries %v, estimated %v; server: %d requests, %d 429s", u.Requests, u.RateLimited, u.Retries, u.Estimated, st.Requests, st.RateLimited)
}

// A bad key, an unknown model and a spent quota stop the run in under a
// minute, exit non-zero, publish nothing and say why in one line.
func TestFatalTeacherAnswers(t *testing.T) {
	keyRecipe := filepath.Join(t.TempDir(), "recipe.yaml")
	if err := os.WriteFile(keyRecipe, []byte("teacher:\n  api_key_env: QUIRKS_TEACHER_KEY\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		sim   teacher.SimConfig
		env   []string
		args  []string
		cause string
	}{
		{"401 bad key", teacher.SimConfig{APIKey: "right"}, []string{"QUIRKS_TEACHER_KEY=wrong"}, []string{"--recipe=" + keyRecipe}, "bad API key"},
		{"404 unknown model", teacher.SimConfig{}, nil, []string{"--teacher_model=quirky-r2"}, `unknown model: teacher.model "quirky-r2"`},
		// The quota runs out mid-run, after the preflight and a few prompts.
		{"429 insufficient_quota", teacher.SimConfig{QuotaAfter: 5}, nil, []string{"--teacher_max_concurrency=2"}, "quota exhausted"},
		// A reward model at a dead address: stopped by its own preflight,
		// not after every prompt's retries.
		{"reward model unreachable", teacher.SimConfig{}, nil, []string{"--reward_url=" + closedURL(t), "--reward_model=rm"}, "reward.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := startQuirkySim(t, tt.sim)
			q := runAgainst(t, sim, tt.env, tt.args...) // a later flag overrides an earlier one
			if q.code == 0 || q.elapsed >= time.Minute {
				t.Errorf("exit %d after %s; want non-zero within a minute", q.code, q.elapsed)
			}
			if _, err := os.Stat(filepath.Join(q.dataset, "LATEST")); !os.IsNotExist(err) {
				t.Errorf("LATEST exists (%v): a failed run published", err)
			}
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(q.stderr), "\n") {
				if strings.Contains(l, tt.cause) {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 {
				t.Errorf("want one line naming %q, got stderr:\n%s", tt.cause, q.stderr)
			}
			t.Logf("exit %d after %s: %s", q.code, q.elapsed.Round(time.Millisecond), strings.Join(lines, ""))
		})
	}
}

// closedURL is the URL of a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}
