package teacher

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strings"

	"github.com/syllabus-dev/syllabus/schemas"
)

// The simulated teacher is also a simulated reward model: POST /pooling at
// its root (beside /v1) answers as vLLM serving a reward model does, one
// value per token, the last one the reward. The score is what a good
// outcome reward model gives: high (about +2) for a response whose final
// \boxed{} holds the answer the sim knows for the conversation's last user
// turn, low (about -2) otherwise, and a spread of +-1 from a hash of the
// response so that best-of-N among correct samples has something to rank.
// It is for the offline quickstart (reward.model: sim) and its tests; a
// real run points reward.url at a real server.

// simRewardSpread is half the width of a score band.
const simRewardSpread = 1.0

// SimReward is the score the simulated reward model gives response to a
// conversation whose last user turn is prompt (exported for tests).
func (s *Sim) SimReward(prompt, response string) float64 {
	score := -2.0
	if sol, ok := s.solve(prompt); ok && lastBoxed(response) == sol.Answer {
		score = 2.0
	}
	h := fnv.New64a()
	h.Write([]byte(response))
	jitter := float64(h.Sum64()%2001)/1000 - 1 // [-1, 1]
	return score + simRewardSpread*jitter
}

func (s *Sim) solve(prompt string) (Solution, bool) {
	if s.cfg.Solve == nil {
		return Solution{}, false
	}
	return s.cfg.Solve(prompt)
}

// lastBoxed is the content of the last \boxed{...} of text (braces
// balanced), "" if none.
func lastBoxed(text string) string {
	i := strings.LastIndex(text, `\boxed{`)
	if i < 0 {
		return ""
	}
	rest := text[i+len(`\boxed{`):]
	depth := 1
	for j, c := range rest {
		switch c {
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return strings.TrimSpace(rest[:j])
			}
		}
	}
	return ""
}

func (s *Sim) handlePooling(w http.ResponseWriter, r *http.Request) {
	s.count(func(st *SimStats) { st.PoolingRequests++ })
	if !s.authorized(w, r) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return
	}
	var req struct {
		Model    string            `json:"model"`
		Messages []schemas.Message `json:"messages"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.badRequest(w, "BadRequestError", "invalid JSON body: "+err.Error())
		return
	}
	if req.Model != s.cfg.Model {
		writeError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", req.Model))
		return
	}
	n := len(req.Messages)
	if n < 2 || req.Messages[n-1].Role != schemas.RoleAssistant {
		s.badRequest(w, "BadRequestError", "the conversation must end with the assistant response to score")
		return
	}
	prompt := lastUserMessage(req.Messages[:n-1])
	var tokens int64
	for _, m := range req.Messages {
		tokens += simTokens(m.Content) + 4
	}
	// One value per token, as vLLM's reward pooling returns; only the last
	// is the reward, the rest are left at 0 to keep the body small.
	values := make([][1]float64, max(tokens, 1))
	values[len(values)-1][0] = s.SimReward(prompt, req.Messages[n-1].Content)
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "pool-sim", "object": "list", "model": s.cfg.Model,
		"data":  []any{map[string]any{"index": 0, "object": "pooling", "data": values}},
		"usage": map[string]any{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}
