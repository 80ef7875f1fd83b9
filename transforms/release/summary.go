package release

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// Revision is set at link time by builds that know their revision without
// VCS stamping (container images built from a source tarball):
//
//	go build -ldflags "-X github.com/syllabus-dev/syllabus/transforms/release.Revision=$REV" ./pipelines/sftgen
var Revision string

// CodeRevision names the code that made a release, from the build alone:
// Revision when set at link time, else the VCS revision Go stamped into the
// binary (+dirty for uncommitted changes), else the module version of a
// `go install ...@version`, else "unknown". It never looks at the directory
// the command runs in, which may be another checkout or none.
func CodeRevision() string {
	info, ok := debug.ReadBuildInfo()
	return codeRevision(Revision, info, ok)
}

func codeRevision(linked string, info *debug.BuildInfo, ok bool) string {
	if linked != "" {
		return linked
	}
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	switch {
	case rev != "" && dirty:
		return rev + "+dirty"
	case rev != "":
		return rev
	case info.Main.Version != "" && info.Main.Version != "(devel)":
		return info.Main.Version
	}
	return "unknown"
}

// Summary reads the manifest of the release r just made and says in a few
// lines where every prompt went and where the files are.
func Summary(ctx context.Context, r recipe.Recipe) (string, error) {
	root := r.VersionRoot()
	store, err := storage.Open(root, &storage.Options{S3Endpoint: r.Output.S3Endpoint})
	if err != nil {
		return "", err
	}
	data, err := store.Get(ctx, "manifest.json")
	if err != nil {
		return "", fmt.Errorf("release %s has no manifest: %w", root, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return "", fmt.Errorf("release %s: manifest.json: %w", root, err)
	}
	c := m.Counts
	var b strings.Builder
	fmt.Fprintf(&b, "release %s\n", store.URL(""))
	fmt.Fprintf(&b, "  prompts: %d read = %d kept + %d rejected + %d contaminated + %d duplicate + %d dead letter\n",
		c.PromptsIn, c.PromptsKept, c.PromptsRejected, c.PromptsContaminated, c.PromptsDuplicate, c.PromptsDeadLetter)
	fmt.Fprintf(&b, "  rows:    %d sft, %d preference, %d rlvr (%d samples generated)\n", c.SFTRows, c.PreferenceRows, c.RLVRRows, c.SamplesGenerated)
	for model, u := range m.TokenUsage {
		fmt.Fprintf(&b, "  teacher: %s: %d requests, %d prompt + %d completion tokens\n", model, u.Requests, u.PromptTokens, u.CompletionTokens)
	}
	if n := m.Rejections[ReasonInEarlierRelease]; n > 0 {
		fmt.Fprintf(&b, "  earlier: %d prompts are already in earlier releases and were skipped (--incremental=false keeps them)\n", n)
	}
	if m.CacheHits > 0 {
		fmt.Fprintf(&b, "  cache:   %d prompts answered from the response cache\n", m.CacheHits)
	}
	if len(m.Coverage) > 0 {
		fmt.Fprintf(&b, "  skills:  %d skills over the kept prompts (catalogue %s, coverage by difficulty in the card)\n", len(m.Coverage), store.URL(CatalogueFile))
	}
	fmt.Fprintf(&b, "  card:    %s", store.URL("README.md"))
	return b.String(), nil
}
