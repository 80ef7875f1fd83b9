package release

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// TableNearDuplicates is near_duplicates.jsonl: one line per near pair
// (schemas.NearDuplicate).
const TableNearDuplicates = "near_duplicates"

// Tally keys of near-duplicate detection: NearPrefix counts ("near:pairs",
// "near:same_problem_pairs", "near:prompts", "near:removed"), and
// NearExamplePrefix + "<i>:" + a NearExample as JSON names example pairs.
const (
	NearPrefix        = "near:"
	NearExamplePrefix = "near_example:"
)

// NearExample is a near pair shown in the manifest and card for a person
// to check.
type NearExample struct {
	PromptID     string  `json:"prompt_id"`
	NearPromptID string  `json:"near_prompt_id"`
	Similarity   float64 `json:"similarity"`
	SameProblem  bool    `json:"same_problem"`
}

// NearDupSummary is the manifest's "near_duplicates": what near-duplicate
// detection found and removed.
type NearDupSummary struct {
	// Mode is dedup.near: report or remove.
	Mode      string  `json:"mode"`
	Threshold float64 `json:"threshold"`
	// Pairs counts near pairs; SameProblemPairs those stating the same
	// problem (removable); Prompts the prompts in at least one pair.
	Pairs            int64 `json:"pairs"`
	SameProblemPairs int64 `json:"same_problem_pairs"`
	Prompts          int64 `json:"prompts"`
	// Removed counts prompts rejected as near duplicates (remove mode).
	Removed int64 `json:"removed"`
	// BucketOverflow counts prompts left out of an LSH bucket of more than
	// 2,000 (the latest are left out; they are still compared in their
	// other buckets): when not 0, some pairs may be missed.
	BucketOverflow int64         `json:"bucket_overflow"`
	Examples       []NearExample `json:"examples"`
}

// nearSummary reads the near-duplicate tallies; nil when detection is off.
func nearSummary(r recipe.Recipe, t map[string]int64) *NearDupSummary {
	if r.Dedup.Near == "" || r.Dedup.Near == recipe.NearOff {
		return nil
	}
	s := &NearDupSummary{Mode: r.Dedup.Near, Threshold: r.Dedup.NearThreshold, Pairs: t[NearPrefix+"pairs"],
		SameProblemPairs: t[NearPrefix+"same_problem_pairs"], Prompts: t[NearPrefix+"prompts"], Removed: t[NearPrefix+"removed"], BucketOverflow: t[NearPrefix+"bucket_overflow"], Examples: []NearExample{}}
	var keys []string
	for k := range t {
		if strings.HasPrefix(k, NearExamplePrefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		_, ex, _ := strings.Cut(strings.TrimPrefix(k, NearExamplePrefix), ":")
		var e NearExample
		if json.Unmarshal([]byte(ex), &e) == nil {
			s.Examples = append(s.Examples, e)
		}
	}
	return s
}

// nearDupSection writes the card's near-duplicate section.
func nearDupSection(b *strings.Builder, m *Manifest) {
	n := m.NearDuplicates
	if n == nil {
		return
	}
	b.WriteString("## Near-duplicates\n\n")
	fmt.Fprintf(b, "Prompts were compared by MinHash/LSH over 3-token shingles (estimated Jaccard similarity ≥ %.2f) before any teacher call. ", n.Threshold)
	fmt.Fprintf(b, "%d near pairs among %d prompts; %d of them state the same problem (same numbers, operators and signs in the same order, or the same sentences reordered). ", n.Pairs, n.Prompts, n.SameProblemPairs)
	if n.Mode == recipe.NearRemove {
		fmt.Fprintf(b, "%d prompts were removed as near duplicates (reason `near_duplicate`, naming the prompt kept).", n.Removed)
	} else {
		b.WriteString("Nothing was removed (`dedup.near: report`).")
	}
	b.WriteString(" Every pair is in `near_duplicates.jsonl`.")
	if n.BucketOverflow > 0 {
		fmt.Fprintf(b, " %d prompts were left out of oversized LSH buckets (more than 2,000 alike prompts), so some pairs may be missing.", n.BucketOverflow)
	}
	b.WriteString("\n\n")
	if len(n.Examples) > 0 {
		b.WriteString("| prompt | near prompt | similarity | same problem |\n| --- | --- | ---: | --- |\n")
		for _, e := range n.Examples {
			fmt.Fprintf(b, "| `%s` | `%s` | %.2f | %v |\n", e.PromptID, e.NearPromptID, e.Similarity, e.SameProblem)
		}
		b.WriteString("\n")
	}
}
