package transforms

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

// nearInput is a small input with real GSM8K train questions, near copies
// of some, template siblings and pairs of different problems. Ids sort in
// input order, so "the earlier prompt" is the one with the smaller id.
var nearInput = []struct{ id, prompt, answer string }{
	{"n01", "Josie received $50 as a gift. She plans to buy two cassette tapes that cost $9 each and a headphone set that costs $25. How much money will she have left?", "7"},
	{"n02", "A train travels 270 miles in 3 hours. At the same rate, how many additional hours would it take to travel an additional 180 miles?", "2"},
	{"n03", "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?", "72"},
	{"n04", "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?", "10"},
	{"n05", "Tom has 5 apples. Ann has 7 apples. How many more apples does Ann have than Tom?", "2"},
	{"n06", "What is 12÷4?", "3"},
	// GSM8K train line 6692: a real copy of n01 with another name.
	{"n07", "Amanda received $50 as a gift. She plans to buy two cassette tapes that cost $9 each and a headphone set that costs $25. How much money will she have left?", "7"},
	// GSM8K train line 5163: a template sibling of n02, other numbers.
	{"n08", "A train travels 360 miles in 3 hours. At the same rate, how many additional hours would it take to travel an additional 240 miles?", "2"},
	// n03 with a word changed, then that copy with a clause appended (a
	// copy of the copy: near n09, not near n03, so it names n09).
	{"n09", "Natalia sold clips to 48 of her classmates in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?", "72"},
	{"n10", "Natalia sold clips to 48 of her classmates in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May? Give the answer as a whole number.", "72"},
	// n04's sentences reordered.
	{"n11", "Yesterday, she just did 50 minutes of babysitting. Weng earns $12 an hour for babysitting. How much did she earn?", "10"},
	// n05 with the numbers swapped: a different problem, however alike.
	{"n12", "Tom has 7 apples. Ann has 5 apples. How many more apples does Ann have than Tom?", "-2"},
	{"n13", "What is 12×4?", "48"},
}

