package release

import (
	"math"
	"strings"
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
		"tokens:m:requests": 5, "tokens:m:prompt": 1_000_000, "tokens:m:completion": 500_000,
		"difficulty:easy": 2, "skill:addition": 2, "graded:correct": 5, "cache:hits": 1,
		"tokens:other:requests": 2, "tokens:m:rate_limited": 2, "tokens:m:retry_rate_limited": 2, "tokens:other:retry_transport": 1,
		"cache_samples:hits": 4, "cache_samples:misses": 12, "cache_samples:errors": 3,
	})
	if err := m.Counts.Reconcile(); err != nil {
		t.Error(err)
	}
	if u := m.TokenUsage["m"]; u.Requests != 5 || u.PromptTokens != 1_000_000 || u.CompletionTokens != 500_000 {
		t.Errorf("token usage = %+v", u)
	}
	if got := m.Cost["m"]; math.Abs(got-7) > 1e-9 { // 1M × 2 + 0.5M × 10 per million
		t.Errorf("cost = %v, want 7", got)
	}
	if m.Rejections[filters.ReasonDuplicate] != 1 || m.Rejections[filters.ReasonNoCorrect] != 1 || m.DeadLetters["read"] != 1 ||
		m.Difficulty["easy"] != 2 || m.Skills["addition"] != 2 || m.Graded["correct"] != 5 || m.CacheHits != 1 {
		t.Errorf("breakdowns = %+v", m)
	}
	if m.HTTPRequests != 7 || m.RateLimited != 2 || m.Retries["rate_limited"] != 2 || m.Retries["transport"] != 1 ||
		m.Cache != (CacheCounts{Hits: 4, Misses: 12, Errors: 3}) {
		t.Errorf("requests and cache = %d, %d, %v, %+v", m.HTTPRequests, m.RateLimited, m.Retries, m.Cache)
	}
	if card := DatasetCard(m, r); !strings.Contains(card, "HTTP requests: 7 (2 answered 429). Retries: 2 rate limited, 1 transport. Response cache: 4 samples found, 12 missing, 3 errors.") {
		t.Errorf("card does not report requests, retries and cache:\n%s", card)
	}
	if len(m.TeacherModels) != 2 || m.TeacherModels[0] != "m" {
		t.Errorf("teacher models = %v", m.TeacherModels)
	}
}
