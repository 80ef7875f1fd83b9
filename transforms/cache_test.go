package transforms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// TestSFTGenCacheRerunIsFree runs sftgen twice into the same output with
// the default response cache (<output>/.cache/teacher): the second run
// makes no request at all and releases the same SFT rows. The second run
// talks to another sim, seeded differently, so a request that slipped past
// the cache would change rows, and a fresh client (another URL is another
// worker teacher) so the hits come from the cache on disk.
func TestSFTGenCacheRerunIsFree(t *testing.T) {
	const n = 80
	input := fmt.Sprintf("builtin:arithmetic?n=%d", n)
	first := startBuiltinSim(t, input, teacher.SimConfig{Model: "sim", Accuracy: 0.7, Slots: 16, Latency: time.Millisecond})
	r1 := simRecipe(t, n, first)
	r1.Resolve(time.Now())
	if want := filepath.Join(r1.Output.Path, ".cache", "teacher"); filepath.Clean(r1.Teacher.CacheDir) != want {
		t.Fatalf("cache_dir resolves to %q, want %q", r1.Teacher.CacheDir, want)
	}
	if err := runRecipe(t, r1); err != nil {
		t.Fatal(err)
	}
	m1 := checkRelease(t, r1)
	reqs1 := first.Stats().Requests
	if reqs1 == 0 || reqs1 != m1.TokenUsage["sim"].Requests {
		t.Fatalf("first run: the server saw %d requests, the manifest books %d", reqs1, m1.TokenUsage["sim"].Requests)
	}

	second := startBuiltinSim(t, input, teacher.SimConfig{Model: "sim", Accuracy: 0.3, Slots: 16, Seed: 99})
	r2 := r1
	r2.Output.Version = "v2"
	r2.Output.Incremental = false // the cache is under test here, not incremental releases
	r2.Teacher.URL = second.URL()
	if err := runRecipe(t, r2); err != nil {
		t.Fatal(err)
	}
	m2 := checkRelease(t, r2)
	if st := second.Stats(); st.Requests != 0 {
		t.Errorf("the rerun made %d requests to the teacher, want 0", st.Requests)
	}
	if m2.CacheHits != reqs1 || m2.TokenUsage["sim"].Requests != 0 {
		t.Errorf("rerun: %d cache hits, %d requests booked; want %d hits, 0 requests", m2.CacheHits, m2.TokenUsage["sim"].Requests, reqs1)
	}
	if m1.Counts != m2.Counts {
		t.Errorf("counts differ: first %+v, rerun %+v", m1.Counts, m2.Counts)
	}
	rows1, rows2 := sftRows(t, r1, m1), sftRows(t, r2, m2)
	if len(rows1) == 0 || !reflect.DeepEqual(rows1, rows2) {
		t.Errorf("the rerun's %d SFT rows differ from the first run's %d", len(rows2), len(rows1))
	}
	t.Logf("first run: %d requests, %d SFT rows; rerun: 0 requests, %d cache hits, identical rows", reqs1, len(rows1), m2.CacheHits)
}

// sftRows returns the release's SFT rows ordered by prompt and sample.
func sftRows(t *testing.T, r recipe.Recipe, m release.Manifest) []schemas.SFTExample {
	t.Helper()
	var all []schemas.SFTExample
	for _, f := range filesOf(m, release.TableSFT) {
		rows, err := parquet.ReadFile[schemas.SFTExample](filepath.Join(r.VersionRoot(), f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		all = append(all, rows...)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].PromptID != all[j].PromptID {
			return all[i].PromptID < all[j].PromptID
		}
		return all[i].SampleIndex < all[j].SampleIndex
	})
	return all
}

// helperRecipeEnv, when set, makes TestSFTGenHelperProcess run sftgen on the
// recipe it holds (JSON) and exit: the test binary is its own sftgen
// process, which the kill test starts and SIGKILLs.
const helperRecipeEnv = "SYLLABUS_SFTGEN_HELPER_RECIPE"

