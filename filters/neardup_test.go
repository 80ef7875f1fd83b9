package filters

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateNearPairs = flag.Bool("update-near", false, "rewrite testdata/gsm8k_near_pairs.txt from the current result (then adjudicate every pair by hand)")

// gsm8kQuestions reads the questions of GSM8K train as published.
func gsm8kQuestions(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("../testdata/datasets/gsm8k/train.jsonl.gz")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	var qs []string
	for sc.Scan() {
		var rec struct{ Question string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.Question == "" {
			tb.Fatalf("gsm8k train line %d: %v", len(qs)+1, err)
		}
		qs = append(qs, rec.Question)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(qs) != 7473 {
		tb.Fatalf("gsm8k train has %d questions, want 7473", len(qs))
	}
	return qs
}

// nearCopies are the edits a scraped or re-uploaded copy of a prompt
// carries. Each returns "" when the question does not lend itself.
var nearCopies = []struct {
	name string
	edit func(string) string
	// sameProblem: the copy states the same problem, so remove mode may
	// drop it.
	sameProblem bool
}{
	{"word changed", func(q string) string {
		w := strings.Fields(q)
		for i := len(w) / 2; i < len(w); i++ {
			if len(w[i]) >= 4 && strings.Trim(w[i], "abcdefghijklmnopqrstuvwxyz") == "" {
				w[i] = "thing"
				return strings.Join(w, " ")
			}
		}
		return ""
	}, true},
	{"clause appended", func(q string) string { return q + " Give the answer as a whole number." }, true},
	{"sentences reordered", func(q string) string {
		s := strings.Split(q, ". ")
		if len(s) < 3 {
			return ""
		}
		s[0], s[1] = s[1], s[0]
		return strings.Join(s, ". ")
	}, true},
}

// TestNearDupFindsCopiesOfGSM8K adds near copies of every tenth GSM8K
// train question to the 7,473 questions and runs the detector over all of
// them: at the default threshold it must find nearly every copy, and
// every copy it finds must be removable (the same problem).
func TestNearDupFindsCopiesOfGSM8K(t *testing.T) {
	qs := gsm8kQuestions(t)
	n, err := NewNearDup(nil)
	if err != nil {
		t.Fatal(err)
	}
	texts := append([]string(nil), qs...)
	type copyOf struct{ orig, kind int }
	copies := map[int]copyOf{} // index in texts -> original
	for i := 0; i < len(qs); i += 10 {
		for k, c := range nearCopies {
			if e := c.edit(qs[i]); e != "" && e != qs[i] {
				copies[len(texts)] = copyOf{i, k}
				texts = append(texts, e)
			}
		}
	}
	found := map[int]NearPair{}
	for _, p := range n.Find(texts) {
		if c, ok := copies[p.B]; ok && c.orig == p.A {
			found[p.B] = p
		}
	}
	for k, c := range nearCopies {
		var total, hit, removable int
		for i, cp := range copies {
			if cp.kind != k {
				continue
			}
			total++
			if p, ok := found[i]; ok {
				hit++
				if p.SameProblem {
					removable++
				}
			} else if testing.Verbose() {
				t.Logf("%s: missed %q (exact Jaccard %.2f)", c.name, texts[i], exactJaccard(n, qs[cp.orig], texts[i]))
			}
		}
		rate := float64(hit) / float64(total)
		t.Logf("%s: %d of %d copies found (%.1f%%), %d removable", c.name, hit, total, 100*rate, removable)
		if rate < 0.95 {
			t.Errorf("%s: only %d of %d copies found at threshold %.2f", c.name, hit, total, n.Threshold())
		}
		if c.sameProblem && removable != hit {
			t.Errorf("%s: %d of %d found copies are not removable, though they state the same problem", c.name, hit-removable, hit)
		}
	}
}

// TestNearDupCleanGSM8K runs the detector over the 7,473 GSM8K train
// questions, which have no copies: every pair it flags is written down,
// with a verdict, in testdata/gsm8k_near_pairs.txt, and any new or missing
// pair fails. Run with -update-near to rewrite the file, then adjudicate.
func TestNearDupCleanGSM8K(t *testing.T) {
	qs := gsm8kQuestions(t)
	n, err := NewNearDup(nil)
	if err != nil {
		t.Fatal(err)
	}
	pairs := n.Find(qs)
	got := map[string]NearPair{}
	for _, p := range pairs {
		got[fmt.Sprintf("%d %d", p.A+1, p.B+1)] = p
	}
	const path = "testdata/gsm8k_near_pairs.txt"
	if *updateNearPairs {
		var b strings.Builder
		b.WriteString("# Near-duplicate pairs the detector flags among the 7,473 GSM8K train questions\n")
		b.WriteString("# (default threshold). Line: lineA lineB similarity removable | verdict.\n")
		for _, p := range pairs {
			fmt.Fprintf(&b, "%d %d %.2f %v | TODO\n#   %s\n#   %s\n", p.A+1, p.B+1, p.Similarity, p.SameProblem, qs[p.A], qs[p.B])
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields, verdict, ok := strings.Cut(line, "|")
		f := strings.Fields(fields)
		if !ok || len(f) != 4 || strings.TrimSpace(verdict) == "" || strings.Contains(verdict, "TODO") {
			t.Fatalf("%s:%d: want \"lineA lineB similarity removable | verdict\", got %q", path, i+1, line)
		}
		key := f[0] + " " + f[1]
		want[key] = true
		p, ok := got[key]
		switch {
		case !ok:
			t.Errorf("%s:%d: pair %s is no longer flagged", path, i+1, key)
		case fmt.Sprint(p.SameProblem) != f[3]:
			t.Errorf("%s:%d: pair %s removable = %v, file says %s", path, i+1, key, p.SameProblem, f[3])
		}
	}
	for key, p := range got {
		if !want[key] {
			t.Errorf("new flagged pair %s (similarity %.2f, removable %v) not in %s:\n  %s\n  %s", key, p.Similarity, p.SameProblem, path, qs[p.A], qs[p.B])
		}
	}
	removable := 0
	for _, p := range pairs {
		if p.SameProblem {
			removable++
		}
	}
	t.Logf("clean GSM8K train: %d pairs flagged among %d questions (%d pairs compared in principle), %d removable", len(pairs), len(qs), len(qs)*(len(qs)-1)/2, removable)
}

// TestNearDupNeverRemovesDifferentProblems: pairs that differ only in an
// operator, sign, digit, exponent or relation (the exact-dedup cases), and
// word problems whose numbers are swapped, may look alike word for word,
// but are never removable.
func TestNearDupNeverRemovesDifferentProblems(t *testing.T) {
	n, err := NewNearDup(nil)
	if err != nil {
		t.Fatal(err)
	}
	pairs := append([][2]string{
		{"Tom has 5 apples. Ann has 7 apples. How many more apples does Ann have than Tom?",
			"Tom has 7 apples. Ann has 5 apples. How many more apples does Ann have than Tom?"},
		{"A shop sells 12 pens at $3 each and 4 notebooks at $5 each. How much does it make?",
			"A shop sells 12 pens at $3 each and 4 notebooks at $6 each. How much does it make?"},
		{"A train travels 270 miles in 3 hours. At the same rate, how many additional hours would it take to travel an additional 180 miles?",
			"A train travels 270 miles in 3 hours. At the same rate, how many additional hours would it take to travel an additional -180 miles?"},
		{"If x^2 = 16 and x is positive, what is x? Give your answer as an integer and explain each step of your reasoning.",
			"If x^3 = 16 and x is positive, what is x? Give your answer as an integer and explain each step of your reasoning."},
	}, problemsApart...)
	near := 0
	for _, p := range pairs {
		a, b := n.Signature(p[0]), n.Signature(p[1])
		s, isNear := n.Near(a, b)
		if isNear {
			near++
		}
		if ProblemKeys(p[0]).Same(ProblemKeys(p[1])) {
			t.Errorf("%q and %q (similarity %.2f) are removable as copies of each other", p[0], p[1], s)
		}
		if testing.Verbose() {
			t.Logf("%.2f near=%v  %q / %q", s, isNear, p[0], p[1])
		}
	}
	t.Logf("%d of %d different-problem pairs are near at threshold %.2f (reported), none removable", near, len(pairs), n.Threshold())
	if near == 0 {
		t.Errorf("no pair reached the threshold: the test no longer shows that near pairs of different problems are kept")
	}
}

// TestProblemKeysSame: copies that only reword or reorder are the same
// problem.
func TestProblemKeysSame(t *testing.T) {
	same := [][2]string{
		{"Josie received $50 as a gift. She buys two tapes at $9 each.", "Amanda received $50 as a gift. She buys two tapes at $9 each."},
		{"Tom has 5 apples. Ann has 7 apples. How many in all?", "Ann has 7 apples. Tom has 5 apples. How many in all?"},
		{"What is 2.5 + 1,000?", "what is 2.5+1,000 ?"},
	}
	for _, p := range same {
		if !ProblemKeys(p[0]).Same(ProblemKeys(p[1])) {
			t.Errorf("%q and %q: not the same problem; tokens %q vs %q", p[0], p[1], MathTokens(p[0]), MathTokens(p[1]))
		}
	}
	if got := NearTokens(`Find $\frac{1}{2}$ of 2.5, 1,000 and x^{-2}.`); strings.Join(got, " ") != `find $ \frac { 1 } { 2 } $ of 2.5 , 1,000 and x ^ { - 2 } .` {
		t.Errorf("NearTokens = %q", got)
	}
}

// TestNearDupDeterministic: signatures depend only on the text, so workers
// and runs agree.
func TestNearDupDeterministic(t *testing.T) {
	a, _ := NewNearDup(nil)
	b, _ := NewNearDup(nil)
	q := "Natalia sold clips to 48 of her friends in April."
	if fmt.Sprint(a.Signature(q)) != fmt.Sprint(b.Signature(q)) {
		t.Error("two NearDups give different signatures for one text")
	}
	if _, err := NewNearDup(&NearDupOptions{Threshold: 1.5}); err == nil {
		t.Error("threshold 1.5 accepted")
	}
}

func exactJaccard(n *NearDup, a, b string) float64 {
	set := func(s string) map[string]bool {
		tk := NearTokens(s)
		m := map[string]bool{}
		k := min(n.shingle, len(tk))
		for i := 0; k > 0 && i+k <= len(tk); i++ {
			m[strings.Join(tk[i:i+k], "\x00")] = true
		}
		return m
	}
	x, y := set(a), set(b)
	in := 0
	for k := range x {
		if y[k] {
			in++
		}
	}
	return float64(in) / float64(len(x)+len(y)-in)
}

// BenchmarkNearDup finds near-duplicates among the 7,473 GSM8K train
// questions: signatures, banding and verification, as Find does.
func BenchmarkNearDup(b *testing.B) {
	qs := gsm8kQuestions(b)
	n, err := NewNearDup(nil)
	if err != nil {
		b.Fatal(err)
	}
	var bytes int64
	for _, q := range qs {
		bytes += int64(len(q))
	}
	b.SetBytes(bytes)
	for b.Loop() {
		n.Find(qs)
	}
	b.ReportMetric(float64(len(qs)*b.N)/b.Elapsed().Seconds(), "prompts/s")
}
