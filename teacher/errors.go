package teacher

import (
	"errors"
	"fmt"
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
	// ErrBudgetExceeded: the request would take the run past
	// teacher.token_budget (--max_teacher_tokens). The run must stop.
	ErrBudgetExceeded = errors.New("token budget exceeded")
	// ErrMalformedResponse: the server answered 200 with a body that is not
	// a valid chat completion. Retried; surfaces wrapped in ErrUnavailable.
	ErrMalformedResponse = errors.New("malformed response")
)

// IsFatal reports whether err means the whole run must stop (server down,
// misconfiguration, budget exhausted) rather than dead-lettering one prompt.
func IsFatal(err error) bool {
	return errors.Is(err, ErrServerDown) || errors.Is(err, ErrMisconfigured) || errors.Is(err, ErrBudgetExceeded)
}

// APIError is an HTTP error answer from the server.
type APIError struct {
	Status int
	// Message is the server's own explanation, taken from its error body.
	Message string
	kind    error
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%v: HTTP %d", e.kind, e.Status)
	}
	return fmt.Sprintf("%v: HTTP %d: %s", e.kind, e.Status, e.Message)
}

func (e *APIError) Unwrap() error { return e.kind }
