package teacher

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syllabus-dev/syllabus/schemas"
)

// Solution is the worked answer to a prompt the simulated teacher knows.
type Solution struct {
	Steps  []string
	Answer string
}

// SimConfig configures the simulated teacher. The zero value of a fault
// knob disables that fault.
type SimConfig struct {
	// Model is the model id the sim serves (default "sim-teacher"); a
	// request for another model gets 404, as from vLLM.
	Model string
	// Accuracy is the probability that a sample for a known prompt is
	// correct.
	Accuracy float64
	// Solve is the answer key: it returns the solution of prompts it
	// knows. Unknown prompts (or a nil Solve) get plausible wrong answers.
	Solve func(prompt string) (Solution, bool)
	// Latency is how long a request holds a decode slot.
	Latency time.Duration
	// Slots is the number of decode slots (default 64): at most Slots
	// requests are decoded at once, the rest wait in a queue, as in vLLM.
	Slots int
	// Seed makes samples and faults reproducible.
	Seed int64

	// Fault injection, as fractions of HTTP requests received.
	// RateLimitRate answers 429 with Retry-After (RetryAfter, default 1 s;
	// sent as retry-after-ms and, rounded up, Retry-After seconds).
	RateLimitRate float64
	RetryAfter    time.Duration
	// ServerErrorRate answers 500 or 503.
	ServerErrorRate float64
	// DropRate closes the connection without an answer.
	DropRate float64
	// TruncateBodyRate sends half of a 200 body, then closes.
	TruncateBodyRate float64
	// LengthRate is the fraction of samples cut short with
	// finish_reason "length" (besides those cut by max_tokens).
	LengthRate float64
	// MaxQueue, when > 0, is how many requests may wait for a slot; more
	// are turned away with 429 and Retry-After, as an overloaded hosted
	// API or TGI (--max-concurrent-requests) does.
	MaxQueue int
	// ContextTokens, when > 0, is the model's context window: a request
	// whose prompt (estimated) plus max_tokens exceeds it gets vLLM's 400.
	ContextTokens int

	// Quirks of real servers.
	// ReasoningField makes the sim a reasoning model: a sample's worked
	// steps are its reasoning and the final sentence its content. It
	// names where the reasoning goes: "reasoning_content" (older vLLM),
	// "reasoning" (newer vLLM) or "think" (inline <think>…</think> at the
	// start of content, no reasoning parser). usage then reports
	// completion_tokens_details.reasoning_tokens.
	ReasoningField string
	// SingleSample answers requests with n > 1 with HTTP 400 "n must be
	// 1", as several hosted APIs do.
	SingleSample bool
	// NoUsage leaves usage out of every answer (llama.cpp and some
	// proxies).
	NoUsage bool
	// APIKey, when set, is the only bearer token accepted; other requests
	// get OpenAI's 401 invalid_api_key.
	APIKey string
	// QuotaAfter, when > 0, answers every chat request after the first
	// QuotaAfter with OpenAI's 429 insufficient_quota, without
	// Retry-After: the account's credit is spent.
	QuotaAfter int64
	// InvalidTagRate is the fraction of skill-tag answers that break the
	// protocol (a skill outside the catalogue, or prose instead of JSON),
	// decided per request, so a retry may succeed.
	InvalidTagRate float64
}

// SimStats is what the simulated teacher measured, server side.
type SimStats struct {
	// Requests is HTTP requests received; Completed those answered 200.
	Requests, Completed int64
	// PoolingRequests is requests to the simulated reward model (/pooling).
	PoolingRequests int64
	// Samples is the number of choices returned.
	Samples int64
	// Faults injected or errors answered.
	RateLimited, ServerErrors, Dropped, TruncatedBodies, BadRequests int64
	// BusySlotSeconds is the sum over requests of the time each held a
	// decode slot.
	BusySlotSeconds float64
	// FirstArrival is when the first request arrived; LastCompletion when
	// the last slot was released.
	FirstArrival, LastCompletion time.Time
	Slots                        int
	// PeakBusy is the largest number of slots busy at once.
	PeakBusy int
	// RampUp is the time from FirstArrival until every slot was busy
	// (0 if that never happened).
	RampUp time.Duration
	// SteadyUtilization is the same once every slot was first busy: 1 −
	// idle slot-seconds / (Slots × (LastCompletion − that moment)). It
	// leaves out the ramp-up, which measures how fast the machine schedules
	// the client's first C requests, not whether the client keeps the
	// slots full (0 if the slots were never all busy).
	SteadyUtilization float64
	// Utilization is BusySlotSeconds / (Slots × (LastCompletion −
	// FirstArrival)): 1 means every slot decoded all the time.
	Utilization float64
}

