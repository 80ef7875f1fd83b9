package release

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/syllabus-dev/syllabus/storage"
)

// NothingNewMarker is in the error of a run that had nothing new to
// release; sftgen exits with ExitNothingNew when its run's error holds it
// (the error crosses the runner as text, so the marker is what survives).
const NothingNewMarker = "nothing new to release"

// Exit codes of sftgen, which schedulers branch on.
const (
	ExitReleased   = 0
	ExitFailed     = 1
	ExitNothingNew = 3
)

// Sentinel errors of CheckWorthPublishing.
var (
	// ErrNothingNew: every record was in an earlier release, or the input
	// held none. Nothing was published; LATEST is unchanged.
	ErrNothingNew = errors.New("release: " + NothingNewMarker)
	// ErrNotWorthPublishing: the run kept nothing, or lost too much to
	// dead letters.
	ErrNotWorthPublishing = errors.New("release: the run is not worth publishing")
)

// DefaultMaxDeadLetterFraction is output.max_dead_letter_fraction's default.
const DefaultMaxDeadLetterFraction = 0.5

// CheckWorthPublishing says whether a run's counts make a release: it
// fails with ErrNothingNew when no record was new (all in earlier
// releases, or none read), and with ErrNotWorthPublishing when the new
// records kept nothing or more than maxDead of them (a fraction; 0 means
// the default) are dead letters. It runs before anything is published.
func CheckWorthPublishing(t map[string]int64, maxDead float64) error {
	if maxDead <= 0 {
		maxDead = DefaultMaxDeadLetterFraction
	}
	in := t[TallyPromptsIn]
	earlier := t["reason:"+ReasonInEarlierRelease]
	fresh := in - earlier
	if fresh <= 0 {
		if in == 0 {
			return fmt.Errorf("%w: the input holds no record", ErrNothingNew)
		}
		return fmt.Errorf("%w: all %d records are in earlier releases", ErrNothingNew, in)
	}
	dead, kept := t[FateDeadLetter], t[FateKept]
	if share := float64(dead) / float64(fresh); share > maxDead {
		return fmt.Errorf("%w: %d of %d new records (%.0f%%) are dead letters, more than output.max_dead_letter_fraction %.2f; %s",
			ErrNotWorthPublishing, dead, fresh, 100*share, maxDead, deadHint(t))
	}
	if kept == 0 {
		return fmt.Errorf("%w: none of %d new records was kept (rejected %d, contaminated %d, duplicate %d, dead letters %d)%s",
			ErrNotWorthPublishing, fresh, t[FateRejected], t[FateContaminated], t[FateDuplicate]-earlier, dead, rejectHint(t))
	}
	return nil
}

// deadHint names the stages the dead letters came from.
func deadHint(t map[string]int64) string {
	var parts []string
	for k, v := range t {
		if stage, ok := strings.CutPrefix(k, "dead:"); ok && v > 0 {
			parts = append(parts, fmt.Sprintf("%d at %s", v, stage))
		}
	}
	hint := "see dead_letter.jsonl of the failed run's log"
	if len(parts) > 0 {
		hint = "dead letters: " + strings.Join(parts, ", ")
	}
	if t["dead:read"] > 0 {
		hint += " (check --text_field and the input's field names)"
	}
	return hint
}

func rejectHint(t map[string]int64) string {
	if n := t["reason:no_reference"]; n > 0 {
		return fmt.Sprintf("; %d had no reference answer (check --answer_field)", n)
	}
	return ""
}

// RemoveUnreleased removes what a run left in the folder of a version it
// claimed but did not release (shards, its .claim.json), so a failed or
// nothing-new run leaves no version folder behind. A released version
// (one with a manifest) is never touched.
func RemoveUnreleased(ctx context.Context, dataset storage.Store, version string) error {
	if _, err := dataset.Get(ctx, version+"/manifest.json"); err == nil {
		return nil
	} else if !errors.Is(err, storage.ErrNotExist) {
		return err
	}
	left, err := dataset.List(ctx, version+"/")
	if err != nil {
		return err
	}
	// The claim goes last: while it is there, the folder is known to be ours.
	var claim bool
	for _, p := range left {
		if p == version+"/"+ClaimFile {
			claim = true
			continue
		}
		if err := dataset.Delete(ctx, p); err != nil {
			return err
		}
	}
	if claim {
		if err := dataset.Delete(ctx, version+"/"+ClaimFile); err != nil {
			return err
		}
	}
	if _, local := dataset.(*storage.Local); local {
		removeEmptyDirs(dataset.URL(version))
	}
	return nil
}

// removeEmptyDirs removes dir and the folders under it that hold no file
// (a local store leaves the folders of deleted files; S3 has none).
func removeEmptyDirs(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() {
			removeEmptyDirs(filepath.Join(dir, e.Name()))
		}
	}
	_ = os.Remove(dir) // fails, as it should, if a file is left
}
