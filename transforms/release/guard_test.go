package release

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/storage"
)

func TestCheckWorthPublishing(t *testing.T) {
	for _, c := range []struct {
		name    string
		t       map[string]int64
		max     float64
		want    error
		message string
	}{
		{"kept some", map[string]int64{TallyPromptsIn: 10, FateKept: 6, FateRejected: 4}, 0, nil, ""},
		{"empty input", map[string]int64{}, 0, ErrNothingNew, "no record"},
		{"all in earlier releases", map[string]int64{TallyPromptsIn: 200, FateDuplicate: 200, "reason:" + ReasonInEarlierRelease: 200}, 0, ErrNothingNew, "all 200 records"},
		{"wrong text field", map[string]int64{TallyPromptsIn: 50, FateDeadLetter: 50, "dead:read": 50}, 0, ErrNotWorthPublishing, "--text_field"},
		{"dead share over the default", map[string]int64{TallyPromptsIn: 10, FateKept: 4, FateDeadLetter: 6, "dead:generate": 6}, 0, ErrNotWorthPublishing, "60%"},
		{"dead share under a raised bound", map[string]int64{TallyPromptsIn: 10, FateKept: 4, FateDeadLetter: 6}, 0.7, nil, ""},
		{"dead share counts new records only", map[string]int64{TallyPromptsIn: 100, FateDuplicate: 90, "reason:" + ReasonInEarlierRelease: 90, FateKept: 4, FateDeadLetter: 6}, 0, ErrNotWorthPublishing, "6 of 10"},
		{"kept nothing", map[string]int64{TallyPromptsIn: 10, FateRejected: 10, "reason:no_reference": 10}, 0, ErrNotWorthPublishing, "--answer_field"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckWorthPublishing(c.t, c.max)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if err != nil && !strings.Contains(err.Error(), c.message) {
				t.Errorf("err = %v, want it to say %q", err, c.message)
			}
			if errors.Is(err, ErrNothingNew) != strings.Contains(errString(err), NothingNewMarker) {
				t.Errorf("the nothing-new marker must be in exactly the nothing-new errors: %v", err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestRemoveUnreleased: the folder of a version a run claimed and wrote
// shards into, but did not release, is removed whole; a released version
// is left alone.
func TestRemoveUnreleased(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	store, err := storage.Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"v1/" + ClaimFile, "v1/sft/train-00000-of-00001.parquet", "v2/" + ClaimFile, "v2/manifest.json"} {
		if err := store.Put(ctx, p, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{"v1", "v2", "v3"} {
		if err := RemoveUnreleased(ctx, store, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "v1")); !os.IsNotExist(err) {
		t.Errorf("the unreleased version folder is still there (stat: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(root, "v2", "manifest.json")); err != nil {
		t.Errorf("a released version was touched: %v", err)
	}
}