// Sim is an OpenAI-compatible chat-completions server on loopback: the
// simulated teacher (StartSim) or the replay server (StartReplay).
type Sim struct {
	cfg   SimConfig
	gen   generator
	ln    net.Listener
	srv   *http.Server
	slots *slotScheduler
	// pooling serves the simulated reward model (StartSim only: a replay
	// server has no scores of its own to give).
	pooling bool

	faultMu  sync.Mutex
	faultRNG *rand.Rand
	nextID   atomic.Int64
	chats    atomic.Int64 // chat requests past the auth and model checks
	draws    atomic.Int64 // unseeded draws of a SingleSample sim

	mu    sync.Mutex
	stats SimStats
}

// generator produces the n samples of a request, or an error message the
// server answers 400 with.
type generator func(prompt string, req *simRequest, n int) ([]string, error)

// simRequest is the part of a request body the servers read.
type simRequest struct {
	Model     string            `json:"model"`
	Messages  []schemas.Message `json:"messages"`
	N         int               `json:"n"`
	MaxTokens int               `json:"max_tokens"`
	Seed      *int64            `json:"seed"`
	Stream    bool              `json:"stream"`
	// ResponseFormat is set on the skills protocol's requests.
	ResponseFormat *simResponseFormat `json:"response_format"`
}

// StartSim starts the simulated teacher on 127.0.0.1 at a free port. Its
// samples are deterministic given (prompt, request seed, sample index) and
// cfg.Seed: a correct sample is a rationale built from the Solution's steps
// ending in \boxed{Answer}; a wrong one ends in a plausible wrong number.
func StartSim(cfg SimConfig) (*Sim, error) {
	s := &Sim{cfg: cfg, pooling: true}
	s.gen = s.simulate
	return s.start()
}

func (s *Sim) start() (*Sim, error) {
	if s.cfg.Model == "" {
		s.cfg.Model = "sim-teacher"
	}
	if s.cfg.Slots <= 0 {
		s.cfg.Slots = 64
	}
	if s.cfg.RetryAfter <= 0 {
		s.cfg.RetryAfter = time.Second
	}
	s.slots = newSlotScheduler(s.cfg.Slots)
	s.faultRNG = rand.New(rand.NewPCG(uint64(s.cfg.Seed), 0x5eed))
	s.stats.Slots = s.cfg.Slots
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("teacher: sim: %w", err)
	}
	s.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.handle)
	if s.pooling {
		mux.HandleFunc("POST /pooling", s.handlePooling)
	}
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(w, r) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []any{map[string]any{"id": s.cfg.Model, "object": "model"}}})
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// authorized answers 401 unless the request carries the sim's APIKey.
func (s *Sim) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.APIKey == "" || r.Header.Get("Authorization") == "Bearer "+s.cfg.APIKey {
		return true
	}
	s.count(func(st *SimStats) { st.BadRequests++ })
	writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{
		"message": "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
		"type":    "invalid_request_error", "param": nil, "code": "invalid_api_key"}})
	return false
}

// URL returns the base URL, ending in /v1.
func (s *Sim) URL() string { return "http://" + s.ln.Addr().String() + "/v1" }

// RootURL is the server root, where the simulated reward model's /pooling
// endpoint is (reward.url).
func (s *Sim) RootURL() string { return "http://" + s.ln.Addr().String() }

// Model returns the model id the server answers to.
func (s *Sim) Model() string { return s.cfg.Model }

