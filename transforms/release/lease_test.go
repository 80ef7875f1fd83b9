package release_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/storage/storagetest"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// ttl is the lease TTL of these tests: the shortest allowed, so expiry
// happens within the test.
const ttl = release.MinTTL

// eachStore runs test against a dataset folder in memory, in a local
// directory and on the real S3 server of .ci/s3.sh. newStore returns the
// same folder each time it is called within one subtest, as separate runs
// would open it.
func eachStore(t *testing.T, test func(t *testing.T, newStore func() storage.Store)) {
	t.Run("Mem", func(t *testing.T) {
		m := storage.NewMem()
		test(t, func() storage.Store { return m })
	})
	t.Run("Local", func(t *testing.T) {
		dir := t.TempDir()
		test(t, func() storage.Store { return mustOpen(t, dir, nil) })
	})
	t.Run("S3", func(t *testing.T) {
		bucket, opts := storagetest.NewS3Bucket(t)
		test(t, func() storage.Store { return mustOpen(t, bucket+"/out/quickstart", opts) })
	})
}

func mustOpen(t *testing.T, url string, opts *storage.Options) storage.Store {
	t.Helper()
	s, err := storage.Open(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func acquire(t *testing.T, s storage.Store, opts *release.Options) *release.Lease {
	t.Helper()
	l, err := release.Acquire(t.Context(), s, opts)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	return l
}

// TestLeaseRefusesSecondRun: while one run holds the lease, another fails
// at once with one line naming the holder's host, pid and run version and
// since when; once the first releases, the second gets the lease at once.
func TestLeaseRefusesSecondRun(t *testing.T) {
	eachStore(t, func(t *testing.T, newStore func() storage.Store) {
		first := acquire(t, newStore(), &release.Options{TTL: time.Minute, Version: "2026-12-01"})
		_, err := release.Acquire(t.Context(), newStore(), &release.Options{TTL: time.Minute, Version: "2026-12-01"})
		var held *release.HeldError
		if !errors.As(err, &held) || !errors.Is(err, release.ErrHeld) {
			t.Fatalf("second Acquire: %v, want a HeldError", err)
		}
		host, _ := os.Hostname()
		msg := err.Error()
		for _, want := range []string{"run 2026-12-01", fmt.Sprintf("pid %d", os.Getpid()), host, "since " + first.Holder().Since.UTC().Format(time.RFC3339), "nothing was written", "--wait_for_lease"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q does not say %q", msg, want)
			}
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("message %q is more than one line", msg)
		}
		if held.Holder.Token != first.Token() {
			t.Errorf("HeldError names token %s, want the holder's %s", held.Holder.Token, first.Token())
		}
		if err := first.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
		second := acquire(t, newStore(), &release.Options{TTL: time.Minute})
		if second.TookOver != nil {
			t.Errorf("a released lease was counted as taken over from %v", second.TookOver)
		}
		if err := first.Renew(t.Context()); !errors.Is(err, release.ErrLost) {
			t.Errorf("Renew after another run took the lease: %v, want ErrLost", err)
		}
	})
}

// TestLeaseRace: 16 runs start at once on a free dataset; exactly one gets
// the lease, the others are refused.
func TestLeaseRace(t *testing.T) {
	eachStore(t, func(t *testing.T, newStore func() storage.Store) {
		raceAcquire(t, newStore)
	})
}

// TestLeaseExpiredRace: 16 runs find a killed run's expired lease at once;
// exactly one takes it over (the takeover is a compare-and-swap), the
// others are refused.
func TestLeaseExpiredRace(t *testing.T) {
	eachStore(t, func(t *testing.T, newStore func() storage.Store) {
		dead := acquire(t, newStore(), &release.Options{TTL: ttl})
		// The dead run renews no more. Wait past its expiry.
		for time.Now().Before(dead.Holder().Expires) {
			time.Sleep(time.Until(dead.Holder().Expires) + time.Millisecond)
		}
		winner := raceAcquire(t, newStore)
		if winner.TookOver == nil || winner.TookOver.Token != dead.Token() {
			t.Errorf("the winner took over %v, want the dead run's lease", winner.TookOver)
		}
	})
}

// raceAcquire starts 16 Acquires at once without waiting and checks that
// exactly one gets the lease.
func raceAcquire(t *testing.T, newStore func() storage.Store) *release.Lease {
	t.Helper()
	const runs = 16
	leases := make([]*release.Lease, runs)
	errs := make([]error, runs)
	stores := make([]storage.Store, runs)
	for i := range stores {
		stores[i] = newStore()
	}
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			leases[i], errs[i] = release.Acquire(context.Background(), stores[i], &release.Options{TTL: time.Minute})
		})
	}
	wg.Wait()
	var winner *release.Lease
	for i, err := range errs {
		switch {
		case err == nil && winner != nil:
			t.Errorf("runs %s and %s both hold the lease", winner.Token(), leases[i].Token())
		case err == nil:
			winner = leases[i]
		case !errors.Is(err, release.ErrHeld):
			t.Errorf("run %d: %v, want ErrHeld", i, err)
		}
	}
	if winner == nil {
		t.Fatalf("none of %d runs got the lease", runs)
	}
	return winner
}

