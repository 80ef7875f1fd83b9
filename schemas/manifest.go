package schemas

import "fmt"

// Manifest is manifest.json at the root of a release version. Other tools
// read it to find files and check them, so its keys are a contract.
type Manifest struct {
	SchemaVersion string `json:"schema_version"`
	// Name and Version locate the release: <output>/<name>/<version>/.
	Name    string `json:"name"`
	Version string `json:"version"`
	// CreatedAt is RFC 3339 UTC.
	CreatedAt    string `json:"created_at"`
	CodeRevision string `json:"code_revision"`
	// Recipe is the effective recipe of the run (after flags), secrets left out.
	Recipe        any                   `json:"recipe"`
	TeacherModels []string              `json:"teacher_models"`
	TokenUsage    map[string]TokenUsage `json:"token_usage"`
	Counts        Counts                `json:"counts"`
	// Rejections counts rejected prompts by reason.
	Rejections map[string]int64 `json:"rejections"`
	// DeadLetters counts dead letters by stage.
	DeadLetters map[string]int64 `json:"dead_letters"`
	Files       []File           `json:"files"`
}

// TokenUsage is what one teacher model was paid in tokens and requests.
type TokenUsage struct {
	// Requests is the HTTP requests sent to the teacher, every attempt
	// counted (retries and failures too); prompts served from the response
	// cache cost none.
	Requests         int64 `json:"requests"`
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	// ReasoningTokens is the part of CompletionTokens spent reasoning, as
	// far as the server reported it (usage.completion_tokens_details).
	ReasoningTokens int64 `json:"reasoning_tokens"`
	// Estimated is true when some of the token counts are the client's
	// estimates (about 4 bytes a token) because the server sent no usage;
	// EstimatedPromptTokens and EstimatedCompletionTokens are those parts.
	Estimated                 bool  `json:"estimated"`
	EstimatedPromptTokens     int64 `json:"estimated_prompt_tokens,omitempty"`
	EstimatedCompletionTokens int64 `json:"estimated_completion_tokens,omitempty"`
	// RateLimited is the requests answered 429; Retries counts the
	// requests that repeated a failed one, by cause (rate_limited,
	// server_error, transport).
	RateLimited int64            `json:"rate_limited"`
	Retries     map[string]int64 `json:"retries,omitempty"`
	// SingleSampleRequests is true when the server refused n > 1 and the
	// samples were drawn one request each.
	SingleSampleRequests bool `json:"single_sample_requests,omitempty"`
}

// Counts says where every input record went. PromptsIn is the number of
// records read; each ends in exactly one of the five fates that follow.
type Counts struct {
	PromptsIn           int64 `json:"prompts_in"`
	PromptsKept         int64 `json:"prompts_kept"`
	PromptsRejected     int64 `json:"prompts_rejected"`
	PromptsContaminated int64 `json:"prompts_contaminated"`
	PromptsDuplicate    int64 `json:"prompts_duplicate"`
	PromptsDeadLetter   int64 `json:"prompts_dead_letter"`
	SamplesGenerated    int64 `json:"samples_generated"`
	SFTRows             int64 `json:"sft_rows"`
	PreferenceRows      int64 `json:"preference_rows"`
	RLVRRows            int64 `json:"rlvr_rows"`
	// RefusalRows counts R-Tuning rows (refusal.enabled).
	RefusalRows int64 `json:"refusal_rows"`
}

// Reconcile reports an error when the fates do not add up to PromptsIn.
func (c Counts) Reconcile() error {
	sum := c.PromptsKept + c.PromptsRejected + c.PromptsContaminated + c.PromptsDuplicate + c.PromptsDeadLetter
	if sum != c.PromptsIn {
		return fmt.Errorf("counts do not reconcile: prompts_in=%d but kept %d + rejected %d + contaminated %d + duplicate %d + dead_letter %d = %d",
			c.PromptsIn, c.PromptsKept, c.PromptsRejected, c.PromptsContaminated, c.PromptsDuplicate, c.PromptsDeadLetter, sum)
	}
	return nil
}

// File is one file of a release.
type File struct {
	// Path is relative to the version root, with forward slashes.
	Path   string `json:"path"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	// Columns are the top-level columns of a Parquet file, in order.
	Columns []string `json:"columns,omitempty"`
}