// Close stops the server, dropping requests in flight.
func (s *Sim) Close() error { return s.srv.Close() }

// Stats returns what the server measured so far.
func (s *Sim) Stats() SimStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.PeakBusy, st.RampUp = s.slots.peakAndFull(st.FirstArrival)
	if span := st.LastCompletion.Sub(st.FirstArrival).Seconds(); span > 0 {
		st.Utilization = st.BusySlotSeconds / (float64(st.Slots) * span)
	}
	st.SteadyUtilization = s.slots.steady(st.LastCompletion)
	return st
}

// ResetStats zeroes the measurements (between benchmark rounds).
func (s *Sim) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = SimStats{Slots: s.cfg.Slots}
	s.slots.resetPeak()
}

func (s *Sim) count(f func(st *SimStats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// writeError answers in vLLM's error shape, which also carries OpenAI's.
func writeError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]any{
		"object": "error", "message": msg, "type": typ, "code": status,
		"error": map[string]any{"message": msg, "type": typ, "code": status},
	})
}

func (s *Sim) handle(w http.ResponseWriter, r *http.Request) {
	s.count(func(st *SimStats) {
		st.Requests++
		if st.FirstArrival.IsZero() {
			st.FirstArrival = time.Now()
		}
	})
	if !s.authorized(w, r) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return
	}
	var req simRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.badRequest(w, "BadRequestError", "invalid JSON body: "+err.Error())
		return
	}
	if req.Model != s.cfg.Model {
		s.count(func(st *SimStats) { st.BadRequests++ })
		writeError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", req.Model))
		return
	}
	if len(req.Messages) == 0 {
		s.badRequest(w, "BadRequestError", "messages must not be empty")
		return
	}
	if req.Stream {
		s.badRequest(w, "BadRequestError", "the simulated teacher does not stream")
		return
	}
	n := max(req.N, 1)
	if s.cfg.SingleSample && n > 1 {
		s.badRequest(w, "BadRequestError", "n must be 1 (this server draws one sample per request)")
		return
	}
	if s.cfg.QuotaAfter > 0 && s.chats.Add(1) > s.cfg.QuotaAfter {
		s.count(func(st *SimStats) { st.RateLimited++ })
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]any{
			"message": "You exceeded your current quota, please check your plan and billing details.",
			"type":    "insufficient_quota", "param": nil, "code": "insufficient_quota"}})
		return
	}
	if n > 256 {
		s.badRequest(w, "BadRequestError", "n must be at most 256")
		return
	}
	promptTokens := EstimatePromptTokens(Request{Messages: req.Messages})
	if s.cfg.ContextTokens > 0 && int(promptTokens)+req.MaxTokens > s.cfg.ContextTokens {
		s.badRequest(w, "BadRequestError", fmt.Sprintf(
			"This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
			s.cfg.ContextTokens, int(promptTokens)+req.MaxTokens, promptTokens, req.MaxTokens))
		return
	}

	// Faults decided per HTTP request, so a retry may succeed.
	s.faultMu.Lock()
	u := s.faultRNG.Float64()
	coin := s.faultRNG.IntN(2)
	s.faultMu.Unlock()
	c := s.cfg
	switch {
	case u < c.RateLimitRate:
		s.count(func(st *SimStats) { st.RateLimited++ })
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(c.RetryAfter.Seconds()))))
		w.Header().Set("Retry-After-Ms", strconv.FormatInt(c.RetryAfter.Milliseconds(), 10))
		writeError(w, http.StatusTooManyRequests, "RateLimitError", "rate limit reached, retry later")
		return
	case u < c.RateLimitRate+c.ServerErrorRate:
		s.count(func(st *SimStats) { st.ServerErrors++ })
		if coin == 0 {
			writeError(w, http.StatusInternalServerError, "InternalServerError", "simulated internal error")
		} else {
			writeError(w, http.StatusServiceUnavailable, "ServiceUnavailableError", "simulated overload")
		}
		return
	case u < c.RateLimitRate+c.ServerErrorRate+c.DropRate:
		s.count(func(st *SimStats) { st.Dropped++ })
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	truncateBody := u < c.RateLimitRate+c.ServerErrorRate+c.DropRate+c.TruncateBodyRate

	prompt := lastUserMessage(req.Messages)
	texts, err := s.gen(prompt, &req, n)
	if err != nil {
		s.badRequest(w, "BadRequestError", err.Error())
		return
	}

	if c.MaxQueue > 0 && s.slots.waiting() >= c.MaxQueue {
		s.count(func(st *SimStats) { st.RateLimited++ })
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(c.RetryAfter.Seconds()))))
		w.Header().Set("Retry-After-Ms", strconv.FormatInt(c.RetryAfter.Milliseconds(), 10))
		writeError(w, http.StatusTooManyRequests, "RateLimitError", "server overloaded: queue full")
		return
	}

	// Decode: wait for a slot, hold it for Latency.
	start, ok := s.slots.acquire(r.Context())
	if !ok {
		return
	}
	end := start.Add(c.Latency)
	if wait := time.Until(end); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			end = time.Now()
		}
	}
	s.slots.release(end)
	s.mu.Lock()
	s.stats.BusySlotSeconds += end.Sub(start).Seconds()
	if end.After(s.stats.LastCompletion) {
		s.stats.LastCompletion = end
	}
	s.mu.Unlock()
	if r.Context().Err() != nil {
		return
	}

	resp := wireResponse{
		ID:      fmt.Sprintf("chatcmpl-sim-%d", s.nextID.Add(1)),
		Object:  "chat.completion",
		Created: start.Unix(),
		Model:   s.cfg.Model,
		Usage:   &wireUsage{PromptTokens: promptTokens},
	}
	if c.ReasoningField != "" {
		resp.Usage.CompletionTokensDetails = &wireCompletionUsage{}
	}
	for i, text := range texts {
		finish := "stop"
		if req.MaxTokens > 0 && simTokens(text) > int64(req.MaxTokens) {
			text, finish = text[:min(len(text), 4*req.MaxTokens)], "length"
		} else if c.LengthRate > 0 && sampleRNG(c.Seed, req.Seed, prompt, i, 1).Float64() < c.LengthRate {
			text, finish = text[:len(text)/2], "length"
		}
		ct := simTokens(text)
		resp.Usage.CompletionTokens += ct
		msg := wireMessage{Role: "assistant", Content: &text}
		if c.ReasoningField != "" {
			msg = reasoningMessage(c.ReasoningField, text)
			resp.Usage.CompletionTokensDetails.ReasoningTokens += simTokens(text) - simTokens(*msg.Content)
		}
		resp.Choices = append(resp.Choices, wireChoice{Index: i, Message: msg, FinishReason: &finish})
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens + resp.Usage.CompletionTokens
	if c.NoUsage {
		resp.Usage = nil
	}
	b, _ := json.Marshal(resp)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if truncateBody {
		s.count(func(st *SimStats) { st.TruncatedBodies++ })
		w.WriteHeader(http.StatusOK)
		w.Write(b[:len(b)/2])
		// The handler returns having written less than Content-Length:
		// net/http closes the connection and the client sees a short body.
		return
	}
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	s.count(func(st *SimStats) { st.Completed++; st.Samples += int64(len(texts)) })
}

