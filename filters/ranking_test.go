package filters

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

func rw(v float64) *float64 { return &v }

func indexes[T any](xs []T, f func(T) int) []int {
	var out []int
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

func sftIndexes(r Ranking) []int { return indexes(r.SFT, func(s GradedSample) int { return s.Index }) }

func pairIndexes(r Ranking) [][2]int {
	var out [][2]int
	for _, p := range r.Pairs {
		out = append(out, [2]int{p.Chosen.Index, p.Rejected.Index})
	}
	return out
}

func TestRankByRule(t *testing.T) {
	samples := []GradedSample{
		{Index: 0, Text: "medium length answer is 4", Correct: true},
		{Index: 1, Text: "wrong: 5", Correct: false},
		{Index: 2, Text: "short: 4", Correct: true},
		{Index: 3, Text: "a much much longer rationale that ends with 4", Correct: true},
		{Index: 4, Text: "also wrong, the answer is 6", Correct: false},
	}
	cases := []struct {
		rule      string
		wantSFT   []int
		wantPairs [][2]int
	}{
		{RankFirst, []int{0, 2}, [][2]int{{0, 1}, {2, 4}}},
		{RankShortest, []int{2, 0}, [][2]int{{2, 1}, {0, 4}}},
		{RankLongest, []int{3, 0}, [][2]int{{3, 1}, {0, 4}}},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			cfg := RankingConfig{MaxCorrect: 2, MaxPairs: 2, Rule: c.rule, MaxSimilarity: 0.9}
			r := Rank("p1", samples, cfg)
			if got := sftIndexes(r); !slices.Equal(got, c.wantSFT) {
				t.Errorf("SFT = %v, want %v", got, c.wantSFT)
			}
			if got := pairIndexes(r); !slices.Equal(got, c.wantPairs) {
				t.Errorf("pairs = %v, want %v", got, c.wantPairs)
			}
		})
	}
}

func TestRankRandomIsSeeded(t *testing.T) {
	var samples []GradedSample
	for i := range 8 {
		samples = append(samples, GradedSample{Index: i, Text: strings.Repeat("step ", i+1) + "answer " + string(rune('a'+i)), Correct: true})
	}
	cfg := RankingConfig{MaxCorrect: 8, Rule: RankRandom, Seed: 7, MaxSimilarity: 0.9}
	a, b := sftIndexes(Rank("p1", samples, cfg)), sftIndexes(Rank("p1", samples, cfg))
	if !slices.Equal(a, b) {
		t.Fatalf("same seed and prompt, different orders: %v, %v", a, b)
	}
	if len(a) != 8 {
		t.Fatalf("kept %d of 8 distinct samples", len(a))
	}
	differs := false
	for _, id := range []string{"p2", "p3", "p4", "p5"} {
		differs = differs || !slices.Equal(a, sftIndexes(Rank(id, samples, cfg)))
	}
	cfg.Seed = 8
	differs = differs || !slices.Equal(a, sftIndexes(Rank("p1", samples, cfg)))
	if !differs {
		t.Error("random order ignores the prompt id and the seed")
	}
	if slices.IsSorted(a) {
		t.Errorf("random order %v is draw order", a)
	}
}

func TestRankDropsNearIdentical(t *testing.T) {
	base := "First we add 2 and 2 to get 4. Then we multiply 4 by 3 to get 12. Finally we subtract 1 from 12 and obtain 11, so the answer is \\boxed{11}."
	samples := []GradedSample{
		{Index: 0, Text: base, Correct: true},
		{Index: 1, Text: strings.ToUpper(base[:1]) + strings.ReplaceAll(base[1:], " ", "\n  "), Correct: true}, // white space only
		{Index: 2, Text: strings.Replace(base, "Finally", "Lastly", 1), Correct: true},                         // one word
		{Index: 3, Text: "Multiply first: 3 times 4 is 12; minus one leaves 11. \\boxed{11}", Correct: true},   // a different rationale
	}
	r := Rank("p", samples, RankingConfig{MaxCorrect: 4, Rule: RankFirst, MaxSimilarity: 0.7})
	if got := sftIndexes(r); !slices.Equal(got, []int{0, 3}) || r.NearDuplicates != 2 {
		t.Errorf("SFT = %v with %d near-duplicates, want [0 3] and 2", got, r.NearDuplicates)
	}
	// Similarity 1 drops only equal-after-normalization texts.
	r = Rank("p", samples, RankingConfig{MaxCorrect: 4, Rule: RankFirst, MaxSimilarity: 1})
	if got := sftIndexes(r); !slices.Equal(got, []int{0, 2, 3}) {
		t.Errorf("similarity 1: SFT = %v, want [0 2 3]", got)
	}
	// The better-ranked of two near-identical samples is the one kept.
	samples[1].Reward, samples[0].Reward = rw(2), rw(1)
	r = Rank("p", samples[:2], RankingConfig{MaxCorrect: 4, Rule: RankFirst, MaxSimilarity: 0.9})
	if got := sftIndexes(r); !slices.Equal(got, []int{1}) {
		t.Errorf("with rewards: SFT = %v, want [1] (the higher reward)", got)
	}
	if r.SFT[0].Text != samples[1].Text {
		t.Error("the kept text was modified")
	}
}

