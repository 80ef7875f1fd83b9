package storage

import "errors"

// openS3 is replaced by the minio-go backend; until then s3:// is refused
// with a clear error rather than silently written elsewhere.
func openS3(bucketAndPrefix string, _ *Options) (Store, error) {
	return nil, errors.New("storage: s3://" + bucketAndPrefix + ": the S3 backend is not built yet")
}
