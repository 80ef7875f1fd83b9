package transforms

import (
	"bytes"
	"slices"
	"testing"
)

// TestNearSharedBuckets: of a slice of buckets, only buckets of two or
// more prompts are named, to each of their prompts, whatever the order of
// arrival; buckets that share a slice but not a name stay apart.
func TestNearSharedBuckets(t *testing.T) {
	bucket := func(last byte) []byte { return append(bytes.Repeat([]byte{7}, nearBucketLen-1), last) }
	key := func(b byte) []byte { return bytes.Repeat([]byte{b}, nearKeyLen) }
	entry := func(bk, k []byte) []byte { return append(slices.Clone(bk), k...) }
	a, b, c := bucket(1), bucket(2), bucket(3)
	in := [][]byte{entry(a, key('x')), entry(b, key('y')), entry(c, key('z')), entry(a, key('w')), entry(c, key('x')), entry(a, key('v'))}
	var got []string
	nearSharedBuckets(in, func(k, bk []byte) { got = append(got, string(k[:1])+string('0'+bk[nearBucketLen-1])) })
	slices.Sort(got)
	if want := []string{"v1", "w1", "x1", "x3", "z3"}; !slices.Equal(got, want) {
		t.Errorf("shared (prompt, bucket) = %v, want %v", got, want)
	}
}
