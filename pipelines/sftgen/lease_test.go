package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/storage/storagetest"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// childEnv, when set, makes the test binary run sftgen's main with the
// command line it was given: the tests below start real, concurrent sftgen
// processes that way, and read their exit codes and stderr.
const childEnv = "SFTGEN_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// sftgen is one sftgen process of a test.
type sftgen struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	start  time.Time
}

// startSFTGen starts sftgen with args (the quickstart: built-in prompts and
// the simulated teacher).
func startSFTGen(t *testing.T, env []string, args ...string) *sftgen {
	t.Helper()
	return startSFTGenIn(t, t.TempDir(), env, args...)
}

// startSFTGenIn starts sftgen with args in the folder dir.
func startSFTGenIn(t *testing.T, dir string, env []string, args ...string) *sftgen {
	t.Helper()
	p := &sftgen{cmd: exec.Command(os.Args[0], args...)}
	p.cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	p.cmd.Dir = dir
	p.cmd.Stderr = &p.stderr
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	return p
}

// wait waits for the process and returns its exit code.
func (p *sftgen) wait(t *testing.T) int {
	t.Helper()
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// waitFor polls the store until path exists: the point where a run holds
// its lease (LEASE) or has claimed its version (<v>/.claim.json). It is a
// synchronisation point, not a timed assertion.
func waitFor(t *testing.T, s storage.Store, path string, p *sftgen) {
	t.Helper()
	for {
		if _, err := s.Get(t.Context(), path); err == nil {
			return
		}
		if p.cmd.ProcessState != nil {
			t.Fatalf("the run exited before %s appeared: %s", path, p.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkRelease reads <version>/manifest.json and checks that every file it
// lists is there with its size and sha256, and that its counts reconcile.
func checkRelease(t *testing.T, dataset storage.Store, version string) release.Manifest {
	t.Helper()
	data, err := dataset.Get(t.Context(), version+"/manifest.json")
	if err != nil {
		t.Fatalf("release %s: %v", version, err)
	}
	var m release.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if err := m.Counts.Reconcile(); err != nil {
		t.Errorf("release %s: %v", version, err)
	}
	for _, f := range m.Files {
		data, err := dataset.Get(t.Context(), version+"/"+f.Path)
		if err != nil {
			t.Errorf("release %s: %v", version, err)
			continue
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != f.SHA256 || int64(len(data)) != f.Bytes {
			t.Errorf("release %s: %s has sha256 %s and %d bytes; the manifest says %s and %d", version, f.Path, got, len(data), f.SHA256, f.Bytes)
		}
	}
	return m
}

func latest(t *testing.T, dataset storage.Store) string {
	t.Helper()
	data, err := dataset.Get(t.Context(), "LATEST")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// TestTwoRunsOneVersion: two runs with one --version, the second started
// while the first holds the lease (as a scheduler does when a run outlasts
// its interval). Exactly one succeeds; the other exits 1 with one line
// naming the holder, and writes nothing; the release's files match its
// manifest's checksums. Locally and on the real S3 server.
func TestTwoRunsOneVersion(t *testing.T) {
	t.Run("Local", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		testTwoRunsOneVersion(t, out, nil, nil)
	})
	t.Run("S3", func(t *testing.T) {
		bucket, opts := storagetest.NewS3Bucket(t)
		testTwoRunsOneVersion(t, bucket+"/releases", opts, []string{"--s3_endpoint=" + opts.S3Endpoint})
	})
}

func testTwoRunsOneVersion(t *testing.T, out string, opts *storage.Options, extra []string) {
	dataset, err := storage.Open(out+"/quickstart", opts)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--output=" + out, "--version=2026-12-01"}, extra...)
	first := startSFTGen(t, nil, args...)
	waitFor(t, dataset, "LEASE", first)
	second := startSFTGen(t, nil, args...)
	codeSecond := second.wait(t)
	codeFirst := first.wait(t)
	if codeFirst != 0 {
		t.Fatalf("the first run exited %d: %s", codeFirst, first.stderr.String())
	}
	msg := strings.TrimSpace(second.stderr.String())
	if codeSecond != 1 || !strings.Contains(msg, "is leased by run 2026-12-01 (pid ") || !strings.Contains(msg, " since ") || strings.Contains(msg, "\n") {
		t.Errorf("the second run exited %d with %q; want 1 and one line naming the holder", codeSecond, msg)
	}
	t.Logf("second run: exit %d: %s", codeSecond, msg)
	checkRelease(t, dataset, "2026-12-01")
	if got := latest(t, dataset); got != "2026-12-01" {
		t.Errorf("LATEST = %q", got)
	}
	files, _ := dataset.List(t.Context(), "")
	for _, f := range files {
		if !strings.HasPrefix(f, "2026-12-01/") && f != "LATEST" && f != "LEASE" {
			t.Errorf("unexpected file %s", f)
		}
	}
	// A third run that waits gets the lease, then refuses the released
	// version: a release is never overwritten.
	third := startSFTGen(t, nil, append(args, "--wait_for_lease=1m")...)
	if code := third.wait(t); code != 1 || !strings.Contains(third.stderr.String(), "already released") {
		t.Errorf("a waiting run of a released version exited %d: %s", code, third.stderr.String())
	}
	checkRelease(t, dataset, "2026-12-01")
}

// TestTwoRunsDefaultVersions: two overlapping runs with default versions
// never release the same prompts twice. Without --wait_for_lease the second
// is refused and writes nothing; with it, the second waits for the first,
// then sees its release and is incremental: every prompt is in the first
// release, so it exits with the "nothing new" code (3), publishes nothing
// and leaves LATEST on the first release.
func TestTwoRunsDefaultVersions(t *testing.T) {
	for _, tc := range []struct {
		name string
		wait bool
	}{{"Refused", false}, {"Waits", true}} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			dataset, err := storage.Open(out+"/quickstart", nil)
			if err != nil {
				t.Fatal(err)
			}
			first := startSFTGen(t, nil, "--output="+out)
			waitFor(t, dataset, "LEASE", first)
			args := []string{"--output=" + out}
			if tc.wait {
				args = append(args, "--wait_for_lease=1m")
			}
			second := startSFTGen(t, nil, args...)
			codeSecond := second.wait(t)
			if code := first.wait(t); code != 0 {
				t.Fatalf("the first run exited %d: %s", code, first.stderr.String())
			}
			manifests, _ := dataset.List(t.Context(), "")
			var versions []string
			for _, p := range manifests {
				if v, ok := strings.CutSuffix(p, "/manifest.json"); ok {
					versions = append(versions, v)
				}
			}
			if !tc.wait {
				if codeSecond != 1 || !strings.Contains(second.stderr.String(), "is leased by run ") {
					t.Errorf("the second run exited %d: %s", codeSecond, second.stderr.String())
				}
				if len(versions) != 1 {
					t.Errorf("releases %q, want only the first run's", versions)
				}
				return
			}
			if codeSecond != 3 || !strings.Contains(second.stderr.String(), "nothing new to release") {
				t.Fatalf("the waiting run exited %d, want 3 (nothing new): %s", codeSecond, second.stderr.String())
			}
			t.Logf("waiting run: %s", firstLines(second.stderr.String(), 2))
			if len(versions) != 1 {
				t.Fatalf("releases %q, want only the first", versions)
			}
			if a := checkRelease(t, dataset, versions[0]); a.Counts.PromptsKept == 0 {
				t.Errorf("the first release kept nothing: %+v", a.Counts)
			}
			if got := latest(t, dataset); got != versions[0] {
				t.Errorf("LATEST = %q, want the first release %q", got, versions[0])
			}
			checkOnlyVersions(t, dataset, versions)
		})
	}
}

// TestKilledRunLeaseExpires: a run SIGKILLed while it holds the lease
// leaves it behind; a run started right after is refused (the lease is
// still live), and a run that waits gets it once it expires, takes over
// the dead run's version and releases it whole, with no cleanup by hand.
func TestKilledRunLeaseExpires(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	dataset, err := storage.Open(out+"/quickstart", nil)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--output=" + out, "--version=v1", "--lease_ttl=2s"}
	victim := startSFTGen(t, nil, args...)
	waitFor(t, dataset, "v1/.claim.json", victim)
	if err := victim.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	killed := time.Now()
	_ = victim.cmd.Wait()

	early := startSFTGen(t, nil, args...)
	if code := early.wait(t); code != 1 || !strings.Contains(early.stderr.String(), "is leased by run v1") {
		t.Errorf("a run started right after the kill exited %d: %s; want it refused by the live lease", code, early.stderr.String())
	}
	next := startSFTGen(t, nil, append(args, "--wait_for_lease=1m")...)
	t.Logf("the waiting run started %s after the SIGKILL", next.start.Sub(killed).Round(time.Millisecond))
	if code := next.wait(t); code != 0 {
		t.Fatalf("the run after the kill exited %d: %s", code, next.stderr.String())
	}
	stderr := next.stderr.String()
	if !strings.Contains(stderr, "took over the expired lease of run v1") || !strings.Contains(stderr, "took over version v1") {
		t.Errorf("the next run did not say it took over the dead run's lease and version: %s", stderr)
	}
	t.Logf("next run: %s", firstLines(stderr, 4))
	checkRelease(t, dataset, "v1")
	if got := latest(t, dataset); got != "v1" {
		t.Errorf("LATEST = %q", got)
	}
}

// TestKilledRunLeftoversRemoved: a run SIGKILLed while it spills leaves
// its version folder (claim, spill, maybe parts); the next run, of another
// version, removes it once it holds the lease, and releases its own.
func TestKilledRunLeftoversRemoved(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	dataset, err := storage.Open(out+"/quickstart", nil)
	if err != nil {
		t.Fatal(err)
	}
	victim := startSFTGen(t, nil, "--output="+out, "--version=v1", "--lease_ttl=2s", "--input=builtin:arithmetic?n=20000")
	exited := make(chan error, 1)
	go func() { exited <- victim.cmd.Wait() }()
	for { // a synchronisation point: the victim has written a spill file
		names, err := dataset.List(t.Context(), "v1/_spill/")
		if err != nil {
			t.Fatal(err)
		}
		if len(names) > 0 {
			break
		}
		select {
		case <-exited:
			t.Fatalf("the run ended before it spilled: %s", victim.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := victim.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-exited
	next := startSFTGen(t, nil, "--output="+out, "--version=v2", "--wait_for_lease=1m")
	if code := next.wait(t); code != 0 {
		t.Fatalf("the run after the kill exited %d: %s", code, next.stderr.String())
	}
	if !strings.Contains(next.stderr.String(), "that runs which did not finish left") {
		t.Errorf("the next run did not say it removed the killed run's files: %s", firstLines(next.stderr.String(), 6))
	}
	if left, err := dataset.List(t.Context(), "v1/"); err != nil || len(left) > 0 {
		t.Errorf("the killed run's folder still holds %q (%v)", left, err)
	}
	checkRelease(t, dataset, "v2")
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], " | ")
}
