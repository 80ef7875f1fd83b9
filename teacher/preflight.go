package teacher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/syllabus-dev/syllabus/schemas"
)

// PreflightTimeout bounds each request of Preflight.
const PreflightTimeout = 20 * time.Second

// PreflightReport is what Preflight learned about the server.
type PreflightReport struct {
	// Models are the model ids GET /v1/models listed (empty when the
	// server does not implement it).
	Models []string
	// SingleSample is true when the server refused n > 1: draw each
	// sample with its own request (Config.SingleSample).
	SingleSample bool
}

// Preflight checks, before a run spends anything, that cfg points at a
// server that will answer it: GET <url>/models (the URL is right, the key
// is accepted and the model is listed), then one tiny chat request (n = 1,
// a few tokens) and, when samples > 1, one with n = 2 to learn whether the
// server draws several samples per request. It fails in seconds with one
// line naming the cause, wrapping ErrMisconfigured (unreachable URL, no
// OpenAI-compatible API there, refused key, unknown model, a minimal
// request rejected) or ErrQuotaExhausted. A busy or failing server (429
// without insufficient_quota, 5xx, a timeout) does not fail the preflight:
// the run's retries and circuit breaker deal with it.
func Preflight(ctx context.Context, cfg Config, samples int, httpClient *http.Client) (PreflightReport, error) {
	var rep PreflightReport
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	key := ""
	if cfg.APIKeyEnv != "" {
		if key = os.Getenv(cfg.APIKeyEnv); key == "" {
			return rep, fmt.Errorf("%w: teacher.api_key_env: environment variable %s is empty or unset", ErrMisconfigured, cfg.APIKeyEnv)
		}
	}
	base := strings.TrimRight(cfg.URL, "/")
	pf := preflight{cfg: cfg, base: base, key: key, http: httpClient}

	// 1. GET /models.
	status, body, err := pf.do(ctx, http.MethodGet, "/models", nil)
	if err != nil {
		return rep, pf.unreachable(err)
	}
	switch {
	case status == http.StatusOK:
		var list struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if json.Unmarshal(body, &list) != nil {
			return rep, fmt.Errorf("%w: teacher.url %s: GET /models did not answer an OpenAI model list (is this an OpenAI-compatible base URL ending in /v1?)", ErrMisconfigured, cfg.URL)
		}
		for _, m := range list.Data {
			rep.Models = append(rep.Models, m.ID)
		}
		if len(rep.Models) > 0 && !slices.Contains(rep.Models, cfg.Model) {
			return rep, fmt.Errorf("%w: unknown model: teacher.model %q is not served at %s, which serves: %s", ErrMisconfigured, cfg.Model, cfg.URL, strings.Join(rep.Models, ", "))
		}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return rep, pf.badKey(status, body)
	}
	// Other answers (404: some servers have no /models; 5xx) leave the
	// verdict to the chat request.

	// 2. One tiny chat request.
	tiny := Request{Model: cfg.Model, Messages: []schemas.Message{{Role: schemas.RoleUser, Content: "Reply with OK."}}, N: 1, Temperature: cfg.Temperature, MaxTokens: 8, Extra: cfg.Extra}
	if err := pf.chat(ctx, tiny, rep.Models); err != nil {
		return rep, err
	}
	// 3. Does the server take n > 1?
	if samples > 1 && !cfg.SingleSample {
		tiny.N = 2
		err := pf.chat(ctx, tiny, rep.Models)
		if nRefused(err) {
			rep.SingleSample = true
			return rep, nil
		}
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

type preflight struct {
	cfg  Config
	base string
	key  string
	http *http.Client
}

func (pf preflight) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, PreflightTimeout)
	defer cancel()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, pf.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if pf.key != "" {
		req.Header.Set("Authorization", "Bearer "+pf.key)
	}
	resp, err := pf.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, data, err
}

// chat sends req and classifies the answer; nil also for answers that say
// nothing about the configuration (busy, 5xx, timeout).
func (pf preflight) chat(ctx context.Context, req Request, models []string) error {
	body, err := encodeRequest(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMisconfigured, err)
	}
	status, data, err := pf.do(ctx, http.MethodPost, "/chat/completions", body)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return pf.unreachable(err)
	}
	ae := &APIError{Status: status, Message: decodeErrorMessage(data), Code: decodeErrorCode(data)}
	switch {
	case status == http.StatusOK:
		if _, err := decodeResponse(data, req.samples()); err != nil {
			return fmt.Errorf("%w: teacher.url %s: the chat-completions answer is not OpenAI-compatible: %v", ErrMisconfigured, pf.cfg.URL, err)
		}
		return nil
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return pf.badKey(status, data)
	case status == http.StatusNotFound:
		if strings.Contains(strings.ToLower(ae.Message), "model") {
			known := ""
			if len(models) > 0 {
				known = "; the server serves: " + strings.Join(models, ", ")
			}
			return fmt.Errorf("%w: unknown model: teacher.model %q at %s (HTTP 404: %s)%s", ErrMisconfigured, pf.cfg.Model, pf.cfg.URL, ae.Message, known)
		}
		return fmt.Errorf("%w: wrong URL: %s/chat/completions answers HTTP 404 (teacher.url must be the OpenAI-compatible base URL, ending in /v1)", ErrMisconfigured, pf.base)
	case status == http.StatusTooManyRequests && isQuotaExhausted(ae):
		return fmt.Errorf("%w: the teacher at %s answers 429 %s: %s", ErrQuotaExhausted, pf.cfg.URL, ae.Code, ae.Message)
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity || status == http.StatusMethodNotAllowed:
		ae.kind = ErrBadRequest
		if req.N > 1 && isNUnsupported(ae.Message) {
			return ae
		}
		return fmt.Errorf("%w: the teacher at %s rejected a minimal request for model %q (HTTP %d: %s)", ErrMisconfigured, pf.cfg.URL, pf.cfg.Model, status, ae.Message)
	}
	return nil
}

func (pf preflight) badKey(status int, body []byte) error {
	who := "no API key was sent (set teacher.api_key_env)"
	if pf.cfg.APIKeyEnv != "" {
		who = "check the key in $" + pf.cfg.APIKeyEnv + " (teacher.api_key_env)"
	}
	return fmt.Errorf("%w: bad API key: the teacher at %s answers HTTP %d (%s): %s", ErrMisconfigured, pf.cfg.URL, status, decodeErrorMessage(body), who)
}

func (pf preflight) unreachable(err error) error {
	return fmt.Errorf("%w: wrong URL or server not running: teacher.url %s is unreachable (%s)", ErrMisconfigured, pf.cfg.URL, pf.unreachableCause(err))
}

// unreachableCause names why a request got no answer, in a few words.
func (pf preflight) unreachableCause(err error) string {
	cause := err.Error()
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		cause = "connection refused"
	case errors.Is(err, context.DeadlineExceeded):
		cause = fmt.Sprintf("no answer within %s", PreflightTimeout)
	default:
		var dns *net.DNSError
		if errors.As(err, &dns) {
			cause = "unknown host " + dns.Name
		}
	}
	return cause
}
