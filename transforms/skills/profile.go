package skills

import (
	"sort"

	"github.com/syllabus-dev/syllabus/schemas"
)

// Result is one graded answer of a student with the skills of its problem.
type Result struct {
	PromptID string
	Correct  bool
	Skills   []string
}

// Profile counts, per skill, the problems a student attempted and failed,
// and ranks skills by failure rate (highest first; ties: more failures,
// then name). A problem counts once for each of its skills.
func Profile(results []Result) schemas.SkillProfile {
	type count struct{ failed, attempted int64 }
	by := map[string]*count{}
	for _, r := range results {
		seen := map[string]bool{}
		for _, s := range r.Skills {
			if seen[s] {
				continue
			}
			seen[s] = true
			c := by[s]
			if c == nil {
				c = &count{}
				by[s] = c
			}
			c.attempted++
			if !r.Correct {
				c.failed++
			}
		}
	}
	p := schemas.SkillProfile{Skills: []schemas.SkillFailure{}}
	for s, c := range by {
		p.Skills = append(p.Skills, schemas.SkillFailure{Skill: s, Failed: c.failed, Attempted: c.attempted, FailureRate: float64(c.failed) / float64(c.attempted)})
	}
	sort.Slice(p.Skills, func(i, j int) bool {
		a, b := p.Skills[i], p.Skills[j]
		if a.FailureRate != b.FailureRate {
			return a.FailureRate > b.FailureRate
		}
		if a.Failed != b.Failed {
			return a.Failed > b.Failed
		}
		return a.Skill < b.Skill
	})
	return p
}

// DefaultBoost is the STAT-Sel weight boost: a row of a skill the student
// always fails weighs 1+DefaultBoost.
const DefaultBoost = 4.0

// Weight is a row's STAT-Sel sampling weight: 1 + boost × the largest
// excess failure among the row's skills, where a skill's excess is how far
// its failure rate lies above the student's overall rate (Overall), scaled
// so that a skill always failed has excess 1:
//
//	excess(s) = max(0, rate(s) − overall) / (1 − overall)
//
// A skill the student fails no more than usual is not missing and adds
// nothing, so rows that merely share a problem with a missing skill's rows
// are not boosted along with them. Weight is 1 for a row whose skills the
// profile does not name; a trainer sampling rows in proportion to it sees
// a missing skill up to 1+boost times as often.
func Weight(p schemas.SkillProfile, skills []string, boost float64) float64 {
	overall := Overall(p)
	worst := 0.0
	for _, s := range skills {
		for _, f := range p.Skills {
			if f.Skill == s && overall < 1 {
				worst = max(worst, (f.FailureRate-overall)/(1-overall))
			}
		}
	}
	return 1 + boost*worst
}

// Overall is the student's failure rate over every (problem, skill) count
// of the profile: Σ failed / Σ attempted.
func Overall(p schemas.SkillProfile) float64 {
	var failed, attempted int64
	for _, f := range p.Skills {
		failed += f.Failed
		attempted += f.Attempted
	}
	if attempted == 0 {
		return 0
	}
	return float64(failed) / float64(attempted)
}

// Missing returns the skills STAT-Syn writes new problems for: at most n
// skills of the profile with at least minAttempted attempts and a failure
// rate of at least minRate, worst first.
func Missing(p schemas.SkillProfile, n int, minRate float64, minAttempted int64) []schemas.SkillFailure {
	var out []schemas.SkillFailure
	for _, f := range p.Skills {
		if len(out) == n {
			break
		}
		if f.Attempted >= minAttempted && f.FailureRate >= minRate {
			out = append(out, f)
		}
	}
	return out
}
