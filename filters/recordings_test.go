package filters

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"testing"
)

// recordingsPath is the shared recording of 480 real Qwen2.5-Math-Instruct
// responses to 60 MATH problems, with the Qwen evaluation grader's verdicts.
const recordingsPath = "../../shared/recordings/qwen25-math-instruct-math-8samples.jsonl"

type recordedProblem struct {
	Idx      int    `json:"idx"`
	Question string `json:"question"`
	Answer   string `json:"answer"`
	Samples  []struct {
		Response    string `json:"response"`
		QwenPred    string `json:"qwen_pred"`
		QwenCorrect bool   `json:"qwen_correct"`
	} `json:"samples"`
}

func readRecordings(t testing.TB) []recordedProblem {
	t.Helper()
	f, err := os.Open(recordingsPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("recordings not present at %s", recordingsPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []recordedProblem
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var p recordedProblem
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("%s: %v", recordingsPath, err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRecordingsDump(t *testing.T) {
	v := NewMathVerifier(nil)
	for _, p := range readRecordings(t) {
		for i, s := range p.Samples {
			got := v.Verify(s.Response, p.Answer)
			if got.Correct != s.QwenCorrect || !got.HasAnswer {
				t.Logf("idx=%d sample=%d qwen=%v(%q) ours=%v has=%v extracted=%q ref=%q reason=%s", p.Idx, i, s.QwenCorrect, s.QwenPred, got.Correct, got.HasAnswer, got.Extracted, p.Answer, got.Reason)
			}
		}
	}
}
