package mathverify

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/filters"
)

// gitDirEnv names the git directory of a fetched copy of
// huggingface/Math-Verify (a bare repository is enough).
const gitDirEnv = "MATHVERIFY_GIT"

const disagreementsFile = "testdata/disagreements.txt"

// minAgreement is the agreement required overall and in every group.
const minAgreement = 0.90

type listed struct {
	correct bool
	why     string
	line    int
}

// readDisagreements reads testdata/disagreements.txt: one line per case
// where we keep a verdict different from Math-Verify's expectation,
// "KEY correct|wrong reason".
func readDisagreements(t *testing.T) map[string]listed {
	t.Helper()
	data, err := os.ReadFile(disagreementsFile)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]listed{}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 || (f[1] != "correct" && f[1] != "wrong") {
			t.Fatalf("%s:%d: want \"KEY correct|wrong reason\": %q", disagreementsFile, n+1, line)
		}
		if _, dup := out[f[0]]; dup {
			t.Fatalf("%s:%d: %s listed twice", disagreementsFile, n+1, f[0])
		}
		why := strings.TrimSpace(strings.SplitN(line, f[1], 2)[1])
		if len(why) < 20 {
			t.Fatalf("%s:%d: a disagreement needs its reason, not %q", disagreementsFile, n+1, why)
		}
		out[f[0]] = listed{correct: f[1] == "correct", why: why, line: n + 1}
	}
	return out
}

// TestDisagreementsFile checks the list's format without the fetched copy.
func TestDisagreementsFile(t *testing.T) {
	if len(readDisagreements(t)) == 0 {
		t.Fatal("no disagreements listed: the file is empty or unreadable")
	}
}

// readCases reads every gold/pred/expected table from tests/*.py of the
// fetched copy.
func readCases(t *testing.T, gitDir string) (cases []Case, commit string) {
	t.Helper()
	git := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"--git-dir=" + gitDir}, args...)...).Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return string(out)
	}
	commit = strings.TrimSpace(git("rev-parse", "HEAD"))
	for _, path := range strings.Fields(git("ls-tree", "--name-only", "HEAD", "tests/")) {
		if !strings.HasSuffix(path, ".py") {
			continue
		}
		name := strings.TrimPrefix(path, "tests/")
		cs, skipped, err := ParseCases(name, git("show", "HEAD:"+path))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range skipped {
			t.Logf("not a gold/pred table, not counted: %s", s)
		}
		cases = append(cases, cs...)
	}
	return cases, commit
}

// TestAgreement grades every Math-Verify case as pipelines/grade would
// (response = pred, reference = gold) and compares with the expected
// verdict. Agreement must be at least 90% overall and in every group
// (test function), and every disagreement must be listed, with the verdict
// we keep and why, in testdata/disagreements.txt.
//
//	MATHVERIFY_GIT=/path/to/Math-Verify/.git go test ./bench/mathverify -run TestAgreement -v
func TestAgreement(t *testing.T) {
	gitDir := os.Getenv(gitDirEnv)
	if gitDir == "" {
		t.Skipf("set %s to the git directory of a copy of huggingface/Math-Verify", gitDirEnv)
	}
	cases, commit := readCases(t, gitDir)
	if len(cases) < 200 {
		t.Fatalf("read only %d cases from %s: the reader is out of date", len(cases), gitDir)
	}
	documented := readDisagreements(t)
	v := filters.NewMathVerifier(nil)
	type tally struct{ n, agree, listed int }
	groups := map[string]*tally{}
	var order []string
	total, agree := 0, 0
	seen := map[string]bool{}
	verbose := os.Getenv("MATHVERIFY_SHOW") != ""
	for _, c := range cases {
		g := groups[c.Group]
		if g == nil {
			g = &tally{}
			groups[c.Group] = g
			order = append(order, c.Group)
		}
		got := v.Verify(c.Pred, c.Gold)
		g.n++
		total++
		key := c.Key()
		if got.Correct == c.Expected {
			g.agree++
			agree++
			if d, ok := documented[key]; ok {
				t.Errorf("%s:%d: %s is listed as a disagreement but we agree (expected %v)", disagreementsFile, d.line, key, c.Expected)
			}
			continue
		}
		seen[key] = true
		d, ok := documented[key]
		if ok {
			g.listed++
		}
		switch {
		case !ok:
			t.Errorf("unlisted disagreement %s: ours correct=%v (extracted %q: %s), Math-Verify expects %v; gold %.120q pred %.200q options %v",
				key, got.Correct, got.Extracted, got.Reason, c.Expected, c.Gold, tail(c.Pred, 200), c.Options)
		case d.correct != got.Correct:
			t.Errorf("%s:%d: %s: listed verdict correct=%v, got %v (%s)", disagreementsFile, d.line, key, d.correct, got.Correct, got.Reason)
		case verbose:
			t.Logf("kept %s: ours %v (%q: %s) — %s", key, got.Correct, got.Extracted, got.Reason, d.why)
		}
	}
	for key, d := range documented {
		if !seen[key] {
			t.Errorf("%s:%d: %s is listed but is not a disagreement in %s", disagreementsFile, d.line, key, commit)
		}
	}
	slices.Sort(order)
	var table strings.Builder
	fmt.Fprintf(&table, "agreement with huggingface/Math-Verify@%.12s tests:\n", commit)
	fmt.Fprintf(&table, "  %-58s %9s %7s %7s\n", "group", "agree", "raw %", "listed")
	var below []string
	for _, name := range order {
		g := groups[name]
		pct := float64(g.agree) / float64(g.n)
		fmt.Fprintf(&table, "  %-58s %4d/%-4d %6.1f%% %7d\n", name, g.agree, g.n, 100*pct, g.listed)
		// A group below 90% passes only when every disagreement in it is
		// listed with its reason; the table shows the raw figure either way.
		if pct < minAgreement {
			below = append(below, name)
			if g.agree+g.listed < g.n {
				t.Errorf("group %s: agreement %d/%d = %.1f%% < %.0f%% with unlisted disagreements", name, g.agree, g.n, 100*pct, 100*minAgreement)
			}
		}
	}
	pct := float64(agree) / float64(total)
	fmt.Fprintf(&table, "  %-58s %4d/%-4d %6.1f%%", "overall", agree, total, 100*pct)
	if len(below) > 0 {
		fmt.Fprintf(&table, "\n  below %.0f%% raw (every disagreement listed): %s", 100*minAgreement, strings.Join(below, ", "))
	}
	t.Log(table.String())
	if pct < minAgreement {
		t.Errorf("overall agreement %d/%d = %.1f%% < %.0f%%", agree, total, 100*pct, 100*minAgreement)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
