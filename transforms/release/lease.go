// Package release publishes versioned releases of a dataset. This file is
// the dataset lease: one writer per dataset at a time.
//
// A run holds a lease on its dataset (<output>/<name>/) for its whole life:
// the file <name>/LEASE, created with a conditional write (storage's
// PutIfAbsent: If-None-Match: * on S3, a hard link locally), renewed with a
// compare-and-swap (PutIfMatch on the tag it last wrote) every TTL/3, and
// marked released at the end. A run killed without releasing stops
// renewing, so its lease expires TTL after its last renewal; the next run
// takes an expired lease over with a compare-and-swap too, so of two
// waiters exactly one gets it. Nothing needs cleaning up by hand.
//
// A lease counts as expired when its expiry time has passed by the reader's
// clock, or when the reader has watched it go unrenewed for a whole TTL (so
// a holder whose clock runs ahead cannot keep a dead lease alive). The
// version folder a run writes is claimed the same way (ClaimVersion), so two
// runs never share one.
package release

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/syllabus-dev/syllabus/transforms/recipe"

	"github.com/syllabus-dev/syllabus/storage"
)

// LeaseFile is the lease's path in the dataset's folder, beside LATEST.
const LeaseFile = "LEASE"

// ClaimFile is a version folder's claim, <version>/.claim.json.
const ClaimFile = ".claim.json"

// DefaultTTL is how long a lease lives unrenewed: how long a killed run
// blocks the dataset at most.
const DefaultTTL = recipe.DefaultLeaseTTL

// MinTTL is the shortest TTL a lease may have.
const MinTTL = recipe.MinLeaseTTL

// Sentinel errors, checked with errors.Is.
var (
	// ErrHeld: another run holds the dataset's lease (a *HeldError).
	ErrHeld = errors.New("release: the dataset is leased by another run")
	// ErrLost: this run's lease expired or was taken over.
	ErrLost = errors.New("release: lease lost")
	// ErrReleased: the version was already released; a release is never
	// overwritten.
	ErrReleased = errors.New("release: version already released")
)

// Holder is the content of a lease (and of a version claim): who holds it,
// since when, and until when.
type Holder struct {
	// Token is unique to the run; it is how a run recognises its own lease.
	Token string `json:"token"`
	Host  string `json:"host"`
	PID   int    `json:"pid"`
	// Version is the release version the run makes ("" while not chosen).
	Version string    `json:"version,omitempty"`
	Since   time.Time `json:"since"`
	Renewed time.Time `json:"renewed"`
	Expires time.Time `json:"expires"`
	// TTLSeconds is the holder's TTL, which renewals extend Expires by.
	TTLSeconds float64 `json:"ttl_seconds"`
	// Released is set when the run ended and gave the lease up.
	Released bool `json:"released,omitempty"`
}

func (h Holder) ttl() time.Duration { return time.Duration(h.TTLSeconds * float64(time.Second)) }

// String names the holder in one phrase: its run version, pid and host.
func (h Holder) String() string {
	v := h.Version
	if v == "" {
		v = "(version not chosen yet)"
	}
	return fmt.Sprintf("run %s (pid %d on %s)", v, h.PID, h.Host)
}

// HeldError is returned by Acquire when another run holds the lease.
type HeldError struct {
	Dataset string // the dataset folder's URL
	Holder  Holder
	// Wait is Options.Wait, and Waited how long Acquire waited before
	// giving up.
	Wait, Waited time.Duration
}

func (e *HeldError) Error() string {
	h := e.Holder
	wait := "; wait for it with --wait_for_lease=DURATION"
	if e.Wait > 0 {
		wait = fmt.Sprintf(" (waited %s)", e.Waited.Round(time.Millisecond))
	}
	return fmt.Sprintf("%s is leased by %s since %s, renewed until %s; nothing was written%s",
		e.Dataset, h, h.Since.UTC().Format(time.RFC3339), h.Expires.UTC().Format(time.RFC3339), wait)
}

func (e *HeldError) Unwrap() error { return ErrHeld }

