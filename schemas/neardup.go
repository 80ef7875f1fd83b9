package schemas

// NearDuplicate is one line of near_duplicates.jsonl: two prompts whose
// word shingles are near (estimated Jaccard similarity at or above
// dedup.near_threshold). PromptID is the later of the two (by source, line,
// then id) and NearPromptID the earlier, which is the one kept.
type NearDuplicate struct {
	PromptID     string  `json:"prompt_id"`
	Source       string  `json:"source"`
	Line         int     `json:"line"`
	NearPromptID string  `json:"near_prompt_id"`
	NearSource   string  `json:"near_source"`
	NearLine     int     `json:"near_line"`
	Similarity   float64 `json:"similarity"`
	// SameProblem: the two state the same problem (same numbers, operators
	// and signs in the same order, or the same sentences reordered), so
	// the later one may be removed. Template siblings with other numbers
	// are near but not the same problem.
	SameProblem bool `json:"same_problem"`
	// Removed: dedup.near is remove and SameProblem, so PromptID was
	// rejected with reason near_duplicate.
	Removed bool `json:"removed"`
}
