package transforms

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/teacher/teachertest"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
)

const recordingsFile = "../testdata/recordings/qwen25-math-instruct-math-8samples.jsonl"

// recordedRun is the recordings as a run's input: a JSONL file (id, prompt,
// answer, MATH level), a replay teacher serving the recorded responses in
// order, and a /pooling server scoring each response with its recorded
// rm_score.
type recordedRun struct {
	recs map[string]teacher.Recording // by prompt id
	// served is the score the pooling server gives each recorded
	// response, by prompt id and sample index.
	served  map[string][]float64
	input   string
	replay  *teacher.Sim
	pooling *teachertest.PoolingServer
}

func startRecordedRun(t testing.TB, drop func(id string) bool) *recordedRun {
	t.Helper()
	recs, err := teacher.ReadRecordings(recordingsFile)
	if err != nil {
		t.Fatal(err)
	}
	run := &recordedRun{recs: map[string]teacher.Recording{}, served: map[string][]float64{}}
	var lines []string
	var replay []teacher.Recording
	scores := map[[2]string]float64{}
	for _, rec := range recs {
		id := fmt.Sprintf("math-%d", rec.Idx)
		run.recs[id] = rec
		line, _ := json.Marshal(map[string]string{"id": id, "prompt": rec.Question, "answer": rec.Answer, "level": rec.Level})
		lines = append(lines, string(line))
		user := rec.Question + "\n\n" + recipe.DefaultInstruction // the user turn sftgen sends
		if drop == nil || !drop(id) {
			for _, s := range rec.Samples {
				// A response recorded twice may carry two scores (the
				// reward model ran in bf16); the server has one per
				// response, the first recorded.
				if _, ok := scores[teachertest.Key(user, s.Response)]; !ok {
					scores[teachertest.Key(user, s.Response)] = s.RMScore
				}
			}
		}
		for _, s := range rec.Samples {
			run.served[id] = append(run.served[id], scores[teachertest.Key(user, s.Response)])
		}
		rec.Question = user
		replay = append(replay, rec)
	}
	run.input = filepath.Join(t.TempDir(), "math.jsonl")
	if err := os.WriteFile(run.input, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if run.replay, err = teacher.StartReplay(teacher.ReplayConfig{Recordings: replay, Slots: 64}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.replay.Close() })
	run.pooling = teachertest.StartPooling("qwen2.5-math-rm", scores)
	t.Cleanup(run.pooling.Close)
	return run
}

func (run *recordedRun) recipe(t testing.TB) recipe.Recipe {
	t.Helper()
	r := recipe.Default()
	r.Name = "math"
	r.Input.Path = run.input
	r.Output.Path = t.TempDir()
	r.Output.Version = "v1"
	r.Teacher.URL, r.Teacher.Model = run.replay.URL(), run.replay.Model()
	r.Teacher.CacheDir = ""
	r.Reward.URL, r.Reward.Model = run.pooling.URL, run.pooling.Model
	r.Sampling.SamplesPerPrompt = 8
	r.Sampling.MaxCorrect = 1
	r.Sampling.MaxPairs = 1
	return r
}

