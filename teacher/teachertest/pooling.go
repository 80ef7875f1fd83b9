package teachertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"

	"github.com/syllabus-dev/syllabus/schemas"
)

// ScoreShape is how the pooling server writes a score.
type ScoreShape int

const (
	// PerToken writes one [v] per token, the score last (vLLM with a
	// process reward or ALL pooling, as for Qwen2.5-Math-RM).
	PerToken ScoreShape = iota
	// Single writes [score].
	Single
	// Bare writes the score as a number.
	Bare
)

// PoolingServer is a reward-model server on 127.0.0.1 speaking vLLM's
// /pooling protocol. It scores a conversation by its last user message and
// the assistant response that follows it, from a table.
type PoolingServer struct {
	// URL is the server root (pass it as reward.url).
	URL   string
	Model string
	// Shape is how scores are written (default PerToken).
	Shape ScoreShape

	srv      *httptest.Server
	mu       sync.Mutex
	scores   map[[2]string]float64
	faults   []int // statuses to answer with before serving, in order
	requests atomic.Int64
}

// Key returns the table key of a response to a prompt.
func Key(prompt, response string) [2]string { return [2]string{prompt, response} }

// StartPooling starts a server for model serving scores, keyed by
// Key(last user message, response). Close it when done.
func StartPooling(model string, scores map[[2]string]float64) *PoolingServer {
	s := &PoolingServer{Model: model, scores: scores}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *PoolingServer) Close() { s.srv.Close() }

// Requests returns how many requests reached the server.
func (s *PoolingServer) Requests() int64 { return s.requests.Load() }

// FailNext makes the next len(statuses) requests fail with these HTTP
// statuses, in order (fault injection for retry tests).
func (s *PoolingServer) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, statuses...)
}

func (s *PoolingServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	fail := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"object": "error", "message": msg, "code": status})
	}
	if r.URL.Path != "/pooling" || r.Method != http.MethodPost {
		fail(http.StatusNotFound, "not found: "+r.Method+" "+r.URL.Path)
		return
	}
	s.mu.Lock()
	if len(s.faults) > 0 {
		st := s.faults[0]
		s.faults = s.faults[1:]
		s.mu.Unlock()
		fail(st, fmt.Sprintf("injected fault %d", st))
		return
	}
	s.mu.Unlock()
	var req struct {
		Model    string            `json:"model"`
		Messages []schemas.Message `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(http.StatusBadRequest, "bad body: "+err.Error())
		return
	}
	if req.Model != s.Model {
		fail(http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist.", req.Model))
		return
	}
	n := len(req.Messages)
	if n < 2 || req.Messages[n-1].Role != schemas.RoleAssistant {
		fail(http.StatusBadRequest, "the conversation must end with an assistant response")
		return
	}
	prompt := ""
	for _, m := range req.Messages[:n-1] {
		if m.Role == schemas.RoleUser {
			prompt = m.Content
		}
	}
	score, ok := s.scores[Key(prompt, req.Messages[n-1].Content)]
	if !ok {
		fail(http.StatusBadRequest, "no score for this response")
		return
	}
	tokens := 0
	for _, m := range req.Messages {
		tokens += (len(m.Content)+3)/4 + 4
	}
	var data any
	switch s.Shape {
	case Bare:
		data = score
	case Single:
		data = []float64{score}
	default:
		per := make([][]float64, 0, tokens)
		for i := range tokens - 1 {
			per = append(per, []float64{float64(i%7) / 10}) // per-token values that are not the reward
		}
		data = append(per, []float64{score})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "pool-1", "object": "list", "model": s.Model,
		"data":  []any{map[string]any{"index": 0, "object": "pooling", "data": data}},
		"usage": map[string]any{"prompt_tokens": tokens, "total_tokens": tokens, "completion_tokens": 0},
	})
}
