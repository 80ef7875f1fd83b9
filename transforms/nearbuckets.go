package transforms

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
)

func init() {
	register.DoFn4x1[context.Context, schemas.Prompt, func(int, spillRef), func(int, spillRef), error](&nearSignFn{})
	register.DoFn4x1[context.Context, int, func(*spillRef) bool, func(int, spillRef), error](&nearSharedFn{})
	register.DoFn5x1[context.Context, int, func(*spillRef) bool, func(*spillRef) bool, func(int, spillRef), error](&nearJoinFn{})
}

// nearBuckets puts each prompt's signed member into those of its LSH
// buckets that hold at least one other prompt, and returns the spill
// references of the buckets' members, by partition (nearPairsFn reads
// them).
//
// A member is about 0.5 KB (100 MinHash values) and a prompt has one
// bucket per band (20); buckets are nearly all of one prompt (and so
// compare nothing). So bucketing runs in two passes: first each (bucket,
// prompt key) entry, 26 bytes, is grouped to find the buckets shared by
// two or more prompts (nearSharedFn); then each prompt's member, joined
// with its shared buckets by prompt key, goes into those buckets only
// (nearJoinFn). The buckets nearPairsFn sees, and so the pairs, are the
// same as with one pass.
//
// Every grouping is a spill (spill.go): records are written to the run's
// storage by partition, and only references cross the GroupByKeys, so a
// runner holds none of the ~20 entries and the member of every prompt.
func nearBuckets(s beam.Scope, threshold float64, root, s3Endpoint string, prompts beam.PCollection) beam.PCollection {
	members, bands := beam.ParDo2(s, &nearSignFn{Threshold: threshold, Root: root, S3Endpoint: s3Endpoint}, prompts)
	shared := beam.ParDo(s, &nearSharedFn{spillStore: spillStore{Root: root, S3Endpoint: s3Endpoint}}, beam.GroupByKey(s, bands))
	return beam.GroupByKey(s, beam.ParDo(s, &nearJoinFn{spillStore: spillStore{Root: root, S3Endpoint: s3Endpoint}}, beam.CoGroupByKey(s, members, shared)))
}

// Lengths of a bucket name (band number, band hash) and of a prompt key.
const (
	nearBucketLen = 10
	nearKeyLen    = 16
)

// Spill partitions: a bucket's entries by the bucket's first hash byte
// (byte 2, after the band number), a prompt's by its key's first byte.
func bucketPart(bucket []byte) int { return int(bucket[2]) }
func keyPart(key []byte) int       { return int(key[0]) }

// nearSignFn signs a prompt: it spills the prompt's member once, by its
// dedup key, and (bucket, dedup key) for each of its LSH buckets, by
// bucket; both with raw bytes rather than hex. At the end of a bundle it
// emits the spills' references: members first, then entries.
type nearSignFn struct {
	Threshold  float64
	Root       string
	S3Endpoint string

	nd             *filters.NearDup
	store          storage.Store
	members, bands *spiller
	queue          *inOrder[schemas.Prompt, signedPrompt]
}

func (f *nearSignFn) Setup() error {
	nd, err := filters.NewNearDup(&filters.NearDupOptions{Threshold: f.Threshold})
	if err != nil {
		return err
	}
	f.nd = nd
	f.store, err = openSpill(f.Root, f.S3Endpoint)
	return err
}

func (f *nearSignFn) StartBundle(_ context.Context, _, _ func(int, spillRef)) {
	if f.members != nil {
		f.members.discard()
		f.bands.discard()
	}
	f.members, f.bands = newSpiller(f.store, "near-members"), newSpiller(f.store, "near-entries")
	f.queue = newInOrder(0, f.sign)
}

// signedPrompt is a prompt's member record and its buckets, ready to spill.
type signedPrompt struct {
	member  []byte
	buckets [][]byte
	err     error
}

