package decontam

import (
	"errors"
	"fmt"
	"strings"
)

// Config is the recipe section "decontam". Start from DefaultConfig, change
// fields, and call Validate once; it reports every bad field at once.
type Config struct {
	// NgramSize is n, the length in normalized words (one CJK character counts
	// as a word) of the n-grams compared. Default 5. The built-in fingerprints
	// were generated with the default; another value needs --benchmarks.
	NgramSize int `yaml:"ngram_size"`
	// Threshold is the score at or above which a record is flagged. A
	// benchmark item's score is the share of the weight of its indexed
	// n-grams (each weighted by its rarity across the benchmarks, IDF) that
	// the record holds within one window of about the item's length. Default
	// 0.5.
	Threshold float64 `yaml:"threshold"`
	// MinMatchedWeight is the floor of distinctive matched content: a match
	// must hold at least this much n-gram weight (in nats of IDF; an n-gram
	// found in one benchmark item of the built-in corpus weighs about 9.6,
	// one in a hundred items about 5), or all of an item's weight when the
	// item has less. It keeps short items from matching on a stock phrase.
	// Default 15.
	MinMatchedWeight float64 `yaml:"min_matched_weight"`
	// MinMatchedWords is ignored since fingerprints v2 (MinMatchedWeight
	// replaces it); it is kept so recipes that set it still load.
	MinMatchedWords int `yaml:"min_matched_words"`
	// MinItemWords: benchmark items (or solutions) with fewer normalized words
	// are not indexed, because a phrase that short ("Simplify 2x") cannot
	// identify an item. Default 4.
	MinItemWords int `yaml:"min_item_words"`
	// MaxItemsPerNgram: an n-gram shared by more benchmark items than this is
	// common phrasing ("what is the value of"), not evidence of one item, and
	// is ignored. Default 50.
	MaxItemsPerNgram int `yaml:"max_items_per_ngram"`
	// BloomFalsePositiveRate is ignored since fingerprints v2: the index of
	// sampled n-grams is small enough to probe directly. It is kept so
	// recipes that set it still load.
	BloomFalsePositiveRate float64 `yaml:"bloom_false_positive_rate"`
	// MatchSolutions also indexes the reference solutions of sets that have
	// them, so a teacher response reciting a benchmark solution is caught.
	// Default true.
	MatchSolutions bool `yaml:"match_solutions"`
	// MaxReportedNgrams caps Match.MatchedNgrams. Default 5.
	MaxReportedNgrams int `yaml:"max_reported_ngrams"`
	// Builtin decontaminates against the embedded fingerprints of the
	// standard math benchmarks. Sets loaded from Benchmarks or --benchmarks
	// with the same name replace the built-in ones. Default true.
	Builtin bool `yaml:"builtin"`
	// Benchmarks are user sets added in the recipe.
	Benchmarks []BenchmarkSpec `yaml:"benchmarks"`
}

// BenchmarkSpec names a user benchmark set and where its fields are.
type BenchmarkSpec struct {
	// Name is how reports and the manifest call the set.
	Name string `yaml:"name"`
	// Path is a file, a directory (every .jsonl and .parquet file in it) or a
	// glob; local, or a URL a storage layer resolves (e.g. s3://).
	Path string `yaml:"path"`
	// Format is "jsonl" or "parquet"; empty means from the file extension.
	Format string `yaml:"format"`
	// IDField holds the item id; empty means the 0-based row number.
	IDField string `yaml:"id_field"`
	// QuestionFields are joined with a space to form the question.
	QuestionFields []string `yaml:"question_fields"`
	// SolutionFields, optional, are joined to form the reference solution.
	SolutionFields []string `yaml:"solution_fields"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		NgramSize:         5,
		Threshold:         0.5,
		MinMatchedWeight:  15,
		MinItemWords:      4,
		MaxItemsPerNgram:  50,
		MatchSolutions:    true,
		MaxReportedNgrams: 5,
		Builtin:           true,
	}
}

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("decontam: invalid config")

// Validate reports every bad field at once, naming the recipe field.
func (c Config) Validate() error {
	var bad []string
	if c.NgramSize < 1 {
		bad = append(bad, "decontam.ngram_size must be >= 1")
	} else if c.NgramSize > maxNgramSize {
		bad = append(bad, fmt.Sprintf("decontam.ngram_size must be <= %d", maxNgramSize))
	}
	if !(c.Threshold > 0 && c.Threshold <= 1) {
		bad = append(bad, "decontam.threshold must be in (0, 1]")
	}
	if c.MinItemWords < 1 {
		bad = append(bad, "decontam.min_item_words must be >= 1")
	}
	if !(c.MinMatchedWeight >= 0 && c.MinMatchedWeight <= 1000) {
		bad = append(bad, "decontam.min_matched_weight must be in [0, 1000]")
	}
	if c.MaxItemsPerNgram < 1 {
		bad = append(bad, "decontam.max_items_per_ngram must be >= 1")
	}
	if c.MaxReportedNgrams < 0 {
		bad = append(bad, "decontam.max_reported_ngrams must be >= 0")
	}
	names := map[string]bool{}
	for i, b := range c.Benchmarks {
		field := fmt.Sprintf("decontam.benchmarks[%d]", i)
		if b.Name == "" {
			bad = append(bad, field+".name must be set")
		} else if names[b.Name] {
			bad = append(bad, fmt.Sprintf("%s.name %q is used twice", field, b.Name))
		}
		names[b.Name] = true
		if b.Path == "" {
			bad = append(bad, field+".path must be set")
		}
		switch b.Format {
		case "", "jsonl", "parquet":
		default:
			bad = append(bad, fmt.Sprintf("%s.format must be \"jsonl\" or \"parquet\", not %q", field, b.Format))
		}
		if len(b.QuestionFields) == 0 {
			bad = append(bad, field+".question_fields must name at least one field")
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(bad, "; "))
}

const maxNgramSize = 64
