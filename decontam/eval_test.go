package decontam

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// The evaluation set: every question of every shared benchmark, put through
// each transformation below, mixed with the clean GSM8K training prompts.

type transformation struct {
	name string
	// apply returns the transformed text, or false when it does not apply
	// to q (a question with no number cannot have one changed).
	apply func(q string, r *rand.Rand) (string, bool)
}

var numberRE = regexp.MustCompile(`[0-9]+`)

var instructions = []string{
	"Solve the following math problem step by step. Put your final answer within \\boxed{}.\n\n%s",
	"Question: %s\nAnswer: Let's think step by step.",
	"You are a helpful math tutor. Please solve this problem and explain your reasoning.\n\nProblem:\n%s\n\nSolution:",
	"<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n",
}

var chats = []string{
	"Hi! I'm working through my homework tonight and got stuck on one of the exercises our teacher handed out on Friday. I tried drawing a picture and setting up a table, but my numbers never come out clean, and I'm starting to think I misread something. Here's the exact exercise from the sheet: %s I'd really appreciate a careful explanation of the method too, not just the final result, because the quiz next week will have similar ones and I want to be able to do them on my own. Thanks so much for your patience!",
	"Context: our study group meets on Tuesdays and we take turns presenting a problem we found interesting. This week it's my turn, and I picked the following one because it looked simple at first but we argued about it for half an hour.\n\n%s\n\nCan you write up a clear solution that I could present on the whiteboard, with each step justified, and point out the most common mistake people make on problems of this kind?",
}

var transformations = []transformation{
	{"verbatim", func(q string, _ *rand.Rand) (string, bool) { return q, true }},
	{"spacing+case", func(q string, r *rand.Rand) (string, bool) {
		seps := []string{" ", "  ", "\n", " \t ", "   "}
		fields := strings.Fields(q)
		mode := r.IntN(3)
		for i, f := range fields {
			switch {
			case mode == 0:
				fields[i] = strings.ToUpper(f)
			case mode == 1:
				fields[i] = strings.ToLower(f)
			case r.IntN(2) == 0:
				fields[i] = strings.ToUpper(f)
			}
		}
		var b strings.Builder
		for i, f := range fields {
			if i > 0 {
				b.WriteString(seps[r.IntN(len(seps))])
			}
			b.WriteString(f)
		}
		return b.String(), true
	}},
	{"instruction", func(q string, r *rand.Rand) (string, bool) {
		return fmt.Sprintf(instructions[r.IntN(len(instructions))], q), true
	}},
	{"punctuation+quotes", func(q string, _ *rand.Rand) (string, bool) {
		open := true
		var b strings.Builder
		for _, c := range q {
			switch c {
			case '\'':
				b.WriteRune('’')
			case '"':
				if open {
					b.WriteRune('“')
				} else {
					b.WriteRune('”')
				}
				open = !open
			case ',':
				// dropped
			case '.':
				b.WriteString(" ;")
			case '?':
				b.WriteString(" ?!")
			case ':':
				b.WriteString(" —")
			case '$':
				// inline math delimiters dropped
			case '-':
				b.WriteString(" – ")
			default:
				b.WriteRune(c)
			}
		}
		return b.String(), true
	}},
	{"chat", func(q string, r *rand.Rand) (string, bool) {
		return fmt.Sprintf(chats[r.IntN(len(chats))], q), true
	}},
	{"truncated70", func(q string, _ *rand.Rand) (string, bool) {
		cut := len(q) * 7 / 10
		for cut > 0 && !utf8.RuneStart(q[cut]) {
			cut--
		}
		return q[:cut], true
	}},
	{"number-changed", func(q string, r *rand.Rand) (string, bool) {
		locs := numberRE.FindAllStringIndex(q, -1)
		if len(locs) == 0 {
			return "", false
		}
		loc := locs[r.IntN(len(locs))]
		v, _ := strconv.Atoi(q[loc[0]:loc[1]])
		return q[:loc[0]] + strconv.Itoa(v+1+r.IntN(9)) + q[loc[1]:], true
	}},
	// paraphrase swaps common words for synonyms and moves the last
	// sentence (usually the question) to the front. Reported, not gated:
	// n-gram overlap is not built to see through rewording.
	{"paraphrase", func(q string, _ *rand.Rand) (string, bool) {
		words := strings.Fields(q)
		changed := 0
		for i, w := range words {
			if s, ok := synonyms[strings.ToLower(w)]; ok {
				words[i] = s
				changed++
			}
		}
		text := strings.Join(words, " ")
		if sentences := sentenceRE.FindAllString(text, -1); len(sentences) >= 2 {
			last := sentences[len(sentences)-1]
			text = strings.TrimSpace(last) + " " + strings.TrimSpace(strings.TrimSuffix(text, last))
			changed++
		}
		return text, changed > 0
	}},
}

var sentenceRE = regexp.MustCompile(`[^.?!]+[.?!]*`)

