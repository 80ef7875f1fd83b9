package recipe

import (
	"fmt"
)

// SkillsConfig is the recipe section "skills": tagging prompts with the
// skills they exercise, and steering a dataset towards a student's missing
// skills (STAT). Tagging costs one short teacher request per prompt (plus
// skills.induce_sample requests to induce a catalogue), so it is off unless
// asked for: skills.tag, a pinned skills.catalogue or a skill profile turns
// it on.
type SkillsConfig struct {
	// Tag has the teacher tag every prompt with 1 to 3 catalogue skills,
	// replacing skills the input carried (--skills_tag).
	Tag bool `yaml:"tag" json:"tag"`
	// Catalogue pins a catalogue file (local path or s3:// URL), taken as
	// is; without one, a catalogue is induced from a sample of the prompts
	// and released as skills/catalogue.yaml (--skills_catalogue).
	Catalogue string `yaml:"catalogue" json:"catalogue,omitempty"`
	// K is the most skills an induced catalogue holds (default 12).
	K int `yaml:"k" json:"k"`
	// InduceSample is how many prompts induction asks the teacher about
	// (default 64); the sample is the same for the same input.
	InduceSample int `yaml:"induce_sample" json:"induce_sample"`
	// TagAttempts is how many answers a prompt's tagging may take before an
	// invalid one dead-letters it (default 3).
	TagAttempts int `yaml:"tag_attempts" json:"tag_attempts"`
	// Profile is a student's missing-skill profile from pipelines/skillgap
	// (--skill_profile): rows get a STAT-Sel weight and, with
	// synthesize_per_skill > 0, STAT-Syn writes new problems for the
	// missing skills.
	Profile string `yaml:"profile" json:"profile,omitempty"`
	// WeightBoost is how much more a row of an always-failed skill weighs
	// (weight = 1 + weight_boost × worst failure rate; default 4).
	WeightBoost float64 `yaml:"weight_boost" json:"weight_boost"`
	// SynthesizePerSkill is how many new problems STAT-Syn asks for per
	// missing skill (default 8; 0 turns STAT-Syn off).
	SynthesizePerSkill int `yaml:"synthesize_per_skill" json:"synthesize_per_skill"`
	// SynthesizeSkills is how many of the worst skills of the profile
	// count as missing (default 2), MinFailureRate the failure rate a skill
	// needs to count (default 0.3).
	SynthesizeSkills int     `yaml:"synthesize_skills" json:"synthesize_skills"`
	MinFailureRate   float64 `yaml:"min_failure_rate" json:"min_failure_rate"`
}

// DefaultSkills is the default "skills" section.
func DefaultSkills() SkillsConfig {
	return SkillsConfig{K: 12, InduceSample: 64, TagAttempts: 3, WeightBoost: 4, SynthesizePerSkill: 8, SynthesizeSkills: 2, MinFailureRate: 0.3}
}

// Tagging reports whether prompts are tagged by the teacher.
func (c SkillsConfig) Tagging() bool { return c.Tag || c.Catalogue != "" || c.Profile != "" }

// validate reports the section's bad fields.
func (c SkillsConfig) validate(bad func(string, ...any)) {
	if c.K < 1 || c.K > 200 {
		bad("skills.k must be from 1 to 200, got %d", c.K)
	}
	if c.InduceSample < 1 {
		bad("skills.induce_sample must be >= 1, got %d", c.InduceSample)
	}
	if c.TagAttempts < 1 || c.TagAttempts > 10 {
		bad("skills.tag_attempts must be from 1 to 10, got %d", c.TagAttempts)
	}
	if c.WeightBoost < 0 {
		bad("skills.weight_boost must be >= 0, got %g", c.WeightBoost)
	}
	if c.SynthesizePerSkill < 0 || c.SynthesizePerSkill > 1000 {
		bad("skills.synthesize_per_skill must be from 0 to 1000, got %d", c.SynthesizePerSkill)
	}
	if c.SynthesizeSkills < 1 {
		bad("skills.synthesize_skills must be >= 1, got %d", c.SynthesizeSkills)
	}
	if c.Profile != "" && c.Catalogue == "" {
		bad("skills.profile needs skills.catalogue: the catalogue the profile's skills were tagged with (the release's skills/catalogue.yaml), so that new tags and the profile share names")
	}
	if c.MinFailureRate < 0 || c.MinFailureRate > 1 {
		bad("skills.min_failure_rate must be from 0 to 1, got %g", c.MinFailureRate)
	}
}

// String names what the section asks for, for logs.
func (c SkillsConfig) String() string {
	return fmt.Sprintf("tag=%t catalogue=%q k=%d profile=%q", c.Tagging(), c.Catalogue, c.K, c.Profile)
}
