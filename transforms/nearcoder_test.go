package transforms

import (
	"reflect"
	"testing"
)

func TestNearMemberCoderRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		m    nearMember
	}{
		{"typical", nearMember{Ref: nearRef{Key: "what is 2+2?", ID: "math-7", Source: "s3://b/prompts.jsonl", Line: 12}, Sig: []uint32{0, 1, 0xffffffff, 12345}, Math: 1 << 63, Sentences: 42}},
		{"empty", nearMember{}},
		{"negative line, unicode", nearMember{Ref: nearRef{Key: "∫ x dx", ID: "é", Line: -1}, Sig: make([]uint32, 100)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := encodeNearMember(c.m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeNearMember(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.m) {
				t.Errorf("decoded %+v, want %+v", got, c.m)
			}
			// Every truncation and an extra byte are refused, not misread.
			for i := range b {
				if _, err := decodeNearMember(b[:i]); err == nil {
					t.Errorf("decoding the first %d of %d bytes: no error", i, len(b))
				}
			}
			if _, err := decodeNearMember(append(b, 0)); err == nil {
				t.Error("decoding with a trailing byte: no error")
			}
		})
	}
}
