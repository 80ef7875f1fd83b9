package storage_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/storage/storagetest"
)

func TestLocalConformance(t *testing.T) {
	storagetest.RunConformance(t, func(t *testing.T) storage.Store {
		s, err := storage.Open(filepath.Join(t.TempDir(), "release"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestMemConformance(t *testing.T) {
	storagetest.RunConformance(t, func(t *testing.T) storage.Store { return storage.NewMem() })
}

// TestLocalFileModes checks that release files and folders are readable by
// other accounts (0644 and 0755 under the usual umask 022), as trainers run
// under accounts of their own.
func TestLocalFileModes(t *testing.T) {
	root := filepath.Join(t.TempDir(), "release")
	s, err := storage.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "v1/sft/train.parquet", []byte("x")); err != nil {
		t.Fatal(err)
	}
	umask := syscall.Umask(0o022)
	defer syscall.Umask(umask)
	for p, want := range map[string]os.FileMode{"v1/sft/train.parquet": 0o666 &^ os.FileMode(umask), "v1/sft": 0o755&^os.FileMode(umask) | os.ModeDir} {
		info, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode(), want)
		}
	}
}

// TestS3Conformance runs the suite against the real S3 server of .ci/s3.sh:
// one bucket for the test, and each store under its own prefix of it, so the
// suite's Isolation case also checks that prefixes do not leak.
func TestS3Conformance(t *testing.T) {
	bucket, opts := storagetest.NewS3Bucket(t)
	var n atomic.Int64
	storagetest.RunConformance(t, func(t *testing.T) storage.Store {
		s, err := storage.Open(fmt.Sprintf("%s/run%d", bucket, n.Add(1)), opts)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestS3Prefixes checks that a store sees only its own prefix, even where
// another prefix starts with the same characters ("p1" and "p10").
func TestS3Prefixes(t *testing.T) {
	bucket, opts := storagetest.NewS3Bucket(t)
	open := func(url string) storage.Store {
		t.Helper()
		s, err := storage.Open(url, opts)
		if err != nil {
			t.Fatalf("Open(%q): %v", url, err)
		}
		return s
	}
	root := open(bucket)
	p1 := open(bucket + "/p1")
	p10 := open(bucket + "/p10/")
	nested := open(bucket + "/p1/nested")
	ctx := t.Context()
	for _, w := range []struct {
		s    storage.Store
		path string
	}{{p1, "a"}, {p10, "a"}, {nested, "b"}, {root, "top"}} {
		if err := w.s.Put(ctx, w.path, []byte(w.s.URL(w.path))); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		s    storage.Store
		want []string
	}{
		{"root", root, []string{"p1/a", "p1/nested/b", "p10/a", "top"}},
		{"p1", p1, []string{"a", "nested/b"}},
		{"p10", p10, []string{"a"}},
		{"p1/nested", nested, []string{"b"}},
	} {
		got, err := tc.s.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: List = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := p10.URL("a"); got != bucket+"/p10/a" {
		t.Errorf("URL = %q, want %q", got, bucket+"/p10/a")
	}
	data, err := root.Get(ctx, "p1/nested/b")
	if err != nil || string(data) != bucket+"/p1/nested/b" {
		t.Errorf("Get through the root store = %q, %v", data, err)
	}
}

// TestS3Errors checks that errors name the bucket and key, and that a missing
// bucket reads as ErrNotExist like a missing key.
func TestS3Errors(t *testing.T) {
	bucket, opts := storagetest.NewS3Bucket(t)
	s, err := storage.Open(bucket+"/pre", opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(t.Context(), "dir/missing.json")
	if !errors.Is(err, storage.ErrNotExist) || !strings.Contains(err.Error(), bucket+"/pre/dir/missing.json") {
		t.Errorf("Get of a missing key: %v; want ErrNotExist naming %s/pre/dir/missing.json", err, bucket)
	}
	gone, err := storage.Open(bucket+"-no-such-bucket/x", opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gone.Get(t.Context(), "f"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Get in a missing bucket: %v, want ErrNotExist", err)
	}
	if err := gone.Put(t.Context(), "f", []byte("x")); err == nil || !strings.Contains(err.Error(), bucket+"-no-such-bucket") {
		t.Errorf("Put in a missing bucket: %v, want an error naming the bucket", err)
	}
}

func TestOpenS3URLErrors(t *testing.T) {
	for _, tc := range []struct{ url, endpoint, want string }{
		{"s3://", "", "no bucket"},
		{"s3:///prefix", "", "no bucket"},
		{"s3://b/../x", "", "leaves the bucket"},
		{"s3://b/p", "ftp://host:21", "scheme"},
		{"s3://b/p", "http://host:9000/path", "no path"},
		{"s3://b/p", "http://", "no host"},
	} {
		_, err := storage.Open(tc.url, &storage.Options{S3Endpoint: tc.endpoint})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q, endpoint %q) = %v, want an error containing %q", tc.url, tc.endpoint, err, tc.want)
		}
	}
}

func TestLocalListSkipsWritesInProgress(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "v1/manifest.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "v1", ".shard.parquet.tmp-123"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"v1/manifest.json"}) {
		t.Errorf("List = %q, want only the finished file", got)
	}
}
