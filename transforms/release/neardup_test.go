package release

import (
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// TestNearDupSummary: the manifest's near_duplicates and the card's
// section come from the near tallies; with dedup.near off there is none.
func TestNearDupSummary(t *testing.T) {
	r := recipe.Default()
	r.Dedup.Near = recipe.NearRemove
	tallies := map[string]int64{
		TallyPromptsIn: 4, FateKept: 3, FateDuplicate: 1,
		NearPrefix + "pairs": 2, NearPrefix + "same_problem_pairs": 1, NearPrefix + "prompts": 3, NearPrefix + "removed": 1,
		NearExamplePrefix + `1:{"prompt_id":"b","near_prompt_id":"a","similarity":0.94,"same_problem":true}`:  1,
		NearExamplePrefix + `0:{"prompt_id":"d","near_prompt_id":"c","similarity":0.73,"same_problem":false}`: 1,
	}
	m := BuildManifest(Info{Recipe: r, Version: "v1"}, tallies)
	n := m.NearDuplicates
	if n == nil || n.Mode != recipe.NearRemove || n.Threshold != 0.7 || n.Pairs != 2 || n.SameProblemPairs != 1 || n.Prompts != 3 || n.Removed != 1 {
		t.Fatalf("near_duplicates = %+v", n)
	}
	if len(n.Examples) != 2 || n.Examples[0].PromptID != "d" || n.Examples[1] != (NearExample{PromptID: "b", NearPromptID: "a", Similarity: 0.94, SameProblem: true}) {
		t.Errorf("examples = %+v", n.Examples)
	}
	card := DatasetCard(m, r)
	for _, want := range []string{"## Near-duplicates", "≥ 0.70", "2 near pairs among 3 prompts", "1 prompts were removed", "| `b` | `a` | 0.94 | true |"} {
		if !strings.Contains(card, want) {
			t.Errorf("card lacks %q:\n%s", want, card)
		}
	}
	r.Dedup.Near = recipe.NearOff
	if m := BuildManifest(Info{Recipe: r, Version: "v1"}, tallies); m.NearDuplicates != nil || strings.Contains(DatasetCard(m, r), "Near-duplicates") {
		t.Errorf("dedup.near off still reports near-duplicates: %+v", m.NearDuplicates)
	}
}
