package release

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// ReasonInEarlierRelease rejects a prompt an earlier release already holds.
const ReasonInEarlierRelease = "in_earlier_release"

// EarlierReleaseFiles lists, under <output>/<name>/, the files of every
// complete earlier release (one with a manifest) that name prompts: the
// Parquet tables and the contamination report. Paths are relative to
// <output>/<name>.
func EarlierReleaseFiles(ctx context.Context, r recipe.Recipe) ([]string, error) {
	store, err := storage.Open(r.NameRoot(), &storage.Options{S3Endpoint: r.Output.S3Endpoint})
	if err != nil {
		return nil, err
	}
	paths, err := store.List(ctx, "")
	if err != nil {
		return nil, err
	}
	var files []string
	for _, p := range paths {
		version, name, ok := strings.Cut(p, "/")
		if !ok || name != "manifest.json" || version == r.Output.Version {
			continue
		}
		data, err := store.Get(ctx, p)
		if err != nil {
			return nil, err
		}
		var m schemas.Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("earlier release %s: %w", p, err)
		}
		for _, f := range m.Files {
			if strings.HasSuffix(f.Path, ".parquet") || f.Path == TableContamination+".jsonl" {
				files = append(files, version+"/"+f.Path)
			}
		}
	}
	return files, nil
}
