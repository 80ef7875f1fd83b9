package release

import (
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"strings"
	"testing"
)

func TestCoverageInManifestAndCard(t *testing.T) {
	info := Info{Kind: KindSFTGen, Recipe: recipe.Default()}
	m := BuildManifest(info, map[string]int64{
		TallyPromptsIn: 5, FateKept: 5,
		CoverageKey("fractions", "easy"): 2, CoverageKey("fractions", "hard"): 1, CoverageKey("money", "medium"): 3,
		"skill:fractions": 3, "skill:money": 3,
	})
	if m.Coverage["fractions"]["easy"] != 2 || m.Coverage["fractions"]["hard"] != 1 || m.Coverage["money"]["medium"] != 3 || len(m.Coverage) != 2 {
		t.Fatalf("coverage %v", m.Coverage)
	}
	card := DatasetCard(m, info.Recipe)
	for _, want := range []string{"## Skill coverage", "| skill | easy | medium | hard | total |", "| fractions | 2 | 0 | 1 | 3 |", "| money | 0 | 3 | 0 | 3 |"} {
		if !strings.Contains(card, want) {
			t.Errorf("card lacks %q", want)
		}
	}
	if strings.Contains(DatasetCard(BuildManifest(info, map[string]int64{}), info.Recipe), "Skill coverage") {
		t.Error("a release without skills has a coverage table")
	}
}
