package grading

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
)

// batchSize is how many responses a worker grades at a time: large enough
// that handing batches between goroutines costs nothing next to grading,
// small enough that memory stays a few batches per core.
const batchSize = 256

// Run grades cfg.Input into cfg.Output and the dead-letter file, streaming:
// lines are read, graded by one worker per core and written in input order
// as they come, so memory does not grow with the input. Both files are
// written through storage.Store.Create and become visible only when the
// whole input was read and the counts reconcile (the dead letters first);
// a failed run leaves neither. Paths may be local or s3:// URLs.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, fmt.Errorf("grade: %w", err)
	}
	if err := checkPaths(cfg); err != nil {
		return Summary{}, fmt.Errorf("grade: %w", err)
	}
	opts := &storage.Options{S3Endpoint: cfg.S3Endpoint}
	in, err := openFile(ctx, cfg.Input, opts)
	if err != nil {
		return Summary{}, fmt.Errorf("grade: --input: %w", err)
	}
	defer in.Close()
	out, err := createFile(ctx, cfg.Output, opts)
	if err != nil {
		return Summary{}, fmt.Errorf("grade: --output: %w", err)
	}
	defer out.Abort()
	dead, err := createFile(ctx, cfg.DeadLetterPath(), opts)
	if err != nil {
		return Summary{}, fmt.Errorf("grade: --dead_letter: %w", err)
	}
	defer dead.Abort()

	var rd io.Reader = ctxReader{ctx, in}
	if strings.HasSuffix(strings.ToLower(cfg.Input), ".gz") {
		zr, err := gzip.NewReader(in)
		if err != nil {
			return Summary{}, fmt.Errorf("grade: %s: %w", cfg.Input, err)
		}
		defer zr.Close()
		rd = zr
	}

	sum := Summary{Output: cfg.Output, DeadLetterFile: cfg.DeadLetterPath()}
	outW, deadW := newJSONLWriter(out), newJSONLWriter(dead)
	var writeErr error
	st, err := gradeStream(ctx, rd, cfg.Input, func(b *batch) {
		if writeErr != nil {
			return
		}
		for _, d := range b.dead {
			if writeErr = deadW.encode(d); writeErr != nil {
				return
			}
		}
		for _, g := range b.graded {
			sum.add(g)
			if writeErr = outW.encode(g.Output()); writeErr != nil {
				return
			}
		}
		sum.DeadLetters += int64(len(b.dead))
	})
	if err == nil {
		err = writeErr
	}
	if err != nil {
		return Summary{}, err
	}
	sum.Lines = int64(st.Lines)
	if !sum.Reconciles() {
		return Summary{}, fmt.Errorf("grade: counts do not reconcile: read %d lines, graded %d (%d correct, %d incorrect, %d no_answer), %d dead letters; nothing was written",
			sum.Lines, sum.Graded, sum.Correct, sum.Incorrect, sum.NoAnswer, sum.DeadLetters)
	}
	// Dead letters first: once the output is in place, the run is complete.
	for _, w := range []*jsonlWriter{deadW, outW} {
		if err := w.buf.Flush(); err != nil {
			return Summary{}, fmt.Errorf("grade: %w", err)
		}
	}
	if err := dead.Close(); err != nil {
		return Summary{}, fmt.Errorf("grade: %w", err)
	}
	if err := out.Close(); err != nil {
		return Summary{}, fmt.Errorf("grade: %w", err)
	}
	return sum, nil
}

// batch is a run of consecutive non-blank input lines, raw, and what they
// became: graded responses and dead letters, each in input order.
type batch struct {
	source  string
	arena   []byte // the lines' bytes, back to back
	ends    []int  // line i is arena[ends[i-1]:ends[i]]
	nums    []int
	tooLong []bool
	graded  []GradedResponse
	dead    []schemas.DeadLetter
	done    chan struct{}
}

func (b *batch) add(line int, raw []byte, tooLong bool) {
	b.arena = append(b.arena, raw...)
	b.ends = append(b.ends, len(b.arena))
	b.nums = append(b.nums, line)
	b.tooLong = append(b.tooLong, tooLong)
}

// grade parses and grades every line of b with v.
func (b *batch) grade(v filters.Verifier) {
	start := 0
	for i, end := range b.ends {
		r, d := parseRaw(b.source, b.nums[i], b.arena[start:end], b.tooLong[i])
		start = end
		if d != nil {
			b.dead = append(b.dead, *d)
			continue
		}
		b.graded = append(b.graded, GradeResponse(v, r))
	}
	b.arena, b.ends, b.nums, b.tooLong = nil, nil, nil, nil
	close(b.done)
}