// Options configure Acquire. The zero value fails at once if the lease is
// held and uses DefaultTTL.
type Options struct {
	// TTL is how long the lease lives unrenewed (default DefaultTTL).
	TTL time.Duration
	// Wait is how long to wait for a held lease before failing (0: fail
	// at once).
	Wait time.Duration
	// Poll is how often a waiting run looks again (default TTL/10, between
	// 50ms and 2s).
	Poll time.Duration
	// Version is the release version the run makes, if already chosen.
	Version string
	// Logf, if set, is told when the run starts waiting and when it takes
	// over an expired lease.
	Logf func(format string, args ...any)
}

// Lease is a held lease. Its methods are safe for concurrent use.
type Lease struct {
	store storage.Store
	ttl   time.Duration

	mu  sync.Mutex
	rec Holder
	tag string

	// Waited is how long Acquire waited for the lease.
	Waited time.Duration
	// TookOver is the expired lease Acquire took over, if any.
	TookOver *Holder

	keepOnce sync.Once
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// Acquire takes the lease of the dataset whose folder is store, waiting up
// to opts.Wait while another run holds it. It fails with a *HeldError
// (wrapping ErrHeld) if the lease is still held then.
func Acquire(ctx context.Context, store storage.Store, opts *Options) (*Lease, error) {
	if opts == nil {
		opts = &Options{}
	}
	ttl := opts.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if ttl < MinTTL {
		return nil, fmt.Errorf("release: lease TTL %s is below the minimum %s", ttl, MinTTL)
	}
	poll := opts.Poll
	if poll == 0 {
		poll = min(max(ttl/10, 50*time.Millisecond), 2*time.Second)
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	host, _ := os.Hostname()
	l := &Lease{store: store, ttl: ttl, rec: Holder{Token: newToken(), Host: host, PID: os.Getpid(), Version: opts.Version, TTLSeconds: ttl.Seconds()}}

	start := time.Now()
	slept := false
	waited := func() time.Duration {
		if !slept {
			return 0
		}
		return time.Since(start)
	}
	var seenTag string
	var seenAt time.Time // when seenTag was first read (monotonic)
	logged := false
	for {
		l.stamp(time.Now(), true)
		tag, err := store.PutIfAbsent(ctx, LeaseFile, l.marshal())
		if err == nil {
			l.tag, l.Waited = tag, waited()
			return l, nil
		}
		if !errors.Is(err, storage.ErrExist) {
			return nil, fmt.Errorf("release: taking the lease %s: %w", store.URL(LeaseFile), err)
		}
		cur, tag, err := readHolder(ctx, store, LeaseFile)
		if errors.Is(err, storage.ErrNotExist) {
			continue // removed by hand between our two calls
		}
		if err != nil {
			return nil, fmt.Errorf("release: reading the lease %s: %w", store.URL(LeaseFile), err)
		}
		if cur.Token == l.rec.Token {
			// Our create succeeded but its answer was lost, and the retry
			// found our own file.
			l.tag, l.Waited = tag, waited()
			return l, nil
		}
		if tag != seenTag {
			seenTag, seenAt = tag, time.Now()
		}
		curTTL := cur.ttl()
		if curTTL <= 0 {
			curTTL = ttl
		}
		if cur.Released || time.Now().After(cur.Expires) || time.Since(seenAt) >= curTTL {
			l.stamp(time.Now(), true)
			newTag, err := store.PutIfMatch(ctx, LeaseFile, l.marshal(), tag)
			if err == nil {
				l.tag, l.Waited = newTag, waited()
				if !cur.Released {
					prev := cur
					l.TookOver = &prev
					logf("took over the expired lease of %s (last renewed %s)", cur, cur.Renewed.UTC().Format(time.RFC3339))
				}
				return l, nil
			}
			if errors.Is(err, storage.ErrChanged) || errors.Is(err, storage.ErrNotExist) {
				continue // another run moved first; look again
			}
			return nil, fmt.Errorf("release: taking over the lease %s: %w", store.URL(LeaseFile), err)
		}
		if time.Since(start) >= opts.Wait {
			return nil, &HeldError{Dataset: strings.TrimSuffix(store.URL(""), "/"), Holder: cur, Wait: opts.Wait, Waited: waited()}
		}
		if !logged {
			logf("%s is leased by %s since %s; waiting up to %s", strings.TrimSuffix(store.URL(""), "/"), cur, cur.Since.UTC().Format(time.RFC3339), opts.Wait)
			logged = true
		}
		slept = true
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(min(poll, opts.Wait-time.Since(start))):
		}
	}
}

// newToken returns 128 random bits in hex.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// stamp sets the record's renewal and expiry to now (and Since, when since).
func (l *Lease) stamp(now time.Time, since bool) {
	if since {
		l.rec.Since = now
	}
	l.rec.renew(now)
}

// renew sets the renewal time to now and the expiry a TTL later.
func (h *Holder) renew(now time.Time) { h.Renewed, h.Expires = now, now.Add(h.ttl()) }

func (l *Lease) marshal() []byte { return l.rec.marshal() }

func (h Holder) marshal() []byte {
	data, _ := json.MarshalIndent(h, "", "  ") // a struct of plain fields cannot fail
	return append(data, '\n')
}

// readHolder reads a lease or claim. Content that does not parse is a
// holder with no expiry, that is an expired one.
func readHolder(ctx context.Context, store storage.Store, path string) (Holder, string, error) {
	data, tag, err := store.GetTagged(ctx, path)
	if err != nil {
		return Holder{}, "", err
	}
	var h Holder
	if json.Unmarshal(data, &h) != nil {
		return Holder{}, tag, nil
	}
	return h, tag, nil
}

// Holder returns the lease's current record.
func (l *Lease) Holder() Holder {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rec
}

// Token is the lease's token: pass it to Check.
func (l *Lease) Token() string { return l.Holder().Token }

// Renew extends the lease by its TTL from now. It fails with an error
// wrapping ErrLost if another run holds the lease now.
func (l *Lease) Renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.renewLocked(ctx, func(*Holder) {})
}

