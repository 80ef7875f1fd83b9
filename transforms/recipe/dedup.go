package recipe

import (
	"fmt"
	"slices"
	"strings"

	"github.com/syllabus-dev/syllabus/filters"
)

// Modes of dedup.near.
const (
	NearOff    = "off"
	NearReport = "report"
	NearRemove = "remove"
)

// NearModes are the values dedup.near takes.
var NearModes = []string{NearOff, NearReport, NearRemove}

// DedupConfig is the recipe section "dedup". Exact dedup always runs and
// never merges different problems; near-duplicate detection is set here.
type DedupConfig struct {
	// Near is what near-duplicate detection (MinHash/LSH over 3-token
	// shingles) does: "off", "report" (default: pairs are listed in
	// near_duplicates.jsonl, the manifest and the card; nothing is
	// removed) or "remove" (the later prompt of a pair that states the
	// same problem is rejected, reason near_duplicate, before any teacher
	// call).
	Near string `yaml:"near" json:"near"`
	// NearThreshold is the estimated Jaccard similarity of shingle sets at
	// or above which two prompts are near (default 0.7, measured on GSM8K).
	NearThreshold float64 `yaml:"near_threshold" json:"near_threshold"`
}

// DefaultDedup reports near-duplicates at the measured threshold.
func DefaultDedup() DedupConfig {
	return DedupConfig{Near: NearReport, NearThreshold: filters.DefaultNearThreshold}
}

// validate reports every bad field of the section, named as in the recipe.
func (d DedupConfig) validate() []error {
	var errs []error
	if !slices.Contains(NearModes, d.Near) {
		errs = append(errs, fmt.Errorf("dedup.near must be one of %s, got %q", strings.Join(NearModes, ", "), d.Near))
	}
	if d.NearThreshold <= 0 || d.NearThreshold > 1 {
		errs = append(errs, fmt.Errorf("dedup.near_threshold must be a Jaccard similarity in (0, 1], got %g", d.NearThreshold))
	}
	return errs
}
