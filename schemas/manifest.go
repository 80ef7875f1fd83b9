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

// TokenUsage is what one teacher model was paid in tokens.
type TokenUsage struct {
	Requests         int64 `json:"requests"`
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
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
