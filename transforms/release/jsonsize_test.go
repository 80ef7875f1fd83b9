package release

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/syllabus-dev/syllabus/schemas"
)

// trickyStrings are pieces where encoding/json's output differs from the
// input: escapes, HTML characters, control bytes, U+2028/U+2029,
// multi-byte runes, and (last) bytes that are not UTF-8.
var trickyStrings = []string{
	"", "x", `\frac{1}{2}`, `"quoted"`, "<b>&amp;</b>", "tab\there\nnew\rret", "\b\f\x00\x01\x1f\x7f",
	"\u2028\u2029", "é😀 \u00e9 \ufffd", "$\\boxed{\\sqrt[3]{x}}$", strings.Repeat(`\\`, 40),
	"bad \xff byte", "\xed\xa0\x80", "cut \xe2\x82",
}

// randomRecord fills a value of type t with random contents drawn from
// strs and from floats and integers at encoding/json's format boundaries.
func randomRecord(rng *rand.Rand, t reflect.Type, strs []string) reflect.Value {
	v := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.String:
		var b strings.Builder
		for range rng.IntN(4) {
			b.WriteString(strs[rng.IntN(len(strs))])
		}
		v.SetString(b.String())
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int32, reflect.Int64:
		ints := []int64{0, 1, -3, 42, math.MaxInt32, math.MinInt32}
		v.SetInt(ints[rng.IntN(len(ints))])
	case reflect.Float64:
		floats := []float64{0, math.Copysign(0, -1), 0.625, 0.1 + 0.2, 1e-7, 1e-6, 999999.5, 1e20, 1e21, 2.5e300, -1.5e-300, 1.0 / 3}
		v.SetFloat(floats[rng.IntN(len(floats))])
	case reflect.Pointer:
		if rng.IntN(3) > 0 {
			v.Set(randomRecord(rng, t.Elem(), strs).Addr())
		}
	case reflect.Slice:
		switch k := rng.IntN(5); k {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(t, 0, 0))
		default:
			s := reflect.MakeSlice(t, k, k)
			for i := range k {
				s.Index(i).Set(randomRecord(rng, t.Elem(), strs))
			}
			v.Set(s)
		}
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				v.Field(i).Set(randomRecord(rng, t.Field(i).Type, strs))
			}
		}
	default:
		panic("randomRecord: " + t.String())
	}
	return v
}

// recordTypes are the record types of the Parquet tables, and some that
// jsonSize must decline.
var recordTypes = []reflect.Type{
	reflect.TypeFor[schemas.SFTExample](), reflect.TypeFor[schemas.PreferencePair](), reflect.TypeFor[schemas.RLVRExample](),
	reflect.TypeFor[schemas.RefusalExample](), reflect.TypeFor[schemas.Rejection](), reflect.TypeFor[*schemas.SFTExample](),
	reflect.TypeFor[schemas.DeadLetter](), reflect.TypeFor[schemas.Contamination](), reflect.TypeFor[Document](),
}

// jsonSize is len(json.Marshal(v)) whenever it says ok, and says ok for
// every record of the tables' types whose strings are UTF-8 and whose
// floats are finite, so the fast path is not quietly unused.
func TestJSONSizeMatchesMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, typ := range recordTypes {
		t.Run(typ.String(), func(t *testing.T) {
			var fast int
			for range 2000 {
				v := randomRecord(rng, typ, trickyStrings).Interface()
				n, ok := jsonSize(v)
				data, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					if validStrings(reflect.ValueOf(v)) {
						t.Fatalf("jsonSize declined %+v, whose strings are all UTF-8", v)
					}
					continue
				}
				fast++
				if n != int64(len(data)) {
					t.Fatalf("jsonSize = %d, json.Marshal wrote %d bytes: %s", n, len(data), data)
				}
			}
			if fast == 0 {
				t.Errorf("jsonSize measured no %s", typ)
			}
		})
	}
}

// Values jsonSize must decline: the caller then marshals, and gets
// encoding/json's error or its changed string.
func TestJSONSizeDeclines(t *testing.T) {
	type withMap struct {
		M map[string]int `json:"m"`
	}
	type withDash struct {
		A string `json:"a"`
		B string `json:"-"`
	}
	type withQuoted struct {
		N int `json:"n,string"`
	}
	type embedded struct{ withDash }
	nan := math.NaN()
	for name, v := range map[string]any{
		"NaN":            schemas.SFTExample{PassRate: nan},
		"NaN pointer":    schemas.SFTExample{Reward: &nan},
		"+Inf":           schemas.RLVRExample{PassRateHigh: math.Inf(1)},
		"not UTF-8":      schemas.SFTExample{Messages: []schemas.Message{{Role: "user", Content: "a\xffb"}}},
		"map":            withMap{},
		`json:"-"`:       withDash{},
		",string":        withQuoted{},
		"embedded":       embedded{},
		"bytes":          []byte("x"),
		"json.Marshaler": json.RawMessage(`{}`),
		"json.Number":    json.Number("1"),
		"interface":      []any{1},
		"nil":            nil,
		"float32":        float32(1),
	} {
		if n, ok := jsonSize(v); ok {
			t.Errorf("%s: jsonSize(%#v) = %d, true; want it declined", name, v, n)
		}
	}
}

// validStrings is true when every string in v is valid UTF-8.
func validStrings(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return utf8.ValidString(v.String())
	case reflect.Pointer:
		return v.IsNil() || validStrings(v.Elem())
	case reflect.Slice:
		for i := range v.Len() {
			if !validStrings(v.Index(i)) {
				return false
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && !validStrings(v.Field(i)) {
				return false
			}
		}
	}
	return true
}

// FuzzStringSize checks jsonSize's string rule against encoding/json on
// any string: the same length when the string is UTF-8, declined when not.
func FuzzStringSize(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := stringSize(s)
		if ok != utf8.ValidString(s) {
			t.Fatalf("stringSize(%q) ok = %v, want %v", s, ok, !ok)
		}
		data, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if ok && n != int64(len(data)) {
			t.Fatalf("stringSize(%q) = %d, json.Marshal wrote %d bytes: %s", s, n, len(data), data)
		}
	})
}
