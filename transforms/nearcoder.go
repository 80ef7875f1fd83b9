package transforms

import (
	"encoding/binary"
	"errors"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.Function1x2[nearMember, []byte, error](encodeNearMember)
	register.Function1x2[[]byte, nearMember, error](decodeNearMember)
	beam.RegisterCoder(reflect.TypeFor[nearMember](), encodeNearMember, decodeNearMember)
}

// A nearMember crosses two GroupByKeys once per band of its prompt, so its
// coder is on the path of every band of every prompt. Beam's schema coder
// writes the 100 MinHash values one varint at a time through reflection;
// this one writes them as fixed 4-byte words, and the reference as
// length-prefixed strings. Layout: Key, ID, Source (uvarint length, bytes),
// Line (varint), len(Sig) (uvarint), Sig (4 bytes little-endian each),
// Math, Sentences (8 bytes little-endian each).

func encodeNearMember(m nearMember) ([]byte, error) {
	n := len(m.Ref.Key) + len(m.Ref.ID) + len(m.Ref.Source) + 4*len(m.Sig) + 16 + 5*binary.MaxVarintLen64
	b := make([]byte, 0, n)
	for _, s := range []string{m.Ref.Key, m.Ref.ID, m.Ref.Source} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, int64(m.Ref.Line))
	b = binary.AppendUvarint(b, uint64(len(m.Sig)))
	for _, v := range m.Sig {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	b = binary.LittleEndian.AppendUint64(b, m.Math)
	return binary.LittleEndian.AppendUint64(b, m.Sentences), nil
}

var errNearMemberCoding = errors.New("near_dedup: malformed member encoding")

func decodeNearMember(b []byte) (nearMember, error) {
	var m nearMember
	str := func() string {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			b = nil
			return ""
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s
	}
	m.Ref.Key, m.Ref.ID, m.Ref.Source = str(), str(), str()
	if b == nil {
		return nearMember{}, errNearMemberCoding
	}
	line, k := binary.Varint(b)
	if k <= 0 {
		return nearMember{}, errNearMemberCoding
	}
	m.Ref.Line, b = int(line), b[k:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k)/4 {
		return nearMember{}, errNearMemberCoding
	}
	b = b[k:]
	if n > 0 {
		m.Sig = make([]uint32, n)
		for i := range m.Sig {
			m.Sig[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
		b = b[4*n:]
	}
	if len(b) != 16 {
		return nearMember{}, errNearMemberCoding
	}
	m.Math, m.Sentences = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	return m, nil
}
