package teacher

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/syllabus-dev/syllabus/schemas"
)

// This file is the skills protocol: the three requests that ask a teacher
// about skills rather than for a rationale, each with structured output
// (response_format json_schema, which vLLM, SGLang and OpenAI honour), and
// the parsers that validate the answers anyway, since a server may ignore
// the schema. The simulated teacher answers all three (sim_skills.go).

// Names of the JSON schemas the skill requests carry; the simulated teacher
// tells the requests apart by them.
const (
	SchemaSkillInduction = "skill_induction"
	SchemaSkillTags      = "skill_tags"
	SchemaSkillProblems  = "skill_problems"
)

// MaxTagsPerPrompt is the most skills a prompt is tagged with.
const MaxTagsPerPrompt = 3

// ErrInvalidSkills marks a skill answer that breaks the protocol: not the
// JSON asked for, no skill, too many, or a name outside the catalogue.
// Callers retry such an answer, then dead-letter the prompt with the
// message; it is never kept.
var ErrInvalidSkills = errors.New("invalid skill answer")

// problemMarker starts the problem in the user turn of a skill request.
const problemMarker = "Problem:\n"

func responseFormat(name string, schema map[string]any) map[string]any {
	return map[string]any{"response_format": map[string]any{
		"type":        "json_schema",
		"json_schema": map[string]any{"name": name, "strict": true, "schema": schema},
	}}
}

// InductionRequest asks which skills solving problem needs, named freely
// with a one-line description each (catalogue induction).
func (c Config) InductionRequest(problem string) Request {
	schema := map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"skills"},
		"properties": map[string]any{"skills": map[string]any{
			"type": "array", "minItems": 1, "maxItems": MaxTagsPerPrompt,
			"items": map[string]any{
				"type": "object", "additionalProperties": false, "required": []string{"name", "description"},
				"properties": map[string]any{"name": map[string]any{"type": "string"}, "description": map[string]any{"type": "string"}},
			},
		}},
	}
	msgs := []schemas.Message{
		{Role: schemas.RoleSystem, Content: "You are an expert math teacher. You name the skills a student needs to solve a problem: short, general, reusable names in snake_case (for example percentages, unit_conversion), each with a one-line description. Answer in JSON only."},
		{Role: schemas.RoleUser, Content: fmt.Sprintf("Which 1 to %d skills does solving this problem need?\n\n%s%s", MaxTagsPerPrompt, problemMarker, problem)},
	}
	return c.skillRequest(msgs, SchemaSkillInduction, schema, 0)
}

// ParseInduction reads the answer to an InductionRequest.
func ParseInduction(text string) ([]schemas.Skill, error) {
	var a struct {
		Skills []schemas.Skill `json:"skills"`
	}
	if err := decodeJSONAnswer(text, &a); err != nil {
		return nil, err
	}
	var out []schemas.Skill
	for _, s := range a.Skills {
		if strings.TrimSpace(s.Name) != "" {
			out = append(out, schemas.Skill{Name: strings.TrimSpace(s.Name), Description: strings.TrimSpace(s.Description)})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no skill named in %q", ErrInvalidSkills, clip(text))
	}
	return out, nil
}

// TagRequest asks which 1 to 3 skills of the catalogue problem exercises.
// The schema's enum is the catalogue's names. attempt > 0 is a retry after
// an invalid answer: it samples (temperature 0.7, seed attempt) so that it
// is a new request, not the cached answer again.
func (c Config) TagRequest(catalogue []schemas.Skill, problem string, attempt int) Request {
	names := make([]string, len(catalogue))
	var list strings.Builder
	for i, s := range catalogue {
		names[i] = s.Name
		fmt.Fprintf(&list, "- %s: %s\n", s.Name, s.Description)
	}
	schema := map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"skills"},
		"properties": map[string]any{"skills": map[string]any{
			"type": "array", "minItems": 1, "maxItems": MaxTagsPerPrompt, "uniqueItems": true,
			"items": map[string]any{"type": "string", "enum": names},
		}},
	}
	msgs := []schemas.Message{
		{Role: schemas.RoleSystem, Content: "You are an expert math teacher. You tag problems with the skills they exercise, chosen from this catalogue only:\n" + list.String() + "Answer in JSON only."},
		{Role: schemas.RoleUser, Content: fmt.Sprintf("Which 1 to %d skills of the catalogue does this problem exercise?\n\n%s%s", MaxTagsPerPrompt, problemMarker, problem)},
	}
	return c.skillRequest(msgs, SchemaSkillTags, schema, attempt)
}

