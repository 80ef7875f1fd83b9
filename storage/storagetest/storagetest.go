// Package storagetest holds the conformance suite that every storage.Store
// backend passes, and helpers that give tests a bucket on the real S3 server
// started by .ci/s3.sh.
//
// A backend's test calls RunConformance with a function that returns a new,
// empty store for each subtest:
//
//	func TestConformance(t *testing.T) {
//		storagetest.RunConformance(t, func(t *testing.T) storage.Store {
//			s, err := storage.NewLocal(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/syllabus-dev/syllabus/storage"
)

// RunConformance runs the shared Store behaviour tests, one subtest each.
// newStore must return an empty store that no other call's store can see.
func RunConformance(t *testing.T, newStore func(t *testing.T) storage.Store) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s storage.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"NestedPaths", testNestedPaths},
		{"PathNames", testPathNames},
		{"ListPrefixSorted", testListPrefixSorted},
		{"Missing", testMissing},
		{"OpenReadAt", testOpenReadAt},
		{"PutFileMultiMB", testPutFileMultiMB},
		{"PathEscaping", testPathEscaping},
		{"ConcurrentWriters", testConcurrentWriters},
		{"BinaryData", testBinaryData},
		{"URL", testURL},
		{"CreateStreams", testCreateStreams},
		{"CreateAbort", testCreateAbort},
		{"CreateCancelled", testCreateCancelled},
		{"Delete", testDelete},
		{"FS", testFS},
		{"PutIfAbsent", testPutIfAbsent},
		{"PutIfMatch", testPutIfMatch},
		{"PutIfAbsentRace", testPutIfAbsentRace},
		{"PutIfMatchRace", testPutIfMatchRace},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
	t.Run("Isolation", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		put(t, a, "only-in-a.txt", []byte("a"))
		if got := list(t, b, ""); len(got) != 0 {
			t.Errorf("a new store lists %q written to another store", got)
		}
	})
}

func put(t *testing.T, s storage.Store, p string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), p, data); err != nil {
		t.Fatalf("Put(%q): %v", p, err)
	}
}

func get(t *testing.T, s storage.Store, p string) []byte {
	t.Helper()
	data, err := s.Get(t.Context(), p)
	if err != nil {
		t.Fatalf("Get(%q): %v", p, err)
	}
	return data
}

func list(t *testing.T, s storage.Store, prefix string) []string {
	t.Helper()
	got, err := s.List(t.Context(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return got
}

// randomBytes returns n bytes that do not compress, the same for the same seed.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func testRoundTrip(t *testing.T, s storage.Store) {
	want := []byte("{\"id\":\"p1\",\"prompt\":\"What is 2+2?\"}\n")
	put(t, s, "prompts.jsonl", want)
	if got := get(t, s, "prompts.jsonl"); !bytes.Equal(got, want) {
		t.Errorf("Get = %q, want %q", got, want)
	}
	f, size, err := s.Open(t.Context(), "prompts.jsonl")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer f.Close()
	if size != int64(len(want)) {
		t.Errorf("Open size = %d, want %d", size, len(want))
	}
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("reading the opened file: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Open then Read = %q, want %q", got, want)
	}
	if got := list(t, s, ""); !slices.Equal(got, []string{"prompts.jsonl"}) {
		t.Errorf("List = %q, want [prompts.jsonl]", got)
	}
}

