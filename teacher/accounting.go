package teacher

import (
	"fmt"
	"maps"
	"sync"
)

// Price is what a model's tokens cost, in any currency, per million tokens.
type Price struct {
	PromptPerMillion     float64 `yaml:"prompt_per_million" json:"prompt_per_million"`
	CompletionPerMillion float64 `yaml:"completion_per_million" json:"completion_per_million"`
}

// ModelUsage is the token account of one model, as the manifest reports it.
type ModelUsage struct {
	// Requests is the number of HTTP calls that returned a completion.
	Requests int64 `json:"requests"`
	// Samples is the number of samples returned (calls and cache).
	Samples int64 `json:"samples"`
	// PromptTokens and CompletionTokens were spent by this run's calls.
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	// CachedSamples were served from the response cache; CachedTokens is
	// what they cost when first generated (not spent again).
	CachedSamples int64 `json:"cached_samples"`
	CachedTokens  int64 `json:"cached_tokens"`
}

// Add returns u plus v.
func (u ModelUsage) Add(v ModelUsage) ModelUsage {
	return ModelUsage{
		Requests:         u.Requests + v.Requests,
		Samples:          u.Samples + v.Samples,
		PromptTokens:     u.PromptTokens + v.PromptTokens,
		CompletionTokens: u.CompletionTokens + v.CompletionTokens,
		CachedSamples:    u.CachedSamples + v.CachedSamples,
		CachedTokens:     u.CachedTokens + v.CachedTokens,
	}
}

// Cost estimates what this usage cost at price p (cached tokens are free).
func (u ModelUsage) Cost(p Price) float64 {
	return float64(u.PromptTokens)*p.PromptPerMillion/1e6 + float64(u.CompletionTokens)*p.CompletionPerMillion/1e6
}

// Ledger keeps the token account per model and enforces the token budget.
// It is safe for concurrent use. The budget means what it says: requests
// are admitted while what is spent plus what the requests in flight are
// expected to spend (their estimated prompt plus the completion tokens an
// average sample has taken so far) stays under the budget, so a run spends
// close to the whole budget; once a request is refused, the requests
// already in flight still finish and are booked, so the overshoot is at
// most what those requests spend beyond their expectation.
//
// (It used to reserve the worst case, prompt plus n × max_tokens, of every
// request in flight: with 64 requests of 4 samples × 4096 tokens in flight,
// a 200,000-token budget refused the first requests after 254 tokens.)
type Ledger struct {
	mu       sync.Mutex
	budget   int64
	spent    int64
	reserved int64
	inFlight int64
	// completionTokens and samples of calls so far: the expected
	// completion of a sample is their ratio.
	completionTokens, samples int64
	models                    map[string]ModelUsage
}

// NewLedger returns a ledger with a budget of budget tokens (0 = unlimited).
func NewLedger(budget int64) *Ledger {
	return &Ledger{budget: budget, models: map[string]ModelUsage{}}
}

// expected is what req is expected to spend: its estimated prompt tokens
// plus n times the average completion of a sample so far (nothing before
// the first call returns: the first requests in flight are the overshoot
// the budget allows).
func (l *Ledger) expected(req Request) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := EstimatePromptTokens(req)
	if l.samples > 0 {
		e += int64(req.samples()) * l.completionTokens / l.samples
	}
	return e
}

// reserve admits a request expected to cost exp tokens, or returns
// ErrBudgetExceeded saying how far the run got. release must be called with
// the same exp.
func (l *Ledger) reserve(exp int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.budget > 0 && l.spent+l.reserved+exp > l.budget {
		return fmt.Errorf("%w: %d of %d tokens spent (--max_teacher_tokens) on %d requests, %d requests still in flight",
			ErrBudgetExceeded, l.spent, l.budget, l.requests(), l.inFlight)
	}
	l.reserved += exp
	l.inFlight++
	return nil
}

func (l *Ledger) requests() int64 {
	var n int64
	for _, m := range l.models {
		n += m.Requests
	}
	return n
}

// release returns a reservation and records what the call actually spent.
func (l *Ledger) release(worst int64, model string, u Usage, samples int, called bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reserved -= worst
	l.inFlight--
	if !called {
		return
	}
	l.spent += u.PromptTokens + u.CompletionTokens
	l.completionTokens += u.CompletionTokens
	l.samples += int64(samples)
	m := l.models[model]
	m.Requests++
	m.Samples += int64(samples)
	m.PromptTokens += u.PromptTokens
	m.CompletionTokens += u.CompletionTokens
	l.models[model] = m
}

// recordCached books samples served from the cache.
func (l *Ledger) recordCached(model string, samples int, tokens int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.models[model]
	m.Samples += int64(samples)
	m.CachedSamples += int64(samples)
	m.CachedTokens += tokens
	l.models[model] = m
}

// Usage returns a copy of the account per model.
func (l *Ledger) Usage() map[string]ModelUsage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.models)
}

// Spent returns the tokens spent so far by calls (not the cache).
func (l *Ledger) Spent() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.spent
}

// Estimate is a dry-run forecast of a set of requests.
type Estimate struct {
	Requests int64 `json:"requests"`
	Samples  int64 `json:"samples"`
	// PromptTokens is estimated from text length (about 4 bytes a token);
	// sftgen's dry run counts them with a tokenizer instead.
	PromptTokens int64 `json:"prompt_tokens"`
	// MaxCompletionTokens is n × max_tokens summed: the worst case.
	MaxCompletionTokens int64 `json:"max_completion_tokens"`
}

// Add books one request in the estimate.
func (e *Estimate) Add(req Request) {
	e.Requests++
	e.Samples += int64(req.samples())
	e.PromptTokens += EstimatePromptTokens(req)
	e.MaxCompletionTokens += int64(req.samples()) * int64(req.MaxTokens)
}

// EstimatePromptTokens estimates the prompt tokens of req without a
// tokenizer: about 4 bytes of text per token plus a few per message for the
// chat template. It errs high, which is what a budget wants.
func EstimatePromptTokens(req Request) int64 {
	var n int64
	for _, m := range req.Messages {
		n += int64(len(m.Content)+3)/4 + 8
	}
	return n
}