// TestSFTGenHelperProcess is not a test: it is the child process of
// TestSFTGenKilledRerunPaysOnce.
func TestSFTGenHelperProcess(t *testing.T) {
	spec := os.Getenv(helperRecipeEnv)
	if spec == "" {
		t.Skip("the child process of TestSFTGenKilledRerunPaysOnce")
	}
	var r recipe.Recipe
	if err := json.Unmarshal([]byte(spec), &r); err != nil {
		t.Fatal(err)
	}
	r.Resolve(time.Now())
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := runRecipe(t, r); err != nil {
		t.Fatal(err)
	}
}

// TestSFTGenKilledRerunPaysOnce runs sftgen as a separate process against a
// slow teacher, SIGKILLs it when about half the requests are answered, and
// reruns it to completion: with the response cache the two runs together
// make at most 5 % more requests than a clean run (the kill loses only the
// requests in flight), and the rerun's release is complete.
func TestSFTGenKilledRerunPaysOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs sftgen three times, two of them as a child process")
	}
	const n = 400
	input := fmt.Sprintf("builtin:arithmetic?n=%d", n)
	sim := startBuiltinSim(t, input, teacher.SimConfig{Model: "sim", Accuracy: 0.7, Slots: 8, Latency: 25 * time.Millisecond})

	// A clean run, no cache: what the job costs.
	clean := simRecipe(t, n, sim)
	clean.Teacher.MaxConcurrency = 8
	if err := runRecipe(t, clean); err != nil {
		t.Fatal(err)
	}
	cleanReqs := sim.Stats().Requests
	sim.ResetStats()

	// The same job in a child process, with the default cache under its
	// output, killed half way.
	r := simRecipe(t, n, sim)
	r.Teacher.MaxConcurrency = 8
	spec, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSFTGenHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperRecipeEnv+"="+string(spec))
		return cmd
	}
	cmd := child()
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	killedAt := int64(-1)
poll:
	for {
		select {
		case err := <-exited:
			t.Fatalf("the child exited before it was killed (%v):\n%s", err, out)
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("the child answered %d of %d requests in 60 s:\n%s", sim.Stats().Completed, cleanReqs, out)
		case <-time.After(2 * time.Millisecond):
			if st := sim.Stats(); st.Completed >= cleanReqs/2 {
				if err := cmd.Process.Kill(); err != nil { // SIGKILL
					t.Fatal(err)
				}
				killedAt = st.Completed
				break poll
			}
		}
	}
	<-exited
	killedReqs := sim.Stats().Requests
	if _, err := os.Stat(filepath.Join(r.NameRoot(), "LATEST")); !os.IsNotExist(err) {
		t.Errorf("the killed run published LATEST (stat: %v)", err)
	}

	// The rerun, to completion.
	sim.ResetStats()
	r.Output.Version = "v2"
	if spec, err = json.Marshal(r); err != nil {
		t.Fatal(err)
	}
	rerun := child()
	if b, err := rerun.CombinedOutput(); err != nil {
		t.Fatalf("the rerun failed: %v\n%s", err, b)
	}
	rerunReqs := sim.Stats().Requests
	m := checkRelease(t, r)
	if m.Counts.PromptsIn != n || m.TokenUsage["sim"].Requests+m.CacheHits != cleanReqs {
		t.Errorf("rerun: counts %+v, %d requests + %d cache hits; want %d prompts and %d generations", m.Counts, m.TokenUsage["sim"].Requests, m.CacheHits, n, cleanReqs)
	}
	total := killedReqs + rerunReqs
	t.Logf("clean run: %d requests; killed at %d answered after %d requests, rerun %d requests (%d cache hits): %d in all, %.3f × clean",
		cleanReqs, killedAt, killedReqs, rerunReqs, m.CacheHits, total, float64(total)/float64(cleanReqs))
	if float64(total) > 1.05*float64(cleanReqs) {
		t.Errorf("killed run + rerun made %d requests, more than 1.05 × a clean run's %d", total, cleanReqs)
	}
	if m.CacheHits == 0 || rerunReqs == 0 {
		t.Errorf("the rerun had %d cache hits and made %d requests: the kill did not land half way", m.CacheHits, rerunReqs)
	}
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
