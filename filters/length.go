package filters

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// Token encodings a Tokenizer may use.
const (
	// EncodingCL100K is cl100k_base (GPT-3.5/GPT-4), the default.
	EncodingCL100K = "cl100k_base"
	// EncodingO200K is o200k_base (GPT-4o and later).
	EncodingO200K = "o200k_base"
)

// DefaultEncoding is the encoding NewTokenizer uses for "".
const DefaultEncoding = EncodingCL100K

// Tokenizer counts the tokens of a text with an OpenAI BPE encoding
// (github.com/pkoukk/tiktoken-go). The BPE ranks are embedded in the binary
// (github.com/pkoukk/tiktoken-go-loader), so counting never touches the
// network. cl100k_base is counted by a hand-written splitter of its
// pattern (see bpeCounter), about 20 times faster than tiktoken-go's
// regular expression and equal to it on every text tested.
//
// The count approximates the teacher's own tokenizer: Qwen, Llama or
// DeepSeek vocabularies split text differently (on English and LaTeX math
// cl100k_base is typically within about 10 % of them). Use it for length
// limits, percentiles and forecasts, not for exact billing; the server's
// reported usage stays the source of truth for what a run spent.
//
// A Tokenizer is safe for concurrent use.
type Tokenizer struct {
	name  string
	enc   *tiktoken.Tiktoken
	cl100 *bpeCounter // cl100k_base, counted without tiktoken-go's regexp
}

var (
	loaderOnce sync.Once
	encMu      sync.Mutex
	encodings  = map[string]*tiktoken.Tiktoken{}
	cl100k     *bpeCounter
)

// NewTokenizer returns a tokenizer for the named encoding: "cl100k_base"
// (also ""), or "o200k_base". Encodings are built once per process (about
// one second each, from the embedded ranks) and shared.
func NewTokenizer(encoding string) (*Tokenizer, error) {
	if encoding == "" {
		encoding = DefaultEncoding
	}
	switch encoding {
	case EncodingCL100K, EncodingO200K:
	default:
		return nil, fmt.Errorf("filters: unknown token encoding %q (known: %s, %s)", encoding, EncodingCL100K, EncodingO200K)
	}
	// tiktoken-go's loader is package state; the offline loader reads the
	// ranks embedded by tiktoken-go-loader instead of downloading them.
	loaderOnce.Do(func() { tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader()) })
	encMu.Lock()
	defer encMu.Unlock()
	if encoding == EncodingCL100K {
		if cl100k == nil {
			ranks, err := tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe("cl100k_base.tiktoken")
			if err != nil {
				return nil, fmt.Errorf("filters: token encoding %s: %w", encoding, err)
			}
			cl100k = &bpeCounter{ranks: ranks}
		}
		return &Tokenizer{name: encoding, cl100: cl100k}, nil
	}
	enc, ok := encodings[encoding]
	if !ok {
		var err error
		enc, err = tiktoken.GetEncoding(encoding)
		if err != nil {
			return nil, fmt.Errorf("filters: token encoding %s: %w", encoding, err)
		}
		encodings[encoding] = enc
	}
	return &Tokenizer{name: encoding, enc: enc}, nil
}

// Encoding returns the encoding's name.
func (t *Tokenizer) Encoding() string { return t.name }

// Count returns the number of tokens of text. Special-token strings such as
// "<|endoftext|>" are counted as ordinary text.
func (t *Tokenizer) Count(text string) int {
	if text == "" {
		return 0
	}
	if t.cl100 != nil {
		if !utf8.ValidString(text) {
			text = string([]rune(text)) // each invalid byte a U+FFFD, as tiktoken-go reads it
		}
		return t.cl100.count(text)
	}
	return len(t.enc.EncodeOrdinary(text))
}

// LengthStats summarizes token lengths for the dataset card.
type LengthStats struct {
	Count int     `json:"count"`
	Min   int     `json:"min"`
	Max   int     `json:"max"`
	Mean  float64 `json:"mean"`
	P50   int     `json:"p50"`
	P90   int     `json:"p90"`
	P95   int     `json:"p95"`
	P99   int     `json:"p99"`
}

// Percentile returns the p-th percentile (0 <= p <= 100) of lengths by the
// nearest-rank method: the smallest value with at least p % of the values
// at or below it. It returns 0 for no values. lengths is not modified.
func Percentile(lengths []int, p float64) int {
	if len(lengths) == 0 {
		return 0
	}
	s := slices.Clone(lengths)
	slices.Sort(s)
	return nearestRank(s, p)
}

func nearestRank(sorted []int, p float64) int {
	p = math.Max(0, math.Min(100, p))
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// SummarizeLengths returns count, min, max, mean and the 50th, 90th, 95th
// and 99th percentiles (nearest rank) of lengths.
func SummarizeLengths(lengths []int) LengthStats {
	if len(lengths) == 0 {
		return LengthStats{}
	}
	s := slices.Clone(lengths)
	slices.Sort(s)
	sum := 0
	for _, v := range s {
		sum += v
	}
	return LengthStats{
		Count: len(s), Min: s[0], Max: s[len(s)-1], Mean: float64(sum) / float64(len(s)),
		P50: nearestRank(s, 50), P90: nearestRank(s, 90), P95: nearestRank(s, 95), P99: nearestRank(s, 99),
	}
}