// TestSFTGenNearDuplicates runs sftgen on Prism over nearInput with
// dedup.near off (nothing found, nothing removed), in report and in remove
// mode: the manifest's near-duplicate counts match what
// filters.NearDup finds on the same texts, near_duplicates.jsonl lists
// every pair, counts reconcile, and in remove mode the copies that state
// the same problem are rejections (reason near_duplicate, naming the
// earliest prompt kept) that never reach the teacher.
func TestSFTGenNearDuplicates(t *testing.T) {
	var lines, texts []string
	answers := map[string]string{}
	for _, p := range nearInput {
		b, _ := json.Marshal(map[string]string{"id": p.id, "prompt": p.prompt, "answer": p.answer})
		lines = append(lines, string(b))
		texts = append(texts, p.prompt)
		answers[p.prompt] = p.answer
	}
	path := filepath.Join(t.TempDir(), "prompts.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	nd, err := filters.NewNearDup(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := nd.Find(texts) // the plain-Go reference
	var wantSame int64
	removed := map[string]string{} // id -> earliest same-problem neighbour
	for _, p := range want {
		if p.SameProblem {
			wantSame++
			a, b := nearInput[p.A].id, nearInput[p.B].id
			if k, ok := removed[b]; !ok || a < k {
				removed[b] = a
			}
		}
	}
	// What the input is built to show, checked here so a change in the
	// detector cannot quietly empty the test.
	wantRemoved := map[string]string{"n07": "n01", "n09": "n03", "n10": "n09", "n11": "n04"}
	if !mapsEqual(removed, wantRemoved) {
		t.Fatalf("filters.NearDup on the test input removes %v, want %v (pairs %+v)", removed, wantRemoved, want)
	}

	sim, err := teacher.StartSim(teacher.SimConfig{Model: "m", Accuracy: 1, Solve: func(prompt string) (teacher.Solution, bool) {
		q, _, _ := strings.Cut(prompt, "\n\n")
		a, ok := answers[q]
		return teacher.Solution{Steps: []string{"Compute it."}, Answer: a}, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	for _, mode := range []string{recipe.NearOff, recipe.NearReport, recipe.NearRemove} {
		t.Run(mode, func(t *testing.T) {
			r := quickRecipe(t, 1)
			r.Input.Path = path
			r.Teacher.URL, r.Teacher.Model = sim.URL(), "m"
			r.Teacher.CacheDir = ""
			r.Dedup.Near = mode
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			if err := runSFTGen(t, r); err != nil {
				t.Fatal(err)
			}
			m := checkRelease(t, r)
			n := m.NearDuplicates
			// A few of these GSM8K stories also match benchmark fingerprints;
			// those are contaminated, whatever the mode.
			contaminated := int64(len(readJSONLIfAny[schemas.Contamination](t, filepath.Join(r.VersionRoot(), "contamination.jsonl"))))
			if mode == recipe.NearOff {
				if n != nil || m.Counts.PromptsKept != int64(len(nearInput))-contaminated {
					t.Errorf("dedup.near off: near_duplicates = %+v, counts %+v", n, m.Counts)
				}
				if report := readJSONLIfAny[schemas.NearDuplicate](t, filepath.Join(r.VersionRoot(), "near_duplicates.jsonl")); len(report) != 0 {
					t.Errorf("dedup.near off: near_duplicates.jsonl holds %d lines", len(report))
				}
				return
			}
			if n == nil {
				t.Fatal("manifest has no near_duplicates")
			}
			wantRemovedN := int64(0)
			if mode == recipe.NearRemove {
				wantRemovedN = int64(len(wantRemoved))
			}
			if n.Mode != mode || n.Threshold != filters.DefaultNearThreshold || n.Pairs != int64(len(want)) || n.SameProblemPairs != wantSame || n.Removed != wantRemovedN {
				t.Errorf("near_duplicates = %+v, want mode %s, %d pairs, %d same problem, %d removed", n, mode, len(want), wantSame, wantRemovedN)
			}
			withNeighbour := map[int]bool{}
			for _, p := range want {
				withNeighbour[p.A], withNeighbour[p.B] = true, true
			}
			if n.Prompts != int64(len(withNeighbour)) {
				t.Errorf("near_duplicates.prompts = %d, want %d: the prompts in a pair", n.Prompts, len(withNeighbour))
			}
			if len(n.Examples) != min(5, len(want)) {
				t.Errorf("examples = %+v, want %d", n.Examples, min(5, len(want)))
			}
			c := m.Counts
			in := int64(len(nearInput))
			if c.PromptsIn != in || c.PromptsDuplicate != wantRemovedN || c.PromptsKept != in-wantRemovedN-contaminated || m.Rejections[filters.ReasonNearDuplicate] != wantRemovedN {
				t.Errorf("counts = %+v, rejections %v; want %d in, %d near duplicates removed, %d contaminated, the rest kept", c, m.Rejections, in, wantRemovedN, contaminated)
			}
			if got := m.TokenUsage["m"].Requests; got != in-wantRemovedN-contaminated {
				t.Errorf("teacher requests = %d, want %d: no teacher call for a removed prompt", got, in-wantRemovedN-contaminated)
			}

			report := readJSONL[schemas.NearDuplicate](t, filepath.Join(r.VersionRoot(), "near_duplicates.jsonl"))
			if len(report) != len(want) {
				t.Errorf("near_duplicates.jsonl has %d lines, want %d", len(report), len(want))
			}
			for _, p := range want {
				a, b := nearInput[p.A].id, nearInput[p.B].id
				i := slices.IndexFunc(report, func(d schemas.NearDuplicate) bool { return d.PromptID == b && d.NearPromptID == a })
				if i < 0 {
					t.Errorf("near_duplicates.jsonl lacks %s ~ %s", b, a)
					continue
				}
				if d := report[i]; d.SameProblem != p.SameProblem || d.Removed != (p.SameProblem && mode == recipe.NearRemove) || d.Source != path || d.Line == 0 {
					t.Errorf("near_duplicates.jsonl line %+v, want same_problem %v", d, p.SameProblem)
				}
			}

			rejected := map[string]schemas.Rejection{}
			for _, rej := range readRejections(t, r) {
				if rej.Reason == filters.ReasonNearDuplicate {
					rejected[rej.PromptID] = rej
				}
			}
			if int64(len(rejected)) != wantRemovedN {
				t.Errorf("rejected table holds %d near_duplicate rows, want %d", len(rejected), wantRemovedN)
			}
			for id, rej := range rejected {
				if !strings.Contains(rej.Detail, "near duplicate of "+wantRemoved[id]+" ") || rej.Stage != "dedup" || rej.Source != path {
					t.Errorf("rejection of %s = %+v, want one naming %s", id, rej, wantRemoved[id])
				}
			}
			t.Logf("%s: %d near pairs (%d same problem) among %d prompts, %d removed; counts %+v; teacher requests %d",
				mode, n.Pairs, n.SameProblemPairs, n.Prompts, n.Removed, c, m.TokenUsage["m"].Requests)
			card, err := os.ReadFile(filepath.Join(r.VersionRoot(), "README.md"))
			if err != nil || !strings.Contains(string(card), "## Near-duplicates") {
				t.Errorf("dataset card has no near-duplicate section (%v)", err)
			}
		})
	}
}

func readRejections(t *testing.T, r recipe.Recipe) []schemas.Rejection {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(r.VersionRoot(), release.TableRejected, "*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rejected files (%v)", err)
	}
	var out []schemas.Rejection
	for _, f := range files {
		rows, err := parquet.ReadFile[schemas.Rejection](f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rows...)
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestNearPairsBucketBound: a bucket larger than MaxBucket compares only
// its earliest members, whatever order they arrive in, and counts the
// rest, so memory and time stay bounded.
func TestNearPairsBucketBound(t *testing.T) {
	f := &nearPairsFn{Threshold: 0.7, MaxBucket: 3}
	if err := f.Setup(); err != nil {
		t.Fatal(err)
	}
	text := nearInput[0].prompt
	sig := f.nd.Signature(text)
	var members []nearMember
	for _, id := range []string{"p5", "p2", "p4", "p1", "p3"} { // arrival order
		members = append(members, nearMember{Ref: nearRef{Key: "k" + id, ID: id, Source: "f", Line: int(id[1] - '0')}, Sig: sig})
	}
	var pairs []string
	tallies := map[string]int64{}
	band := f.nd.FirstSharedBand(sig, sig)
	f.compareBucket(band, members, func(p nearPair) { pairs = append(pairs, p.A.ID+"~"+p.B.ID) }, func(k string, v int64) { tallies[k] += v })
	slices.Sort(pairs)
	if want := []string{"p1~p2", "p1~p3", "p2~p3"}; !slices.Equal(pairs, want) {
		t.Errorf("pairs = %v, want %v", pairs, want)
	}
	if tallies[tallyNearOverflow] != 2 || tallies[tallyNearPairs] != 3 {
		t.Errorf("tallies = %v, want 2 left out and 3 pairs", tallies)
	}
}

// TestNearLoserRecords: a reference survives the spill's encoding, with
// and without the neighbour that removes its prompt.
func TestNearLoserRecords(t *testing.T) {
	for _, l := range []nearLoser{
		{Key: "00ff"},
		{Key: "0a1b", Ref: nearRef{Key: "99", ID: "p-1", Source: "in\n.jsonl", Line: 7}},
	} {
		rec, err := l.encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeLoser(rec)
		if err != nil {
			t.Fatal(err)
		}
		if got != l {
			t.Errorf("decode(encode(%+v)) = %+v", l, got)
		}
	}
	if _, err := decodeLoser([]byte("k\n{not json")); err == nil {
		t.Error("a broken reference decoded without error")
	}
}
