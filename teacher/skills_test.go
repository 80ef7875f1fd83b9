package teacher

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/schemas"
)

var testCatalogue = []schemas.Skill{{Name: "percentages", Description: "percent"}, {Name: "money", Description: "prices"}, {Name: "fractions", Description: "parts"}, {Name: "multi_step_reasoning", Description: "steps"}}

func TestParseTags(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"valid", `{"skills": ["money", "percentages"]}`, []string{"money", "percentages"}},
		{"fenced", "```json\n{\"skills\": [\"fractions\"]}\n```", []string{"fractions"}},
		{"duplicates folded", `{"skills": ["money", "money"]}`, []string{"money"}},
		{"unknown", `{"skills": ["astrophysics"]}`, nil},
		{"empty", `{"skills": []}`, nil},
		{"too many", `{"skills": ["money", "percentages", "fractions", "multi_step_reasoning"]}`, nil},
		{"prose", `The problem needs percentages.`, nil},
		{"wrong type", `{"skills": "money"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTags(tc.text, testCatalogue)
			if tc.want == nil {
				if !errors.Is(err, ErrInvalidSkills) {
					t.Fatalf("got %v, %v; want ErrInvalidSkills", got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestTagRequestCarriesTheCatalogueAsEnum checks the wire form a real
// server sees: response_format json_schema whose items enum is the
// catalogue, and that a retry is a different request (new cache key).
func TestTagRequestCarriesTheCatalogueAsEnum(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Model = "m"
	req := cfg.TagRequest(testCatalogue, "What is 20% of $50?", 0)
	body, err := encodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		ResponseFormat simResponseFormat `json:"response_format"`
	}
	if err := json.Unmarshal(body, &w); err != nil || w.ResponseFormat.Type != "json_schema" || w.ResponseFormat.JSONSchema.Name != SchemaSkillTags {
		t.Fatalf("response_format %+v, %v in %s", w.ResponseFormat, err, body)
	}
	enum, err := schemaEnum(w.ResponseFormat.JSONSchema.Schema)
	if err != nil || !slices.Equal(enum, []string{"percentages", "money", "fractions", "multi_step_reasoning"}) {
		t.Fatalf("enum %v, %v", enum, err)
	}
	if SampleKey(req, 0) == SampleKey(cfg.TagRequest(testCatalogue, "What is 20% of $50?", 1), 0) {
		t.Error("a retry has the same cache key: the cache would hand back the invalid answer")
	}
}

// TestSimSpeaksTheSkillsProtocol runs the three skill requests against the
// simulated teacher through the client: induction names skills, tags come
// from the enum only and are the same every time, and the problems it
// writes for a skill it also solves.
func TestSimSpeaksTheSkillsProtocol(t *testing.T) {
	sim, err := StartSim(SimConfig{Model: "m", Accuracy: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	cfg := DefaultConfig()
	cfg.URL, cfg.Model = sim.URL(), "m"
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	problem := "A shirt costs $40 and is 25% off. How many dollars does it cost now?"
	resp, err := c.Complete(ctx, cfg.InductionRequest(problem))
	if err != nil {
		t.Fatal(err)
	}
	induced, err := ParseInduction(resp.Choices[0].Text)
	if err != nil || len(induced) == 0 {
		t.Fatalf("induction %q: %v", resp.Choices[0].Text, err)
	}
	var tags [][]string
	for range 2 {
		resp, err = c.Complete(ctx, cfg.TagRequest(testCatalogue, problem, 0))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseTags(resp.Choices[0].Text, testCatalogue)
		if err != nil {
			t.Fatal(err)
		}
		tags = append(tags, got)
	}
	if !slices.Equal(tags[0], tags[1]) || !slices.Contains(tags[0], "percentages") || !slices.Contains(tags[0], "money") {
		t.Errorf("tags %v", tags)
	}
	resp, err = c.Complete(ctx, cfg.ProblemsRequest(schemas.Skill{Name: "fractions", Description: "parts"}, 4, 0))
	if err != nil {
		t.Fatal(err)
	}
	problems, err := ParseProblems(resp.Choices[0].Text)
	if err != nil || len(problems) != 4 {
		t.Fatalf("problems %v, %v", problems, err)
	}
	for _, p := range problems {
		sol, ok := simSolveSynthesized(p)
		if !ok || sol.Answer == "" {
			t.Errorf("the sim cannot solve its own problem %q", p)
		}
		resp, err := c.Complete(ctx, cfg.NewRequest([]schemas.Message{{Role: "user", Content: p + "\n\nPlease reason step by step."}}, 1))
		if err != nil || !strings.Contains(resp.Choices[0].Text, `\boxed{`+sol.Answer+`}`) {
			t.Errorf("solving %q: %v %v", p, resp, err)
		}
	}
}

// FuzzParseSkillAnswers: the skill parsers read what a server wrote; they
// never panic, and whatever ParseTags accepts is 1 to 3 distinct catalogue
// names.
func FuzzParseSkillAnswers(f *testing.F) {
	for _, s := range []string{`{"skills": ["money"]}`, "```json\n{\"skills\": [\"fractions\", \"money\"]}\n```", `{"skills": [1, null]}`, `{"problems": ["a"]}`, "{", "}{", `{"skills": [{"name": "x"}]}`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tags, err := ParseTags(text, testCatalogue)
		if err == nil {
			if len(tags) < 1 || len(tags) > MaxTagsPerPrompt {
				t.Fatalf("accepted %d tags", len(tags))
			}
			seen := map[string]bool{}
			for _, s := range tags {
				if seen[s] || !slices.ContainsFunc(testCatalogue, func(k schemas.Skill) bool { return k.Name == s }) {
					t.Fatalf("accepted %v", tags)
				}
				seen[s] = true
			}
		} else if !errors.Is(err, ErrInvalidSkills) {
			t.Fatalf("error %v is not ErrInvalidSkills", err)
		}
		ParseInduction(text)
		ParseProblems(text)
	})
}