func testOverwrite(t *testing.T, s storage.Store) {
	put(t, s, "LATEST", []byte("2026-01-01T00:00:00Z-long-version-name"))
	put(t, s, "LATEST", []byte("v2"))
	if got := get(t, s, "LATEST"); string(got) != "v2" {
		t.Errorf("Get after overwrite with shorter data = %q, want %q", got, "v2")
	}
	local := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(local, []byte("from a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFile(t.Context(), "LATEST", local); err != nil {
		t.Fatalf("PutFile over an existing file: %v", err)
	}
	if got := get(t, s, "LATEST"); string(got) != "from a file" {
		t.Errorf("Get after PutFile overwrite = %q", got)
	}
	if got := list(t, s, ""); !slices.Equal(got, []string{"LATEST"}) {
		t.Errorf("List after overwrites = %q, want one file", got)
	}
}

func testNestedPaths(t *testing.T, s storage.Store) {
	files := map[string]string{
		"gsm8k/v1/sft/train-00000-of-00002.parquet":    "shard0",
		"gsm8k/v1/sft/train-00001-of-00002.parquet":    "shard1",
		"gsm8k/v1/manifest.json":                       "{}",
		"gsm8k/LATEST":                                 "v1",
		"gsm8k/v1/rejected/deep/er/still/deeper.jsonl": "r",
	}
	for p, data := range files {
		put(t, s, p, []byte(data))
	}
	for p, want := range files {
		if got := get(t, s, p); string(got) != want {
			t.Errorf("Get(%q) = %q, want %q", p, got, want)
		}
	}
	want := slices.Sorted(func(yield func(string) bool) {
		for p := range files {
			if !yield(p) {
				return
			}
		}
	})
	if got := list(t, s, ""); !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
}

// testPathNames checks names that URL signing and escaping get wrong, and
// that uncleaned paths name the same file as their cleaned form.
func testPathNames(t *testing.T, s storage.Store) {
	for _, p := range []string{
		"split=train/part 0.parquet",
		"unicode/ünïcödé-数学.jsonl",
		"chars/a+b%20c&d=e;f,g'h(i)j!k~l@m$n.json",
		"dots/.hidden",
		"dots/..double",
	} {
		data := []byte("content of " + p)
		put(t, s, p, data)
		if got := get(t, s, p); !bytes.Equal(got, data) {
			t.Errorf("Get(%q) = %q, want %q", p, got, data)
		}
		if got := list(t, s, p); !slices.Equal(got, []string{p}) {
			t.Errorf("List(%q) = %q, want just that path", p, got)
		}
	}
	put(t, s, "clean/a//b/./c", []byte("x"))
	if got := get(t, s, "clean/a/b/c"); string(got) != "x" {
		t.Errorf("Get(clean/a/b/c) after Put(clean/a//b/./c) = %q, want x", got)
	}
	if got := list(t, s, "clean/"); !slices.Equal(got, []string{"clean/a/b/c"}) {
		t.Errorf("List(clean/) = %q, want [clean/a/b/c]", got)
	}
}

func testListPrefixSorted(t *testing.T, s storage.Store) {
	// Written out of order, so a backend that lists in write order fails.
	for _, p := range []string{"z/last", "b.txt", "a/2", "a/10", "a/1", "ab", "a b/x", "a/sub/y", "A/upper"} {
		put(t, s, p, []byte(p))
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"A/upper", "a b/x", "a/1", "a/10", "a/2", "a/sub/y", "ab", "b.txt", "z/last"}},
		{"a/", []string{"a/1", "a/10", "a/2", "a/sub/y"}},
		{"a", []string{"a b/x", "a/1", "a/10", "a/2", "a/sub/y", "ab"}},
		{"a/1", []string{"a/1", "a/10"}},
		{"a/sub/", []string{"a/sub/y"}},
		{"b.txt", []string{"b.txt"}},
		{"nothing", nil},
		{"z/last/", nil},
	} {
		got := list(t, s, tc.prefix)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
}

func testMissing(t *testing.T, s storage.Store) {
	put(t, s, "present/file", []byte("x"))
	for _, p := range []string{"missing", "present/missing", "missing/dir/file"} {
		_, err := s.Get(t.Context(), p)
		if !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Get(%q) error = %v, want one wrapping storage.ErrNotExist", p, err)
		} else if !strings.Contains(err.Error(), p) {
			t.Errorf("Get(%q) error %q does not name the path", p, err)
		}
		f, _, err := s.Open(t.Context(), p)
		if err == nil {
			f.Close()
		}
		if !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Open(%q) error = %v, want one wrapping storage.ErrNotExist", p, err)
		}
	}
	if err := s.PutFile(t.Context(), "x", filepath.Join(t.TempDir(), "no-such-local-file")); err == nil {
		t.Error("PutFile of a missing local file succeeded")
	}
	if got := list(t, s, "x"); len(got) != 0 {
		t.Errorf("a failed PutFile left %q", got)
	}
}