// SetVersion records the release version the run makes in the lease, so a
// refused run can name it.
func (l *Lease) SetVersion(ctx context.Context, version string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.renewLocked(ctx, func(h *Holder) { h.Version = version })
}

// renewLocked writes the record, changed by edit and renewed, over the tag
// last seen. When the tag changed but the lease is still ours (Check
// renewed it from a worker, or a retried PUT had succeeded), it adopts the
// new tag and tries again.
func (l *Lease) renewLocked(ctx context.Context, edit func(*Holder)) error {
	for range 5 {
		next := l.rec
		edit(&next)
		next.renew(time.Now())
		tag, err := l.store.PutIfMatch(ctx, LeaseFile, next.marshal(), l.tag)
		if err == nil {
			l.rec, l.tag = next, tag
			return nil
		}
		if !errors.Is(err, storage.ErrChanged) && !errors.Is(err, storage.ErrNotExist) {
			return fmt.Errorf("release: renewing the lease %s: %w", l.store.URL(LeaseFile), err)
		}
		cur, tag, err := readHolder(ctx, l.store, LeaseFile)
		if errors.Is(err, storage.ErrNotExist) {
			return fmt.Errorf("%w: %s was removed", ErrLost, l.store.URL(LeaseFile))
		}
		if err != nil {
			return fmt.Errorf("release: renewing the lease %s: %w", l.store.URL(LeaseFile), err)
		}
		if cur.Token != l.rec.Token || cur.Released {
			return fmt.Errorf("%w: %s is now held by %s since %s", ErrLost, l.store.URL(LeaseFile), cur, cur.Since.UTC().Format(time.RFC3339))
		}
		l.tag = tag
	}
	return fmt.Errorf("release: renewing the lease %s: it kept changing", l.store.URL(LeaseFile))
}