var synonyms = map[string]string{
	"find": "determine", "how": "in what way", "many": "numerous", "total": "sum", "each": "every",
	"buys": "purchases", "bought": "purchased", "has": "owns", "have": "own", "what": "which",
	"number": "count", "is": "equals", "are": "happen to be", "the": "that", "of": "from",
	"and": "plus", "if": "when", "gets": "receives", "money": "cash", "spend": "pay out",
}

// The evaluation is split in two halves by a hash of each case's key:
// DefaultConfig was tuned looking only at the tuning half; the gates apply
// to the held-out half, and both are reported.
func heldOut(key string) bool {
	h := fnv.New32a()
	h.Write([]byte(key))
	return h.Sum32()%2 == 1
}

var halfNames = [2]string{"tuning", "held-out"}

func half(key string) int {
	if heldOut(key) {
		return 1
	}
	return 0
}

// recallGates are the least recall on the held-out half, per
// transformation; 0 reports without gating.
var recallGates = map[string]float64{
	"verbatim":           0.98,
	"spacing+case":       0.98,
	"instruction":        0.98,
	"punctuation+quotes": 0.98,
	"chat":               0.98,
	"truncated70":        0.93,
	"number-changed":     0.97,
	"paraphrase":         0,
}

// TestRecall checks each transformation of the benchmark questions of
// testdata/benchmarks against the built-in fingerprints: the share flagged
// with the right item among the matches, per half.
func TestRecall(t *testing.T) {
	ix, err := Builtin(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	type counts struct{ positives, found int }
	got := make([][2]counts, len(transformations))
	var missed []string
	for _, set := range excerptSets(t) {
		for _, item := range set.Items {
			h := half(set.Name + "/" + item.ID)
			for ti, tr := range transformations {
				text, ok := tr.apply(item.Question, r)
				if !ok {
					continue
				}
				c := &got[ti][h]
				c.positives++
				found := false
				for _, m := range ix.Check(text) {
					found = found || m.Benchmark == set.Name && m.BenchmarkID == item.ID
				}
				if found {
					c.found++
				} else if h == 0 && recallGates[tr.name] > 0 {
					missed = append(missed, fmt.Sprintf("%s %s/%s: %.160q", tr.name, set.Name, item.ID, text))
				}
			}
		}
	}
	t.Logf("%-20s %-9s %9s %7s   %-9s %9s %7s  %s", "transformation", "half", "positives", "recall", "half", "positives", "recall", "gate (held-out)")
	for ti, tr := range transformations {
		rec := func(h int) float64 { return float64(got[ti][h].found) / float64(got[ti][h].positives) }
		gate := "reported"
		if g := recallGates[tr.name]; g > 0 {
			gate = fmt.Sprintf(">= %.2f", g)
		}
		t.Logf("%-20s %-9s %9d %7.4f   %-9s %9d %7.4f  %s", tr.name, halfNames[0], got[ti][0].positives, rec(0), halfNames[1], got[ti][1].positives, rec(1), gate)
		if g := recallGates[tr.name]; rec(1) < g {
			t.Errorf("%s: held-out recall %.4f < %.2f", tr.name, rec(1), g)
		}
	}
	if testing.Verbose() {
		for i, m := range missed {
			if i == 40 {
				break
			}
			t.Logf("missed (tuning half): %s", m)
		}
	}
}

// reviewFile holds the verdicts on the flagged GSM8K train prompts.
const reviewFile = "testdata/gsm8k_train_review.tsv"

type reviewEntry struct{ benchmark, benchmarkID, verdict string }

// readReview reads reviewFile, keyed by 1-based line of GSM8K train.
func readReview(t *testing.T) map[int]reviewEntry {
	t.Helper()
	data, err := os.ReadFile(reviewFile)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]reviewEntry{}
	header := true
	for n, row := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if strings.HasPrefix(row, "#") {
			continue
		}
		f := strings.Split(row, "\t")
		if header {
			if want := "line benchmark benchmark_id score verdict reason"; strings.Join(f, " ") != want {
				t.Fatalf("%s:%d: header %q, want the columns %s", reviewFile, n+1, row, want)
			}
			header = false
			continue
		}
		line, err := strconv.Atoi(f[0])
		if len(f) != 6 || err != nil || f[4] != "true-dup" && f[4] != "false-positive" {
			t.Fatalf("%s:%d: want 6 tab-separated fields, a line number and a verdict true-dup or false-positive: %q", reviewFile, n+1, row)
		}
		out[line] = reviewEntry{f[1], f[2], f[4]}
	}
	return out
}

// maxFalsePositiveRate is the most a clean set may have flagged, per half.
const maxFalsePositiveRate = 0.005

