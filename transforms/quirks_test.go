package transforms

import (
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/builtin"
)

// Without the preflight (a graph built by a caller that skips it), a server
// answering n > 1 with HTTP 400 is found out by the workers' clients: every
// prompt still gets its k samples, none is dead-lettered, and the manifest
// books every request the server saw, the refused ones too.
func TestSFTGenServerRefusingNMidRun(t *testing.T) {
	r := quickRecipe(t, 12)
	spec, err := builtin.ParseSpec(r.Input.Path)
	if err != nil {
		t.Fatal(err)
	}
	key := map[string]teacher.Solution{}
	for _, p := range builtin.Generate(spec) {
		key[p.Text] = teacher.Solution{Steps: p.Steps, Answer: p.Answer}
	}
	sim, err := teacher.StartSim(teacher.SimConfig{Model: r.Teacher.Model, Accuracy: 0.8, SingleSample: true,
		Solve: func(prompt string) (teacher.Solution, bool) {
			text, _, _ := strings.Cut(prompt, "\n\n")
			sol, ok := key[text]
			return sol, ok
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	r.Teacher.URL = sim.URL()
	r.Teacher.CacheDir = ""
	if err := runSFTGen(t, r); err != nil {
		t.Fatal(err)
	}
	m := checkRelease(t, r)
	c := m.Counts
	toTeacher := c.PromptsIn - c.PromptsContaminated - c.PromptsDuplicate
	st := sim.Stats()
	u := m.TokenUsage[r.Teacher.Model]
	if toTeacher == 0 || c.PromptsDeadLetter != 0 || c.SamplesGenerated != 4*toTeacher {
		t.Errorf("counts %+v: want no dead letter and 4 samples for each of %d prompts", c, toTeacher)
	}
	if st.BadRequests == 0 || u.Requests != st.Requests || !u.SingleSampleRequests {
		t.Errorf("server refused %d of %d requests; manifest books %+v", st.BadRequests, st.Requests, u)
	}
	t.Logf("%d prompts, %d samples, 0 dead letters; the server refused %d requests with n > 1 and answered %d; the manifest books %d requests",
		toTeacher, c.SamplesGenerated, st.BadRequests, st.Completed, u.Requests)
}