// Keep renews the lease every TTL/3 until Release, and returns a context
// derived from ctx that is cancelled, with a cause wrapping ErrLost, if the
// lease is lost: taken over, or not renewed before it expired (the store
// unreachable for a whole TTL). Run the work under that context.
func (l *Lease) Keep(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancelCause(ctx)
	l.keepOnce.Do(func() {
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		go func() {
			defer close(l.done)
			tick := time.NewTicker(l.ttl / 3)
			defer tick.Stop()
			for {
				select {
				case <-l.stop:
					return
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				err := l.Renew(ctx)
				switch {
				case err == nil:
				case errors.Is(err, ErrLost):
					cancel(err)
					return
				case time.Now().After(l.Holder().Expires):
					cancel(fmt.Errorf("%w: not renewed before it expired: %v", ErrLost, err))
					return
				}
			}
		}()
	})
	return ctx
}

// Release stops the renewals and marks the lease released, so a waiting run
// takes it at once. It fails with an error wrapping ErrLost if the lease
// was no longer this run's.
func (l *Lease) Release(ctx context.Context) error {
	l.keepOnce.Do(func() {}) // no renewals start after this
	l.stopOnce.Do(func() {
		if l.stop != nil {
			close(l.stop)
			<-l.done
		}
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rec.Released {
		return nil
	}
	return l.renewLocked(ctx, func(h *Holder) { h.Released = true })
}

// Check reports whether the run with token may publish to the dataset
// whose folder is store: a nil error if it holds the lease (which Check
// renews, so the publishing that follows has a whole TTL), or, for token
// "", if no run holds it. Otherwise the error wraps ErrLost or ErrHeld.
// Publishing steps call it right before writing the manifest and LATEST.
func Check(ctx context.Context, store storage.Store, token string) error {
	for range 5 {
		cur, tag, err := readHolder(ctx, store, LeaseFile)
		live := err == nil && !cur.Released && time.Now().Before(cur.Expires)
		switch {
		case err != nil && !errors.Is(err, storage.ErrNotExist):
			return fmt.Errorf("release: reading the lease %s: %w", store.URL(LeaseFile), err)
		case token == "" && !live:
			return nil
		case token == "":
			return &HeldError{Dataset: strings.TrimSuffix(store.URL(""), "/"), Holder: cur}
		case err != nil:
			return fmt.Errorf("%w: %s is gone", ErrLost, store.URL(LeaseFile))
		case cur.Token != token || !live:
			return fmt.Errorf("%w: %s is held by %s since %s (released %t, expires %s)", ErrLost, store.URL(LeaseFile), cur, cur.Since.UTC().Format(time.RFC3339), cur.Released, cur.Expires.UTC().Format(time.RFC3339))
		}
		cur.renew(time.Now())
		_, err = store.PutIfMatch(ctx, LeaseFile, cur.marshal(), tag)
		if err == nil {
			return nil
		}
		if !errors.Is(err, storage.ErrChanged) && !errors.Is(err, storage.ErrNotExist) {
			return fmt.Errorf("release: renewing the lease %s: %w", store.URL(LeaseFile), err)
		}
		// The holder's own renewal moved first; look again.
	}
	return fmt.Errorf("release: the lease %s kept changing", store.URL(LeaseFile))
}

// Claim is the outcome of ClaimVersion.
type Claim struct {
	// TookOver is the earlier claim of a run that never finished the
	// version, taken over; nil for a fresh claim.
	TookOver *Holder
	// Removed lists the files that run left in the folder, removed.
	Removed []string
}

// ClaimVersion claims the folder of version for the lease's run: it
// creates <version>/.claim.json with a conditional write. A version that
// holds a manifest fails with ErrReleased (a release is never overwritten).
// A claim left by a run that never finished the version, which no longer
// holds the lease since this run does, is taken over with a compare-and-swap,
// and the files that run left are removed, so a rerun of a killed run's
// version needs no cleanup by hand.
func (l *Lease) ClaimVersion(ctx context.Context, version string) (Claim, error) {
	store := l.store
	path := version + "/" + ClaimFile
	released := func() error {
		if _, err := store.Get(ctx, version+"/manifest.json"); err == nil {
			return fmt.Errorf("%w: %s exists; choose another --version", ErrReleased, store.URL(version))
		} else if !errors.Is(err, storage.ErrNotExist) {
			return err
		}
		return nil
	}
	if err := released(); err != nil {
		return Claim{}, err
	}
	h := l.Holder()
	h.Version = version
	data := h.marshal()
	_, err := store.PutIfAbsent(ctx, path, data)
	if err == nil {
		return Claim{}, released() // released between the two looks: cannot happen while we hold the lease, but say so if it did
	}
	if !errors.Is(err, storage.ErrExist) {
		return Claim{}, fmt.Errorf("release: claiming %s: %w", store.URL(version), err)
	}
	cur, tag, err := readHolder(ctx, store, path)
	if err != nil {
		return Claim{}, fmt.Errorf("release: reading the claim %s: %w", store.URL(path), err)
	}
	if cur.Token == h.Token {
		return Claim{}, nil
	}
	if err := Check(ctx, store, h.Token); err != nil {
		return Claim{}, fmt.Errorf("release: %s is claimed by %s: %w", store.URL(version), cur, err)
	}
	if _, err := store.PutIfMatch(ctx, path, data, tag); err != nil {
		return Claim{}, fmt.Errorf("release: taking over the claim of %s by %s: %w", store.URL(version), cur, err)
	}
	c := Claim{TookOver: &cur}
	left, err := store.List(ctx, version+"/")
	if err != nil {
		return c, err
	}
	for _, p := range left {
		if p == path {
			continue
		}
		if err := store.Delete(ctx, p); err != nil {
			return c, err
		}
		c.Removed = append(c.Removed, p)
	}
	return c, released()
}

// SpillDir is the folder of a version root that holds a run's spill files
// (see transforms/spill.go) while it runs.
const SpillDir = "_spill"

// RemoveAbandoned removes what runs that did not finish left in the
// dataset's version folders other than keep (the version this run makes),
// and returns the paths removed. Call it while holding the lease: then no
// other run is live on the dataset (a run holds the lease from before it
// claims its version until it ends, and one that lost it can never
// publish), so
//
//   - an unreleased folder claimed by another run (killed, or whose own
//     cleanup failed) is removed whole, as ClaimVersion's takeover would
//     remove it when that version is run again;
//   - a released folder loses its SpillDir and PartsDir, which are never
//     part of a release (a run killed while publishing, or parts of
//     retried bundles that no shard took);
//   - a folder with no claim is left alone: a dry run spills there
//     without a lease, and may be running.
//
// Without it, a killed run with a default version (a new timestamp on each
// run) would leave its spill and parts behind forever. The lease is
// checked (and renewed) before each folder, and the removal stops with an
// error wrapping ErrLost once it is no longer this run's.
func (l *Lease) RemoveAbandoned(ctx context.Context, keep string) ([]string, error) {
	store := l.store
	paths, err := store.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("release: listing %s: %w", store.URL(""), err)
	}
	type folder struct {
		files             []string
		released, claimed bool
	}
	folders := map[string]*folder{}
	var order []string
	for _, p := range paths {
		v, rest, ok := strings.Cut(p, "/")
		if !ok || v == keep {
			continue
		}
		f := folders[v]
		if f == nil {
			f = &folder{}
			folders[v] = f
			order = append(order, v)
		}
		f.files = append(f.files, p)
		switch rest {
		case "manifest.json":
			f.released = true
		case ClaimFile:
			f.claimed = true
		}
	}
	token := l.Token()
	var removed []string
	for _, v := range order {
		f := folders[v]
		var doomed []string
		switch {
		case f.released:
			for _, p := range f.files {
				if strings.HasPrefix(p, v+"/"+SpillDir+"/") || strings.HasPrefix(p, v+"/"+PartsDir+"/") {
					doomed = append(doomed, p)
				}
			}
		case f.claimed:
			h, _, err := readHolder(ctx, store, v+"/"+ClaimFile)
			if errors.Is(err, storage.ErrNotExist) {
				continue
			}
			if err != nil {
				return removed, fmt.Errorf("release: reading the claim of %s: %w", store.URL(v), err)
			}
			if h.Token == token {
				continue
			}
			for _, p := range f.files {
				if p != v+"/"+ClaimFile {
					doomed = append(doomed, p)
				}
			}
			doomed = append(doomed, v+"/"+ClaimFile) // last: while it is there, the folder is known to be a run's
		}
		if len(doomed) == 0 {
			continue
		}
		if err := Check(ctx, store, token); err != nil {
			return removed, err
		}
		for _, p := range doomed {
			if err := store.Delete(ctx, p); err != nil && !errors.Is(err, storage.ErrNotExist) {
				return removed, fmt.Errorf("release: removing %s: %w", store.URL(p), err)
			}
			removed = append(removed, p)
		}
		if _, local := store.(*storage.Local); local {
			removeEmptyDirs(store.URL(v + "/" + SpillDir))
			removeEmptyDirs(store.URL(v + "/" + PartsDir))
			removeEmptyDirs(store.URL(v))
		}
	}
	return removed, nil
}
