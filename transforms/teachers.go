package transforms

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/teacher"
)

// workerTeacher is the teacher of one worker process: one client (so one
// connection pool, circuit breaker, token ledger and cache) and one bound on
// requests in flight, shared by every DoFn instance in the process. Prism
// runs several bundles of a stage at once, each with its own DoFn instance;
// sharing keeps teacher.max_concurrency a per-worker number, as documented,
// and teacher.token_budget a per-worker budget.
type workerTeacher struct {
	client *teacher.Client
	slots  chan struct{}
}

// Complete implements teacher.Completer, waiting for a slot first.
func (w *workerTeacher) Complete(ctx context.Context, req teacher.Request) (*teacher.Response, error) {
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	defer func() { <-w.slots }()
	return w.client.Complete(ctx, req)
}

var workerTeachers sync.Map // teacher config JSON -> func() (*workerTeacher, error)

// openWorkerTeacher returns the process's teacher for cfg, opening it on
// first use. The cache_dir may be a local directory or an s3:// URL.
func openWorkerTeacher(cfgJSON string, s3Endpoint string) (*workerTeacher, teacher.Config, error) {
	var cfg teacher.Config
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		return nil, cfg, fmt.Errorf("teacher config: %w", err)
	}
	once, _ := workerTeachers.LoadOrStore(cfgJSON+"\x00"+s3Endpoint, sync.OnceValues(func() (*workerTeacher, error) {
		opts := &teacher.ClientOptions{}
		c := cfg
		if c.CacheDir != "" {
			store, err := openCache(c.CacheDir, s3Endpoint)
			if err != nil {
				return nil, err
			}
			opts.Cache = store
			c.CacheDir = ""
		}
		client, err := teacher.NewClientWithOptions(c, opts)
		if err != nil {
			return nil, err
		}
		return &workerTeacher{client: client, slots: make(chan struct{}, c.MaxConcurrency)}, nil
	}))
	w, err := once.(func() (*workerTeacher, error))()
	return w, cfg, err
}

// openCache opens the response cache at dir: a local directory, or an
// s3:// URL.
func openCache(dir, s3Endpoint string) (storage.Store, error) {
	store, err := storage.Open(dir, &storage.Options{S3Endpoint: s3Endpoint})
	if err != nil {
		return nil, fmt.Errorf("teacher.cache_dir: %w", err)
	}
	return store, nil
}

// flushWorkerTeachers writes the response-cache entries that this process's
// teachers hold back (on S3 the cache writes entries in batches; see
// teacher.Cache), so that a run that ends right after its last request
// leaves them for the next run. A failed write is logged, never fatal: the
// samples are in the release, and only a rerun pays for them again.
func flushWorkerTeachers(ctx context.Context) {
	workerTeachers.Range(func(_, v any) bool {
		if w, err := v.(func() (*workerTeacher, error))(); err == nil {
			if err := w.client.FlushCache(ctx); err != nil {
				slog.Warn("teacher cache: entries not written; a rerun will pay for them again", "err", err)
			}
		}
		return true
	})
}
