package teacher

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// Recording is one prompt of a recordings file (../shared/recordings/):
// a problem and real responses sampled from a model, with the grader's
// verdicts.
type Recording struct {
	Idx      int    `json:"idx"`
	Question string `json:"question"`
	// Answer is the reference answer; Solution the reference solution.
	Answer   string `json:"answer"`
	Solution string `json:"solution"`
	Level    string `json:"level"`
	// System is the system prompt the responses were sampled with.
	System  string           `json:"system"`
	Samples []RecordedSample `json:"samples"`
}

// RecordedSample is one recorded response.
type RecordedSample struct {
	Response string `json:"response"`
	// Pred is the answer the Qwen evaluation grader extracted and Correct
	// its verdict; RMScore is a reward model's score.
	Pred    string  `json:"qwen_pred"`
	Correct bool    `json:"qwen_correct"`
	RMScore float64 `json:"rm_score"`
}

// ReadRecordings reads a recordings JSONL file.
func ReadRecordings(path string) ([]Recording, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("teacher: recordings: %w", err)
	}
	defer f.Close()
	var out []Recording
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r Recording
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("teacher: recordings %s:%d: %w", path, line, err)
		}
		if r.Question == "" || len(r.Samples) == 0 {
			return nil, fmt.Errorf("teacher: recordings %s:%d: no question or no samples", path, line)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("teacher: recordings %s: %w", path, err)
	}
	return out, nil
}

// ReplayConfig configures the replay server.
type ReplayConfig struct {
	// Recordings are the prompts and responses to serve.
	Recordings []Recording
	// Model is the model id served (default "qwen2.5-math-instruct").
	Model string
	// Latency and Slots model the server's decode capacity, as in the sim.
	Latency time.Duration
	Slots   int
}

// StartReplay starts a server on 127.0.0.1 that answers chat completions
// with recorded real responses. A request matches a recording when its last
// user message equals the recorded question (surrounding white space
// ignored); the recording's samples are served in order, continuing where
// the previous request for the same prompt stopped and wrapping around. A
// prompt with no recording gets a 400 naming it. Usage is estimated at
// about 4 bytes a token.
func StartReplay(cfg ReplayConfig) (*Sim, error) {
	if len(cfg.Recordings) == 0 {
		return nil, errors.New("teacher: replay: no recordings")
	}
	if cfg.Model == "" {
		cfg.Model = "qwen2.5-math-instruct"
	}
	byPrompt := make(map[string]*Recording, len(cfg.Recordings))
	for i := range cfg.Recordings {
		byPrompt[strings.TrimSpace(cfg.Recordings[i].Question)] = &cfg.Recordings[i]
	}
	var mu sync.Mutex
	next := map[string]int{}
	s := &Sim{cfg: SimConfig{Model: cfg.Model, Latency: cfg.Latency, Slots: cfg.Slots}}
	s.gen = func(prompt string, _ *simRequest, n int) ([]string, error) {
		key := strings.TrimSpace(prompt)
		rec, ok := byPrompt[key]
		if !ok {
			p := []rune(key)
			if len(p) > 80 {
				p = append(p[:80], '…')
			}
			return nil, fmt.Errorf("replay: no recording for prompt %q", string(p))
		}
		mu.Lock()
		start := next[key]
		next[key] = start + n
		mu.Unlock()
		out := make([]string, n)
		for i := range n {
			out[i] = rec.Samples[(start+i)%len(rec.Samples)].Response
		}
		return out, nil
	}
	return s.start()
}
