package filters

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// tiktokenCL100K is tiktoken-go's own cl100k_base, the reference the
// hand-written splitter must agree with.
func tiktokenCL100K(tb testing.TB) *tiktoken.Tiktoken {
	tb.Helper()
	loaderOnce.Do(func() { tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader()) })
	enc, err := tiktoken.GetEncoding(EncodingCL100K)
	if err != nil {
		tb.Fatal(err)
	}
	return enc
}

// cl100kEdgeCases exercise each alternative of the pattern and the
// backtracking between them.
var cl100kEdgeCases = []string{
	"hello world", "don't", "DON'T", "we'LL", "they're", "I'Ve", "'d", "'x", "'", "''s", "x'",
	"  leading", "trailing  ", "two  spaces", " \t\n", "\n\n\nx", "a\r\n\r\nb", "a \n \n b", "\t\tx", "\u00a0x", "x\u00a0\u00a0y",
	"1234567", "x12", "١٢٣٤٥", "½¾", "3.14159", "-42", " -x", "!!!\n\n", " ?!\r\n", "...", "$\\frac{1}{2}$",
	"é", "naïve café", "日本語のテキスト", "Ελληνικά", "emoji 👍🏽 ok", "\u200b", "a\u2028b", "<|endoftext|>",
	"\xff\xfe", "ok\xc3", "\xe2\x82", "", " ", "  ", "\n",
}

func TestCL100KCountsMatchTiktoken(t *testing.T) {
	ref := tiktokenCL100K(t)
	tok, err := NewTokenizer(EncodingCL100K)
	if err != nil {
		t.Fatal(err)
	}
	texts := append([]string{}, cl100kEdgeCases...)
	// Every string of the recorded teacher output: MATH problems, answers
	// and Qwen2.5-Math responses, LaTeX and all.
	f, err := os.Open("../testdata/recordings/qwen25-math-instruct-math-8samples.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		texts = appendStrings(texts, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(texts) < 500 {
		t.Fatalf("read %d texts, want the recordings' responses", len(texts))
	}
	for _, text := range texts {
		if got, want := tok.Count(text), len(ref.EncodeOrdinary(text)); got != want {
			t.Errorf("Count(%.80q) = %d, tiktoken-go counts %d", text, got, want)
		}
	}
}

func appendStrings(out []string, v any) []string {
	switch v := v.(type) {
	case string:
		return append(out, v)
	case []any:
		for _, e := range v {
			out = appendStrings(out, e)
		}
	case map[string]any:
		for _, e := range v {
			out = appendStrings(out, e)
		}
	}
	return out
}

func FuzzCL100KCount(f *testing.F) {
	for _, s := range cl100kEdgeCases {
		f.Add(s)
	}
	f.Add(strings.Repeat("ab ", 30) + "\n\n  'RE 123456 ١٢")
	ref := tiktokenCL100K(f)
	tok, err := NewTokenizer(EncodingCL100K)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if got, want := tok.Count(text), len(ref.EncodeOrdinary(text)); got != want {
			t.Errorf("Count(%q) = %d, tiktoken-go counts %d", text, got, want)
		}
	})
}

func BenchmarkTokenizerCount(b *testing.B) {
	text := strings.Repeat("Let $f(x) = \\frac{x^2 + 1}{x - 3}$. We don't need to check x = 3, since\n\n\\[ f(4) = 17. \\]\n", 20)
	b.Run("cl100k_base", func(b *testing.B) {
		tok, err := NewTokenizer(EncodingCL100K)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			tok.Count(text)
		}
	})
	b.Run("tiktoken-go", func(b *testing.B) {
		ref := tiktokenCL100K(b)
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			ref.EncodeOrdinary(text)
		}
	})
}