// TestLeaseWaiterGetsItOnRelease: a run that waits gets the lease when the
// holder releases it, not before.
func TestLeaseWaiterGetsItOnRelease(t *testing.T) {
	eachStore(t, func(t *testing.T, newStore func() storage.Store) {
		first := acquire(t, newStore(), &release.Options{TTL: ttl})
		first.Keep(t.Context())
		waiting := make(chan struct{})
		got := make(chan *release.Lease, 1)
		go func() {
			var once sync.Once
			l, err := release.Acquire(t.Context(), newStore(), &release.Options{TTL: ttl, Wait: time.Minute,
				Logf: func(string, ...any) { once.Do(func() { close(waiting) }) }})
			if err != nil {
				t.Error(err)
			}
			got <- l
		}()
		<-waiting
		// Held across several TTLs by renewals alone.
		time.Sleep(3 * ttl)
		if err := release.Check(t.Context(), newStore(), first.Token()); err != nil {
			t.Fatalf("the holder lost its lease while renewing it: %v", err)
		}
		released := time.Now()
		if err := first.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
		second := <-got
		if second == nil {
			return
		}
		if second.TookOver != nil {
			t.Errorf("the waiter took the lease over from %v; the holder had released it", second.TookOver)
		}
		t.Logf("the waiter waited %s, and got the lease %s after the release", second.Waited.Round(time.Millisecond), time.Since(released).Round(time.Millisecond))
	})
}