// TestFalsePositives checks clean sets against the built-in fingerprints:
// the GSM8K train prompts (every flag must be reviewed in reviewFile; the
// ones reviewed as template duplicates of a benchmark item are right to
// flag), and documents of 2, 10 and 50 KB made of train prompts that are
// clean on their own (long responses). The recorded MATH questions, the
// competition-style clean set, are TestRecordedMath's.
func TestFalsePositives(t *testing.T) {
	ix, err := Builtin(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	prompts := cleanPrompts(t)
	review := readReview(t)
	var clean [2][]string
	var flagged, falsePos, trueDup [2]int
	for i, p := range prompts {
		line := i + 1
		h := half(strconv.Itoa(line))
		ms := ix.Check(p)
		if len(ms) == 0 {
			clean[h] = append(clean[h], p)
			continue
		}
		flagged[h]++
		rv, ok := review[line]
		switch {
		case !ok || rv.benchmark != ms[0].Benchmark || rv.benchmarkID != ms[0].BenchmarkID:
			falsePos[h]++
			t.Errorf("GSM8K train line %d: unreviewed flag: %.4f %s/%s %q\n  %q (review it in %s)", line, ms[0].Score, ms[0].Benchmark, ms[0].BenchmarkID, p, ms[0].MatchedNgrams, reviewFile)
		case rv.verdict == "true-dup":
			trueDup[h]++
		default:
			falsePos[h]++
		}
		delete(review, line)
	}
	for line, rv := range review {
		t.Logf("%s: line %d (%s/%s, %s) is no longer flagged", reviewFile, line, rv.benchmark, rv.benchmarkID, rv.verdict)
	}
	for h := range 2 {
		n := len(clean[h]) + flagged[h]
		rate := float64(falsePos[h]) / float64(n)
		t.Logf("GSM8K train, %-8s half: %d prompts, %d flagged (%d template duplicates, %d false positives): false-positive rate %.4f",
			halfNames[h], n, flagged[h], trueDup[h], falsePos[h], rate)
		if h == 1 && rate > maxFalsePositiveRate {
			t.Errorf("GSM8K train held-out false-positive rate %.4f > %.4f", rate, maxFalsePositiveRate)
		}
	}
	for _, size := range []struct {
		kb, docs int
	}{{2, 600}, {10, 400}, {50, 200}} {
		for h := range 2 {
			docs := longDocs(clean[h], size.kb<<10, size.docs, uint64(h+1))
			n := 0
			for i, d := range docs {
				if ms := ix.Check(d); len(ms) > 0 {
					n++
					t.Logf("%d KB document %d (%s half) flagged: %.4f %s/%s %q", size.kb, i, halfNames[h], ms[0].Score, ms[0].Benchmark, ms[0].BenchmarkID, ms[0].MatchedNgrams)
				}
			}
			rate := float64(n) / float64(len(docs))
			t.Logf("clean %2d KB documents, %-8s half: %d of %d flagged: false-positive rate %.4f", size.kb, halfNames[h], n, len(docs), rate)
			if rate > maxFalsePositiveRate {
				t.Errorf("%d KB documents (%s half): false-positive rate %.4f > %.4f", size.kb, halfNames[h], rate, maxFalsePositiveRate)
			}
		}
	}
}

// recordedMathBenchmark are the recorded MATH questions (by idx) that are
// MATH-500 items, or a template sibling of one, with the item each is.
// Every other recorded question is clean; issue 10 lists seven that an
// earlier scorer flagged on stock phrasing alone ("express your answer as a
// common fraction", "what is the value of x", "the least common multiple
// of", "how many numbers are in the list").
var recordedMathBenchmark = map[int]string{
	18: "math500/test/prealgebra/954.json",
	28: "math500/test/prealgebra/1139.json",
	43: "math500/test/prealgebra/1512.json",
	68: "math500/test/prealgebra/1961.json",
	// Template sibling: "A number is selected at random from 1 through
	// 100, inclusive. What is the probability that the number is a divisor
	// of 50?" against the item's "... is a multiple of 3?". It repeats the
	// item's whole setup and question stem with one condition changed, the
	// kind of template duplicate flagged in GSM8K train too
	// (testdata/gsm8k_train_review.tsv); we flag it on purpose.
	97: "math500/test/prealgebra/1742.json",
}

// TestRecordedMath checks the 60 recorded MATH questions, real competition
// problems: the MATH-500 items and the sibling are flagged with the right
// item first, and nothing else is.
func TestRecordedMath(t *testing.T) {
	ix, err := Builtin(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	qs := recordedMathQuestions(t)
	if len(qs) != 60 {
		t.Fatalf("%s: %d questions, want 60", mathRecordings, len(qs))
	}
	falsePos := 0
	for _, q := range qs {
		ms := ix.Check(q.Question)
		want, isBench := recordedMathBenchmark[q.Idx]
		switch {
		case isBench && (len(ms) == 0 || ms[0].Benchmark+"/"+ms[0].BenchmarkID != want):
			t.Errorf("idx %d is %s but Check = %+v", q.Idx, want, ms)
		case !isBench && len(ms) > 0:
			falsePos++
			t.Errorf("idx %d is clean but flagged: %.4f %s/%s %q\n  %.200q", q.Idx, ms[0].Score, ms[0].Benchmark, ms[0].BenchmarkID, ms[0].MatchedNgrams, q.Question)
		}
	}
	t.Logf("recorded MATH questions: %d benchmark items and siblings flagged; %d of %d clean questions flagged (false-positive rate %.4f)",
		len(recordedMathBenchmark), falsePos, len(qs)-len(recordedMathBenchmark), float64(falsePos)/float64(len(qs)-len(recordedMathBenchmark)))
}
