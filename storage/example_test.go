package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/syllabus-dev/syllabus/storage"
)

// A release root is opened from its URL: a local directory here, or
// s3://bucket/prefix with Options.S3Endpoint for an S3-compatible server.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "release")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	store, err := storage.Open(dir, nil)
	if err != nil {
		panic(err)
	}
	_ = store.Put(ctx, "gsm8k/v1/manifest.json", []byte(`{"counts":{}}`))
	_ = store.Put(ctx, "gsm8k/LATEST", []byte("v1")) // written last
	paths, _ := store.List(ctx, "gsm8k/")
	fmt.Println(paths)
	if _, err := store.Get(ctx, "gsm8k/v2/manifest.json"); errors.Is(err, storage.ErrNotExist) {
		fmt.Println("no v2 yet")
	}
	// Output:
	// [gsm8k/LATEST gsm8k/v1/manifest.json]
	// no v2 yet
}
