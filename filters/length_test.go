package filters

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestTokenizerCounts(t *testing.T) {
	cases := []struct {
		name, encoding, text string
		want                 int
	}{
		// Counts from OpenAI's reference tiktoken.
		{"empty", "", "", 0},
		{"hello default", "", "hello world", 2},
		{"hello cl100k", EncodingCL100K, "hello world", 2},
		{"readme example cl100k", EncodingCL100K, "tiktoken is great!", 6},
		{"hello o200k", EncodingO200K, "hello world", 2},
		{"special tokens are text", EncodingCL100K, "<|endoftext|>", 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, err := NewTokenizer(c.encoding)
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Count(c.text); got != c.want {
				t.Errorf("Count(%q) with %s = %d, want %d", c.text, tok.Encoding(), got, c.want)
			}
		})
	}
}

// TestTokenizerEncodingsDiffer shows the encoding name is honoured: o200k_base
// has a larger vocabulary and spends fewer tokens on non-English text.
func TestTokenizerEncodingsDiffer(t *testing.T) {
	cl, err := NewTokenizer(EncodingCL100K)
	if err != nil {
		t.Fatal(err)
	}
	o2, err := NewTokenizer(EncodingO200K)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("设函数 f(x) 在区间上连续，求其最大值。", 10)
	if a, b := cl.Count(text), o2.Count(text); b >= a {
		t.Errorf("o200k_base counted %d tokens, cl100k_base %d: expected o200k_base to be shorter on Chinese", b, a)
	}
}

func TestNewTokenizerUnknown(t *testing.T) {
	_, err := NewTokenizer("gpt2")
	if err == nil || !strings.Contains(err.Error(), `"gpt2"`) || !strings.Contains(err.Error(), "cl100k_base") {
		t.Fatalf("NewTokenizer(gpt2) error = %v, want one naming the encoding and the known ones", err)
	}
}

// TestTokenizerOffline counts tokens in a child process whose every HTTP
// request would fail (proxies pointed at a closed port) and whose tiktoken
// download cache is an empty directory: the ranks must come from the
// embedded loader, never from the network.
func TestTokenizerOffline(t *testing.T) {
	if os.Getenv("SYLLABUS_TOKENIZER_OFFLINE_CHILD") == "1" {
		for _, enc := range []string{EncodingCL100K, EncodingO200K} {
			tok, err := NewTokenizer(enc)
			if err != nil {
				t.Fatalf("offline: %v", err)
			}
			if n := tok.Count("hello world"); n != 2 {
				t.Fatalf("offline %s: Count = %d, want 2", enc, n)
			}
		}
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTokenizerOffline$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"SYLLABUS_TOKENIZER_OFFLINE_CHILD=1",
		"HTTP_PROXY=http://127.0.0.1:1", "HTTPS_PROXY=http://127.0.0.1:1",
		"http_proxy=http://127.0.0.1:1", "https_proxy=http://127.0.0.1:1",
		"NO_PROXY=", "no_proxy=",
		"TIKTOKEN_CACHE_DIR="+dir, "DATA_GYM_CACHE_DIR="+dir, "TMPDIR="+dir,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("token counting with no network failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("child did not run the offline test:\n%s", out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the tokenizer wrote %d entries to the download cache; want none", len(entries))
	}
}

func TestPercentile(t *testing.T) {
	vals := []int{15, 20, 35, 40, 50}
	cases := []struct {
		p    float64
		want int
	}{{0, 15}, {5, 15}, {30, 20}, {40, 20}, {50, 35}, {100, 50}, {150, 50}}
	for _, c := range cases {
		if got := Percentile(vals, c.p); got != c.want {
			t.Errorf("Percentile(%v, %v) = %d, want %d", vals, c.p, got, c.want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("Percentile(nil) = %d, want 0", got)
	}
	unsorted := []int{5, 1, 3}
	if Percentile(unsorted, 50) != 3 || unsorted[0] != 5 {
		t.Errorf("Percentile must sort a copy: got %v", unsorted)
	}
}

func TestSummarizeLengths(t *testing.T) {
	vals := make([]int, 100)
	for i := range vals {
		vals[i] = 100 - i // 100..1
	}
	got := SummarizeLengths(vals)
	want := LengthStats{Count: 100, Min: 1, Max: 100, Mean: 50.5, P50: 50, P90: 90, P95: 95, P99: 99}
	if got != want {
		t.Errorf("SummarizeLengths = %+v, want %+v", got, want)
	}
	if (SummarizeLengths(nil) != LengthStats{}) {
		t.Error("SummarizeLengths(nil) must be zero")
	}
}

// TestTokenizerRecordings counts the recorded responses: every response of
// a real model has tokens, and the count tracks bytes (3-5 bytes a token on
// English and LaTeX).
func TestTokenizerRecordings(t *testing.T) {
	tok, err := NewTokenizer("")
	if err != nil {
		t.Fatal(err)
	}
	var tokens, bytes int
	for _, p := range readRecordings(t) {
		for _, s := range p.Samples {
			n := tok.Count(s.Response)
			if n == 0 {
				t.Fatalf("idx %d: no tokens in a %d-byte response", p.Idx, len(s.Response))
			}
			tokens += n
			bytes += len(s.Response)
		}
	}
	if r := float64(bytes) / float64(tokens); r < 2.5 || r > 5 {
		t.Errorf("%.2f bytes per token over the recordings; want 2.5-5", r)
	}
	t.Logf("%d tokens in %d bytes (%.2f bytes/token)", tokens, bytes, float64(bytes)/float64(tokens))
}
