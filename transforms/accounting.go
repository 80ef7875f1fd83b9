package transforms

import (
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
)

// pendingPrompt is a prompt in the generate stage's pool with the counter
// of the HTTP requests made for it.
type pendingPrompt struct {
	prompt schemas.Prompt
	calls  *teacher.Calls
}

// tallyCalls books the HTTP requests a prompt cost, as made: every attempt,
// 429s and retries by cause, whether the prompt succeeded or not. The keys
// are "tokens:<model>:<what>", which release.BuildManifest sums into the
// manifest's token_usage.
func tallyCalls(emitTally func(string, int64), r teacher.Result) {
	n := r.Key.(pendingPrompt).calls.Counts()
	model := r.Request.Model
	if r.Response != nil && r.Response.Model != "" {
		model = r.Response.Model
	}
	if n.Requests > 0 {
		emitTally("tokens:"+model+":requests", n.Requests)
	}
	if n.RateLimited > 0 {
		emitTally("tokens:"+model+":rate_limited", n.RateLimited)
	}
	for cause, v := range n.Retries {
		emitTally("tokens:"+model+":retry_"+cause, v)
	}
	for what, v := range map[string]int64{"hits": n.CacheHits, "misses": n.CacheMisses, "errors": n.CacheErrors} {
		if v > 0 {
			emitTally("cache_samples:"+what, v)
		}
	}
	if n.SingleSample {
		emitTally("tokens:"+model+":single_sample", 1)
	}
}

// tallyUsage books the tokens of a prompt's calls, reasoning and estimated
// parts apart.
func tallyUsage(emitTally func(string, int64), model string, u teacher.Usage) {
	emitTally("tokens:"+model+":prompt", u.PromptTokens)
	emitTally("tokens:"+model+":completion", u.CompletionTokens)
	for what, v := range map[string]int64{"reasoning": u.ReasoningTokens, "estimated_prompt": u.EstimatedPromptTokens, "estimated_completion": u.EstimatedCompletionTokens} {
		if v > 0 {
			emitTally("tokens:"+model+":"+what, v)
		}
	}
}