// gradeStream reads rd, then parses and grades its lines on one worker per
// core (JSON decoding costs as much as grading, so both run in parallel)
// and hands each batch to emit in input order, on the calling goroutine. At
// most a few batches per worker are in memory at once.
func gradeStream(ctx context.Context, rd io.Reader, source string, emit func(*batch)) (ReadStats, error) {
	workers := runtime.GOMAXPROCS(0)
	todo := make(chan *batch, workers)
	ordered := make(chan *batch, 2*workers) // bounds the batches in flight
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			v := filters.NewMathVerifier(nil)
			for b := range todo {
				b.grade(v)
			}
		})
	}
	var st ReadStats
	var readErr error
	go func() {
		defer close(ordered)
		defer close(todo)
		newBatch := func() *batch { return &batch{source: source, done: make(chan struct{})} }
		cur := newBatch()
		flush := func() {
			select {
			case ordered <- cur:
				todo <- cur
			case <-ctx.Done():
			}
			cur = newBatch()
		}
		readErr = scanLines(rd, source, func(line int, raw []byte, tooLong bool) {
			st.Lines++
			cur.add(line, raw, tooLong)
			if len(cur.nums) == batchSize {
				flush()
			}
		})
		flush()
	}()
	for b := range ordered {
		<-b.done
		emit(b)
	}
	wg.Wait()
	if readErr == nil {
		readErr = context.Cause(ctx)
	}
	return st, readErr
}

// jsonlWriter encodes one JSON value a line, keeping "<", ">" and "&" of
// LaTeX answers readable.
type jsonlWriter struct {
	buf *bufio.Writer
	enc *json.Encoder
}

func newJSONLWriter(w io.Writer) *jsonlWriter {
	buf := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return &jsonlWriter{buf: buf, enc: enc}
}

func (w *jsonlWriter) encode(v any) error {
	if err := w.enc.Encode(v); err != nil {
		return fmt.Errorf("grade: writing: %w", err)
	}
	return nil
}

// checkPaths reports, all at once, local paths that cannot work: a missing
// or directory input, an output directory that does not exist. (S3 paths
// fail when opened.)
func checkPaths(cfg Config) error {
	var errs []error
	local := func(p string) bool { return !strings.HasPrefix(p, "s3://") }
	if !local(cfg.Input) {
		// checked when opened
	} else if info, err := os.Stat(cfg.Input); err != nil {
		errs = append(errs, fmt.Errorf("--input: %w", err))
	} else if info.IsDir() {
		errs = append(errs, fmt.Errorf("--input: %s is a directory, want a JSONL file", cfg.Input))
	}
	for _, f := range []struct{ flag, path string }{{"--output", cfg.Output}, {"--dead_letter", cfg.DeadLetterPath()}} {
		if !local(f.path) {
			continue
		}
		if info, err := os.Stat(filepath.Dir(f.path)); err != nil {
			errs = append(errs, fmt.Errorf("%s: directory of %s: %w", f.flag, f.path, err))
		} else if !info.IsDir() {
			errs = append(errs, fmt.Errorf("%s: %s is not a directory", f.flag, filepath.Dir(f.path)))
		} else if info, err := os.Stat(f.path); err == nil && info.IsDir() {
			errs = append(errs, fmt.Errorf("%s: %s is a directory, want a file", f.flag, f.path))
		}
	}
	return errors.Join(errs...)
}

// openFile opens a local file or an s3:// object for reading.
func openFile(ctx context.Context, p string, opts *storage.Options) (io.ReadCloser, error) {
	if !strings.HasPrefix(p, "s3://") {
		return os.Open(p)
	}
	store, name, err := storeOf(p, opts)
	if err != nil {
		return nil, err
	}
	f, _, err := store.Open(ctx, name)
	return f, err
}

// createFile starts an atomic write of a local file or an s3:// object.
func createFile(ctx context.Context, p string, opts *storage.Options) (storage.Writer, error) {
	store, name, err := storeOf(p, opts)
	if err != nil {
		return nil, err
	}
	return store.Create(ctx, name)
}

// storeOf splits a file path or URL into the store of its folder and its
// name in it.
func storeOf(p string, opts *storage.Options) (storage.Store, string, error) {
	if rest, ok := strings.CutPrefix(p, "s3://"); ok {
		i := strings.LastIndex(rest, "/")
		if i < 0 {
			return nil, "", fmt.Errorf("%s names a bucket, not an object", p)
		}
		store, err := storage.Open("s3://"+rest[:i], opts)
		return store, rest[i+1:], err
	}
	store, err := storage.NewLocal(filepath.Dir(p))
	return store, filepath.Base(p), err
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := context.Cause(c.ctx); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