// ParseTags reads the answer to a TagRequest: 1 to 3 distinct names, each
// in catalogue. Anything else is ErrInvalidSkills naming what was wrong.
func ParseTags(text string, catalogue []schemas.Skill) ([]string, error) {
	var a struct {
		Skills []string `json:"skills"`
	}
	if err := decodeJSONAnswer(text, &a); err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(catalogue))
	for _, s := range catalogue {
		known[s.Name] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, name := range a.Skills {
		if !known[name] {
			return nil, fmt.Errorf("%w: %q is not in the catalogue", ErrInvalidSkills, name)
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	if len(out) == 0 || len(out) > MaxTagsPerPrompt {
		return nil, fmt.Errorf("%w: %d skills named, want 1 to %d", ErrInvalidSkills, len(out), MaxTagsPerPrompt)
	}
	return out, nil
}

// ProblemsRequest asks for n new problems that exercise skill, each with
// one final numeric or symbolic answer (STAT-Syn). attempt varies the
// request as for TagRequest, so further batches are new problems.
func (c Config) ProblemsRequest(skill schemas.Skill, n, attempt int) Request {
	schema := map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"problems"},
		"properties": map[string]any{"problems": map[string]any{
			"type": "array", "minItems": 1, "maxItems": n,
			"items": map[string]any{"type": "string"},
		}},
	}
	msgs := []schemas.Message{
		{Role: schemas.RoleSystem, Content: "You are an expert math teacher who writes new practice problems. Each problem is self-contained, has exactly one final answer, and does not copy any well-known benchmark problem. Answer in JSON only."},
		{Role: schemas.RoleUser, Content: fmt.Sprintf("Write %d new problems that exercise this skill.\n\nSkill: %s: %s", n, skill.Name, skill.Description)},
	}
	return c.skillRequest(msgs, SchemaSkillProblems, schema, attempt)
}

// ProblemsSkill returns the skill name a ProblemsRequest's user turn asks
// for ("" if text is not one).
func ProblemsSkill(text string) string {
	m := problemsSkillRE.FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return m[1]
}

var problemsSkillRE = regexp.MustCompile(`(?m)^Skill: ([^:\n]+):`)

// ParseProblems reads the answer to a ProblemsRequest.
func ParseProblems(text string) ([]string, error) {
	var a struct {
		Problems []string `json:"problems"`
	}
	if err := decodeJSONAnswer(text, &a); err != nil {
		return nil, err
	}
	var out []string
	for _, p := range a.Problems {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no problem in %q", ErrInvalidSkills, clip(text))
	}
	return out, nil
}

// ProblemOf returns the problem a skill request's user turn carries.
func ProblemOf(userTurn string) (string, bool) {
	_, p, ok := strings.Cut(userTurn, problemMarker)
	return p, ok
}

func (c Config) skillRequest(msgs []schemas.Message, name string, schema map[string]any, attempt int) Request {
	req := Request{Model: c.Model, Messages: msgs, N: 1, Temperature: 0, MaxTokens: 512, Extra: responseFormat(name, schema)}
	if attempt > 0 {
		seed := int64(attempt)
		req.Temperature, req.Seed = 0.7, &seed
	}
	return req
}

// decodeJSONAnswer decodes a JSON object answer. A model that ignored the
// schema may wrap the object in a ```json fence or in prose; the first
// {...} object is taken, and anything that is not one is ErrInvalidSkills.
func decodeJSONAnswer(text string, v any) error {
	t := strings.TrimSpace(text)
	if i, j := strings.Index(t, "{"), strings.LastIndex(t, "}"); i >= 0 && j > i {
		t = t[i : j+1]
	}
	if err := json.Unmarshal([]byte(t), v); err != nil {
		return fmt.Errorf("%w: not the JSON object asked for (%v): %q", ErrInvalidSkills, err, clip(text))
	}
	return nil
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
