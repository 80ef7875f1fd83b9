package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/syllabus-dev/syllabus/storage"
)

// EndpointEnv names the environment variable that points tests at a real S3
// server; .ci/s3.sh sets it, with the AWS credential variables.
const EndpointEnv = "SYLLABUS_S3_ENDPOINT"

// S3Options returns the storage options for the test S3 server named by
// $SYLLABUS_S3_ENDPOINT. When it is unset the test is skipped, except under
// CI=true, where it fails: CI must never skip the real integration silently.
func S3Options(t testing.TB) *storage.Options {
	t.Helper()
	endpoint := os.Getenv(EndpointEnv)
	if endpoint == "" {
		const how = "; start a local S3 server with `source .ci/s3.sh` (it exports " + EndpointEnv + " and AWS_* credentials)"
		if os.Getenv("CI") == "true" {
			t.Fatal(EndpointEnv + " is not set under CI=true, so the S3 integration cannot run" + how)
		}
		t.Skip(EndpointEnv + " is not set" + how)
	}
	return &storage.Options{S3Endpoint: endpoint}
}

// NewS3Bucket creates a bucket with a unique name on the test S3 server (see
// S3Options) and returns its s3:// URL and the options to open it with. The
// bucket and its objects are removed when the test ends.
func NewS3Bucket(t testing.TB) (url string, opts *storage.Options) {
	t.Helper()
	opts = S3Options(t)
	client := newClient(t, opts.S3Endpoint)
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	// Bucket names: 3-63 characters of a-z, 0-9 and '-'.
	bucket := "syllabus-" + sanitize(t.Name()) + "-" + hex.EncodeToString(suffix[:])
	if len(bucket) > 63 {
		bucket = "syllabus-" + sanitize(t.Name())[:63-len("syllabus--")-8] + "-" + hex.EncodeToString(suffix[:])
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: os.Getenv("AWS_REGION")}); err != nil {
		t.Fatalf("creating bucket %s on %s: %v", bucket, opts.S3Endpoint, err)
	}
	t.Cleanup(func() { removeBucket(t, client, bucket) })
	return "s3://" + bucket, opts
}

func newClient(t testing.TB, endpoint string) *minio.Client {
	t.Helper()
	host, secure := endpoint, true
	if h, ok := strings.CutPrefix(endpoint, "http://"); ok {
		host, secure = h, false
	} else if h, ok := strings.CutPrefix(endpoint, "https://"); ok {
		host = h
	}
	client, err := minio.New(strings.TrimSuffix(host, "/"), &minio.Options{
		Creds: credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.FileAWSCredentials{},
		}),
		Secure:       secure,
		Region:       os.Getenv("AWS_REGION"),
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatalf("S3 client for %s=%s: %v", EndpointEnv, endpoint, err)
	}
	return client
}

// removeBucket empties and removes bucket; failures are only logged, since
// the test server's data directory is temporary anyway.
func removeBucket(t testing.TB, client *minio.Client, bucket string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	objects := client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true})
	for res := range client.RemoveObjects(ctx, bucket, objects, minio.RemoveObjectsOptions{}) {
		t.Logf("cleanup: removing %s/%s: %v", bucket, res.ObjectName, res.Err)
	}
	if err := client.RemoveBucket(ctx, bucket); err != nil {
		t.Logf("cleanup: removing bucket %s: %v", bucket, err)
	}
}

func sanitize(name string) string {
	var b strings.Builder
	dash := true
	for _, r := range strings.ToLower(name) {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
