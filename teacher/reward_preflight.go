package teacher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/syllabus-dev/syllabus/schemas"
)

// RewardPreflight checks, before a run spends anything, that cfg points at
// a reward model that will score: one tiny POST <url>/pooling (a one-turn
// conversation and its answer). Like Preflight it fails in seconds with one
// line naming the cause, wrapping ErrMisconfigured (unreachable URL, no
// /pooling endpoint there, refused key, unknown model, a model that does
// not pool) or ErrQuotaExhausted; a busy or failing server (429 without
// insufficient_quota, 5xx, a timeout) and an answer about the probe's
// content do not fail it: the run's retries deal with those.
func RewardPreflight(ctx context.Context, cfg RewardConfig, httpClient *http.Client) error {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	key := ""
	if cfg.APIKeyEnv != "" {
		if key = os.Getenv(cfg.APIKeyEnv); key == "" {
			return fmt.Errorf("%w: reward.api_key_env: environment variable %s is empty or unset", ErrMisconfigured, cfg.APIKeyEnv)
		}
	}
	base := strings.TrimRight(cfg.URL, "/")
	body, err := json.Marshal(map[string]any{"model": cfg.Model, "messages": []schemas.Message{
		{Role: schemas.RoleUser, Content: "What is 1+1?"}, {Role: schemas.RoleAssistant, Content: "2"}}})
	if err != nil {
		return err
	}
	pf := preflight{base: base, key: key, http: httpClient}
	status, data, err := pf.do(ctx, http.MethodPost, "/pooling", body)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return fmt.Errorf("%w: wrong URL or server not running: reward.url %s is unreachable (%s)", ErrMisconfigured, cfg.URL, pf.unreachableCause(err))
	}
	ae := &APIError{Status: status, Message: decodeErrorMessage(data), Code: decodeErrorCode(data)}
	switch {
	case status == http.StatusOK:
		if _, _, err := DecodePoolingScore(data); err != nil {
			return fmt.Errorf("%w: reward.url %s: the /pooling answer holds no score: %v", ErrMisconfigured, cfg.URL, err)
		}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		who := "no API key was sent (set reward.api_key_env)"
		if cfg.APIKeyEnv != "" {
			who = "check the key in $" + cfg.APIKeyEnv + " (reward.api_key_env)"
		}
		return fmt.Errorf("%w: bad API key: the reward model at %s answers HTTP %d (%s): %s", ErrMisconfigured, cfg.URL, status, ae.Message, who)
	case status == http.StatusNotFound && strings.Contains(strings.ToLower(ae.Message), "model"):
		return fmt.Errorf("%w: unknown model: reward.model %q at %s (HTTP 404: %s)", ErrMisconfigured, cfg.Model, cfg.URL, ae.Message)
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		return fmt.Errorf("%w: wrong URL: %s/pooling answers HTTP %d (reward.url is the server root, without /v1: vllm serve <reward model> serves <root>/pooling)", ErrMisconfigured, base, status)
	case status == http.StatusTooManyRequests && isQuotaExhausted(ae):
		return fmt.Errorf("%w: the reward model at %s answers 429 %s: %s", ErrQuotaExhausted, cfg.URL, ae.Code, ae.Message)
	case status == http.StatusBadRequest && poolingUnsupported(ae.Message):
		return fmt.Errorf("%w: reward.model %q at %s does not score conversations (HTTP 400: %s); serve a reward model (e.g. vllm serve Qwen/Qwen2.5-Math-RM-72B)", ErrMisconfigured, cfg.Model, cfg.URL, ae.Message)
	}
	return nil
}

// poolingUnsupported reports whether a 400 says the model cannot pool
// (vLLM: "The model does not support Pooling API"), rather than objecting
// to the probe itself.
func poolingUnsupported(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "pooling") && (strings.Contains(m, "not support") || strings.Contains(m, "unsupported"))
}
