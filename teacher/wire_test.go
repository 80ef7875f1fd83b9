package teacher

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDecodeResponseGolden(t *testing.T) {
	tests := []struct {
		file      string
		want      int
		choices   int
		truncated []bool
		reasoning string
		usage     Usage
	}{
		{"vllm.json", 2, 2, []bool{false, true}, "", Usage{PromptTokens: 61, CompletionTokens: 239}},
		{"reasoning.json", 1, 1, []bool{false}, "Think: 2+3=5.", Usage{PromptTokens: 9, CompletionTokens: 12}},
		{"null_content_no_usage.json", 4, 1, []bool{false}, "", Usage{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata/responses", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			r, err := decodeResponse(body, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Choices) != tt.choices || r.Usage != tt.usage || r.Choices[0].Reasoning != tt.reasoning {
				t.Fatalf("decoded %+v", r)
			}
			for i, ch := range r.Choices {
				if ch.Truncated != tt.truncated[i] {
					t.Errorf("choice %d truncated = %v", i, ch.Truncated)
				}
			}
		})
	}
}

func TestDecodeResponseMalformed(t *testing.T) {
	files, _ := filepath.Glob("testdata/malformed/*")
	if len(files) == 0 {
		t.Fatal("no malformed inputs")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, _ := os.ReadFile(f)
			if _, err := decodeResponse(body, 2); !errors.Is(err, ErrMalformedResponse) {
				t.Errorf("err = %v, want ErrMalformedResponse", err)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		name string
		h    map[string]string
		want time.Duration
	}{
		{"absent", nil, 0},
		{"seconds", map[string]string{"Retry-After": "3"}, 3 * time.Second},
		{"ms wins", map[string]string{"Retry-After": "3", "Retry-After-Ms": "250"}, 250 * time.Millisecond},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0},
		{"negative", map[string]string{"Retry-After": "-1"}, 0},
		{"past date", map[string]string{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.h {
				h.Set(k, v)
			}
			if got := parseRetryAfter(h); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzDecodeResponse: no input from a server makes the decoder panic, and
// whatever it accepts satisfies the Response invariants.
func FuzzDecodeResponse(f *testing.F) {
	for _, dir := range []string{"testdata/responses", "testdata/malformed"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, file := range files {
			b, _ := os.ReadFile(file)
			f.Add(b, uint8(2))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, want uint8) {
		n := int(want%16) + 1
		r, err := decodeResponse(body, n)
		decodeErrorMessage(body)
		h := http.Header{}
		h.Set("Retry-After", string(body))
		h.Set("Retry-After-Ms", string(body))
		if d := parseRetryAfter(h); d < 0 {
			t.Errorf("negative Retry-After %v", d)
		}
		if err != nil {
			if r != nil || !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("err %v with response %v", err, r)
			}
			return
		}
		if len(r.Choices) == 0 || len(r.Choices) > n || r.Usage.PromptTokens < 0 || r.Usage.CompletionTokens < 0 {
			t.Fatalf("accepted %+v for n=%d", r, n)
		}
		for i, ch := range r.Choices {
			if ch.Index != i || ch.Truncated != (ch.FinishReason == "length") {
				t.Fatalf("choice %d: %+v", i, ch)
			}
		}
	})
}

// BenchmarkDecodeResponse reads a vLLM response with 8 samples of real
// length; throughput is in response bytes.
func BenchmarkDecodeResponse(b *testing.B) {
	text := strings.Repeat("We simplify both sides: \\(2000 + x = 5400\\), so x = 3400. ", 30)
	var texts []string
	for range 8 {
		texts = append(texts, text)
	}
	body := []byte(okBody(texts...))
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := decodeResponse(body, 8); err != nil {
			b.Fatal(err)
		}
	}
}
