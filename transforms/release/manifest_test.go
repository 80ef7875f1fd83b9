package release

import (
	"math"
	"testing"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// TestManifestFromTallies: the manifest's counts, usage, cost and
// breakdowns come from the stages' tallies alone.
func TestManifestFromTallies(t *testing.T) {
	r := recipe.Default()
	r.Teacher.Prices = map[string]teacher.Price{"m": {PromptPerMillion: 2, CompletionPerMillion: 10}}
	m := BuildManifest(Info{Recipe: r, Version: "v1"}, map[string]int64{
		TallyPromptsIn: 5, FateKept: 2, FateRejected: 1, FateDuplicate: 1, FateDeadLetter: 1,
		"reason:" + filters.ReasonNoCorrect: 1, "reason:" + filters.ReasonDuplicate: 1, "dead:read": 1,
		"tokens:m:requests": 3, "tokens:m:prompt": 1_000_000, "tokens:m:completion": 500_000,
		"difficulty:easy": 2, "skill:addition": 2, "graded:correct": 5, "cache:hits": 1,
	})
	if err := m.Counts.Reconcile(); err != nil {
		t.Error(err)
	}
	if u := m.TokenUsage["m"]; u.Requests != 3 || u.PromptTokens != 1_000_000 || u.CompletionTokens != 500_000 {
		t.Errorf("token usage = %+v", u)
	}
	if got := m.Cost["m"]; math.Abs(got-7) > 1e-9 { // 1M × 2 + 0.5M × 10 per million
		t.Errorf("cost = %v, want 7", got)
	}
	if m.Rejections[filters.ReasonDuplicate] != 1 || m.Rejections[filters.ReasonNoCorrect] != 1 || m.DeadLetters["read"] != 1 ||
		m.Difficulty["easy"] != 2 || m.Skills["addition"] != 2 || m.Graded["correct"] != 5 || m.CacheHits != 1 {
		t.Errorf("breakdowns = %+v", m)
	}
	if len(m.TeacherModels) != 1 || m.TeacherModels[0] != "m" {
		t.Errorf("teacher models = %v", m.TeacherModels)
	}
}
