package decontam

import (
	"fmt"
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

func readShared(t testing.TB) []Benchmark {
	t.Helper()
	sets, err := ReadDir(os.DirFS(fullBenchmarksDir(t, "evaluate against every benchmark item")))
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

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

type evalCounts struct{ positives, flagged, rightItem int }

func TestPrecisionRecall(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluation over all shared benchmarks")
	}
	sets := readShared(t)
	clean := cleanPrompts(t)
	ix, err := Build(sets, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	counts := make([]evalCounts, len(transformations))
	missed := map[string][]string{}
	for _, set := range sets {
		for _, item := range set.Items {
			for ti, tr := range transformations {
				text, ok := tr.apply(item.Question, r)
				if !ok {
					continue
				}
				c := &counts[ti]
				c.positives++
				ms := ix.Check(text)
				if len(ms) == 0 {
					missed[tr.name] = append(missed[tr.name], set.Name+"/"+item.ID+": "+text)
					continue
				}
				c.flagged++
				for _, m := range ms {
					if m.Benchmark == set.Name && m.BenchmarkID == item.ID {
						c.rightItem++
						break
					}
				}
			}
		}
	}
	review := readReview(t)
	falsePos := 0
	var verdicts = map[string]int{}
	for i, p := range clean {
		ms := ix.Check(p)
		if len(ms) == 0 {
			continue
		}
		falsePos++
		line := i + 1
		verdict := "unreviewed"
		if r, ok := review[line]; ok && r.benchmark == ms[0].Benchmark && r.benchmarkID == ms[0].BenchmarkID {
			verdict = r.verdict
		}
		verdicts[verdict]++
		if testing.Verbose() || verdict == "unreviewed" {
			t.Logf("clean flagged (line %d, %s): %.4f %s/%s %q\n  %q", line, verdict, ms[0].Score, ms[0].Benchmark, ms[0].BenchmarkID, p, ms[0].MatchedNgrams)
		}
		delete(review, line)
	}
	for line, r := range review {
		t.Logf("%s: line %d (%s/%s) is no longer flagged", reviewFile, line, r.benchmark, r.benchmarkID)
	}
	var tot evalCounts
	t.Logf("%-20s %9s %8s %7s %9s %10s", "transformation", "positives", "flagged", "recall", "precision", "right item")
	for ti, c := range counts {
		tot.positives += c.positives
		tot.flagged += c.flagged
		tot.rightItem += c.rightItem
		t.Logf("%-20s %9d %8d %7.4f %9.4f %10.4f", transformations[ti].name, c.positives, c.flagged,
			float64(c.flagged)/float64(c.positives), float64(c.flagged)/float64(c.flagged+falsePos), float64(c.rightItem)/float64(c.flagged))
	}
	recall := float64(tot.flagged) / float64(tot.positives)
	precision := float64(tot.flagged) / float64(tot.flagged+falsePos)
	t.Logf("%-20s %9d %8d %7.4f %9.4f %10.4f", "overall", tot.positives, tot.flagged, recall, precision, float64(tot.rightItem)/float64(tot.flagged))
	t.Logf("clean GSM8K-train prompts: %d, flagged: %d", len(clean), falsePos)
	// The flagged train prompts reviewed as template duplicates of a
	// benchmark item are right to flag: counted as true positives, the
	// rest (reviewed false positives and unreviewed flags) as false.
	truePos := tot.flagged + verdicts["true-dup"]
	reviewedPrecision := float64(truePos) / float64(truePos+falsePos-verdicts["true-dup"])
	t.Logf("reviewed (%s): %d true-dup, %d false-positive, %d unreviewed; precision %.5f counting every flag as a false positive, %.5f with the reviewed verdicts",
		reviewFile, verdicts["true-dup"], verdicts["false-positive"], verdicts["unreviewed"], precision, reviewedPrecision)
	if testing.Verbose() {
		for name, ms := range missed {
			for i, m := range ms {
				if i == 15 {
					break
				}
				t.Logf("missed %s: %.200q", name, m)
			}
		}
	}
	if recall < 0.95 {
		t.Errorf("recall %.4f < 0.95", recall)
	}
	if precision < 0.99 {
		t.Errorf("precision %.4f < 0.99", precision)
	}
}
