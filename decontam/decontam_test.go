package decontam

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/parquet-go/parquet-go"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"case and spacing", "  Janet's   DUCKS\tlay\n16 eggs ", "janet s ducks lay 16 eggs"},
		{"curly quotes", "Janet’s “ducks”", "janet s ducks"},
		{"punctuation", "Hello, world! (x) - y; z?", "hello world x y z"},
		{"latex delimiters", `$x^2$ and \(y\) and \[z\]`, "x 2 and y and z"},
		{"latex markup", `\left( \frac{1}{2} \right) \cdot \text{cm}`, "1 2 cm"},
		{"latex dfrac and spaces", `\dfrac{a}{b}\,\quad c`, "a b c"},
		{"latex names kept", `\sqrt{2}\pi \sin x \alpha`, "sqrt 2 pi sin x alpha"},
		{"unicode symbols as latex names", "√2π sin x α", "sqrt 2 pi sin x alpha"},
		{"greek capitals and variants", `Πx ϖ \Pi`, "pi x pi pi"},
		{"unicode and latex operators dropped", `3×4÷2≤5≥1≠0 3\times4\div2\le5\leq5\ge1\geq1\ne0\neq0`, "3 4 2 5 1 0 3 4 2 5 5 1 1 0 0"},
		{"digits and letters split", "2x+3y=5ab", "2 x 3 y 5 ab"},
		{"thousands separator", "1,000 and 3.5 and (1, 2)", "1000 and 3 5 and 1 2"},
		{"NFKC full width", "ＡＢＣ１２３", "abc 123"},
		{"NFKC ligature", "ﬁnd", "find"},
		{"chinese", "芳芳买了99页，看了", "芳 芳 买 了 99 页 看 了"},
		{"accents kept", "Café Ñandú", "café ñandú"},
		{"empty", "  \n ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cfg := DefaultConfig()
	cfg.NgramSize, cfg.Threshold, cfg.MinMatchedWeight = 0, 1.5, -1
	cfg.Benchmarks = []BenchmarkSpec{{Name: "x", Format: "csv"}}
	err := cfg.Validate()
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("err = %v, want ErrInvalidConfig", err)
	}
	for _, want := range []string{"decontam.ngram_size must be >= 1", "decontam.threshold", "decontam.min_matched_weight",
		"decontam.benchmarks[0].path must be set", "decontam.benchmarks[0].format", "decontam.benchmarks[0].question_fields"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

var tinySets = []Benchmark{
	{Name: "alpha", Version: "v1", Items: []BenchmarkItem{
		{ID: "a1", Question: "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell?"},
		{ID: "a2", Question: "Simplify sqrt 245 now"},
	}},
	{Name: "beta", Version: "v1", Items: []BenchmarkItem{
		{ID: "b1", Question: "A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts in total does it take?",
			Solution: "It takes 2/2 = 1 bolt of white fiber so the total amount of fabric is 2 + 1 = 3 bolts of fabric"},
	}},
}

func TestCheck(t *testing.T) {
	ix, err := Build(tinySets, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text string
		want       []string // benchmark/id of matches, best first
	}{
		{"clean", "Weng earns $12 an hour for babysitting. How much did she earn?", nil},
		{"verbatim", tinySets[0].Items[0].Question, []string{"alpha/a1"}},
		{"wrapped", "Solve this: NATALIA sold clips to 48 of her friends in april and then she sold half as many clips in may; how many clips did natalia sell? Thanks!", []string{"alpha/a1"}},
		{"short item exact", "Please simplify: $\\sqrt{245}$ now.", []string{"alpha/a2"}},
		{"short item partial", "simplify sqrt 245", nil},
		{"solution recited", "Sure. It takes 2/2 = 1 bolt of white fiber so the total amount of fabric is 2 + 1 = 3 bolts of fabric.", []string{"beta/b1"}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, m := range ix.Check(tt.text) {
				got = append(got, m.Benchmark+"/"+m.BenchmarkID)
				if m.Score < 0.5 || m.Score > 1 || len(m.MatchedNgrams) == 0 {
					t.Errorf("match %+v: bad score or no n-grams", m)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check = %v, want %v", got, tt.want)
			}
		})
	}
	m := ix.Check(tinySets[0].Items[0].Question)[0]
	if m.Score != 1 || !strings.Contains(Normalize(tinySets[0].Items[0].Question), m.MatchedNgrams[0]) {
		t.Errorf("verbatim match = %+v", m)
	}
}

func TestMergeReplacesByName(t *testing.T) {
	a, err := Build(tinySets, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build([]Benchmark{{Name: "alpha", Version: "v2", Items: []BenchmarkItem{{ID: "n1", Question: "An entirely different problem about seven purple giraffes eating apples"}}}}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.Merge(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []BenchmarkInfo{{Name: "beta", Version: "v1", Items: 1}, {Name: "alpha", Version: "v2", Items: 1}}
	if got := m.Benchmarks(); !reflect.DeepEqual(got, want) {
		t.Errorf("Benchmarks = %+v, want %+v", got, want)
	}
	if len(m.Check(tinySets[0].Items[0].Question)) != 0 {
		t.Error("replaced set still matches")
	}
	if len(m.Check("seven purple giraffes eating apples is an entirely different problem about seven purple giraffes eating apples")) != 1 {
		t.Error("added set does not match")
	}
}

func TestReadBenchmarkJSONLAndParquet(t *testing.T) {
	type row struct {
		Idx  string `parquet:"idx"`
		Body string `parquet:"body"`
		Q    string `parquet:"question"`
	}
	var pq bytes.Buffer
	if err := parquet.Write(&pq, []row{{"7", "Seven red apples.", "How many apples?"}}); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"sets/a.jsonl":   {Data: []byte(`{"idx": 3, "body": "Two cats.", "question": "How many cats?"}` + "\n\n")},
		"sets/b.parquet": {Data: pq.Bytes()},
		"bad.jsonl":      {Data: []byte(`{"idx": 1}` + "\n")},
	}
	spec := BenchmarkSpec{Name: "mine", Path: "sets", IDField: "idx", QuestionFields: []string{"body", "question"}}
	b, err := ReadBenchmark(fsys, spec)
	if err != nil {
		t.Fatal(err)
	}
	want := []BenchmarkItem{{ID: "3", Question: "Two cats. How many cats?"}, {ID: "7", Question: "Seven red apples. How many apples?"}}
	if !reflect.DeepEqual(b.Items, want) || !strings.HasPrefix(b.Version, "sha256:") {
		t.Errorf("ReadBenchmark = %+v", b)
	}
	spec.Path = "sets/*.parquet"
	if b, err := ReadBenchmark(fsys, spec); err != nil || len(b.Items) != 1 {
		t.Errorf("glob: %+v, %v", b, err)
	}
	spec.Path = "bad.jsonl"
	if _, err := ReadBenchmark(fsys, spec); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("empty question: err = %v", err)
	}
	spec.Path = "nothing/*.jsonl"
	if _, err := ReadBenchmark(fsys, spec); !errors.Is(err, ErrNoBenchmarks) {
		t.Errorf("no files: err = %v", err)
	}
}

func TestFingerprintsRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFingerprints(&buf, tinySets, 5); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(readGzBytes(t, buf.Bytes()), []byte("Natalia")) {
		t.Fatal("fingerprints hold text")
	}
	fp, err := readFingerprints(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fp, fingerprint(tinySets, 5)) {
		t.Error("fingerprints differ after a round trip")
	}
	cfg := DefaultConfig()
	cfg.NgramSize = 6
	if _, err := LoadFingerprints(bytes.NewReader(buf.Bytes()), cfg); !errors.Is(err, ErrNgramSize) {
		t.Errorf("n mismatch: err = %v", err)
	}
}

// TestBuiltinFresh checks that the committed fingerprints.bin is what the
// generator makes from $SYLLABUS_SHARED/benchmarks today, and that an index
// loaded from the text is the built-in one. If it fails, run
// go generate ./decontam (see doc.go) and commit the result.
func TestBuiltinFresh(t *testing.T) {
	dir := fullBenchmarksDir(t, "check that fingerprints.bin is fresh")
	sets, err := ReadDir(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	want := fingerprint(sets, DefaultConfig().NgramSize)
	got, err := builtinOnce()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.sets, want.sets) {
		t.Fatalf("built-in sets %+v, %s sets %+v: regenerate with go generate ./decontam", got.sets, dir, want.sets)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("built-in fingerprints differ from %s (normalization, hashing or sampling changed?): regenerate with go generate ./decontam", dir)
	}
	bi, err := Builtin(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ld, err := LoadDir(dir, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(bi.Benchmarks(), ld.Benchmarks()) || !reflect.DeepEqual(bi.Stats(), ld.Stats()) {
		t.Errorf("Builtin %+v != LoadDir %+v", bi.Stats(), ld.Stats())
	}
	t.Logf("index over all benchmarks: %+v", bi.Stats())
}

// TestBuiltinHoldsNoText decompresses fingerprints.bin and looks for the
// words of every excerpt question in it: no run of three words may appear
// (item ids, set names and versions are the only strings it holds). That
// the hashes do not give the text away either is TestFingerprintAttack's.
func TestBuiltinHoldsNoText(t *testing.T) {
	raw := readGzBytes(t, builtinFingerprints)
	if info, err := os.Stat("fingerprints.bin"); err != nil || info.Size() > 3<<20 {
		t.Errorf("fingerprints.bin: %v; keep it under 3 MB", err)
	}
	checked := 0
	for _, s := range excerptSets(t) {
		for _, it := range s.Items {
			words := strings.Fields(it.Question)
			for i := 0; i+3 <= len(words); i += 3 {
				phrase := strings.Join(words[i:i+3], " ")
				if len(phrase) < 12 {
					continue
				}
				checked++
				if bytes.Contains(raw, []byte(phrase)) {
					t.Errorf("fingerprints.bin holds %q of %s/%s", phrase, s.Name, it.ID)
				}
			}
		}
	}
	if checked < 10000 {
		t.Errorf("only %d phrases checked", checked)
	}
}

// TestNumberMasking: n-grams with exactly two numbers are keyed with their
// numbers masked, any other n-gram and every short part as it is; and
// Check finds, with the built-in fingerprints, number-changed copies of
// formula items that exact n-grams cannot (TestRecall's tuning half
// missed them before masking).
func TestNumberMasking(t *testing.T) {
	key := func(s string) []uint32 {
		var w words
		var g gramPrefix
		w.tokenize(s)
		g.set(&w)
		var keys []uint32
		for i := 0; i+5 <= w.len(); i++ {
			keys = append(keys, g.ngramKey(i, 5))
		}
		return append(keys, g.exactKey(0, min(w.len(), 4)))
	}
	for _, tt := range []struct {
		a, b string
		same []bool // per 5-gram, then the leading 4 words keyed exactly
	}{
		{"x^2 + y^3, find", "x^5+y^17 find", []bool{true, false}},
		{"has 5 apples and buys", "has 7 apples and buys", []bool{false, false}},
		{"the expression 2 3 4", "the expression 5 6 7", []bool{false, false}},
		{"area 2 by 3 now", "area 5 by 7 now", []bool{true, false}},
	} {
		ka, kb := key(tt.a), key(tt.b)
		for i := range tt.same {
			if (ka[i] == kb[i]) != tt.same[i] {
				t.Errorf("%q vs %q: key %d equal = %v, want %v", tt.a, tt.b, i, ka[i] == kb[i], tt.same[i])
			}
		}
	}
	ix, err := Builtin(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ text, want string }{
		{"The inequality $x + 1 < 8$ has a solution of _____.", "carp_en/846"},
		{"If $| x + 2 | = 5$, then the value of $2 x$ is ____?", "carp_en/246"},
	} {
		found := false
		for _, m := range ix.Check(tt.text) {
			found = found || m.Benchmark+"/"+m.BenchmarkID == tt.want
		}
		if !found {
			t.Errorf("%q: %s not found: %+v", tt.text, tt.want, ix.Check(tt.text))
		}
	}
}