func readTable[T any](t *testing.T, r recipe.Recipe, m release.Manifest, table string) []T {
	t.Helper()
	var out []T
	for _, f := range filesOf(m, table) {
		rows, err := parquet.ReadFile[T](filepath.Join(r.VersionRoot(), f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, rows...)
	}
	return out
}

// handWilson is the 95 % Wilson score interval, written out.
func handWilson(k, n int) (float64, float64) {
	z := 1.959963984540054
	p, nf := float64(k)/float64(n), float64(n)
	c := (p + z*z/(2*nf)) / (1 + z*z/nf)
	h := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / (1 + z*z/nf)
	lo, hi := math.Max(0, c-h), math.Min(1, c+h)
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return lo, hi
}

func handBucket(p float64) string {
	switch {
	case p == 0:
		return "unsolved"
	case p <= 0.3:
		return "hard"
	case p <= 0.7:
		return "medium"
	case p < 1:
		return "easy"
	}
	return "trivial"
}

// TestSFTGenBestOfNOnRecordings runs the real graph on Prism over the 60
// recorded MATH prompts × 8 real Qwen2.5-Math responses, with the recorded
// rm_score behind a /pooling server, and checks every released row against
// a hand computation from the recordings: each SFT row is the
// highest-reward correct sample of its prompt and carries that reward;
// each preference pair is the best-scored correct against the worst-scored
// incorrect response; RLVR rows hold the prompts solved sometimes, with
// the pass rate, its Wilson interval, the bucket and the MATH level.
func TestSFTGenBestOfNOnRecordings(t *testing.T) {
	run := startRecordedRun(t, nil)
	r := run.recipe(t)
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := runSFTGen(t, r); err != nil {
		t.Fatal(err)
	}
	m := checkRelease(t, r)
	v := filters.NewMathVerifier(nil)

	contaminated := map[string]bool{}
	for _, c := range readJSONLIfAny[schemas.Contamination](t, filepath.Join(r.VersionRoot(), "contamination.jsonl")) {
		contaminated[c.ID] = true
	}
	type hand struct {
		correct              int
		bestCorrect, worstWr float64
		hasWrong             bool
	}
	want := map[string]hand{}
	var solved, unsolved, sometimes int
	for id, rec := range run.recs {
		if contaminated[id] {
			continue
		}
		h := hand{bestCorrect: math.Inf(-1), worstWr: math.Inf(1)}
		for i, s := range rec.Samples {
			vd := v.Verify(s.Response, rec.Answer)
			switch {
			case vd.Correct:
				h.correct++
				h.bestCorrect = math.Max(h.bestCorrect, run.served[id][i])
			case vd.HasAnswer:
				h.hasWrong = true
				h.worstWr = math.Min(h.worstWr, run.served[id][i])
			}
		}
		want[id] = h
		switch h.correct {
		case 0:
			unsolved++
		case 8:
			solved++
		default:
			sometimes++
		}
	}
	t.Logf("%d prompts not contaminated: %d solved by every sample, %d by none, %d sometimes", len(want), solved, unsolved, sometimes)

	sft := readTable[schemas.SFTExample](t, r, m, release.TableSFT)
	if len(sft) != solved+sometimes {
		t.Errorf("%d SFT rows, want one per prompt with a correct sample: %d", len(sft), solved+sometimes)
	}
	for _, row := range sft {
		h, rec := want[row.PromptID], run.recs[row.PromptID]
		s, served := rec.Samples[row.SampleIndex], run.served[row.PromptID][row.SampleIndex]
		if row.Reward == nil || *row.Reward != h.bestCorrect || served != h.bestCorrect {
			t.Errorf("%s: SFT row is sample %d (reward %v, served %v), want the best correct reward %v", row.PromptID, row.SampleIndex, deref(row.Reward), served, h.bestCorrect)
		}
		if row.Messages[len(row.Messages)-1].Content != s.Response || row.SourceDifficulty != rec.Level || row.ResponseTokens <= 0 {
			t.Errorf("%s: SFT row does not hold sample %d as recorded (level %q, tokens %d)", row.PromptID, row.SampleIndex, row.SourceDifficulty, row.ResponseTokens)
		}
	}

	pairs := readTable[schemas.PreferencePair](t, r, m, release.TablePreference)
	wantPairs := 0
	for id, h := range want {
		_ = id
		if h.correct > 0 && h.hasWrong {
			wantPairs++
		}
	}
	if len(pairs) != wantPairs {
		t.Errorf("%d preference rows, want %d (prompts with a correct and an incorrect answer)", len(pairs), wantPairs)
	}
	for _, p := range pairs {
		h, rec := want[p.PromptID], run.recs[p.PromptID]
		if p.ChosenReward == nil || p.RejectedReward == nil || *p.ChosenReward != h.bestCorrect || *p.RejectedReward != h.worstWr {
			t.Errorf("%s: pair rewards %v / %v, want the largest margin %v / %v", p.PromptID, p.ChosenReward, p.RejectedReward, h.bestCorrect, h.worstWr)
			continue
		}
		if p.Chosen[0].Content != rec.Samples[p.ChosenIndex].Response || p.Rejected[0].Content != rec.Samples[p.RejectedIndex].Response ||
			run.served[p.PromptID][p.RejectedIndex] != h.worstWr || run.served[p.PromptID][p.ChosenIndex] != h.bestCorrect {
			t.Errorf("%s: pair (%d, %d) does not hold the recorded responses", p.PromptID, p.ChosenIndex, p.RejectedIndex)
		}
	}

	rlvr := readTable[schemas.RLVRExample](t, r, m, release.TableRLVR)
	if len(rlvr) != sometimes {
		t.Errorf("%d RLVR rows, want %d (pass rate in (0, 1))", len(rlvr), sometimes)
	}
	for _, row := range rlvr {
		h, rec := want[row.PromptID], run.recs[row.PromptID]
		lo, hi := handWilson(h.correct, 8)
		if row.PassRate != float64(h.correct)/8 || math.Abs(row.PassRateLow-lo) > 1e-12 || math.Abs(row.PassRateHigh-hi) > 1e-12 ||
			row.Difficulty != handBucket(row.PassRate) || row.GroundTruth != rec.Answer || row.SourceDifficulty != rec.Level || row.Correct != int32(h.correct) || row.SamplesDrawn != 8 {
			t.Errorf("%s: RLVR row %+v; want %d/8 correct, interval [%v, %v], %s, ground truth %q, %s", row.PromptID, row, h.correct, lo, hi, handBucket(row.PassRate), rec.Answer, rec.Level)
		}
	}
	if m.RLVRExcluded[filters.ReasonRLVRSolved] != int64(solved) || m.Rejections[filters.ReasonNoCorrect] != int64(unsolved) {
		t.Errorf("rlvr excluded %v, rejections %v; want %d solved, %d no_correct_sample", m.RLVRExcluded, m.Rejections, solved, unsolved)
	}
	if m.Reward == nil || m.Reward.Prompts != int64(solved+sometimes) || m.Lineage.RewardModel != "qwen2.5-math-rm" || run.pooling.Requests() != m.Reward.Scored {
		t.Errorf("reward summary %+v, lineage %+v, pooling requests %d", m.Reward, m.Lineage, run.pooling.Requests())
	}
}

// TestSFTGenCurationAccountsForEveryPrompt runs the recordings with every
// new way out of the stage after verification at once: a length limit
// (response_too_long), refusal rows, an RLVR range, and a prompt the
// reward model cannot score (a dead letter of stage "reward"). Every
// prompt must end in exactly one place, and the counts reconcile.
func TestSFTGenCurationAccountsForEveryPrompt(t *testing.T) {
	const unscorable = "math-2"
	run := startRecordedRun(t, func(id string) bool { return id == unscorable })
	r := run.recipe(t)
	r.Sampling.MaxResponseTokens = 300
	r.Refusal.Enabled = true
	r.RLVR.MinPassRate, r.RLVR.MaxPassRate = 0.2, 0.8
	r.Output.MaxDeadLetterFraction = 0.5
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := runSFTGen(t, r); err != nil {
		t.Fatal(err)
	}
	m := checkRelease(t, r)
	if m.Rejections[filters.ReasonTooLong] == 0 || m.Counts.RefusalRows == 0 || m.DeadLetters["reward"] != 1 || m.RLVRExcluded[filters.ReasonRLVRRange] == 0 {
		t.Errorf("rejections %v, refusal rows %d, dead letters %v, rlvr excluded %v: want each new way out used", m.Rejections, m.Counts.RefusalRows, m.DeadLetters, m.RLVRExcluded)
	}
	fate := map[string]string{}
	place := func(id, where string) {
		if prev, ok := fate[id]; ok && prev != where {
			t.Errorf("%s is both %s and %s", id, prev, where)
		}
		fate[id] = where
	}
	for _, row := range readTable[schemas.SFTExample](t, r, m, release.TableSFT) {
		place(row.PromptID, "kept")
	}
	for _, row := range readTable[schemas.PreferencePair](t, r, m, release.TablePreference) {
		place(row.PromptID, "kept")
	}
	for _, row := range readTable[schemas.RLVRExample](t, r, m, release.TableRLVR) {
		place(row.PromptID, "kept")
	}
	for _, row := range readTable[schemas.RefusalExample](t, r, m, release.TableRefusal) {
		place(row.PromptID, "kept")
		if row.Messages[len(row.Messages)-1].Content != filters.DefaultRefusalMessage {
			t.Errorf("refusal row %s: %+v", row.PromptID, row.Messages)
		}
	}
	for _, row := range readTable[schemas.Rejection](t, r, m, release.TableRejected) {
		place(row.PromptID, "rejected:"+row.Reason)
	}
	for _, c := range readJSONLIfAny[schemas.Contamination](t, filepath.Join(r.VersionRoot(), "contamination.jsonl")) {
		place(c.ID, "contaminated")
	}
	for _, d := range readJSONLIfAny[schemas.DeadLetter](t, filepath.Join(r.VersionRoot(), "dead_letter.jsonl")) {
		place(d.PromptID, "dead:"+d.Stage)
	}
	if fate[unscorable] != "dead:reward" {
		t.Errorf("%s ended as %q, want a reward dead letter", unscorable, fate[unscorable])
	}
	for id := range run.recs {
		if fate[id] == "" {
			t.Errorf("%s is nowhere", id)
		}
	}
	kept := 0
	for _, f := range fate {
		if f == "kept" {
			kept++
		}
	}
	if int64(kept) != m.Counts.PromptsKept || int64(len(fate)) != m.Counts.PromptsIn {
		t.Errorf("%d prompts kept in the files, manifest says %d; %d placed of %d read", kept, m.Counts.PromptsKept, len(fate), m.Counts.PromptsIn)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// policyRun is what one run over the recordings spent and kept.
type policyRun struct {
	kept, completion, samples int64
	m                         release.Manifest
}

func (p policyRun) tokensPerKept() float64 { return float64(p.completion) / float64(p.kept) }

// runPolicy runs the recordings (k = 8, m = 1, p = 1, no reward model)
// under a sampling policy, with a fresh replay teacher.
func runPolicy(tb testing.TB, policy string) policyRun {
	tb.Helper()
	run := startRecordedRun(tb, nil)
	r := run.recipe(tb)
	r.Reward.URL, r.Reward.Model = "", ""
	r.Sampling.Policy = policy
	if err := r.Validate(); err != nil {
		tb.Fatal(err)
	}
	if err := runRecipe(tb, r); err != nil {
		tb.Fatal(err)
	}
	m := readManifest(tb, r)
	if err := m.Counts.Reconcile(); err != nil {
		tb.Fatal(err)
	}
	var completion int64
	for _, u := range m.TokenUsage {
		completion += u.CompletionTokens
	}
	return policyRun{kept: m.Counts.PromptsKept, completion: completion, samples: m.Counts.SamplesGenerated, m: m}
}

// TestSFTGenAdaptiveOnRecordings runs the recordings through the real
// graph under fixed k = 8 and under adaptive sampling (rounds of 2) and
// holds the goal on what the teacher reported: at least 30 % fewer
// completion tokens per kept prompt, with at least 98 % of the prompts
// kept; the manifest books the samples and tokens saved.
func TestSFTGenAdaptiveOnRecordings(t *testing.T) {
	fixed, adaptive := runPolicy(t, filters.PolicyFixed), runPolicy(t, filters.PolicyAdaptive)
	saved := 1 - adaptive.tokensPerKept()/fixed.tokensPerKept()
	keptShare := float64(adaptive.kept) / float64(fixed.kept)
	t.Logf("fixed: %d kept, %d samples, %.0f completion tokens per kept prompt; adaptive: %d kept, %d samples, %.0f per kept prompt: %.1f%% fewer, %.1f%% of the prompts kept",
		fixed.kept, fixed.samples, fixed.tokensPerKept(), adaptive.kept, adaptive.samples, adaptive.tokensPerKept(), 100*saved, 100*keptShare)
	if saved < 0.30 || keptShare < 0.98 {
		t.Errorf("adaptive saved %.1f%% of the tokens per kept prompt and kept %.1f%% of the prompts; goal >= 30%% and >= 98%%", 100*saved, 100*keptShare)
	}
	s := adaptive.m.Sampling
	if s.Policy != filters.PolicyAdaptive || s.SamplesDrawn != adaptive.samples || s.SamplesSaved != fixed.samples-adaptive.samples || s.StoppedEarly == 0 || s.TokensSavedEstimate <= 0 {
		t.Errorf("manifest sampling %+v; want the %d samples not drawn booked", s, fixed.samples-adaptive.samples)
	}
	if f := fixed.m.Sampling; f.SamplesSaved != 0 || f.SamplesDrawn != f.MaxSamples {
		t.Errorf("fixed run books savings: %+v", f)
	}
}

// BenchmarkSFTGenAdaptiveVsFixed reports, side by side in one run, the
// completion tokens per kept prompt and the prompts kept of fixed k = 8
// and adaptive sampling over the recordings (the teacher's own usage
// counts, whole Prism runs).
//
//	go test ./transforms -run '^$' -bench AdaptiveVsFixed -benchtime 1x
func BenchmarkSFTGenAdaptiveVsFixed(b *testing.B) {
	var fixed, adaptive policyRun
	for b.Loop() {
		fixed, adaptive = runPolicy(b, filters.PolicyFixed), runPolicy(b, filters.PolicyAdaptive)
	}
	b.ReportMetric(fixed.tokensPerKept(), "fixed-tokens/kept")
	b.ReportMetric(adaptive.tokensPerKept(), "adaptive-tokens/kept")
	b.ReportMetric(100*(1-adaptive.tokensPerKept()/fixed.tokensPerKept()), "%tokens-saved")
	b.ReportMetric(float64(fixed.kept), "fixed-kept")
	b.ReportMetric(float64(adaptive.kept), "adaptive-kept")
	b.ReportMetric(float64(adaptive.samples)/float64(fixed.samples), "samples-ratio")
}

// TestSFTGenSimulatedRewardModel: reward.model "sim" has the simulated
// teacher score samples as a reward model would (the offline quickstart's
// best-of-N): every SFT row carries a reward from the correct band, every
// pair a correct chosen and an incorrect rejected score, and the manifest
// books the scoring. With a real teacher, "sim" is refused.
func TestSFTGenSimulatedRewardModel(t *testing.T) {
	r := quickRecipe(t, 40)
	r.Reward.Model = recipe.SimTeacher
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	runSimulated(t, &r)
	m := readManifestFile(t, r)
	sft := readTable[schemas.SFTExample](t, r, m, release.TableSFT)
	pairs := readTable[schemas.PreferencePair](t, r, m, release.TablePreference)
	if len(sft) == 0 || len(pairs) == 0 {
		t.Fatalf("%d sft rows, %d pairs: want some of each", len(sft), len(pairs))
	}
	for _, row := range sft {
		if row.Reward == nil || *row.Reward < 1 || *row.Reward > 3 {
			t.Errorf("sft row %s: reward %v, want a score in the correct band [1, 3]", row.PromptID, deref(row.Reward))
		}
	}
	for _, p := range pairs {
		if p.ChosenReward == nil || p.RejectedReward == nil || *p.ChosenReward < 1 || *p.RejectedReward > -1 {
			t.Errorf("pair %s: chosen %v, rejected %v: want chosen >= 1, rejected <= -1", p.PromptID, deref(p.ChosenReward), deref(p.RejectedReward))
		}
	}
	if m.Reward == nil || m.Reward.Model != recipe.SimTeacher || m.Reward.Prompts != int64(len(sft)) || m.Lineage.RewardModel != recipe.SimTeacher {
		t.Errorf("manifest reward %+v, lineage reward model %q; want sim over the %d prompts with SFT rows", m.Reward, m.Lineage.RewardModel, len(sft))
	}

	real := quickRecipe(t, 10)
	real.Teacher.URL, real.Teacher.Model = "http://127.0.0.1:1/v1", "some-model"
	real.Reward.Model = recipe.SimTeacher
	if err := real.Validate(); err == nil || !strings.Contains(err.Error(), "reward.model") {
		t.Errorf("reward.model sim with a real teacher: err %v, want one naming reward.model", err)
	}
}