// reasoningMessage splits a rationale as a reasoning model answers: the
// worked steps as reasoning, the final sentence as content, the reasoning
// put where field says.
func reasoningMessage(field, text string) wireMessage {
	reasoning, answer := text, ""
	if i := strings.LastIndex(text, "\n\nTherefore"); i >= 0 {
		reasoning, answer = text[:i], text[i+2:]
	}
	m := wireMessage{Role: "assistant", Content: &answer}
	switch field {
	case "reasoning_content":
		m.ReasoningContent = &reasoning
	case "reasoning":
		m.Reasoning = &reasoning
	default: // "think"
		inline := "<think>\n" + reasoning + "\n</think>\n\n" + answer
		if answer == "" {
			inline = "<think>\n" + reasoning // cut short while thinking
		}
		m.Content = &inline
	}
	return m
}

func (s *Sim) badRequest(w http.ResponseWriter, typ, msg string) {
	s.count(func(st *SimStats) { st.BadRequests++ })
	writeError(w, http.StatusBadRequest, typ, msg)
}

// simTokens is the sim's token count of text: about 4 bytes a token.
func simTokens(text string) int64 { return int64(len(text)+3) / 4 }

func lastUserMessage(msgs []schemas.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == schemas.RoleUser {
			return msgs[i].Content
		}
	}
	return msgs[len(msgs)-1].Content
}