// TestLeaseExpiresWhenNotRenewed: a run that stops renewing (as a killed
// run does) loses the lease once it expires, and not before: a waiter gets
// it only after the expiry, and the old holder can neither renew nor pass
// Check.
func TestLeaseExpiresWhenNotRenewed(t *testing.T) {
	eachStore(t, func(t *testing.T, newStore func() storage.Store) {
		dead := acquire(t, newStore(), &release.Options{TTL: ttl, Version: "v1"})
		expires := dead.Holder().Expires
		next, err := release.Acquire(t.Context(), newStore(), &release.Options{TTL: ttl, Wait: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if now := time.Now(); now.Before(expires) {
			t.Errorf("the lease was taken over at %s, before it expired at %s", now, expires)
		}
		if next.TookOver == nil || next.TookOver.Version != "v1" {
			t.Errorf("TookOver = %v, want the dead run v1", next.TookOver)
		}
		t.Logf("the waiter waited %s for a lease of TTL %s", next.Waited.Round(time.Millisecond), ttl)
		if err := dead.Renew(t.Context()); !errors.Is(err, release.ErrLost) {
			t.Errorf("Renew of an expired, taken-over lease: %v, want ErrLost", err)
		}
		if err := release.Check(t.Context(), newStore(), dead.Token()); !errors.Is(err, release.ErrLost) {
			t.Errorf("Check by the old holder: %v, want ErrLost", err)
		}
		if err := release.Check(t.Context(), newStore(), next.Token()); err != nil {
			t.Errorf("Check by the new holder: %v", err)
		}
	})
}

// TestLeaseKeepCancelsOnLoss: when another writer replaces the lease, the
// holder's Keep context is cancelled with a cause wrapping ErrLost, so the
// run stops.
func TestLeaseKeepCancelsOnLoss(t *testing.T) {
	eachStore(t, func(t *testing.T, newStore func() storage.Store) {
		l := acquire(t, newStore(), &release.Options{TTL: ttl})
		ctx := l.Keep(t.Context())
		if err := newStore().Put(t.Context(), release.LeaseFile, []byte(`{"token":"someone-else","expires":"2999-01-01T00:00:00Z"}`)); err != nil {
			t.Fatal(err)
		}
		<-ctx.Done()
		if err := context.Cause(ctx); !errors.Is(err, release.ErrLost) {
			t.Errorf("Keep's context ended with %v, want ErrLost", err)
		}
		if err := l.Release(t.Context()); !errors.Is(err, release.ErrLost) {
			t.Errorf("Release of a lost lease: %v, want ErrLost", err)
		}
	})
}

// TestCheck: only the holder passes Check while the lease is live; a run
// without a lease passes only when nobody holds it.
func TestCheck(t *testing.T) {
	eachStore(t, func(t *testing.T, newStore func() storage.Store) {
		s := newStore()
		if err := release.Check(t.Context(), s, ""); err != nil {
			t.Errorf("Check without a lease on a free dataset: %v", err)
		}
		l := acquire(t, s, &release.Options{TTL: time.Minute})
		if err := release.Check(t.Context(), s, l.Token()); err != nil {
			t.Errorf("Check by the holder: %v", err)
		}
		if err := l.Renew(t.Context()); err != nil {
			t.Errorf("Renew after Check renewed the lease: %v", err)
		}
		if err := release.Check(t.Context(), s, ""); !errors.Is(err, release.ErrHeld) {
			t.Errorf("Check without a lease while one is held: %v, want ErrHeld", err)
		}
		if err := release.Check(t.Context(), s, "not-the-holder"); !errors.Is(err, release.ErrLost) {
			t.Errorf("Check by another token: %v, want ErrLost", err)
		}
		if err := l.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := release.Check(t.Context(), s, ""); err != nil {
			t.Errorf("Check without a lease after the release: %v", err)
		}
		if err := release.Check(t.Context(), s, l.Token()); !errors.Is(err, release.ErrLost) {
			t.Errorf("Check by a run that released its lease: %v, want ErrLost", err)
		}
	})
}

// TestClaimVersion: a version is claimed once; a released version is never
// claimed again; an unfinished version of a run that lost its lease is
// taken over and its leftovers removed.
func TestClaimVersion(t *testing.T) {
	eachStore(t, func(t *testing.T, newStore func() storage.Store) {
		ctx := t.Context()
		s := newStore()
		dead := acquire(t, s, &release.Options{TTL: ttl})
		if c, err := dead.ClaimVersion(ctx, "v1"); err != nil || c.TookOver != nil {
			t.Fatalf("ClaimVersion of a new version = %+v, %v", c, err)
		}
		if c, err := dead.ClaimVersion(ctx, "v1"); err != nil || c.TookOver != nil {
			t.Errorf("ClaimVersion again by the claimant = %+v, %v; want its own claim back", c, err)
		}
		for _, p := range []string{"v1/sft/train-00000-of-00002.parquet", "v1/rejected/train-00000-of-00001.parquet"} {
			if err := s.Put(ctx, p, []byte("half a release")); err != nil {
				t.Fatal(err)
			}
		}
		// The run dies; the next takes the expired lease, then the version.
		next, err := release.Acquire(ctx, s, &release.Options{TTL: ttl, Wait: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		c, err := next.ClaimVersion(ctx, "v1")
		if err != nil {
			t.Fatalf("ClaimVersion of a dead run's version: %v", err)
		}
		if c.TookOver == nil || c.TookOver.Token != dead.Token() || len(c.Removed) != 2 {
			t.Errorf("ClaimVersion = %+v, want the dead run's claim taken over and its 2 files removed", c)
		}
		if got, _ := s.List(ctx, "v1/"); len(got) != 1 || got[0] != "v1/"+release.ClaimFile {
			t.Errorf("v1 holds %q after the takeover, want only the claim", got)
		}
		if _, err := dead.ClaimVersion(ctx, "v1"); !errors.Is(err, release.ErrLost) {
			t.Errorf("ClaimVersion by the run that lost its lease: %v, want ErrLost", err)
		}
		if err := s.Put(ctx, "v1/manifest.json", []byte("{}")); err != nil {
			t.Fatal(err)
		}
		if _, err := next.ClaimVersion(ctx, "v1"); !errors.Is(err, release.ErrReleased) {
			t.Errorf("ClaimVersion of a released version: %v, want ErrReleased", err)
		}
	})
}

// TestRemoveAbandoned: a run holding the lease removes what runs that did
// not finish left in other versions' folders: a killed run's whole
// unreleased folder (claimed by it), and the spill and parts a released
// folder still holds; it keeps the released files, its own folder, and a
// folder no run claimed (a dry run may be spilling there).
func TestRemoveAbandoned(t *testing.T) {
	eachStore(t, func(t *testing.T, newStore func() storage.Store) {
		ctx := t.Context()
		s := newStore()
		put := func(paths ...string) {
			t.Helper()
			for _, p := range paths {
				if err := s.Put(ctx, p, []byte("x")); err != nil {
					t.Fatal(err)
				}
			}
		}
		// A run claims v1 and is killed with its spill, parts and a shard written.
		dead := acquire(t, s, &release.Options{TTL: ttl})
		if _, err := dead.ClaimVersion(ctx, "v1"); err != nil {
			t.Fatal(err)
		}
		put("v1/_spill/dedup/a.bin", "v1/_parts/sft/p1.parquet", "v1/sft/train-00000-of-00001.parquet")
		// v0 is released, with a spill and parts left over.
		put("v0/manifest.json", "v0/sft/train-00000-of-00001.parquet", "v0/_spill/dedup/b.bin", "v0/_parts/sft/p2.parquet")
		// vdry: a dry run's spill, no claim.
		put("vdry/_spill/dedup/c.bin")

		next, err := release.Acquire(ctx, s, &release.Options{TTL: ttl, Wait: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := next.ClaimVersion(ctx, "v2"); err != nil {
			t.Fatal(err)
		}
		put("v2/_spill/dedup/d.bin")
		removed, err := next.RemoveAbandoned(ctx, "v2")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(removed)
		want := []string{"v0/_parts/sft/p2.parquet", "v0/_spill/dedup/b.bin",
			"v1/" + release.ClaimFile, "v1/_parts/sft/p1.parquet", "v1/_spill/dedup/a.bin", "v1/sft/train-00000-of-00001.parquet"}
		if !slices.Equal(removed, want) {
			t.Errorf("removed %q, want %q", removed, want)
		}
		left, err := s.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(left)
		wantLeft := []string{release.LeaseFile, "v0/manifest.json", "v0/sft/train-00000-of-00001.parquet",
			"v2/" + release.ClaimFile, "v2/_spill/dedup/d.bin", "vdry/_spill/dedup/c.bin"}
		if !slices.Equal(left, wantLeft) {
			t.Errorf("left %q, want %q", left, wantLeft)
		}
		// Once the lease is lost, nothing more is removed.
		put("v3/" + release.ClaimFile)
		if err := next.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := next.RemoveAbandoned(ctx, "v2"); !errors.Is(err, release.ErrLost) {
			t.Errorf("RemoveAbandoned without the lease: %v, want ErrLost", err)
		}
		if _, err := s.Get(ctx, "v3/"+release.ClaimFile); err != nil {
			t.Errorf("a run without the lease removed v3's claim: %v", err)
		}
	})
}
