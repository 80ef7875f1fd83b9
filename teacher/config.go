package teacher

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/syllabus-dev/syllabus/schemas"
)

// Config is the recipe section "teacher". Every field is a plain value so a
// Beam DoFn holding a Config serializes it as JSON. Start from DefaultConfig.
type Config struct {
	// URL is the OpenAI-compatible base URL, ending in /v1.
	URL string `yaml:"url" json:"url"`
	// Model is the model id sent with every request.
	Model string `yaml:"model" json:"model"`
	// SystemPrompt, when set, is a system turn added to every prompt that
	// has none (recipe teacher.system_prompt, --system_prompt).
	SystemPrompt string `yaml:"system_prompt" json:"system_prompt,omitempty"`
	// APIKeyEnv names the environment variable holding the API key ("" =
	// no key). The key itself is never stored in the config nor logged.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env"`
	// MaxConcurrency is the number of requests each worker keeps in flight.
	MaxConcurrency int `yaml:"max_concurrency" json:"max_concurrency"`
	// RetryConfig is the timeout and retry schedule (timeout, max_retries,
	// retry_initial, retry_max_interval, max_retry_after), shared with the
	// reward model's section.
	RetryConfig `yaml:",inline" json:",inline"`
	// DownAfter is how long the server may fail every request (5xx,
	// timeouts, refused connections; not 429) with no success before the
	// circuit breaker opens and every call fails with ErrServerDown
	// (attempts in flight are aborted). A server that accepts connections
	// but never answers shows only as attempts time out, so it fails the
	// run after about timeout + down_after.
	DownAfter time.Duration `yaml:"down_after" json:"down_after"`
	// DownMinFailures is the number of consecutive failures also required
	// before the breaker opens.
	DownMinFailures int `yaml:"down_min_failures" json:"down_min_failures"`
	// SingleSample draws every sample with its own request (n = 1), for
	// servers that refuse n > 1. The client also switches by itself on the
	// first 400 about n, and the preflight sets it when the server refuses.
	SingleSample bool `yaml:"single_sample" json:"single_sample,omitempty"`
	// AdaptiveConcurrency lets the client lower the number of requests in
	// flight below MaxConcurrency when the server answers 429 or 503, and
	// raise it back as requests succeed (AIMD).
	AdaptiveConcurrency bool `yaml:"adaptive_concurrency" json:"adaptive_concurrency"`
	// CacheDir is the response cache directory ("" = no cache).
	CacheDir string `yaml:"cache_dir" json:"cache_dir"`
	// TokenBudget is a hard cap on prompt+completion tokens this client may
	// spend (0 = none); set from --max_teacher_tokens.
	TokenBudget int64 `yaml:"token_budget" json:"token_budget"`
	// Prices maps a model id to its price, for the manifest's cost estimate.
	Prices map[string]Price `yaml:"prices" json:"prices,omitempty"`

	// Sampling defaults that NewRequest copies into each Request.
	Temperature float64        `yaml:"temperature" json:"temperature"`
	TopP        float64        `yaml:"top_p" json:"top_p"`
	MaxTokens   int            `yaml:"max_tokens" json:"max_tokens"`
	Seed        *int64         `yaml:"seed" json:"seed,omitempty"`
	Stop        []string       `yaml:"stop" json:"stop,omitempty"`
	Extra       map[string]any `yaml:"extra" json:"extra,omitempty"`
}

// DefaultConfig returns the defaults: 64 requests in flight, 10 min per
// attempt (long generations), 12 retries backing off from 1 s to 30 s (about
// 2.5 minutes in all, so a prompt's retries outlast down_after: a dead server
// trips the breaker and fails the run instead of dead-lettering prompts), the
// server declared down after 2 min with no success, temperature 0.7.
func DefaultConfig() Config {
	return Config{
		MaxConcurrency:  64,
		RetryConfig:     DefaultRetryConfig(),
		DownAfter:       2 * time.Minute,
		DownMinFailures: 5,
		Temperature:     0.7,
		MaxTokens:       4096,
	}
}

