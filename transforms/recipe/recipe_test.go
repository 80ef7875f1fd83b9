package recipe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/schemas"
)

// TestExampleRecipe keeps the documented example recipe loadable and valid.
func TestExampleRecipe(t *testing.T) {
	r, err := Load("../../docs/examples/gsm8k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if r.Sampling.SamplesPerPrompt != 8 || r.Teacher.Timeout != 10*time.Minute || r.Teacher.Extra["top_k"] != 50 || len(r.Decontam.Benchmarks) != 1 {
		t.Errorf("recipe = %+v", r)
	}
}

func TestLoadRecipeErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown keys name key and line", "name: x\ninput:\n  path: a.jsonl\n  txt_field: q\nteacher:\n  modle: m\n",
			[]string{`line 4: unknown key "txt_field"`, `line 6: unknown key "modle"`}},
		{"wrong type", "sampling:\n  samples_per_prompt: many\n", []string{"line 2", "many"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.yaml")
			os.WriteFile(path, []byte(tt.yaml), 0o644)
			_, err := Load(path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	r := Default()
	r.Name = "a b"
	r.Input.Path = "prompts.csv"
	r.Teacher.MaxConcurrency = 0
	r.Sampling.SamplesPerPrompt = 0
	r.Sampling.Verifier = "vibes"
	r.Output.ShardRows = 0
	r.Output.LeaseTTL = time.Millisecond
	r.Output.WaitForLease = -time.Second
	err := r.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"name must", "input.path", "teacher.url must be set for real input", "teacher.max_concurrency", "sampling.samples_per_prompt", "sampling.verifier", "output.shard_rows", "output.lease_ttl", "output.wait_for_lease"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not mention %s:\n%v", w, err)
		}
	}
}

func TestResolveDefaults(t *testing.T) {
	r := Default()
	r.Output.Path = "s3://b/p"
	r.Resolve(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if r.Output.Version != "20260102T030405Z" || r.Teacher.CacheDir != "s3://b/p/.cache/teacher" {
		t.Errorf("resolved %q %q", r.Output.Version, r.Teacher.CacheDir)
	}
	r = Default()
	r.Teacher.CacheDir = CacheOff
	r.Resolve(time.Now())
	if r.Teacher.CacheDir != "" {
		t.Errorf("cache off resolved to %q", r.Teacher.CacheDir)
	}
}

func TestConversation(t *testing.T) {
	p := schemas.Prompt{Text: "Q?"}
	got := Conversation(p, InputConfig{SystemPrompt: "Be brief.", Instruction: "Box it."})
	if len(got) != 2 || got[0].Role != schemas.RoleSystem || got[1].Content != "Q?\n\nBox it." {
		t.Errorf("got %+v", got)
	}
	if got := Conversation(p, InputConfig{}); len(got) != 1 || got[0].Content != "Q?" {
		t.Errorf("without system prompt and instruction: %+v", got)
	}
}

func TestSkillsValidation(t *testing.T) {
	r := Default()
	r.Skills.K, r.Skills.TagAttempts, r.Skills.MinFailureRate = 0, 0, 2
	r.Skills.Profile = "p.json"
	err := r.Validate()
	for _, want := range []string{"skills.k", "skills.tag_attempts", "skills.min_failure_rate", "skills.profile needs skills.catalogue"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
	if d := Default(); d.Skills.Tagging() || d.Validate() != nil {
		t.Errorf("the default recipe tags (%v) or is invalid: %v", d.Skills.Tagging(), d.Validate())
	}
}
