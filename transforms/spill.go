package transforms

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// Spilling is the claim-check pattern for a shuffle: a stage that would
// send many small records into a GroupByKey writes them instead, per
// bundle, into one file of the run's storage (the version root, local or
// S3, so every worker of a distributed runner reaches it), cut into
// spillParts partitions, and sends on only a reference per partition. The
// GroupByKey then groups a few references per bundle by partition, and its
// consumer reads the records of its partition back: 1/spillParts of them,
// which is what it holds. A runner holds references, never records (see
// bounded.go for why that matters on Prism).
//
// Records of one key must land in one partition, so each user picks the
// partition from the key. The files live under spillDir until the run
// ends; removeSpill deletes them (a retried bundle's earlier file is
// never referenced, and goes too).

// spillDir is the folder of the version root that holds spill files
// (release.RemoveAbandoned clears those of runs that did not finish).
const spillDir = release.SpillDir

// spillParts is how many partitions a spill is cut into: the consumer of
// a partition holds 1/spillParts of the records, and a bundle keeps that
// many local temporary files open while it writes.
const spillParts = 64

// spillRef names the records of one partition that one bundle wrote: a
// byte range of a spill file (Path relative to the version root).
type spillRef struct {
	Path string
	Off  int64
	Len  int64
}

// spiller gathers one bundle's records by partition in local temporary
// files (memory holds only their write buffers), and at the end of the
// bundle copies them, partition after partition, into one spill file.
type spiller struct {
	store storage.Store
	name  string // the folder under spillDir
	parts [spillParts]*spillTemp
}

type spillTemp struct {
	f *os.File
	w *bufio.Writer
	n int64
}

func newSpiller(store storage.Store, name string) *spiller {
	return &spiller{store: store, name: name}
}

// add appends rec to partition part (any int; taken modulo spillParts).
func (s *spiller) add(part int, rec []byte) error {
	part %= spillParts
	t := s.parts[part]
	if t == nil {
		f, err := os.CreateTemp("", "syllabus-spill-*")
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		t = &spillTemp{f: f, w: bufio.NewWriterSize(f, 16<<10)}
		s.parts[part] = t
	}
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(rec)))
	if _, err := t.w.Write(hdr[:n]); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	if _, err := t.w.Write(rec); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	t.n += int64(n + len(rec))
	return nil
}

// flush writes the bundle's records into one spill file and emits a
// reference per partition that has records. The spiller is then empty.
func (s *spiller) flush(ctx context.Context, emit func(int, spillRef)) error {
	defer s.discard()
	var id [12]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	name := path.Join(spillDir, s.name, hex.EncodeToString(id[:])+".bin")
	var w storage.Writer
	var refs []spillRef
	var parts []int
	var off int64
	for p, t := range s.parts {
		if t == nil {
			continue
		}
		if w == nil {
			var err error
			if w, err = s.store.Create(ctx, name); err != nil {
				return fmt.Errorf("spill: %w", err)
			}
		}
		err := t.w.Flush()
		if err == nil {
			_, err = t.f.Seek(0, io.SeekStart)
		}
		if err == nil {
			_, err = io.Copy(w, t.f)
		}
		if err != nil {
			w.Abort()
			return fmt.Errorf("spill: %s: %w", name, err)
		}
		refs, parts = append(refs, spillRef{Path: name, Off: off, Len: t.n}), append(parts, p)
		off += t.n
	}
	if w == nil {
		return nil // no records
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("spill: %s: %w", name, err)
	}
	for i, r := range refs {
		emit(parts[i], r)
	}
	return nil
}

// renewSpiller starts a bundle's spiller: old, a spiller a failed bundle
// left (it never reached FinishBundle), is discarded.
func renewSpiller(old *spiller, store storage.Store, name string) *spiller {
	if old != nil {
		old.discard()
	}
	return newSpiller(store, name)
}

// discard throws away the local temporary files.
func (s *spiller) discard() {
	for i, t := range s.parts {
		if t != nil {
			t.f.Close()
			os.Remove(t.f.Name())
			s.parts[i] = nil
		}
	}
}

// readSpill calls fn with each record of the partitions refs names, in
// order. rec is fn's to keep.
func readSpill(ctx context.Context, store storage.Store, refs func(*spillRef) bool, fn func(rec []byte) error) error {
	var ref spillRef
	for refs(&ref) {
		if err := readSpillRef(ctx, store, ref, fn); err != nil {
			return err
		}
		ref = spillRef{}
	}
	return nil
}

func readSpillRef(ctx context.Context, store storage.Store, ref spillRef, fn func(rec []byte) error) error {
	f, _, err := store.Open(ctx, ref.Path)
	if err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(io.NewSectionReader(f, ref.Off, ref.Len), 64<<10)
	for {
		n, err := binary.ReadUvarint(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("spill: %s: %w", ref.Path, err)
		}
		rec := make([]byte, n)
		if _, err := io.ReadFull(r, rec); err != nil {
			return fmt.Errorf("spill: %s: %w", ref.Path, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// removeSpill deletes the run's spill files, once nothing reads them.
func removeSpill(ctx context.Context, store storage.Store) error {
	if l, ok := store.(*storage.Local); ok {
		err := os.RemoveAll(l.URL(spillDir))
		_ = os.Remove(l.URL("")) // the version root, if the spill was all it held
		return err
	}
	names, err := store.List(ctx, spillDir+"/")
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := store.Delete(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// openSpill opens the run's storage (the version root) for spilling.
func openSpill(root, s3Endpoint string) (storage.Store, error) {
	return storage.Open(root, &storage.Options{S3Endpoint: s3Endpoint})
}

// spillStore is the run's storage for a DoFn that reads or writes spills:
// embedded, its Setup opens the version root.
type spillStore struct {
	Root       string // the version root
	S3Endpoint string
	store      storage.Store
}

func (f *spillStore) Setup() (err error) {
	if f.Root == "" {
		return errors.New("spill: no version root") // never spill into the working directory
	}
	f.store, err = openSpill(f.Root, f.S3Endpoint)
	return err
}
