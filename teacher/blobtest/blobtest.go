// Package blobtest is the conformance suite every teacher.Blobs backend
// (local directory, memory, S3 prefix) must pass.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"testing"
)

// Blobs is teacher.Blobs, restated so this package need not import teacher.
type Blobs interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, value []byte) error
}

// Run runs the suite. open returns a handle on the store under test; called
// twice, it must return two handles on the same store (as two workers
// sharing a cache would have).
func Run[B Blobs](t *testing.T, open func(t *testing.T) B) {
	ctx := context.Background()
	key := func(s string) string { return fmt.Sprintf("%064x", s) }

	t.Run("missing key is fs.ErrNotExist", func(t *testing.T) {
		b := open(t)
		if _, err := b.Get(ctx, key("missing")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Get(missing) err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("put then get, overwrite", func(t *testing.T) {
		b := open(t)
		k := key("roundtrip")
		for _, v := range [][]byte{[]byte(`{"a":1}`), {}, bytes.Repeat([]byte("x"), 1<<20)} {
			if err := b.Put(ctx, k, v); err != nil {
				t.Fatal(err)
			}
			got, err := b.Get(ctx, k)
			if err != nil || !bytes.Equal(got, v) {
				t.Fatalf("Get = %d bytes, %v; want %d bytes", len(got), err, len(v))
			}
		}
	})
	t.Run("value is copied", func(t *testing.T) {
		b := open(t)
		v := []byte("abc")
		b.Put(ctx, key("copy"), v)
		v[0] = 'z'
		if got, _ := b.Get(ctx, key("copy")); string(got) != "abc" {
			t.Errorf("Get = %q after the caller changed its slice", got)
		}
	})
	t.Run("two handles, concurrent writers", func(t *testing.T) {
		b1, b2 := open(t), open(t)
		k := key("shared")
		vals := [][]byte{bytes.Repeat([]byte("1"), 64<<10), bytes.Repeat([]byte("2"), 64<<10)}
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(2)
			go func() { defer wg.Done(); b1.Put(ctx, k, vals[i%2]) }()
			go func() {
				defer wg.Done()
				got, err := b2.Get(ctx, k)
				if err == nil && !bytes.Equal(got, vals[0]) && !bytes.Equal(got, vals[1]) {
					t.Errorf("read a torn value of %d bytes", len(got))
				}
			}()
		}
		wg.Wait()
		got, err := b2.Get(ctx, k)
		if err != nil || (!bytes.Equal(got, vals[0]) && !bytes.Equal(got, vals[1])) {
			t.Errorf("final value: %d bytes, %v", len(got), err)
		}
	})
}
