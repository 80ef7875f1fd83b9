package release

import (
	"encoding"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// jsonSize returns len(json.Marshal(v)) without making the JSON, so a row
// that carries its record is measured in the unit output.shard_bytes
// bounds (the rows' JSON) without the cost of encoding it, which is most
// of the cost of writing a row.
//
// It models encoding/json for the kinds release records are made of:
// strings, bools, integers, float64, pointers, slices and structs of those
// (exported fields, json tags with omitempty). ok is false, and the caller
// must marshal, for anything else: a type it does not model (maps,
// interfaces, []byte, embedded fields, json.Marshaler or
// encoding.TextMarshaler implementations, ",string" or omitzero options,
// `json:"-"` fields), a NaN or infinite float (which encoding/json refuses),
// or a string that is not valid UTF-8 (which encoding/json changes, so the
// record would not come back from its JSON as it went in). When ok is true,
// decoding the JSON gives back the record: the encoder may write the
// record itself and the table holds the same content as from its JSON.
// TestJSONSizeMatchesMarshal checks both against encoding/json.
func jsonSize(v any) (int64, bool) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return 0, false
	}
	size := sizerOf(rv.Type())
	if size == nil {
		return 0, false
	}
	return size(rv)
}

// sizer measures a value of one type; nil for a type jsonSize does not
// model.
type sizer func(reflect.Value) (int64, bool)

var sizers sync.Map // reflect.Type -> sizer

func sizerOf(t reflect.Type) sizer {
	if s, ok := sizers.Load(t); ok {
		return s.(sizer)
	}
	s := newSizer(t, map[reflect.Type]bool{})
	sizers.Store(t, s)
	return s
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	numberType        = reflect.TypeFor[json.Number]()
)

// newSizer builds the sizer of t; seen holds the types being built, so a
// recursive type is declared unmodelled rather than built forever.
func newSizer(t reflect.Type, seen map[reflect.Type]bool) sizer {
	if seen[t] || t == numberType || t.Implements(marshalerType) || t.Implements(textMarshalerType) ||
		reflect.PointerTo(t).Implements(marshalerType) || reflect.PointerTo(t).Implements(textMarshalerType) {
		return nil
	}
	seen[t] = true
	defer delete(seen, t)
	switch t.Kind() {
	case reflect.String:
		return func(v reflect.Value) (int64, bool) { return stringSize(v.String()) }
	case reflect.Bool:
		return func(v reflect.Value) (int64, bool) {
			if v.Bool() {
				return 4, true
			}
			return 5, true
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(v reflect.Value) (int64, bool) {
			var buf [24]byte
			return int64(len(strconv.AppendInt(buf[:0], v.Int(), 10))), true
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return func(v reflect.Value) (int64, bool) {
			var buf [24]byte
			return int64(len(strconv.AppendUint(buf[:0], v.Uint(), 10))), true
		}
	case reflect.Float64:
		return func(v reflect.Value) (int64, bool) { return float64Size(v.Float()) }
	case reflect.Pointer:
		elem := newSizer(t.Elem(), seen)
		if elem == nil {
			return nil
		}
		return func(v reflect.Value) (int64, bool) {
			if v.IsNil() {
				return 4, true // null
			}
			return elem(v.Elem())
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // base64
			return nil
		}
		elem := newSizer(t.Elem(), seen)
		if elem == nil {
			return nil
		}
		return func(v reflect.Value) (int64, bool) {
			if v.IsNil() {
				return 4, true // null
			}
			n := v.Len()
			size := int64(2 + max(n-1, 0)) // brackets and commas
			for i := range n {
				s, ok := elem(v.Index(i))
				if !ok {
					return 0, false
				}
				size += s
			}
			return size, true
		}
	case reflect.Struct:
		return newStructSizer(t, seen)
	}
	return nil
}

type fieldSizer struct {
	index     int
	key       int64 // `"name":`
	omitEmpty bool
	str       bool // a string, measured in place (most fields are)
	size      sizer
}

func newStructSizer(t reflect.Type, seen map[reflect.Type]bool) sizer {
	var fields []fieldSizer
	names := map[string]bool{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil
		}
		if !sf.IsExported() {
			continue
		}
		tag, hasTag := sf.Tag.Lookup("json")
		if tag == "-" {
			return nil // dropped from the JSON but perhaps not from a table
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !hasTag || name == "" {
			name = sf.Name
		}
		if !plainName(name) || names[name] {
			return nil
		}
		names[name] = true
		f := fieldSizer{index: i, key: int64(len(name)) + 3, str: sf.Type.Kind() == reflect.String}
		for opts != "" {
			var opt string
			opt, opts, _ = strings.Cut(opts, ",")
			if opt != "omitempty" {
				return nil
			}
			f.omitEmpty = true
		}
		if f.size = newSizer(sf.Type, seen); f.size == nil {
			return nil
		}
		fields = append(fields, f)
	}
	return func(v reflect.Value) (int64, bool) {
		size, n := int64(2), 0 // braces
		for _, f := range fields {
			fv := v.Field(f.index)
			var s int64
			var ok bool
			if f.str {
				str := fv.String()
				if f.omitEmpty && str == "" {
					continue
				}
				s, ok = stringSize(str)
			} else {
				if f.omitEmpty && isEmpty(fv) {
					continue
				}
				s, ok = f.size(fv)
			}
			if !ok {
				return 0, false
			}
			size += f.key + s
			n++
		}
		return size + int64(max(n-1, 0)), true // commas
	}
}

// plainName is true for a key encoding/json writes as is: ASCII letters,
// digits and underscores.
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

// isEmpty is encoding/json's test for omitempty, for the kinds jsonSize
// models.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String, reflect.Slice:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint() == 0
	case reflect.Float64:
		return v.Float() == 0
	case reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// float64Size is the length of f as encoding/json writes it: like
// strconv's shortest 'f' format, 'e' format for very small and very large
// magnitudes, without a leading zero in a negative exponent.
func float64Size(f float64) (int64, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	var buf [32]byte
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(buf[:0], f, format, -1, 64)
	n := len(b)
	if format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		n--
	}
	return int64(n), true
}

// escapeExtra[c] is how many bytes more than one encoding/json writes for
// the ASCII byte c in a string (\" is one more, \u003c five more); 0 for
// the bytes of multi-byte UTF-8 sequences, which it writes as they are
// except U+2028 and U+2029 (lineSeparatorExtra more each). Both are taken
// from encoding/json itself, so they follow its rules (it escapes <, > and
// & for HTML).
var escapeExtra, lineSeparatorExtra = func() ([256]uint8, int64) {
	var t [256]uint8
	for c := range utf8.RuneSelf {
		b, _ := json.Marshal(string(rune(c)))
		t[c] = uint8(len(b) - 3)
	}
	b, _ := json.Marshal("\u2028")
	return t, int64(len(b) - 2 - len("\u2028"))
}()

// stringSize is the length of s as encoding/json writes it, quoted; ok is
// false when s is not valid UTF-8 (encoding/json writes U+FFFD for each
// bad byte, so the string would not come back as it went in).
func stringSize(s string) (int64, bool) {
	n := int64(len(s)) + 2
	var high uint8
	for i := 0; i < len(s); i++ {
		c := s[i]
		n += int64(escapeExtra[c])
		high |= c
	}
	if high >= utf8.RuneSelf {
		if !utf8.ValidString(s) {
			return 0, false
		}
		n += lineSeparatorExtra * int64(strings.Count(s, "\u2028")+strings.Count(s, "\u2029"))
	}
	return n, true
}
