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
