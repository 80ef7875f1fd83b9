package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/syllabus-dev/syllabus/storage"
)

// racers is how many goroutines race for one path in the race cases.
const racers = 16

// testPutIfAbsent: the first PutIfAbsent creates the file, a second one
// fails with ErrExist and leaves it as it was, and the tag it returns is the
// one GetTagged reads.
func testPutIfAbsent(t *testing.T, s storage.Store) {
	ctx := t.Context()
	tag, err := s.PutIfAbsent(ctx, "ds/LEASE", []byte("first"))
	if err != nil {
		t.Fatalf("PutIfAbsent of a new path: %v", err)
	}
	data, got, err := s.GetTagged(ctx, "ds/LEASE")
	if err != nil || string(data) != "first" || got != tag {
		t.Errorf("GetTagged = %q, tag %q, %v; want %q, tag %q (PutIfAbsent's)", data, got, err, "first", tag)
	}
	_, err = s.PutIfAbsent(ctx, "ds/LEASE", []byte("second"))
	if !errors.Is(err, storage.ErrExist) {
		t.Errorf("PutIfAbsent of an existing path: %v, want ErrExist", err)
	}
	if got := string(get(t, s, "ds/LEASE")); got != "first" {
		t.Errorf("after a refused PutIfAbsent the file holds %q, want %q", got, "first")
	}
	if _, err := s.PutIfAbsent(ctx, "ds/empty", nil); err != nil {
		t.Errorf("PutIfAbsent of no bytes: %v", err)
	}
	if got := list(t, s, ""); len(got) != 2 {
		t.Errorf("List = %q, want only the two files (no temporary files)", got)
	}
	if _, err := s.PutIfAbsent(ctx, "../escape", []byte("x")); err == nil {
		t.Error("PutIfAbsent(../escape) succeeded, want an error")
	}
}

// testPutIfMatch: a replace with the current tag succeeds and returns the new
// tag; a replace with a stale tag fails with ErrChanged, with a missing file
// ErrNotExist, and neither writes. A plain Put changes the tag.
func testPutIfMatch(t *testing.T, s storage.Store) {
	ctx := t.Context()
	if _, _, err := s.GetTagged(ctx, "ds/LEASE"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("GetTagged of a missing file: %v, want ErrNotExist", err)
	}
	if _, err := s.PutIfMatch(ctx, "ds/LEASE", []byte("x"), "0123"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("PutIfMatch of a missing file: %v, want ErrNotExist", err)
	}
	if got := list(t, s, ""); len(got) != 0 {
		t.Errorf("a refused PutIfMatch left %q", got)
	}
	put(t, s, "ds/LEASE", []byte("v1"))
	_, tag1, err := s.GetTagged(ctx, "ds/LEASE")
	if err != nil {
		t.Fatal(err)
	}
	tag2, err := s.PutIfMatch(ctx, "ds/LEASE", []byte("v2"), tag1)
	if err != nil {
		t.Fatalf("PutIfMatch with the current tag: %v", err)
	}
	if tag2 == tag1 {
		t.Errorf("the tag did not change with the content: %q", tag1)
	}
	data, got, err := s.GetTagged(ctx, "ds/LEASE")
	if err != nil || string(data) != "v2" || got != tag2 {
		t.Errorf("GetTagged = %q, tag %q, %v; want %q, tag %q (PutIfMatch's)", data, got, err, "v2", tag2)
	}
	if _, err := s.PutIfMatch(ctx, "ds/LEASE", []byte("stale"), tag1); !errors.Is(err, storage.ErrChanged) {
		t.Errorf("PutIfMatch with a stale tag: %v, want ErrChanged", err)
	}
	if got := string(get(t, s, "ds/LEASE")); got != "v2" {
		t.Errorf("after a refused PutIfMatch the file holds %q, want %q", got, "v2")
	}
	put(t, s, "ds/LEASE", []byte("v3"))
	if _, err := s.PutIfMatch(ctx, "ds/LEASE", []byte("stale"), tag2); !errors.Is(err, storage.ErrChanged) {
		t.Errorf("PutIfMatch after a plain Put: %v, want ErrChanged", err)
	}
	if got := list(t, s, ""); len(got) != 1 {
		t.Errorf("List = %q, want only ds/LEASE (no temporary files)", got)
	}
}

// testPutIfAbsentRace: 16 goroutines create the same path at once; exactly
// one wins, every other fails with ErrExist, and the file holds the winner's
// bytes.
func testPutIfAbsentRace(t *testing.T, s storage.Store) {
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			_, errs[i] = s.PutIfAbsent(context.Background(), "ds/LEASE", fmt.Appendf(nil, "racer %d", i))
		})
	}
	wg.Wait()
	winner := checkOneWinner(t, errs, storage.ErrExist)
	if winner < 0 {
		return
	}
	if got, want := string(get(t, s, "ds/LEASE")), fmt.Sprintf("racer %d", winner); got != want {
		t.Errorf("the file holds %q, want the winner's %q", got, want)
	}
}

// testPutIfMatchRace: 16 goroutines replace the same file holding the same
// tag; exactly one wins, every other fails with ErrChanged.
func testPutIfMatchRace(t *testing.T, s storage.Store) {
	put(t, s, "ds/LEASE", []byte("start"))
	_, tag, err := s.GetTagged(t.Context(), "ds/LEASE")
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			_, errs[i] = s.PutIfMatch(context.Background(), "ds/LEASE", fmt.Appendf(nil, "racer %d", i), tag)
		})
	}
	wg.Wait()
	winner := checkOneWinner(t, errs, storage.ErrChanged)
	if winner < 0 {
		return
	}
	if got, want := string(get(t, s, "ds/LEASE")), fmt.Sprintf("racer %d", winner); got != want {
		t.Errorf("the file holds %q, want the winner's %q", got, want)
	}
}

// checkOneWinner checks that exactly one of errs is nil and every other
// wraps loser, and returns the winner's index (-1 if there is none).
func checkOneWinner(t *testing.T, errs []error, loser error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("racers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, loser):
			t.Errorf("racer %d: %v, want an error wrapping %v", i, err, loser)
		}
	}
	if winner < 0 {
		t.Errorf("none of %d racers won", len(errs))
	}
	return winner
}
