package release

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// Tally keys of the stage after verification (besides "difficulty:",
// "graded:" and "reason:").
const (
	// TallyLength + "<table>:<tokens>" counts rows of a table whose
	// response is that many tokens long (a histogram: exact percentiles
	// without holding the rows).
	TallyLength = "length:"
	// TallyRLVRExcluded + reason counts kept prompts with no RLVR row.
	TallyRLVRExcluded = "rlvr_excluded:"
	// TallyNearIdentical counts correct samples dropped as near-identical
	// rationales of one prompt (not near-duplicate prompts: see neardup.go).
	TallyNearIdentical = "rationales:near_identical"
	// TallySampling* count what the sampling policy drew and left undrawn.
	TallySamplingPrompts      = "sampling:prompts"       // prompts that reached the teacher
	TallySamplingMax          = "sampling:max_samples"   // k per such prompt
	TallySamplingStopped      = "sampling:stopped_early" // prompts stopped before k
	TallySamplingSaved        = "sampling:samples_saved" // samples not drawn
	TallySamplingTokensSaved  = "sampling:tokens_saved"  // estimated completion tokens not spent
	TallySamplingRounds       = "sampling:rounds"        // requests made for rounds
	TallyRewardScored         = "reward:scored"          // samples scored
	TallyRewardCached         = "reward:cached"          // scores read from the cache
	TallyRewardPromptTokens   = "reward:prompt_tokens"   // tokens the reward model read
	TallyRewardPromptsScored  = "reward:prompts"         // prompts with at least one score
	tallyLengthTableSeparator = ":"
)

// LengthTables are the tables (and columns) whose response lengths the
// card reports.
var LengthTables = []string{"sft", "chosen", "rejected"}

// Curation is the manifest's account of the stage after verification.
type Curation struct {
	// Lineage is what the rows were made with.
	Lineage recipe.Lineage `json:"lineage"`
	// RLVRExcluded counts kept prompts that gave no RLVR row, by reason.
	RLVRExcluded map[string]int64 `json:"rlvr_excluded"`
	// NearIdenticalRationales counts correct samples dropped as
	// near-identical to a better one of the same prompt.
	NearIdenticalRationales int64 `json:"near_identical_rationales"`
	// ResponseTokens summarizes response lengths per table (sft, chosen,
	// rejected), in tokens of sampling.token_encoding.
	ResponseTokens map[string]filters.LengthStats `json:"response_tokens"`
	Sampling       SamplingSummary                `json:"sampling"`
	// Reward is set when a reward model scored the samples.
	Reward *RewardSummary `json:"reward,omitempty"`
}

// SamplingSummary says what the sampling policy drew and what it saved.
type SamplingSummary struct {
	Policy string `json:"policy"`
	// Prompts reached the teacher; MaxSamples is k for each of them.
	Prompts    int64 `json:"prompts"`
	MaxSamples int64 `json:"max_samples"`
	// SamplesDrawn were drawn; SamplesSaved = MaxSamples - SamplesDrawn
	// over the prompts that finished sampling.
	SamplesDrawn int64 `json:"samples_drawn"`
	SamplesSaved int64 `json:"samples_saved"`
	// StoppedEarly counts prompts the adaptive policy stopped before k.
	StoppedEarly int64 `json:"stopped_early"`
	// TokensSavedEstimate is the completion tokens not spent: each saved
	// sample at its prompt's mean completion length.
	TokensSavedEstimate int64 `json:"completion_tokens_saved_estimate"`
	// SavedShare is TokensSavedEstimate over what fixed k would have spent.
	SavedShare float64 `json:"completion_tokens_saved_share"`
}

// RewardSummary is what the reward model did.
type RewardSummary struct {
	Model        string `json:"model"`
	Prompts      int64  `json:"prompts"`
	Scored       int64  `json:"samples_scored"`
	Cached       int64  `json:"scores_from_cache"`
	PromptTokens int64  `json:"prompt_tokens"`
}

func buildCuration(info Info, t map[string]int64, models []string) Curation {
	r := info.Recipe
	versions := map[string]string{}
	for _, b := range info.Benchmarks {
		versions[b.Name] = b.Version
	}
	c := Curation{Lineage: r.Lineage(versions), RLVRExcluded: map[string]int64{}, NearIdenticalRationales: t[TallyNearIdentical],
		ResponseTokens: map[string]filters.LengthStats{}}
	if len(models) > 0 {
		c.Lineage.TeacherModel = strings.Join(models, ",")
	}
	hist := map[string]map[int]int64{}
	for k, v := range t {
		if reason, ok := strings.CutPrefix(k, TallyRLVRExcluded); ok {
			c.RLVRExcluded[reason] += v
		}
		if rest, ok := strings.CutPrefix(k, TallyLength); ok {
			table, n, _ := strings.Cut(rest, tallyLengthTableSeparator)
			tokens, err := strconv.Atoi(n)
			if err != nil {
				continue
			}
			if hist[table] == nil {
				hist[table] = map[int]int64{}
			}
			hist[table][tokens] += v
		}
	}
	for table, h := range hist {
		c.ResponseTokens[table] = SummarizeHistogram(h)
	}
	policy := r.Sampling.Policy
	if policy == "" {
		policy = filters.PolicyFixed
	}
	s := SamplingSummary{Policy: policy, Prompts: t[TallySamplingPrompts], MaxSamples: t[TallySamplingMax],
		SamplesDrawn: t["samples"], SamplesSaved: t[TallySamplingSaved], StoppedEarly: t[TallySamplingStopped],
		TokensSavedEstimate: t[TallySamplingTokensSaved]}
	var completion int64
	for k, v := range t {
		if strings.HasPrefix(k, "tokens:") && strings.HasSuffix(k, ":completion") {
			completion += v
		}
	}
	if total := completion + s.TokensSavedEstimate; total > 0 {
		s.SavedShare = math.Round(1e4*float64(s.TokensSavedEstimate)/float64(total)) / 1e4
	}
	c.Sampling = s
	if r.UsesReward() {
		c.Reward = &RewardSummary{Model: r.Reward.Model, Prompts: t[TallyRewardPromptsScored], Scored: t[TallyRewardScored],
			Cached: t[TallyRewardCached], PromptTokens: t[TallyRewardPromptTokens]}
	}
	return c
}

