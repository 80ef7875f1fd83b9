package schemas

// Skill is one entry of a skill catalogue: a short snake_case name that
// tags carry and a one-line description that tells a teacher (and a
// person) what it covers.
type Skill struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description" yaml:"description"`
}

// SkillProfile is a student model's missing-skill profile, the file
// pipelines/skillgap writes and sftgen --skill_profile reads: skills ranked
// by failure rate, highest first.
type SkillProfile struct {
	Skills []SkillFailure `json:"skills"`
}

// SkillFailure is how often a student failed the problems tagged with one
// skill. FailureRate is Failed/Attempted.
type SkillFailure struct {
	Skill       string  `json:"skill"`
	FailureRate float64 `json:"failure_rate"`
	Failed      int64   `json:"failed"`
	Attempted   int64   `json:"attempted"`
}
