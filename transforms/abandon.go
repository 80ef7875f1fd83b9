package transforms

import (
	"context"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// AbandonVersion removes what a run that did not release left in its
// version folder (shards written before it failed, its claim), so a failed
// or nothing-new run leaves no version folder. Call it while the dataset's
// lease is still held (before HoldDataset's done). A dry run claims
// nothing, and a released version is never touched.
func AbandonVersion(ctx context.Context, r recipe.Recipe) error {
	if r.DryRun || r.Output.Version == "" {
		return nil
	}
	store, err := storage.Open(r.NameRoot(), &storage.Options{S3Endpoint: r.Output.S3Endpoint})
	if err != nil {
		return err
	}
	return release.RemoveUnreleased(ctx, store, r.Output.Version)
}
