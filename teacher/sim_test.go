package teacher

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/schemas"
)

func addSolver(prompt string) (Solution, bool) {
	if prompt == "What is 2+3?" {
		return Solution{Steps: []string{"Add 2 and 3.", "2 + 3 = 5."}, Answer: "5"}, true
	}
	return Solution{}, false
}

func userMsg(text string) []schemas.Message {
	return []schemas.Message{{Role: schemas.RoleUser, Content: text}}
}

// testConfig returns a client config for url with fast retries.
func testConfig(url, model string) Config {
	cfg := DefaultConfig()
	cfg.URL = url
	cfg.Model = model
	cfg.Timeout = 5 * time.Second
	cfg.RetryInitial = 5 * time.Millisecond
	cfg.RetryMaxInterval = 50 * time.Millisecond
	cfg.MaxRetryAfter = 100 * time.Millisecond
	cfg.DownAfter = time.Second
	cfg.MaxTokens = 0
	return cfg
}

func startSim(t testing.TB, cfg SimConfig) *Sim {
	t.Helper()
	s, err := StartSim(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSimAnswersDeterministically(t *testing.T) {
	sim := startSim(t, SimConfig{Accuracy: 0.5, Solve: addSolver, Seed: 7})
	c, err := NewClient(testConfig(sim.URL(), sim.Model()))
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Messages: userMsg("What is 2+3?"), N: 16, Temperature: 1}
	a, err := c.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Choices) != 16 || len(b.Choices) != 16 {
		t.Fatalf("got %d and %d choices, want 16", len(a.Choices), len(b.Choices))
	}
	correct := 0
	for i := range a.Choices {
		if a.Choices[i].Text != b.Choices[i].Text {
			t.Errorf("sample %d differs between identical requests", i)
		}
		if strings.HasSuffix(a.Choices[i].Text, `\boxed{5}$.`) {
			correct++
		} else if !strings.Contains(a.Choices[i].Text, `\boxed{`) {
			t.Errorf("sample %d has no boxed answer: %q", i, a.Choices[i].Text)
		}
	}
	if correct == 0 || correct == 16 {
		t.Errorf("%d of 16 correct at accuracy 0.5", correct)
	}
	if a.Usage.PromptTokens == 0 || a.Usage.CompletionTokens == 0 {
		t.Errorf("usage not read: %+v", a.Usage)
	}
}

// TestSimReward: the simulated teacher's /pooling answers as vLLM's reward
// pooling does, and the reward client reads it: a response ending in the
// known answer scores in [1, 3], any other in [-3, -1], the same response
// always the same.
func TestSimReward(t *testing.T) {
	solve := func(p string) (Solution, bool) {
		if p == "What is 6 times 7?" {
			return Solution{Steps: []string{"6 times 7 is 42."}, Answer: "42"}, true
		}
		return Solution{}, false
	}
	sim, err := StartSim(SimConfig{Model: "sim", Solve: solve})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	cfg := DefaultRewardConfig()
	cfg.URL, cfg.Model = sim.RootURL(), "sim"
	if err := RewardPreflight(t.Context(), cfg, nil); err != nil {
		t.Fatalf("preflight against the simulated reward model: %v", err)
	}
	client, err := NewRewardClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	prompt := []schemas.Message{{Role: schemas.RoleUser, Content: "What is 6 times 7?"}}
	for _, c := range []struct {
		response string
		low      float64
	}{
		{"Step 1: 6 times 7 is 42.\n\nTherefore, the final answer is $\\boxed{42}$.", 1},
		{"6 sevens make 42, so $\\boxed{ 42 }$", 1},
		{"First I guessed $\\boxed{42}$ but it is $\\boxed{48}$.", -3},
		{"Step 1: 6 times 7 is 48.\n\nTherefore, the final answer is $\\boxed{48}$.", -3},
		{"It is 42.", -3},
	} {
		got, err := client.Score(t.Context(), prompt, c.response)
		if err != nil {
			t.Fatal(err)
		}
		if got < c.low || got > c.low+2 || got != sim.SimReward(prompt[0].Content, c.response) {
			t.Errorf("%q scored %v, want in [%v, %v] and the sim's own score", c.response, got, c.low, c.low+2)
		}
	}
	if unknown, _ := client.Score(t.Context(), []schemas.Message{{Role: schemas.RoleUser, Content: "Unknown?"}}, "$\\boxed{42}$"); unknown > -1 {
		t.Errorf("a prompt the sim does not know scored %v, want <= -1", unknown)
	}
	if st := sim.Stats(); st.PoolingRequests != 7 { // the preflight and six scores
		t.Errorf("pooling requests %d, want 7", st.PoolingRequests)
	}
}
