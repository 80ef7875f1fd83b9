package filters

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestSplitReference(t *testing.T) {
	for _, c := range []struct {
		name, ref, format, answer, solution, err string
	}{
		{"gsm8k auto", "She sold 48/2 = <<48/2=24>>24 clips.\n#### 72", "", "72", "She sold 48/2 = <<48/2=24>>24 clips.\n#### 72", ""},
		{"gsm8k thousands", "Total is 1,000.\n#### 1,000", "gsm8k", "1,000", "Total is 1,000.\n#### 1,000", ""},
		{"boxed auto", "We get $x=2$, so the answer is $\\boxed{\\frac{1}{2}}$.", "auto", "\\frac{1}{2}", "We get $x=2$, so the answer is $\\boxed{\\frac{1}{2}}$.", ""},
		{"boxed last of two", "First \\boxed{3} is wrong. Finally, the answer is \\boxed{4}.", "boxed", "4", "First \\boxed{3} is wrong. Finally, the answer is \\boxed{4}.", ""},
		{"plain", " 42 ", "", "42", "", ""},
		{"plain forced keeps hashes text", "#### 5", "plain", "#### 5", "", ""},
		{"gsm8k forced, none", "just 5", "gsm8k", "", "", "####"},
		{"boxed forced, none", "just 5", "boxed", "", "", "boxed"},
		{"unknown format", "5", "latex", "", "", "unknown answer_format"},
		{"empty", "  ", "", "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, s, err := SplitReference(c.ref, c.format)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a != c.answer || s != c.solution {
				t.Errorf("got (%q, %q), want (%q, %q)", a, s, c.answer, c.solution)
			}
		})
	}
}

// TestSplitReferenceGSM8KTrain reads all of GSM8K train as published: the
// final answer of every solution, in auto and in gsm8k format, is the text
// after "####", and the full solution is kept.
func TestSplitReferenceGSM8KTrain(t *testing.T) {
	f, err := os.Open("../testdata/datasets/gsm8k/train.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var rec struct{ Answer string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		n++
		_, after, ok := strings.Cut(rec.Answer, "####")
		if !ok {
			t.Fatalf("line %d has no ####", n)
		}
		want := strings.TrimSpace(after)
		for _, format := range []string{FormatAuto, FormatGSM8K} {
			a, s, err := SplitReference(rec.Answer, format)
			if err != nil || a != want || s != strings.TrimSpace(rec.Answer) {
				t.Errorf("line %d (%s): got (%q, err %v), want %q", n, format, a, err, want)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 7473 {
		t.Errorf("read %d lines, want 7473", n)
	}
	t.Logf("%d GSM8K solutions: every final answer is the text after ####", n)
}