// RetryConfig is how a client times out and retries one call: the
// teacher's and the reward model's sections share it.
type RetryConfig struct {
	// Timeout bounds one HTTP attempt (not the retries around it).
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// MaxRetries is the number of retries after the first attempt for
	// retryable failures (429, 5xx, timeouts, dropped connections).
	MaxRetries int `yaml:"max_retries" json:"max_retries"`
	// RetryInitial and RetryMaxInterval shape the exponential backoff
	// (randomized ±50 %, factor 1.5). A Retry-After header overrides it.
	RetryInitial     time.Duration `yaml:"retry_initial" json:"retry_initial"`
	RetryMaxInterval time.Duration `yaml:"retry_max_interval" json:"retry_max_interval"`
	// MaxRetryAfter caps how long a server's Retry-After may make us wait.
	MaxRetryAfter time.Duration `yaml:"max_retry_after" json:"max_retry_after"`
}

// DefaultRetryConfig returns the teacher's schedule: 10 min per attempt
// (long generations), 12 retries backing off from 1 s to 30 s, Retry-After
// honoured up to 2 min.
func DefaultRetryConfig() RetryConfig {
	return RetryConfig{Timeout: 10 * time.Minute, MaxRetries: 12, RetryInitial: time.Second,
		RetryMaxInterval: 30 * time.Second, MaxRetryAfter: 2 * time.Minute}
}

// validate reports every bad field, named under the recipe section.
func (c RetryConfig) validate(section string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Timeout <= 0 {
		bad("%s.timeout must be > 0", section)
	}
	if c.MaxRetries < 0 {
		bad("%s.max_retries must be >= 0", section)
	}
	if c.RetryInitial <= 0 {
		bad("%s.retry_initial must be > 0", section)
	}
	if c.RetryMaxInterval < c.RetryInitial {
		bad("%s.retry_max_interval must be >= %s.retry_initial", section, section)
	}
	if c.MaxRetryAfter < 0 {
		bad("%s.max_retry_after must be >= 0", section)
	}
	return errs
}

// reservedExtra are request fields Extra may not override.
var reservedExtra = map[string]bool{
	"model": true, "messages": true, "n": true, "temperature": true, "top_p": true,
	"max_tokens": true, "seed": true, "stop": true, "stream": true,
}

// Validate reports every bad field at once, each named as in the recipe.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case c.URL == "":
		bad("teacher.url must be set (an OpenAI-compatible base URL ending in /v1)")
	case !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://"):
		bad("teacher.url %q must start with http:// or https://", c.URL)
	}
	if c.Model == "" {
		bad("teacher.model must be set")
	}
	if c.MaxConcurrency <= 0 {
		bad("teacher.max_concurrency must be > 0")
	}
	errs = append(errs, c.RetryConfig.validate("teacher")...)
	if c.DownAfter <= 0 {
		bad("teacher.down_after must be > 0")
	}
	if c.DownMinFailures <= 0 {
		bad("teacher.down_min_failures must be > 0")
	}
	if c.TokenBudget < 0 {
		bad("teacher.token_budget must be >= 0")
	}
	if c.Temperature < 0 || c.Temperature > 2 {
		bad("teacher.temperature must be in [0, 2]")
	}
	if c.TopP < 0 || c.TopP > 1 {
		bad("teacher.top_p must be in [0, 1] (0 = server default)")
	}
	if c.MaxTokens < 0 {
		bad("teacher.max_tokens must be >= 0 (0 = server default)")
	}
	for k := range c.Extra {
		if reservedExtra[k] {
			bad("teacher.extra.%s is a standard field; set it directly", k)
		}
	}
	for m, p := range c.Prices {
		if p.PromptPerMillion < 0 || p.CompletionPerMillion < 0 {
			bad("teacher.prices.%s must not be negative", m)
		}
	}
	return errors.Join(errs...)
}

// NewRequest builds a Request for messages with n samples and the config's
// model and sampling defaults.
func (c Config) NewRequest(messages []schemas.Message, n int) Request {
	return Request{
		Model:       c.Model,
		Messages:    messages,
		N:           n,
		Temperature: c.Temperature,
		TopP:        c.TopP,
		MaxTokens:   c.MaxTokens,
		Seed:        c.Seed,
		Stop:        c.Stop,
		Extra:       c.Extra,
	}
}
