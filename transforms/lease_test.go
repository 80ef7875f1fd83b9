package transforms

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// TestRecipeLeaseFields: output.lease_ttl and output.wait_for_lease read as
// durations, and default to release.DefaultTTL and no waiting.
func TestRecipeLeaseFields(t *testing.T) {
	if r := recipe.Default(); r.Output.LeaseTTL != release.DefaultTTL || r.Output.WaitForLease != 0 {
		t.Errorf("defaults: lease_ttl %s, wait_for_lease %s", r.Output.LeaseTTL, r.Output.WaitForLease)
	}
	path := filepath.Join(t.TempDir(), "r.yaml")
	if err := os.WriteFile(path, []byte("output:\n  lease_ttl: 30s\n  wait_for_lease: 10m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Output.LeaseTTL != 30*time.Second || r.Output.WaitForLease != 10*time.Minute {
		t.Errorf("read lease_ttl %s, wait_for_lease %s; want 30s and 10m", r.Output.LeaseTTL, r.Output.WaitForLease)
	}
	if err := r.Validate(); err != nil {
		t.Error(err)
	}
}