// LengthKey is the tally key booking one response of tokens length in
// table (sft, chosen or rejected).
func LengthKey(table string, tokens int) string {
	return TallyLength + table + tallyLengthTableSeparator + strconv.Itoa(tokens)
}

// SummarizeHistogram is filters.SummarizeLengths over a histogram (length
// → count): nearest-rank percentiles, exact.
func SummarizeHistogram(h map[int]int64) filters.LengthStats {
	type bin struct {
		v int
		n int64
	}
	var bins []bin
	var count, sum int64
	for v, n := range h {
		if n <= 0 {
			continue
		}
		bins = append(bins, bin{v, n})
		count += n
		sum += int64(v) * n
	}
	if count == 0 {
		return filters.LengthStats{}
	}
	slices.SortFunc(bins, func(a, b bin) int { return cmp.Compare(a.v, b.v) })
	at := func(p float64) int {
		rank := max(int64(math.Ceil(p/100*float64(count))), 1)
		var seen int64
		for _, b := range bins {
			if seen += b.n; seen >= rank {
				return b.v
			}
		}
		return bins[len(bins)-1].v
	}
	return filters.LengthStats{Count: int(count), Min: bins[0].v, Max: bins[len(bins)-1].v, Mean: float64(sum) / float64(count),
		P50: at(50), P90: at(90), P95: at(95), P99: at(99)}
}

// curationCard writes the card's sections on lengths, sampling, rewards
// and lineage.
func curationCard(b *strings.Builder, m *Manifest) {
	c := m.Curation
	if len(c.ResponseTokens) > 0 {
		fmt.Fprintf(b, "## Response lengths (tokens, %s)\n\n| rows | count | min | p50 | p90 | p95 | p99 | max | mean |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n", orDash(c.Lineage.TokenEncoding))
		for _, t := range LengthTables {
			if s, ok := c.ResponseTokens[t]; ok {
				fmt.Fprintf(b, "| %s | %d | %d | %d | %d | %d | %d | %d | %.0f |\n", t, s.Count, s.Min, s.P50, s.P90, s.P95, s.P99, s.Max, s.Mean)
			}
		}
		b.WriteString("\n")
	}
	s := c.Sampling
	b.WriteString("## Sampling\n\n")
	fmt.Fprintf(b, "Policy `%s`: %d prompts reached the teacher, %d samples drawn of at most %d", s.Policy, s.Prompts, s.SamplesDrawn, s.MaxSamples)
	if s.SamplesSaved > 0 {
		fmt.Fprintf(b, "; %d prompts stopped early, saving %d samples and about %d completion tokens (%.1f %%)", s.StoppedEarly, s.SamplesSaved, s.TokensSavedEstimate, 100*s.SavedShare)
	}
	b.WriteString(".\n\n")
	if len(c.RLVRExcluded) > 0 {
		section(b, "Kept prompts left out of the RLVR table", "reason", c.RLVRExcluded, m.Counts.PromptsKept)
	}
	if rw := c.Reward; rw != nil {
		fmt.Fprintf(b, "## Reward model\n\nSFT rows are the best-of-N by `%s`: %d samples of %d prompts scored (%d from the cache), %d tokens read.\n\n",
			rw.Model, rw.Scored, rw.Prompts, rw.Cached, rw.PromptTokens)
	}
	l := c.Lineage
	b.WriteString("## Lineage\n\n| | |\n| --- | --- |\n")
	fmt.Fprintf(b, "| teacher | `%s` |\n| prompt template | `%s` |\n| verifier | %s (grading v%s) |\n", l.TeacherModel, l.PromptTemplateHash, orDash(l.Verifier), l.GradingVersion)
	if l.RewardModel != "" {
		fmt.Fprintf(b, "| reward model | `%s` |\n", l.RewardModel)
	}
	for _, k := range sortedKeys(l.Sampling) {
		if v := l.Sampling[k]; v != nil {
			fmt.Fprintf(b, "| sampling.%s | %v |\n", k, v)
		}
	}
	b.WriteString("\n")
}

// cardTables is tables, plus the refusal table when the release has one.
func cardTables(m *Manifest, tables ...string) []string {
	out := slices.Clone(tables)
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, TableRefusal+"/") {
			return append(out, TableRefusal)
		}
	}
	return out
}