// sampleRNG is the random source of one sample: a function of the sim's
// seed, the request's seed, the prompt, the sample index and a purpose.
func sampleRNG(simSeed int64, reqSeed *int64, prompt string, index, purpose int) *rand.Rand {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(simSeed))
	h.Write(b[:])
	if reqSeed != nil {
		binary.LittleEndian.PutUint64(b[:], uint64(*reqSeed))
		h.Write([]byte{1})
		h.Write(b[:])
	} else {
		h.Write([]byte{0})
	}
	binary.LittleEndian.PutUint64(b[:], uint64(index)<<8|uint64(purpose))
	h.Write(b[:])
	h.Write([]byte(prompt))
	sum := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
}

// simulate is the simulated teacher's generator.
func (s *Sim) simulate(prompt string, req *simRequest, n int) ([]string, error) {
	if req.ResponseFormat != nil && req.ResponseFormat.Type == "json_schema" {
		return s.skillAnswer(prompt, req, n)
	}
	var sol Solution
	known := false
	if s.cfg.Solve != nil {
		sol, known = s.cfg.Solve(prompt)
	}
	if !known {
		text, _, _ := strings.Cut(prompt, "\n\n") // the problem before the instruction
		sol, known = simSolveSynthesized(text)
	}
	out := make([]string, n)
	for i := range n {
		index := i
		if s.cfg.SingleSample && req.Seed == nil {
			// Unseeded one-sample requests are fresh draws, as on a real
			// server, not sample 0 over and over.
			index = int(s.draws.Add(1))
		}
		rng := sampleRNG(s.cfg.Seed, req.Seed, prompt, index, 0)
		correct := known && rng.Float64() < s.cfg.Accuracy
		out[i] = simRationale(prompt, sol, known, correct, rng)
	}
	return out, nil
}

var openers = []string{
	"Let's solve this step by step.",
	"We work through the problem carefully.",
	"Let me break this problem down.",
	"To answer this, we reason one step at a time.",
}

func simRationale(prompt string, sol Solution, known, correct bool, rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString(openers[rng.IntN(len(openers))])
	b.WriteString("\n\n")
	steps := sol.Steps
	answer := sol.Answer
	if !correct {
		answer = wrongAnswer(prompt, sol.Answer, known, rng)
		if len(steps) > 1 {
			steps = steps[:1+rng.IntN(len(steps)-1)]
		}
		if !known || len(steps) == 0 {
			steps = []string{"Collect the quantities given in the problem and combine them."}
		}
	}
	for i, st := range steps {
		fmt.Fprintf(&b, "Step %d: %s\n", i+1, st)
	}
	if !correct {
		fmt.Fprintf(&b, "Step %d: Putting these together gives %s.\n", len(steps)+1, answer)
	}
	fmt.Fprintf(&b, "\nTherefore, the final answer is $\\boxed{%s}$.", answer)
	return b.String()
}

var numberRE = regexp.MustCompile(`-?\d+(?:\.\d+)?`)

// wrongAnswer returns a plausible wrong answer: near the right one when it
// is known and numeric, else built from the numbers in the prompt.
func wrongAnswer(prompt, right string, known bool, rng *rand.Rand) string {
	if known {
		if v, err := strconv.ParseInt(strings.ReplaceAll(right, ",", ""), 10, 64); err == nil {
			deltas := []int64{1, -1, 2, -2, 10, -10, v, 3}
			d := deltas[rng.IntN(len(deltas))]
			if d == 0 {
				d = 1
			}
			return strconv.FormatInt(v+d, 10)
		}
		if f, err := strconv.ParseFloat(right, 64); err == nil {
			return strconv.FormatFloat(f*1.5+1, 'f', -1, 64)
		}
	}
	nums := numberRE.FindAllString(prompt, -1)
	var sum int64
	for _, s := range nums {
		if v, err := strconv.ParseFloat(s, 64); err == nil && math.Abs(v) < 1e12 {
			sum += int64(v)
		}
	}
	w := sum + int64(rng.IntN(9)+1)
	if strconv.FormatInt(w, 10) == right {
		w++
	}
	return strconv.FormatInt(w, 10)
}

