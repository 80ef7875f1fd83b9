package skills

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/syllabus-dev/syllabus/schemas"
)

// Slug folds a skill name the way Merge compares names: lower case, words
// joined by "_", a trailing plural "s" dropped from each word of more than
// three letters. "Percentages", "percentage" and "percentage calculations"
// give "percentage", "percentage" and "percentage_calculation".
func Slug(name string) string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range words {
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			words[i] = w[:len(w)-1]
		}
	}
	return strings.Join(words, "_")
}

// displayName is the catalogue form of a name: lower case, words joined by
// "_", plurals kept.
func displayName(name string) string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	return strings.Join(words, "_")
}

// Merge folds the skills a teacher named for each of a sample of prompts
// (induced[i] for prompt i) into a catalogue of at most k skills: names
// equal up to Slug are one skill; the k skills named for the most prompts
// are kept (ties by name), each under its most common spelling with its
// most common one-line description. The result is the same whatever the
// order of induced.
func Merge(induced [][]schemas.Skill, k int, source string) (Catalogue, error) {
	type tally struct {
		prompts   int
		spellings map[string]int
		descs     map[string]int
	}
	bySlug := map[string]*tally{}
	for _, skills := range induced {
		seen := map[string]bool{}
		for _, s := range skills {
			slug := Slug(s.Name)
			if slug == "" {
				continue
			}
			t := bySlug[slug]
			if t == nil {
				t = &tally{spellings: map[string]int{}, descs: map[string]int{}}
				bySlug[slug] = t
			}
			if !seen[slug] {
				t.prompts++
				seen[slug] = true
			}
			t.spellings[displayName(s.Name)]++
			if d := oneLine(s.Description); d != "" {
				t.descs[d]++
			}
		}
	}
	if len(bySlug) == 0 {
		return Catalogue{}, fmt.Errorf("skills: the teacher named no skill for any of the %d sampled prompts", len(induced))
	}
	slugs := make([]string, 0, len(bySlug))
	for s := range bySlug {
		slugs = append(slugs, s)
	}
	sort.Slice(slugs, func(i, j int) bool {
		a, b := bySlug[slugs[i]], bySlug[slugs[j]]
		if a.prompts != b.prompts {
			return a.prompts > b.prompts
		}
		return slugs[i] < slugs[j]
	})
	slugs = fold(slugs, func(into, from string) {
		a, b := bySlug[into], bySlug[from]
		a.prompts += b.prompts // a prompt naming both counts twice: rare, and only ranks
		for k, v := range b.descs {
			a.descs[k] += v
		}
		delete(bySlug, from)
	})
	sort.Slice(slugs, func(i, j int) bool {
		a, b := bySlug[slugs[i]], bySlug[slugs[j]]
		if a.prompts != b.prompts {
			return a.prompts > b.prompts
		}
		return slugs[i] < slugs[j]
	})
	if k > 0 && len(slugs) > k {
		slugs = slugs[:k]
	}
	c := Catalogue{Format: FormatVersion, Source: source}
	for _, slug := range slugs {
		t := bySlug[slug]
		desc := mostCommon(t.descs)
		if desc == "" {
			desc = strings.ReplaceAll(slug, "_", " ")
		}
		c.Skills = append(c.Skills, schemas.Skill{Name: mostCommon(t.spellings), Description: desc})
	}
	c.Version = c.ContentVersion()
	return c, c.Validate()
}

// mostCommon returns the key with the highest count (ties: the shortest,
// then the first in byte order).
func mostCommon(m map[string]int) string {
	best, n := "", -1
	for k, v := range m {
		if v > n || (v == n && (len(k) < len(best) || (len(k) == len(best) && k < best))) {
			best, n = k, v
		}
	}
	return best
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// stopWords carry no skill of their own: "percentage calculations" is the
// skill "percentages".
var stopWords = map[string]bool{"problem": true, "calculation": true, "question": true, "skill": true, "basic": true, "simple": true, "a": true, "of": true, "the": true, "with": true, "word": true}

// fold merges each name into a more common one whose words it contains
// (after dropping stop words): "money_problems" into "money",
// "repeated_groups_multiplication" into "multiplication". slugs must be
// ranked most common first; it returns the slugs left.
func fold(slugs []string, merge func(into, from string)) []string {
	words := func(slug string) map[string]bool {
		out := map[string]bool{}
		for _, w := range strings.Split(slug, "_") {
			if !stopWords[w] {
				out[w] = true
			}
		}
		return out
	}
	var kept []string
	for _, slug := range slugs {
		ws := words(slug)
		into := ""
		for _, k := range kept {
			kw := words(k)
			if len(kw) == 0 || len(kw) > len(ws) {
				continue
			}
			all := true
			for w := range kw {
				all = all && ws[w]
			}
			if all {
				into = k
				break
			}
		}
		if into != "" {
			merge(into, slug)
			continue
		}
		kept = append(kept, slug)
	}
	return kept
}
