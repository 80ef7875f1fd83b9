package transforms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// HoldDataset takes the lease of r's dataset (<output>/<name>/) before the
// run writes anything or calls a teacher, waiting up to
// output.wait_for_lease while another run holds it; then it resolves r (see
// Recipe.Resolve: a default version is the time the run got the lease),
// claims the version's folder and sets r.Lease. The lease is renewed until
// done is called, which releases it; ctx is cancelled, with a cause
// wrapping release.ErrLost, if the lease is lost meanwhile, so run the
// pipeline under it.
//
// Holding the lease, it removes what runs that did not finish left in
// other version folders (release.Lease.RemoveAbandoned), so spills and
// parts of killed runs do not pile up under default versions.
//
// A defaulted version that an earlier release already has (two runs in one
// second) moves on to the next free second. An explicit version that is
// released fails with release.ErrReleased. A dry run writes no release and
// takes no lease.
func HoldDataset(ctx context.Context, r *recipe.Recipe, logf func(format string, args ...any)) (_ context.Context, done func() error, err error) {
	if r.DryRun {
		r.Resolve(time.Now())
		return ctx, func() error { return nil }, nil
	}
	store, err := storage.Open(r.NameRoot(), &storage.Options{S3Endpoint: r.Output.S3Endpoint})
	if err != nil {
		return nil, nil, err
	}
	explicit := r.Output.Version != ""
	lease, err := release.Acquire(ctx, store, &release.Options{TTL: r.Output.LeaseTTL, Wait: r.Output.WaitForLease, Version: r.Output.Version, Logf: logf})
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			_ = lease.Release(context.WithoutCancel(ctx))
		}
	}()
	now := time.Now()
	r.Resolve(now)
	var claim release.Claim
	for tries := 0; ; tries++ {
		claim, err = lease.ClaimVersion(ctx, r.Output.Version)
		if explicit || !errors.Is(err, release.ErrReleased) || tries == 60 {
			break
		}
		now = now.Add(time.Second)
		r.Output.Version = recipe.DefaultVersion(now)
	}
	if err != nil {
		return nil, nil, err
	}
	if claim.TookOver != nil {
		logf("took over version %s from %s, which never finished it; removed %d files it left", r.Output.Version, claim.TookOver, len(claim.Removed))
	}
	if err := lease.SetVersion(ctx, r.Output.Version); err != nil {
		return nil, nil, err
	}
	if removed, err := lease.RemoveAbandoned(ctx, r.Output.Version); err != nil {
		return nil, nil, err
	} else if len(removed) > 0 {
		logf("removed %d files that runs which did not finish left in other versions' folders (spills, parts, unreleased shards)", len(removed))
	}
	r.Lease = lease.Token()
	if lease.Waited > 0 {
		logf("got the lease of %s after waiting %s", store.URL(""), lease.Waited.Round(time.Millisecond))
	}
	return lease.Keep(ctx), func() error {
		if err := lease.Release(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("releasing the lease of %s: %w", store.URL(""), err)
		}
		return nil
	}, nil
}
