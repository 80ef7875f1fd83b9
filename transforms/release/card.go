package release

import (
	"fmt"
	"sort"
	"strings"

	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// DatasetCard renders README.md of a release: YAML front matter that the
// Hugging Face datasets loader reads (one config per table), then what a
// person wants to know before training on the data: where every prompt
// went, how hard the kept ones were, which skills they exercise, what the
// teacher cost, and what decontamination found.
func DatasetCard(m *Manifest, r recipe.Recipe) string {
	var b strings.Builder
	b.WriteString("---\nconfigs:\n")
	for i, t := range cardTables(m, TableSFT, TablePreference, TableRLVR) {
		fmt.Fprintf(&b, "- config_name: %s\n", t)
		if i == 0 {
			b.WriteString("  default: true\n")
		}
		fmt.Fprintf(&b, "  data_files:\n  - split: train\n    path: %s/train-*.parquet\n", t)
	}
	b.WriteString("tags:\n- synthetic\n- syllabus\n- rejection-sampling\n---\n\n")

	c := m.Counts
	fmt.Fprintf(&b, "# %s — release %s\n\n", m.Name, m.Version)
	fmt.Fprintf(&b, "Made by syllabus (schema %s, code %s) on %s from `%s`, with rationales by %s, each verified against its reference answer.\n\n",
		m.SchemaVersion, orDash(m.CodeRevision), m.CreatedAt, r.Input.Path, codeList(m.TeacherModels))

	b.WriteString("## Load it\n\n```python\nfrom datasets import load_dataset\n")
	fmt.Fprintf(&b, "sft = load_dataset(\"parquet\", data_files=\"sft/*.parquet\")       # messages: TRL SFTTrainer\n")
	fmt.Fprintf(&b, "pairs = load_dataset(\"parquet\", data_files=\"preference/*.parquet\")  # prompt/chosen/rejected: TRL DPOTrainer\n```\n\n")
	b.WriteString("```sql\n-- DuckDB\nSELECT difficulty, count(*) FROM 'sft/*.parquet' GROUP BY ALL;\n```\n\n")

	b.WriteString("## Where every prompt went\n\n")
	b.WriteString("| fate | prompts | share |\n| --- | ---: | --- |\n")
	fates := []struct {
		name string
		n    int64
	}{
		{"kept (released rows)", c.PromptsKept},
		{"rejected (see `rejected/`)", c.PromptsRejected},
		{"contaminated (see `contamination.jsonl`)", c.PromptsContaminated},
		{"duplicate", c.PromptsDuplicate},
		{"dead letter (see `dead_letter.jsonl`)", c.PromptsDeadLetter},
	}
	for _, f := range fates {
		fmt.Fprintf(&b, "| %s | %d | %s |\n", f.name, f.n, bar(f.n, c.PromptsIn))
	}
	fmt.Fprintf(&b, "| **read** | **%d** | |\n\n", c.PromptsIn)

	b.WriteString("| table | rows | files |\n| --- | ---: | ---: |\n")
	for _, t := range cardTables(m, SFTGenTables...) {
		var rows, files int64
		for _, f := range m.Files {
			if strings.HasPrefix(f.Path, t+"/") || f.Path == t+".jsonl" {
				rows += f.Rows
				files++
			}
		}
		fmt.Fprintf(&b, "| `%s` | %d | %d |\n", t, rows, files)
	}
	b.WriteString("\n")

	section(&b, "Why prompts were rejected", "reason", m.Rejections, c.PromptsRejected+c.PromptsDuplicate)
	nearDupSection(&b, m)
	section(&b, "Difficulty of kept prompts (teacher pass rate)", "difficulty", m.Difficulty, c.PromptsKept)
	section(&b, "Skills of kept prompts", "skill", m.Skills, c.PromptsKept)
	coverageSection(&b, m)
	section(&b, "Sample verdicts", "verdict", m.Graded, c.SamplesGenerated)

	curationCard(&b, m)
	b.WriteString("## Teacher usage\n\n")
	if len(m.TokenUsage) == 0 {
		b.WriteString("No teacher calls were made (every response came from the cache).\n\n")
	} else {
		b.WriteString("| model | requests | prompt tokens | completion tokens | est. cost |\n| --- | ---: | ---: | ---: | ---: |\n")
		for _, model := range sortedKeys(m.TokenUsage) {
			u := m.TokenUsage[model]
			cost := "—"
			if v, ok := m.Cost[model]; ok {
				cost = fmt.Sprintf("%.2f", v)
			}
			fmt.Fprintf(&b, "| `%s` | %d | %d | %d | %s |\n", model, u.Requests, u.PromptTokens, u.CompletionTokens, cost)
		}
		b.WriteString("\n")
	}
	if m.CacheHits > 0 {
		fmt.Fprintf(&b, "%d prompts were answered from the response cache at no cost.\n\n", m.CacheHits)
	}
	fmt.Fprintf(&b, "HTTP requests: %d (%d answered 429). Retries: %s. Response cache: %d samples found, %d missing, %d errors.\n\n",
		m.HTTPRequests, m.RateLimited, retriesText(m.Retries), m.Cache.Hits, m.Cache.Misses, m.Cache.Errors)

	b.WriteString("## Decontamination\n\n")
	fmt.Fprintf(&b, "Prompts were checked before any teacher call, and every response after, against %d benchmark sets ", len(m.Benchmarks))
	fmt.Fprintf(&b, "(%d-gram overlap, threshold %.2f).\n\n", r.Decontam.NgramSize, r.Decontam.Threshold)
	if len(m.Benchmarks) > 0 {
		b.WriteString("| benchmark | version | items | flagged |\n| --- | --- | ---: | ---: |\n")
		for _, bm := range m.Benchmarks {
			fmt.Fprintf(&b, "| %s | `%s` | %d | %d |\n", bm.Name, shortHash(bm.Version), bm.Items, bm.Flagged)
		}
		b.WriteString("\n")
	}
	b.WriteString("Every file of this release is listed with its row count and SHA-256 in `manifest.json`.\n")
	return b.String()
}

// section writes a counted breakdown as a table with bars, largest first.
func section(b *strings.Builder, title, what string, counts map[string]int64, total int64) {
	if len(counts) == 0 {
		return
	}
	fmt.Fprintf(b, "## %s\n\n| %s | count | share |\n| --- | ---: | --- |\n", title, what)
	keys := sortedKeys(counts)
	sort.SliceStable(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
	for _, k := range keys {
		fmt.Fprintf(b, "| %s | %d | %s |\n", k, counts[k], bar(counts[k], total))
	}
	b.WriteString("\n")
}

// bar draws n/total as a 20-cell bar with the percentage.
func bar(n, total int64) string {
	if total <= 0 {
		return ""
	}
	frac := float64(n) / float64(total)
	cells := int(frac*20 + 0.5)
	return fmt.Sprintf("`%s%s` %.1f%%", strings.Repeat("█", cells), strings.Repeat("░", 20-min(cells, 20)), 100*frac)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func codeList(xs []string) string {
	if len(xs) == 0 {
		return "no teacher"
	}
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "`" + x + "`"
	}
	return strings.Join(q, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// shortHash shortens "sha256:0123…" to its first 12 hex digits.
func shortHash(s string) string {
	_, hexDigits, found := strings.Cut(s, ":")
	if !found {
		hexDigits = s
	}
	if len(hexDigits) > 12 {
		return hexDigits[:12]
	}
	return hexDigits
}

// retriesText lists retries by cause, "none" when there were none.
func retriesText(r map[string]int64) string {
	if len(r) == 0 {
		return "none"
	}
	var parts []string
	for _, cause := range sortedKeys(r) {
		parts = append(parts, fmt.Sprintf("%d %s", r[cause], strings.ReplaceAll(cause, "_", " ")))
	}
	return strings.Join(parts, ", ")
}
