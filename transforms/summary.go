package transforms

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"runtime/debug"
	"strings"

	"github.com/syllabus-dev/syllabus/storage"
)

// CodeRevision names the code that made a release: the VCS revision Go
// stamped into the binary, else the revision of the git checkout the
// command runs in (go run), else "unknown".
func CodeRevision() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if dirty {
				rev += "+dirty"
			}
			return rev
		}
	}
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	if err := exec.Command("git", "diff", "--quiet", "HEAD").Run(); err != nil {
		rev += "+dirty"
	}
	return rev
}

// Summary reads the manifest of the release r just made and says in a few
// lines where every prompt went and where the files are.
func Summary(ctx context.Context, r Recipe) (string, error) {
	root := versionRoot(r)
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
	fmt.Fprintf(&b, "  card:    %s", store.URL("README.md"))
	return b.String(), nil
}

// DecontamSummary reads the manifest of a finished decontam job and says
// where every record went.
func DecontamSummary(ctx context.Context, j DecontamJob) (string, error) {
	store, err := storage.Open(j.Output, &storage.Options{S3Endpoint: j.S3Endpoint})
	if err != nil {
		return "", err
	}
	data, err := store.Get(ctx, "manifest.json")
	if err != nil {
		return "", fmt.Errorf("%s has no manifest: %w", j.Output, err)
	}
	var m DecontamManifest
	if err := json.Unmarshal(data, &m); err != nil {
		return "", fmt.Errorf("%s: manifest.json: %w", j.Output, err)
	}
	c := m.Counts
	var b strings.Builder
	fmt.Fprintf(&b, "decontam %s\n  records: %d read = %d clean + %d flagged + %d dead letter\n", store.URL(""), c.RecordsIn, c.Clean, c.Flagged, c.DeadLetter)
	for _, bm := range m.Benchmarks {
		if bm.Flagged > 0 {
			fmt.Fprintf(&b, "  %-14s %d flagged\n", bm.Name, bm.Flagged)
		}
	}
	fmt.Fprintf(&b, "  report:  %s", store.URL("contamination.jsonl"))
	return b.String(), nil
}
