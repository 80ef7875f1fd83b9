package transforms

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
)

func init() {
	register.DoFn3x1[schemas.Prompt, func([]byte, nearMember), func([]byte, []byte), error](&nearSignFn{})
	register.Function3x0[[]byte, func(*[]byte) bool, func([]byte, []byte)](nearSharedBucketsFn)
	register.Function4x0[[]byte, func(*nearMember) bool, func(*[]byte) bool, func(string, nearMember)](nearIntoBucketsFn)
	register.Emitter2[[]byte, nearMember]()
	register.Emitter2[[]byte, []byte]()
	register.Iter1[[]byte]()
}

// nearBuckets puts each prompt's signed member into those of its LSH
// buckets that hold at least one other prompt, and groups them by bucket.
//
// A member is about 0.5 KB (100 MinHash values) and a prompt has one
// bucket per band (20); putting every member into every bucket sent ~11 KB
// per prompt into a GroupByKey, which a runner holds, for buckets that
// are nearly all of one prompt (and so compare nothing). So bucketing runs
// in two passes: first each (bucket, prompt key) pair, 26 bytes, is grouped
// to find the buckets shared by two or more prompts; then each prompt's
// member, joined with its shared buckets by prompt key, goes into those
// buckets only. The buckets nearPairsFn sees, and so the pairs, are the
// same as with one pass.
func nearBuckets(s beam.Scope, threshold float64, prompts beam.PCollection) beam.PCollection {
	members, bands := beam.ParDo2(s, &nearSignFn{Threshold: threshold}, prompts)
	shared := beam.ParDo(s, nearSharedBucketsFn, beam.GroupByKey(s, bands))
	return beam.GroupByKey(s, beam.ParDo(s, nearIntoBucketsFn, beam.CoGroupByKey(s, members, shared)))
}

// nearSignFn signs a prompt: it emits the prompt's member once, under the
// prompt's dedup key, and (bucket, dedup key) for each of its LSH buckets,
// under the bucket's slice; both as raw bytes rather than hex.
type nearSignFn struct {
	Threshold float64
	nd        *filters.NearDup
}

func (f *nearSignFn) Setup() error {
	nd, err := filters.NewNearDup(&filters.NearDupOptions{Threshold: f.Threshold})
	f.nd = nd
	return err
}

func (f *nearSignFn) ProcessElement(p schemas.Prompt, emitMember func([]byte, nearMember), emitBand func([]byte, []byte)) error {
	sig := f.nd.Signature(p.Text)
	k := filters.ProblemKeys(p.Text)
	m := nearMember{Ref: nearRef{Key: dedupKey(p), ID: p.ID, Source: p.Source, Line: p.Line}, Sig: sig, Math: k.Math, Sentences: k.Sentences}
	key, err := hex.DecodeString(m.Ref.Key)
	if err != nil {
		return err
	}
	emitMember(key, m)
	for _, band := range f.nd.BandKeys(sig) {
		b, err := hex.DecodeString(band)
		if err != nil || len(b) != nearBucketLen || len(key) != nearKeyLen {
			return fmt.Errorf("near_dedup: bucket %q or key %q of an unexpected length", band, m.Ref.Key)
		}
		emitBand(b[:3], append(b, key...)) // band number and first hash byte: the slice
	}
	return nil
}

// Lengths of a bucket name (band number, band hash) and of a prompt key.
const (
	nearBucketLen = 10
	nearKeyLen    = 16
)

// nearSharedBucketsFn names, for each bucket of two or more prompts, the
// bucket to each of its prompts (prompt key, bucket); a bucket of one
// prompt says nothing. Its input is a slice of buckets (entries of bucket
// + prompt key, grouped by band and the bucket's first hash byte): a
// runner keeps state per key, and one key per bucket cost Prism ~0.8 KB
// for each of the 20 buckets of every prompt. A slice holds 1/256 of a
// band's prompts.
func nearSharedBucketsFn(_ []byte, entries func(*[]byte) bool, emit func([]byte, []byte)) {
	var all [][]byte
	var e []byte
	for entries(&e) {
		if len(e) == nearBucketLen+nearKeyLen {
			all = append(all, bytes.Clone(e))
		}
		e = nil
	}
	slices.SortFunc(all, bytes.Compare)
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && bytes.Equal(all[j][:nearBucketLen], all[i][:nearBucketLen]) {
			j++
		}
		if j-i >= 2 {
			for _, e := range all[i:j] {
				emit(e[nearBucketLen:], e[:nearBucketLen])
			}
		}
		i = j
	}
}

// nearIntoBucketsFn puts a prompt's member into each of its shared
// buckets, keyed as nearPairsFn reads them (hex).
func nearIntoBucketsFn(_ []byte, members func(*nearMember) bool, buckets func(*[]byte) bool, emit func(string, nearMember)) {
	var names []string
	var b []byte
	for buckets(&b) {
		names = append(names, hex.EncodeToString(b))
	}
	if len(names) == 0 {
		return
	}
	var m nearMember
	for members(&m) {
		for _, n := range names {
			emit(n, m)
		}
		m = nearMember{}
	}
}