// slotScheduler models a GPU server's decode slots in the server's own
// time: a request decodes for Latency from the moment it gets a slot, and a
// slot freed at time t goes at that same t to the longest-waiting request,
// as continuous batching does. Decoding is thus independent of when the
// HTTP goroutines happen to be scheduled on a loaded machine; a slot idles
// only when no request is waiting for it.
type slotScheduler struct {
	mu     sync.Mutex
	slots  int
	free   int
	queue  []chan time.Time
	peak   int
	fullAt time.Time // when every slot was first busy
	// idle is the free slot-seconds since fullAt, summed up to lastChange,
	// the last time the number of free slots changed.
	idle       float64
	lastChange time.Time
}

// setFree changes the number of free slots at t, booking the idle
// slot-seconds since the last change once every slot has been busy.
// Called with mu held.
func (s *slotScheduler) setFree(free int, t time.Time) {
	if !s.fullAt.IsZero() && t.After(s.lastChange) {
		s.idle += float64(s.free) * t.Sub(s.lastChange).Seconds()
	}
	if t.After(s.lastChange) {
		s.lastChange = t
	}
	s.free = free
}

func newSlotScheduler(n int) *slotScheduler { return &slotScheduler{slots: n, free: n} }

// peakAndFull returns the most slots busy at once and how long after since
// every slot was first busy (0 if never).
func (s *slotScheduler) peakAndFull(since time.Time) (int, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fullAt.IsZero() || since.IsZero() {
		return s.peak, 0
	}
	return s.peak, s.fullAt.Sub(since)
}

// steady returns the utilization from fullAt to end (0 if the slots were
// never all busy).
func (s *slotScheduler) steady(end time.Time) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	span := end.Sub(s.fullAt).Seconds()
	if s.fullAt.IsZero() || span <= 0 {
		return 0
	}
	idle := s.idle
	if end.After(s.lastChange) {
		idle += float64(s.free) * end.Sub(s.lastChange).Seconds()
	}
	return 1 - idle/(float64(s.slots)*span)
}

func (s *slotScheduler) resetPeak() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peak, s.fullAt, s.idle = s.slots-s.free, time.Time{}, 0
}

// acquire waits for a slot and returns when it was granted; ok is false if
// ctx ended first.
func (s *slotScheduler) acquire(ctx context.Context) (time.Time, bool) {
	s.mu.Lock()
	if s.free > 0 {
		now := time.Now()
		s.setFree(s.free-1, now)
		if busy := s.slots - s.free; busy > s.peak {
			s.peak = busy
			if busy == s.slots {
				s.fullAt, s.lastChange = now, now
			}
		}
		s.mu.Unlock()
		return now, true
	}
	ch := make(chan time.Time, 1)
	s.queue = append(s.queue, ch)
	s.mu.Unlock()
	select {
	case t := <-ch:
		return t, true
	case <-ctx.Done():
		s.mu.Lock()
		for i, q := range s.queue {
			if q == ch {
				s.queue = append(s.queue[:i], s.queue[i+1:]...)
				s.mu.Unlock()
				return time.Time{}, false
			}
		}
		s.mu.Unlock()
		// Granted meanwhile: hand the slot on.
		s.release(<-ch)
		return time.Time{}, false
	}
}

// waiting returns the number of requests queued for a slot.
func (s *slotScheduler) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// release frees a slot at time t.
func (s *slotScheduler) release(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) > 0 {
		ch := s.queue[0]
		s.queue = s.queue[1:]
		ch <- t
		return
	}
	s.setFree(s.free+1, t)
}
