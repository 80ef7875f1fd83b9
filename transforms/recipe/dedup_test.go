package recipe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDedupSection: dedup.near defaults to report at the measured
// threshold, reads from YAML, and bad values are named by their key.
func TestDedupSection(t *testing.T) {
	if d := Default().Dedup; d.Near != NearReport || d.NearThreshold != 0.7 {
		t.Errorf("default dedup = %+v, want report at 0.7", d)
	}
	path := filepath.Join(t.TempDir(), "r.yaml")
	if err := os.WriteFile(path, []byte("dedup:\n  near: remove\n  near_threshold: 0.8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Dedup.Near != NearRemove || r.Dedup.NearThreshold != 0.8 {
		t.Errorf("loaded dedup = %+v", r.Dedup)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("valid dedup section refused: %v", err)
	}
	for _, c := range []struct {
		near      string
		threshold float64
		want      []string
	}{
		{"delete", 0.7, []string{`dedup.near must be one of off, report, remove, got "delete"`}},
		{"report", 0, []string{"dedup.near_threshold must be a Jaccard similarity in (0, 1], got 0"}},
		{"", 1.2, []string{"dedup.near must be one of", "dedup.near_threshold must be a Jaccard similarity in (0, 1], got 1.2"}},
	} {
		r := Default()
		r.Dedup.Near, r.Dedup.NearThreshold = c.near, c.threshold
		err := r.Validate()
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("near %q, threshold %g: error %v does not say %q", c.near, c.threshold, err, w)
			}
		}
	}
}
