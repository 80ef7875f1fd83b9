package teacher

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// The token budget means what it says: the client spends up to it, then
// refuses requests with an error saying how far it got; it overshoots by at
// most what the requests in flight spend (4 here, each at most 2 × 100
// completion tokens plus a short prompt).
func TestTokenBudgetIsSpentUpToIt(t *testing.T) {
	sim := startSim(t, SimConfig{Solve: addSolver, Accuracy: 1})
	cfg := testConfig(sim.URL(), sim.Model())
	cfg.TokenBudget = 5000
	c, _ := NewClient(cfg)
	results := runRequests(t, c, 4, 100, func(i int) Request {
		return Request{Messages: userMsg(fmt.Sprintf("What is %d+1?", i)), N: 2, MaxTokens: 100}
	})
	var ok, over int
	for _, r := range results {
		switch {
		case r.Err == nil:
			ok++
		case errors.Is(r.Err, ErrBudgetExceeded) && IsFatal(r.Err):
			over++
			if !strings.Contains(r.Err.Error(), "of 5000 tokens spent") {
				t.Errorf("budget error does not say why: %v", r.Err)
			}
		default:
			t.Errorf("unexpected error %v", r.Err)
		}
	}
	spent := c.Ledger().Spent()
	t.Logf("%d requests admitted, %d refused; %d of 5000 tokens spent", ok, over, spent)
	const inFlight, worstRequest = 4, 2*100 + 50
	if ok == 0 || over == 0 || spent < cfg.TokenBudget*9/10 || spent > cfg.TokenBudget+inFlight*worstRequest {
		t.Errorf("admitted %d, refused %d, spent %d of %d", ok, over, spent, cfg.TokenBudget)
	}
}

func TestUsageAndCost(t *testing.T) {
	sim := startSim(t, SimConfig{Solve: addSolver, Accuracy: 1})
	c, _ := NewClient(testConfig(sim.URL(), sim.Model()))
	for range 3 {
		if _, err := c.Complete(context.Background(), Request{Messages: userMsg("What is 2+3?"), N: 2}); err != nil {
			t.Fatal(err)
		}
	}
	u := c.Usage()["sim-teacher"]
	if u.Requests != 3 || u.Samples != 6 || u.PromptTokens == 0 || u.CompletionTokens == 0 {
		t.Fatalf("usage = %+v", u)
	}
	p := Price{PromptPerMillion: 1, CompletionPerMillion: 2}
	want := float64(u.PromptTokens)/1e6 + 2*float64(u.CompletionTokens)/1e6
	if got := u.Cost(p); math.Abs(got-want) > 1e-12 {
		t.Errorf("Cost = %v, want %v", got, want)
	}
}

func TestEstimate(t *testing.T) {
	var e Estimate
	for range 10 {
		e.Add(Request{Messages: userMsg("What is 2+3? Explain."), N: 4, MaxTokens: 100})
	}
	if e.Requests != 10 || e.Samples != 40 || e.MaxCompletionTokens != 4000 || e.PromptTokens < 10*6 {
		t.Errorf("estimate = %+v", e)
	}
}
