// Package teacher talks to OpenAI-compatible inference servers (vLLM, SGLang,
// TGI, llama.cpp, Ollama, hosted APIs) that write the rationales syllabus
// verifies. It also holds the simulated teacher and the replay server that
// tests and the offline quickstart run against, speaking the same wire format.
//
// # Client
//
// A Client (NewClient) sends chat completions with n, temperature, top_p,
// max_tokens, seed, stop and server-specific sampling fields (Request.Extra).
// A sample the server cut at max_tokens has Truncated set and must not be
// released. The API key is read from the environment variable the recipe
// names and never logged.
//
// Failures are classified once, into sentinels checked with errors.Is:
//
//   - 429, 5xx, timeouts, dropped connections and malformed bodies are
//     retried with exponential backoff and jitter, honouring Retry-After;
//     when retries run out they surface as ErrRateLimited or ErrUnavailable
//     (dead-letter the prompt).
//   - 400/413/422 (ErrBadRequest, ErrContextLength) are not retried; the
//     error carries the server's message (dead-letter the prompt with it).
//   - 401/403/404 (ErrMisconfigured), 429 insufficient_quota
//     (ErrQuotaExhausted, never retried), a server that answered nothing
//     usable for Config.DownAfter (ErrServerDown, from the circuit breaker)
//     and an exhausted token budget (ErrBudgetExceeded) mean the run must
//     stop: IsFatal reports them.
//   - A 400 saying the server does not take n > 1 switches the client to
//     one request per sample (Config.SingleSample) and loses nothing.
//
// Preflight checks URL, key and model before a run (GET /models, one tiny
// chat request) and names the cause of a failure in one line.
//
// # Reasoning models
//
// The chain of thought a server returns in message.reasoning_content,
// message.reasoning or inline as <think>…</think> becomes Choice.Reasoning;
// Choice.Text is then the final answer alone. Reasoning tokens are counted
// apart where the server reports them, and token counts the client had to
// estimate (no usage in the answer) are marked as estimates. Calls, carried
// in a context (WithCalls), counts the HTTP requests made for one caller:
// every attempt, retries by cause and 429s.
//
// # Cache
//
// With Config.CacheDir (or ClientOptions.Cache, any storage.Store) every
// sample is stored under a hash of its content: model, messages, sampling
// parameters, seed and sample index, not the server URL. Entries are
// written atomically as soon as a call returns, so a second run of the same
// recipe makes no calls, and a run killed (even by SIGKILL) and restarted
// repeats no completed call. Several workers may share one cache.
//
// # Concurrency
//
// A Pool keeps a fixed number of requests in flight whatever the caller's
// batch sizes: a Beam DoFn submits from ProcessElement, emits Ready results
// from its own goroutine and Drains in FinishBundle. A server with C decode
// slots stays full (utilization ≥ 0.98, measured server side) when
// teacher.max_concurrency is SaturatingConcurrency(C) = 2C, so the next
// requests wait in the server's queue while the client turns results
// around; max_concurrency is per worker, so divide by the number of
// workers. With teacher.adaptive_concurrency the client lowers the
// attempts in flight when the server answers 429 or 503 and probes back up
// as requests succeed.
//
// Under Flink a failure restarts the task and redoes every call in it; the
// cache is what makes that cheap.
//
// # Accounting
//
// A Ledger counts prompt and completion tokens per model (cache hits apart),
// prices them with an optional price table and enforces a hard token budget:
// a request is admitted only if its worst case fits. Estimate forecasts a
// dry run without calling the teacher.
//
// # Simulated teacher and replay
//
// StartSim serves deterministic rationales (a function of prompt, seed and
// sample index) with configurable decode slots, latency, accuracy and
// faults (429 with Retry-After, 500/503, dropped connections, truncated
// bodies, finish_reason=length, context-length 400s, a full queue), and
// measures slot utilization server side. Its slots decode in the server's
// own time, as continuous batching does, so the figure does not depend on
// how a loaded machine schedules HTTP goroutines. It is also a simulated
// reward model: POST /pooling at its root (RootURL) scores a response about
// +2 when its last \boxed{} holds the known answer, about -2 otherwise, each
// spread by +-1 from a hash of the text (SimReward). StartReplay serves the
// recorded real responses in ../shared/recordings/ (ReadRecordings) in the
// same wire format, so tests exercise real model output.
//
// The cache lives in a storage.Store, whose backends (local, S3, memory)
// all pass the conformance suite in storage/storagetest.
//
// # Reward model
//
// A RewardClient (NewRewardClient, recipe section "reward") scores a
// response with a reward model served by vLLM's /pooling endpoint: it
// posts {"model", "messages": [...prompt, assistant response]} to
// <reward.url>/pooling and reads the last token's value of the per-token
// output (a bare number or [score] is accepted too; DecodePoolingScore).
// It follows the teacher client's rules for concurrency, retries, failure
// sentinels, the token ledger and the cache (one entry per model and
// conversation, RewardKey, so a text has one score); it has no circuit
// breaker yet. Package teachertest serves scores from a table over the
// same protocol for tests.
package teacher