func testOpenReadAt(t *testing.T, s storage.Store) {
	const n = 1<<20 + 17 // not a multiple of any buffer size
	data := randomBytes(n, 1)
	put(t, s, "shard.parquet", data)
	f, size, err := s.Open(t.Context(), "shard.parquet")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer f.Close()
	if size != n {
		t.Fatalf("Open size = %d, want %d", size, n)
	}
	for _, tc := range []struct {
		name     string
		off, len int64
	}{
		{"start", 0, 4},
		{"one in", 1, 100},
		{"middle", n / 2, 64 << 10},
		{"footer", n - 8, 8},
		{"last byte", n - 1, 1},
		{"backwards", 10, 10}, // after reading the end, go back
	} {
		buf := make([]byte, tc.len)
		got, err := f.ReadAt(buf, tc.off)
		if err != nil && !(err == io.EOF && got == len(buf)) {
			t.Errorf("%s: ReadAt(len %d, off %d) = %d, %v", tc.name, tc.len, tc.off, got, err)
			continue
		}
		if !bytes.Equal(buf, data[tc.off:tc.off+tc.len]) {
			t.Errorf("%s: ReadAt(len %d, off %d) returned the wrong bytes", tc.name, tc.len, tc.off)
		}
	}
	// io.ReaderAt: a short read across the end returns what there is and io.EOF.
	buf := make([]byte, 100)
	got, err := f.ReadAt(buf, n-10)
	if got != 10 || err == nil {
		t.Errorf("ReadAt across the end = %d, %v, want 10 and an error", got, err)
	} else if !bytes.Equal(buf[:10], data[n-10:]) {
		t.Error("ReadAt across the end returned the wrong bytes")
	}
	if !errors.Is(err, io.EOF) {
		t.Errorf("ReadAt across the end error = %v, want io.EOF", err)
	}
	// io.ReaderAt allows parallel calls on one file (Parquet readers do this).
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			off := int64(i) * (n / 8)
			buf := make([]byte, 4096)
			if _, err := f.ReadAt(buf, off); err != nil {
				errs <- fmt.Errorf("parallel ReadAt at %d: %w", off, err)
				return
			}
			if !bytes.Equal(buf, data[off:off+4096]) {
				errs <- fmt.Errorf("parallel ReadAt at %d returned the wrong bytes", off)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testPutFileMultiMB(t *testing.T, s storage.Store) {
	// Larger than minio-go's 16 MiB part, so S3 takes the multipart path.
	const n = 20<<20 + 3
	data := randomBytes(n, 2)
	local := filepath.Join(t.TempDir(), "train-00000-of-00001.parquet")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFile(t.Context(), "v1/sft/train-00000-of-00001.parquet", local); err != nil {
		t.Fatalf("PutFile: %v", err)
	}
	got := get(t, s, "v1/sft/train-00000-of-00001.parquet")
	if len(got) != n || sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("Get after PutFile: %d bytes with a different sha256, want %d bytes", len(got), n)
	}
	f, size, err := s.Open(t.Context(), "v1/sft/train-00000-of-00001.parquet")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer f.Close()
	if size != n {
		t.Errorf("Open size = %d, want %d", size, n)
	}
	// Read across the 16 MiB part boundary.
	buf := make([]byte, 1<<20)
	off := int64(16<<20 - 512<<10)
	if _, err := f.ReadAt(buf, off); err != nil {
		t.Fatalf("ReadAt across a part boundary: %v", err)
	}
	if !bytes.Equal(buf, data[off:off+int64(len(buf))]) {
		t.Error("ReadAt across a part boundary returned the wrong bytes")
	}
}

func testPathEscaping(t *testing.T, s storage.Store) {
	for _, p := range []string{"../x", "..", "a/../../x", "/etc/passwd", "", "."} {
		if err := s.Put(t.Context(), p, []byte("x")); err == nil {
			t.Errorf("Put(%q) succeeded, want it refused", p)
		}
		if _, err := s.Get(t.Context(), p); err == nil {
			t.Errorf("Get(%q) succeeded, want it refused", p)
		}
		if f, _, err := s.Open(t.Context(), p); err == nil {
			f.Close()
			t.Errorf("Open(%q) succeeded, want it refused", p)
		}
	}
	if got := list(t, s, ""); len(got) != 0 {
		t.Errorf("refused writes left %q", got)
	}
	// ".." inside a path that stays in the store is fine.
	put(t, s, "a/../b", []byte("b"))
	if got := get(t, s, "b"); string(got) != "b" {
		t.Errorf("Get(b) after Put(a/../b) = %q", got)
	}
}

func testConcurrentWriters(t *testing.T, s storage.Store) {
	const writers, rounds = 16, 3
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				p := fmt.Sprintf("shards/w%02d/part", w)
				if err := s.Put(context.Background(), p, fmt.Appendf(nil, "writer %d round %d", w, r)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := list(t, s, "shards/")
	if len(got) != writers {
		t.Fatalf("List after %d concurrent writers = %d paths: %q", writers, len(got), got)
	}
	for w := range writers {
		p := fmt.Sprintf("shards/w%02d/part", w)
		if got, want := string(get(t, s, p)), fmt.Sprintf("writer %d round %d", w, rounds-1); got != want {
			t.Errorf("Get(%q) = %q, want %q", p, got, want)
		}
	}
}

func testBinaryData(t *testing.T, s storage.Store) {
	all := make([]byte, 256*4)
	for i := range all {
		all[i] = byte(i)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"every byte value", all},
		{"zeros", make([]byte, 4096)},
		{"invalid utf-8", []byte{0xff, 0xfe, 0xc3, 0x28, 0x00, '\r', '\n'}},
		{"random", randomBytes(100_003, 3)},
		{"empty", []byte{}},
	} {
		p := "bin/" + strings.ReplaceAll(tc.name, " ", "-")
		put(t, s, p, tc.data)
		if got := get(t, s, p); !bytes.Equal(got, tc.data) {
			t.Errorf("%s: Get returned %d different bytes, want %d", tc.name, len(got), len(tc.data))
		}
		f, size, err := s.Open(t.Context(), p)
		if err != nil {
			t.Errorf("%s: Open: %v", tc.name, err)
			continue
		}
		if size != int64(len(tc.data)) {
			t.Errorf("%s: Open size = %d, want %d", tc.name, size, len(tc.data))
		}
		f.Close()
	}
}

func testURL(t *testing.T, s storage.Store) {
	u := s.URL("v1/manifest.json")
	if !strings.HasSuffix(filepath.ToSlash(u), "v1/manifest.json") {
		t.Errorf("URL(v1/manifest.json) = %q, want it to end in the path", u)
	}
	if s.URL("a") == s.URL("b") {
		t.Errorf("URL gives %q for two paths", s.URL("a"))
	}
}

// testCreateStreams writes a file larger than an S3 part through Create in
// small writes: invisible until Close, then whole.
func testCreateStreams(t *testing.T, s storage.Store) {
	const n = 17<<20 + 5
	data := randomBytes(n, 4)
	w, err := s.Create(t.Context(), "v1/sft/streamed.parquet")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	for off := 0; off < n; off += 64 << 10 {
		if _, err := w.Write(data[off:min(off+64<<10, n)]); err != nil {
			t.Fatalf("Write at %d: %v", off, err)
		}
		if off == 1<<20 {
			if got := list(t, s, ""); len(got) != 0 {
				t.Fatalf("a file being written is already listed: %q", got)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := get(t, s, "v1/sft/streamed.parquet")
	if len(got) != n || sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("Get after Create: %d bytes with a different sha256, want %d bytes", len(got), n)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
	w, err = s.Create(t.Context(), "empty")
	if err != nil {
		t.Fatalf("Create(empty): %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close of an empty file: %v", err)
	}
	if got := get(t, s, "empty"); len(got) != 0 {
		t.Errorf("empty file reads %d bytes", len(got))
	}
}

// testCreateAbort checks that an aborted write leaves nothing and does not
// disturb the file it would have replaced.
func testCreateAbort(t *testing.T, s storage.Store) {
	put(t, s, "LATEST", []byte("v1"))
	w, err := s.Create(t.Context(), "LATEST")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := w.Write([]byte("half a vers")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	w.Abort()
	if err := w.Close(); !errors.Is(err, storage.ErrAborted) {
		t.Errorf("Close after Abort = %v, want ErrAborted", err)
	}
	if got := get(t, s, "LATEST"); string(got) != "v1" {
		t.Errorf("after an aborted overwrite LATEST = %q, want v1", got)
	}
	w, err = s.Create(t.Context(), "new/file")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	w.Abort()
	if got := list(t, s, ""); !slices.Equal(got, []string{"LATEST"}) {
		t.Errorf("aborted writes left %q", got)
	}
}

// testCreateCancelled checks that a write whose context ends before Close
// publishes nothing: a failed bundle must not leave a file behind.
func testCreateCancelled(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	w, err := s.Create(ctx, "cancelled")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	_, _ = w.Write([]byte("partial"))
	cancel()
	if err := w.Close(); err == nil {
		t.Error("Close after the context was cancelled succeeded")
	}
	if got := list(t, s, ""); len(got) != 0 {
		t.Errorf("a cancelled write left %q", got)
	}
}

func testDelete(t *testing.T, s storage.Store) {
	put(t, s, "a/lock", []byte("x"))
	put(t, s, "a/keep", []byte("y"))
	if err := s.Delete(t.Context(), "a/lock"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(t.Context(), "a/lock"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Get after Delete = %v, want ErrNotExist", err)
	}
	if err := s.Delete(t.Context(), "a/lock"); err != nil {
		t.Errorf("Delete of a missing file = %v, want nil", err)
	}
	if got := list(t, s, ""); !slices.Equal(got, []string{"a/keep"}) {
		t.Errorf("List after Delete = %q", got)
	}
	if err := s.Delete(t.Context(), "../x"); err == nil {
		t.Error("Delete(../x) succeeded, want it refused")
	}
}

// testFS runs the standard library's fs.FS checks over the store's view.
func testFS(t *testing.T, s storage.Store) {
	files := map[string]string{
		"gsm8k/test.jsonl":         "{\"question\":\"q\"}\n",
		"math500/test.jsonl":       "{\"problem\":\"p\"}\n",
		"math500/nested/x.parquet": "PAR1",
		"README.md":                "# sets\n",
	}
	for p, data := range files {
		put(t, s, p, []byte(data))
	}
	fsys := storage.FS(t.Context(), s)
	if err := fstest.TestFS(fsys, "gsm8k/test.jsonl", "math500/test.jsonl", "math500/nested/x.parquet", "README.md"); err != nil {
		t.Fatal(err)
	}
	matches, err := fs.Glob(fsys, "*/test.jsonl")
	if err != nil || !slices.Equal(matches, []string{"gsm8k/test.jsonl", "math500/test.jsonl"}) {
		t.Errorf("Glob(*/test.jsonl) = %q, %v", matches, err)
	}
	if _, err := fs.ReadFile(fsys, "nope/test.jsonl"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of a missing file = %v, want fs.ErrNotExist", err)
	}
}
