package teacher

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// Sentinel errors returned (wrapped) by Complete; check them with errors.Is.
// Complete's errors read "teacher: model M: <sentinel>: <detail>".
var (
	// ErrRateLimited: the server kept answering 429 until retries ran out.
	// The prompt may be retried later; the pipeline dead-letters it.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable: transient failures (5xx, timeouts, dropped
	// connections, malformed bodies) outlasted the retries while the server
	// was otherwise alive. The pipeline dead-letters the prompt.
	ErrUnavailable = errors.New("server unavailable")
	// ErrBadRequest: the server rejected the request itself (400, 413, 422);
	// retrying cannot help. The error text carries the server's message;
	// dead-letter the prompt with it.
	ErrBadRequest = errors.New("bad request")
	// ErrContextLength is an ErrBadRequest whose cause is a prompt (plus
	// max_tokens) longer than the model's context window.
	ErrContextLength = fmt.Errorf("%w: context length exceeded", ErrBadRequest)
	// ErrServerDown: the circuit breaker opened because the server has not
	// answered for teacher.down_after. The run must fail.
	ErrServerDown = errors.New("server down")
	// ErrMisconfigured: the server refuses every request (401/403 bad key,
	// 404 unknown model or wrong URL). The run must fail.
	ErrMisconfigured = errors.New("misconfigured")
	// ErrQuotaExhausted: the account's quota or credit is spent (OpenAI's
	// 429 with code insufficient_quota, sent without Retry-After). Waiting
	// does not help, so it is not retried: the run must fail.
	ErrQuotaExhausted = errors.New("quota exhausted")
	// ErrBudgetExceeded: the request would take the run past
	// teacher.token_budget (--max_teacher_tokens). The run must stop.
	ErrBudgetExceeded = errors.New("token budget exceeded")
	// ErrMalformedResponse: the server answered 200 with a body that is not
	// a valid chat completion. Retried; surfaces wrapped in ErrUnavailable.
	ErrMalformedResponse = errors.New("malformed response")
)

// IsFatal reports whether err means the whole run must stop (server down,
// misconfiguration, quota or budget exhausted) rather than dead-lettering
// one prompt.
func IsFatal(err error) bool {
	return errors.Is(err, ErrServerDown) || errors.Is(err, ErrMisconfigured) || errors.Is(err, ErrQuotaExhausted) || errors.Is(err, ErrBudgetExceeded)
}

// APIError is an HTTP error answer from the server.
type APIError struct {
	Status int
	// Message is the server's own explanation, taken from its error body.
	Message string
	// Code is the error body's string code (OpenAI's "insufficient_quota",
	// "invalid_api_key"), when it has one.
	Code string
	kind error
}

func (e *APIError) Error() string {
	status := fmt.Sprintf("HTTP %d", e.Status)
	if e.Code != "" && !strings.Contains(e.Message, e.Code) {
		status += " " + e.Code
	}
	if e.Message == "" {
		return fmt.Sprintf("%v: %s", e.kind, status)
	}
	return fmt.Sprintf("%v: %s: %s", e.kind, status, e.Message)
}

func (e *APIError) Unwrap() error { return e.kind }

// isQuotaExhausted reports whether a 429 says the account's quota is spent
// rather than asking us to slow down: OpenAI's code insufficient_quota, or
// its message ("You exceeded your current quota").
func isQuotaExhausted(e *APIError) bool {
	return strings.EqualFold(e.Code, "insufficient_quota") ||
		strings.Contains(strings.ToLower(e.Message), "insufficient_quota") ||
		strings.Contains(strings.ToLower(e.Message), "exceeded your current quota")
}

// nUnsupported matches the 400 messages of servers that draw one sample per
// request: "n must be 1", "only n=1 is supported", "'n' is not supported",
// "Unsupported parameter: 'n'", "n > 1 is not allowed".
var nUnsupported = regexp.MustCompile(`\bn\s*(=+|must be|should be|can only be)\s*1\b|\bn\s+(is\s+)?(not supported|unsupported|not allowed)|(unsupported|unrecognized|unknown|invalid) (parameter|argument|field|value)s?( for)?:?\s+n\b|\bn\s*>\s*1\b`)

// isNUnsupported reports whether a 400's message says the server does not
// draw several samples per request.
func isNUnsupported(msg string) bool {
	m := strings.ToLower(strings.NewReplacer("`", "", "'", "", `"`, "").Replace(msg))
	return nUnsupported.MatchString(m)
}

// classifyStatus is the one place where an HTTP error answer of a teacher
// or reward server becomes an error kind, and says whether to retry:
// 429 with a spent quota is fatal (no wait brings it back), other 429s and
// 5xx/408/409/425 are retried (honouring Retry-After), 401/403/404/405 are
// fatal misconfiguration, a context-length message is ErrContextLength and
// anything else ErrBadRequest, dead-lettered with the server's message.
func classifyStatus(st int, body []byte, h http.Header) *attemptError {
	ae := &APIError{Status: st, Message: decodeErrorMessage(body), Code: decodeErrorCode(body)}
	switch {
	case st == http.StatusTooManyRequests && isQuotaExhausted(ae):
		ae.kind = ErrQuotaExhausted
		return &attemptError{err: ae, excluded: true}
	case st == http.StatusTooManyRequests:
		ae.kind = ErrRateLimited
		return &attemptError{err: ae, cause: CauseRateLimited, retryable: true, excluded: true, retryAfter: parseRetryAfter(h)}
	case st >= 500 || st == http.StatusRequestTimeout || st == http.StatusTooEarly || st == http.StatusConflict:
		ae.kind = ErrUnavailable
		return &attemptError{err: ae, cause: CauseServerError, retryable: true, serverFault: true, retryAfter: parseRetryAfter(h)}
	case st == http.StatusUnauthorized || st == http.StatusForbidden || st == http.StatusNotFound || st == http.StatusMethodNotAllowed:
		ae.kind = ErrMisconfigured
	case isContextLengthMessage(ae.Message):
		ae.kind = ErrContextLength
	default:
		ae.kind = ErrBadRequest
	}
	return &attemptError{err: ae}
}