// sign computes a prompt's MinHash signature, problem keys and buckets:
// the CPU work of the stage, run on every core (inOrder).
func (f *nearSignFn) sign(p schemas.Prompt) signedPrompt {
	sig := f.nd.Signature(p.Text)
	k := filters.ProblemKeys(p.Text)
	m := nearMember{Ref: nearRef{Key: dedupKey(p), ID: p.ID, Source: p.Source, Line: p.Line}, Sig: sig, Math: k.Math, Sentences: k.Sentences}
	rec, err := encodeMember(m)
	if err != nil {
		return signedPrompt{err: err}
	}
	out := signedPrompt{member: rec}
	for _, band := range f.nd.BandKeys(sig) {
		b, err := hex.DecodeString(band)
		if err != nil || len(b) != nearBucketLen {
			return signedPrompt{err: fmt.Errorf("near_dedup: bucket %q of an unexpected length", band)}
		}
		out.buckets = append(out.buckets, b)
	}
	return out
}

func (f *nearSignFn) ProcessElement(_ context.Context, p schemas.Prompt, _, _ func(int, spillRef)) error {
	return f.spillSigned(f.queue.submit(p))
}

func (f *nearSignFn) spillSigned(done []signedPrompt) error {
	for _, s := range done {
		if s.err != nil {
			return s.err
		}
		key := s.member[:nearKeyLen]
		if err := f.members.add(keyPart(key), s.member); err != nil {
			return err
		}
		for _, b := range s.buckets {
			if err := f.bands.add(bucketPart(b), append(b, key...)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *nearSignFn) FinishBundle(ctx context.Context, emitMembers, emitBands func(int, spillRef)) error {
	err := f.spillSigned(f.queue.drain())
	if err == nil {
		err = errors.Join(f.members.flush(ctx, emitMembers), f.bands.flush(ctx, emitBands))
	}
	f.members, f.bands, f.queue = nil, nil, nil
	return err
}

// nearSharedFn reads a partition of the bucket entries and spills, for
// each bucket of two or more prompts, (prompt key, bucket) for each of its
// prompts, by prompt key (nearSharedBuckets).
type nearSharedFn struct {
	spillStore
	spill *spiller
}

func (f *nearSharedFn) StartBundle(_ context.Context, _ func(int, spillRef)) {
	f.spill = renewSpiller(f.spill, f.store, "near-shared")
}

func (f *nearSharedFn) ProcessElement(ctx context.Context, _ int, refs func(*spillRef) bool, _ func(int, spillRef)) error {
	var all [][]byte
	err := readSpill(ctx, f.store, refs, func(e []byte) error {
		if len(e) != nearBucketLen+nearKeyLen {
			return fmt.Errorf("near_dedup: a bucket entry of %d bytes", len(e))
		}
		all = append(all, e)
		return nil
	})
	if err != nil {
		return err
	}
	var addErr error
	nearSharedBuckets(all, func(key, bucket []byte) {
		if addErr == nil {
			addErr = f.spill.add(keyPart(key), append(slices.Clone(key), bucket...))
		}
	})
	return addErr
}

func (f *nearSharedFn) FinishBundle(ctx context.Context, emit func(int, spillRef)) error {
	err := f.spill.flush(ctx, emit)
	f.spill = nil
	return err
}

// nearSharedBuckets names, for each bucket of two or more prompts, the
// bucket to each of its prompts (prompt key, bucket); a bucket of one
// prompt says nothing. entries are bucket + prompt key, in any order.
func nearSharedBuckets(entries [][]byte, emit func(key, bucket []byte)) {
	slices.SortFunc(entries, bytes.Compare)
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && bytes.Equal(entries[j][:nearBucketLen], entries[i][:nearBucketLen]) {
			j++
		}
		if j-i >= 2 {
			for _, e := range entries[i:j] {
				emit(e[nearBucketLen:], e[:nearBucketLen])
			}
		}
		i = j
	}
}

// nearJoinFn reads a partition of the members and of the shared buckets
// named to them (both by prompt key), and spills each member into each of
// its shared buckets, by bucket: bucket + member.
type nearJoinFn struct {
	spillStore
	spill *spiller
}

func (f *nearJoinFn) StartBundle(_ context.Context, _ func(int, spillRef)) {
	f.spill = renewSpiller(f.spill, f.store, "near-buckets")
}

func (f *nearJoinFn) ProcessElement(ctx context.Context, _ int, members, shared func(*spillRef) bool, _ func(int, spillRef)) error {
	buckets := map[string][][]byte{} // prompt key -> its shared buckets
	err := readSpill(ctx, f.store, shared, func(e []byte) error {
		if len(e) != nearKeyLen+nearBucketLen {
			return fmt.Errorf("near_dedup: a shared bucket of %d bytes", len(e))
		}
		k := string(e[:nearKeyLen])
		buckets[k] = append(buckets[k], e[nearKeyLen:])
		return nil
	})
	if err != nil {
		return err
	}
	if len(buckets) == 0 {
		return nil
	}
	return readSpill(ctx, f.store, members, func(m []byte) error {
		if len(m) < nearKeyLen {
			return fmt.Errorf("near_dedup: a member of %d bytes", len(m))
		}
		for _, b := range buckets[string(m[:nearKeyLen])] {
			if err := f.spill.add(bucketPart(b), append(slices.Clone(b), m...)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (f *nearJoinFn) FinishBundle(ctx context.Context, emit func(int, spillRef)) error {
	err := f.spill.flush(ctx, emit)
	f.spill = nil
	return err
}

// encodeMember writes a member compactly: the prompt key's 16 raw bytes
// first (the joins read only those), then id, source, line, the signature
// and the problem keys.
func encodeMember(m nearMember) ([]byte, error) {
	key, err := hex.DecodeString(m.Ref.Key)
	if err != nil || len(key) != nearKeyLen {
		return nil, fmt.Errorf("near_dedup: prompt key %q of an unexpected length", m.Ref.Key)
	}
	b := make([]byte, 0, nearKeyLen+len(m.Ref.ID)+len(m.Ref.Source)+4*len(m.Sig)+40)
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(len(m.Ref.ID)))
	b = append(b, m.Ref.ID...)
	b = binary.AppendUvarint(b, uint64(len(m.Ref.Source)))
	b = append(b, m.Ref.Source...)
	b = binary.AppendVarint(b, int64(m.Ref.Line))
	b = binary.AppendUvarint(b, uint64(len(m.Sig)))
	for _, v := range m.Sig {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	b = binary.LittleEndian.AppendUint64(b, m.Math)
	b = binary.LittleEndian.AppendUint64(b, m.Sentences)
	return b, nil
}

// decodeMember reads what encodeMember wrote.
func decodeMember(b []byte) (nearMember, error) {
	bad := fmt.Errorf("near_dedup: a damaged member record")
	if len(b) < nearKeyLen {
		return nearMember{}, bad
	}
	m := nearMember{Ref: nearRef{Key: hex.EncodeToString(b[:nearKeyLen])}}
	b = b[nearKeyLen:]
	str := func() (string, bool) {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return "", false
		}
		s := string(b[w : w+int(n)])
		b = b[w+int(n):]
		return s, true
	}
	var ok bool
	if m.Ref.ID, ok = str(); !ok {
		return nearMember{}, bad
	}
	if m.Ref.Source, ok = str(); !ok {
		return nearMember{}, bad
	}
	line, w := binary.Varint(b)
	if w <= 0 {
		return nearMember{}, bad
	}
	m.Ref.Line, b = int(line), b[w:]
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) != 4*n+16 {
		return nearMember{}, bad
	}
	b = b[w:]
	m.Sig = make([]uint32, n)
	for i := range m.Sig {
		m.Sig[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	b = b[4*n:]
	m.Math, m.Sentences = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	return m, nil
}