func TestRankByRewardAndMargin(t *testing.T) {
	samples := []GradedSample{
		{Index: 0, Text: "c0 answer 1", Correct: true, Reward: rw(0.5)},
		{Index: 1, Text: "w1 answer 2", Correct: false, Reward: rw(0.4)},
		{Index: 2, Text: "c2 answer 1", Correct: true, Reward: rw(0.9)},
		{Index: 3, Text: "w3 answer 3", Correct: false, Reward: rw(-0.2)},
		{Index: 4, Text: "c4 answer 1", Correct: true, Reward: rw(0.7)},
		{Index: 5, Text: "w5 answer 4", Correct: false, Reward: rw(0.95)},
	}
	r := Rank("p", samples, RankingConfig{MaxCorrect: 2, MaxPairs: 3, Rule: RankShortest, MaxSimilarity: 0.9})
	if got := sftIndexes(r); !slices.Equal(got, []int{2, 4}) {
		t.Errorf("SFT = %v, want [2 4] (rewards 0.9, 0.7)", got)
	}
	// By hand: margins c2-w3 1.1, c4-w3 0.9, c2-w1 0.5, c0-w3 0.7, c4-w1 0.3,
	// c0-w1 0.1, c2-w5 -0.05 ... Greedy, each sample once: (2,3) 1.1, then
	// (4,1) 0.3, then (0,5) -0.45.
	want := [][2]int{{2, 3}, {4, 1}, {0, 5}}
	if got := pairIndexes(r); !slices.Equal(got, want) {
		t.Errorf("pairs = %v, want %v", got, want)
	}
	if m := r.Pairs[0].Margin(); m < 1.1-1e-9 || m > 1.1+1e-9 {
		t.Errorf("first margin %v, want 1.1", m)
	}
}

func TestRankingConfigValidate(t *testing.T) {
	if err := DefaultRankingConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	err := RankingConfig{MaxPairs: -1, Rule: "best", MaxSimilarity: 0}.Validate()
	for _, w := range []string{"sampling.max_correct", "sampling.max_pairs", `sampling.rank_by "best"`, "sampling.max_similarity"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not name %s", err, w)
		}
	}
}

// TestRankRecordingsBestOfN ranks the 60 recorded prompts with their
// recorded reward-model scores: the SFT row is, by a hand loop over the
// samples, the highest-reward correct sample, and the first pair is that
// sample against the lowest-scored incorrect one.
func TestRankRecordingsBestOfN(t *testing.T) {
	f, err := os.Open(recordingsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	prompts, withPairs := 0, 0
	for sc.Scan() {
		var p struct {
			Idx     int `json:"idx"`
			Samples []struct {
				Response string  `json:"response"`
				Correct  bool    `json:"qwen_correct"`
				RMScore  float64 `json:"rm_score"`
			} `json:"samples"`
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		prompts++
		var samples []GradedSample
		best, worst := -1, -1
		for i, s := range p.Samples {
			samples = append(samples, GradedSample{Index: i, Text: s.Response, Correct: s.Correct, Reward: rw(s.RMScore)})
			if s.Correct && (best < 0 || s.RMScore > p.Samples[best].RMScore) {
				best = i
			}
			if !s.Correct && (worst < 0 || s.RMScore < p.Samples[worst].RMScore) {
				worst = i
			}
		}
		r := Rank("x", samples, RankingConfig{MaxCorrect: 1, MaxPairs: 1, Rule: RankFirst, MaxSimilarity: 0.9})
		if best < 0 {
			if len(r.SFT) != 0 || len(r.Pairs) != 0 {
				t.Errorf("idx %d: nothing correct, yet %d SFT rows and %d pairs", p.Idx, len(r.SFT), len(r.Pairs))
			}
			continue
		}
		if len(r.SFT) != 1 || r.SFT[0].Index != best || *r.SFT[0].Reward != p.Samples[best].RMScore || r.SFT[0].Text != p.Samples[best].Response {
			t.Errorf("idx %d: SFT %v, want sample %d (reward %v)", p.Idx, sftIndexes(r), best, p.Samples[best].RMScore)
		}
		if worst >= 0 {
			withPairs++
			if got := pairIndexes(r); !slices.Equal(got, [][2]int{{best, worst}}) {
				t.Errorf("idx %d: pairs %v, want [[%d %d]]", p.Idx, got, best, worst)
			}
		}
	}
	if prompts != 60 || withPairs != 7 {
		t.Errorf("%d prompts, %d with pairs; the recordings hold 60 and 7 mixed ones", prompts, withPairs)
	}
}

// TestShingleJaccardMatchesStringSets checks the hashed 3-gram sets against
// sets of the 3-grams themselves, on every pair of samples of each recorded
// MATH problem (real Qwen2.5-Math rationales, near-identical ones included).
func TestShingleJaccardMatchesStringSets(t *testing.T) {
	exact := func(norm string) map[string]bool {
		w := strings.Fields(norm)
		out := map[string]bool{}
		if len(w) < 3 {
			out[strings.Join(w, " ")] = true
		}
		for i := 0; i+3 <= len(w); i++ {
			out[strings.Join(w[i:i+3], " ")] = true
		}
		return out
	}
	f, err := os.Open("../testdata/recordings/qwen25-math-instruct-math-8samples.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	pairs := 0
	for sc.Scan() {
		var rec struct {
			Samples []struct{ Response string }
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		for i, a := range rec.Samples {
			for _, b := range rec.Samples[i+1:] {
				na, nb := normalizeRationale(a.Response), normalizeRationale(b.Response)
				ea, eb := exact(na), exact(nb)
				inter := 0
				for k := range ea {
					if eb[k] {
						inter++
					}
				}
				want := float64(inter) / float64(len(ea)+len(eb)-inter)
				if got := jaccard(shingles(na), shingles(nb)); got != want {
					t.Errorf("jaccard = %v, want %v for\n%.100q\n%.100q", got, want, a.Response, b.Response)
				}
				pairs++
			}
		}
	}
	if pairs < 1000 {
		t.Fatalf("compared %d pairs, want the recordings' samples", pairs)
	}
}
