package transforms

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/storage/storagetest"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/builtin"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// TestSFTGenOnS3 runs sftgen with everything on a real S3 server: prompts
// read from an s3:// JSONL file, the response cache under an S3 prefix, and
// the release written to an s3:// output. A second run into the same output
// must make no teacher request (the cache on S3), and both releases must be
// complete and listed by LATEST. A third, incremental run over those
// prompts and five new ones skips the released ones through spills on S3
// and leaves none behind.
func TestSFTGenOnS3(t *testing.T) {
	bucket, opts := storagetest.NewS3Bucket(t)
	ctx := context.Background()

	spec, _ := builtin.ParseSpec("builtin:arithmetic?n=30")
	problems := builtin.Generate(spec)
	var jsonl, newer strings.Builder
	key := map[string]teacher.Solution{}
	for i, p := range problems {
		line, _ := json.Marshal(map[string]string{"id": p.ID, "prompt": p.Text, "answer": p.Answer})
		if i < 25 {
			jsonl.Write(append(line, '\n'))
		} else {
			newer.Write(append(line, '\n'))
		}
		key[p.Text] = teacher.Solution{Steps: p.Steps, Answer: p.Answer}
	}
	inputs, err := storage.Open(bucket+"/inputs", opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := inputs.Put(ctx, "prompts.jsonl", []byte(jsonl.String())); err != nil {
		t.Fatal(err)
	}
	sim, err := teacher.StartSim(teacher.SimConfig{Model: "m", Accuracy: 0.8, Solve: func(prompt string) (teacher.Solution, bool) {
		q, _, _ := strings.Cut(prompt, "\n\n")
		s, ok := key[q]
		return s, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	run := func(version string, incremental bool, in int64) release.Manifest {
		r := recipe.Default()
		r.Input.Path = bucket + "/inputs/*.jsonl"
		r.Teacher.URL, r.Teacher.Model = sim.URL(), "m"
		r.Output.Path = bucket + "/releases"
		r.Output.S3Endpoint = opts.S3Endpoint
		r.Output.Version = version
		r.Output.Incremental = incremental // off: the cache on S3 is under test
		r.Resolve(time.Now())
		if !strings.HasPrefix(r.Teacher.CacheDir, "s3://") {
			t.Fatalf("cache_dir %q is not on S3 beside the output", r.Teacher.CacheDir)
		}
		if err := r.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := runSFTGen(t, r); err != nil {
			t.Fatal(err)
		}
		store, err := storage.Open(r.VersionRoot(), opts)
		if err != nil {
			t.Fatal(err)
		}
		data, err := store.Get(ctx, "manifest.json")
		if err != nil {
			t.Fatal(err)
		}
		var m release.Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if err := m.Counts.Reconcile(); err != nil || m.Counts.PromptsIn != in {
			t.Errorf("counts %+v: %v", m.Counts, err)
		}
		for _, f := range m.Files {
			if _, _, err := store.Open(ctx, f.Path); err != nil {
				t.Errorf("manifest lists %s: %v", f.Path, err)
			}
		}
		if left, err := store.List(ctx, spillDir+"/"); err != nil || len(left) > 0 {
			t.Errorf("spill files left in the release: %v (%v)", left, err)
		}
		latest, err := storage.Open(r.NameRoot(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := latest.Get(ctx, "LATEST"); err != nil || strings.TrimSpace(string(v)) != version {
			t.Errorf("LATEST = %q, %v", v, err)
		}
		return m
	}
	first := run("v1", false, 25)
	requests := sim.Stats().Requests
	second := run("v2", false, 25)
	if got := sim.Stats().Requests - requests; got != 0 {
		t.Errorf("the rerun made %d teacher requests, want 0 (cache on S3)", got)
	}
	if first.Counts != second.Counts || second.CacheHits != 25 {
		t.Errorf("rerun counts %+v (cache hits %d) differ from the first run's %+v", second.Counts, second.CacheHits, first.Counts)
	}

	if err := inputs.Put(ctx, "prompts-new.jsonl", []byte(newer.String())); err != nil {
		t.Fatal(err)
	}
	third := run("v3", true, 30)
	released := first.Counts.PromptsKept + first.Counts.PromptsRejected
	if got := third.Rejections[release.ReasonInEarlierRelease]; got != released || third.Counts.PromptsDuplicate != released {
		t.Errorf("incremental run: %d prompts in earlier releases (duplicates %d), want %d", got, third.Counts.PromptsDuplicate, released)
	}
}
