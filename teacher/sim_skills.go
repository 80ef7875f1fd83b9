package teacher

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// The simulated teacher's side of the skills protocol (skills.go). It is
// deterministic: skills come from keywords of the problem, so the same
// problem gets the same skills in every run, and the problems it writes
// for a skill are ones it can solve (simSolveSynthesized), so STAT-Syn
// works offline.

// simFamily is one skill the simulated teacher knows.
type simFamily struct {
	name        string
	description string
	// variants are the names induction answers with, as a real teacher
	// names one skill several ways; merging must fold them together.
	variants []string
	keywords []string
	// write returns a new problem exercising the skill and its answer.
	write func(rng *rand.Rand) (problem string, answer int)
	// solve recognises a problem written by write and returns its answer.
	solve *regexp.Regexp
	calc  func(n []int) int
}

var simFamilies = []simFamily{
	{name: "percentages", description: "compute a percentage of a quantity, a discount or a percent change",
		variants: []string{"percentages", "Percentage", "percentage calculations"},
		keywords: []string{"percent", "%"},
		write: func(r *rand.Rand) (string, int) {
			p := []int{10, 20, 25, 50, 75}[r.IntN(5)]
			x := 20 * (1 + r.IntN(20))
			return fmt.Sprintf("A store marks down a jacket priced at %d dollars by %d percent. What is the sale price after the %d%% discount?", x, p, p), x * (100 - p) / 100
		},
		solve: regexp.MustCompile(`priced at (\d+) dollars by (\d+) percent`), calc: func(n []int) int { return n[0] * (100 - n[1]) / 100 }},
	{name: "fractions", description: "take a fraction (half, third, quarter) of a quantity",
		variants: []string{"fractions", "Fraction", "fraction of a quantity"},
		keywords: []string{"half", "third", "quarter", "fraction", "fifth"},
		write: func(r *rand.Rand) (string, int) {
			d := 2 + r.IntN(4)
			n := d * (2 + r.IntN(30))
			return fmt.Sprintf("A jar holds %d buttons. A fraction of them, 1/%d of the buttons, are red. How many red buttons are in the jar?", n, d), n / d
		},
		solve: regexp.MustCompile(`holds (\d+) buttons\. A fraction of them, 1/(\d+)`), calc: func(n []int) int { return n[0] / n[1] }},
	{name: "rates_and_time", description: "use a rate (speed, pay per hour, work per day) over a span of time",
		variants: []string{"rates_and_time", "rate and time", "rates and time problems"},
		keywords: []string{"hour", "minute", "speed", "mile", "per day", "week", "km"},
		write: func(r *rand.Rand) (string, int) {
			s, h := 20+r.IntN(60), 2+r.IntN(9)
			return fmt.Sprintf("A cyclist rides at a steady speed of %d miles per hour for %d hours. How many miles does the cyclist ride?", s, h), s * h
		},
		solve: regexp.MustCompile(`speed of (\d+) miles per hour for (\d+) hours`), calc: func(n []int) int { return n[0] * n[1] }},
	{name: "money", description: "reason about prices, costs, earnings and change",
		variants: []string{"money", "money_problems", "Money"},
		keywords: []string{"$", "dollar", "cost", "price", "earn", "pay", "spend", "buy", "sell", "sold"},
		write: func(r *rand.Rand) (string, int) {
			q, p := 2+r.IntN(8), 1+r.IntN(9)
			b := 100
			return fmt.Sprintf("Sam buys %d notebooks that cost %d dollars each and pays with a %d dollar bill. How many dollars of change does Sam get?", q, p, b), b - q*p
		},
		solve: regexp.MustCompile(`buys (\d+) notebooks that cost (\d+) dollars each and pays with a (\d+) dollar bill`), calc: func(n []int) int { return n[2] - n[0]*n[1] }},
	{name: "multiplication", description: "multiply equal groups (each, every, times as many)",
		variants: []string{"multiplication", "Multiplication", "repeated groups multiplication"},
		keywords: []string{"times", "multiplied", "each", "every", "twice", "triple", "double"},
		write: func(r *rand.Rand) (string, int) {
			a, b := 3+r.IntN(20), 2+r.IntN(12)
			return fmt.Sprintf("Each crate holds %d oranges. How many oranges are in %d crates, multiplied out?", a, b), a * b
		},
		solve: regexp.MustCompile(`Each crate holds (\d+) oranges\. How many oranges are in (\d+) crates`), calc: func(n []int) int { return n[0] * n[1] }},
	{name: "division", description: "share or split a quantity into equal parts",
		variants: []string{"division", "Division", "equal sharing division"},
		keywords: []string{"equally", "equal", "split", "shares", "divide", "among"},
		write: func(r *rand.Rand) (string, int) {
			k := 2 + r.IntN(8)
			n := k * (2 + r.IntN(25))
			return fmt.Sprintf("A teacher shares %d stickers equally among %d students. How many stickers does each student get when they are split?", n, k), n / k
		},
		solve: regexp.MustCompile(`shares (\d+) stickers equally among (\d+) students`), calc: func(n []int) int { return n[0] / n[1] }},
	{name: "addition_and_subtraction", description: "add and take away quantities across several steps",
		variants: []string{"addition_and_subtraction", "addition and subtraction", "Additions and subtractions"},
		keywords: []string{"more", "gives", "loses", "left", "total", "altogether", "remain", "fewer", "away", "finds"},
		write: func(r *rand.Rand) (string, int) {
			a, b := 10+r.IntN(50), 1+r.IntN(30)
			c := 1 + r.IntN(a)
			return fmt.Sprintf("Lina has %d shells. She finds %d more and then gives away %d. How many shells are left in total?", a, b, c), a + b - c
		},
		solve: regexp.MustCompile(`Lina has (\d+) shells\. She finds (\d+) more and then gives away (\d+)`), calc: func(n []int) int { return n[0] + n[1] - n[2] }},
}

// simGeneric is the skill of a problem no keyword matches.
var simGeneric = simFamily{name: "multi_step_reasoning", description: "chain several arithmetic steps to reach the answer",
	variants: []string{"multi_step_reasoning", "multi-step reasoning", "Multi step reasoning"}}

// simSlug folds a skill name as the sim compares them.
func simSlug(name string) string {
	f := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range f {
		f[i] = strings.TrimSuffix(w, "s")
	}
	return strings.Join(f, "_")
}

func simFamilyOf(name string) (simFamily, bool) {
	slug := simSlug(name)
	for _, f := range append(simFamilies, simGeneric) {
		if simSlug(f.name) == slug {
			return f, true
		}
		for _, v := range f.variants {
			if simSlug(v) == slug {
				return f, true
			}
		}
	}
	return simFamily{}, false
}

// simScores ranks the families whose keywords occur in problem, most
// keywords first (ties by catalogue order).
func simScores(problem string) []simFamily {
	low := strings.ToLower(problem)
	type scored struct {
		f     simFamily
		score int
		order int
	}
	var hits []scored
	for i, f := range simFamilies {
		n := 0
		for _, k := range f.keywords {
			if strings.Contains(low, k) {
				n++
			}
		}
		if n > 0 {
			hits = append(hits, scored{f, n, i})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
	out := make([]simFamily, len(hits))
	for i, h := range hits {
		out[i] = h.f
	}
	return out
}

// simResponseFormat is the response_format of a request, when it has one.
type simResponseFormat struct {
	Type       string `json:"type"`
	JSONSchema struct {
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema"`
	} `json:"json_schema"`
}

// skillAnswer answers the skills protocol's requests.
func (s *Sim) skillAnswer(userTurn string, req *simRequest, n int) ([]string, error) {
	rf := req.ResponseFormat
	out := make([]string, n)
	for i := range n {
		rng := sampleRNG(s.cfg.Seed, req.Seed, userTurn, i, 7)
		var v any
		switch rf.JSONSchema.Name {
		case SchemaSkillInduction:
			problem, _ := ProblemOf(userTurn)
			fams := simScores(problem)
			if len(fams) == 0 {
				fams = []simFamily{simGeneric}
			}
			var skills []map[string]string
			for _, f := range fams[:min(len(fams), MaxTagsPerPrompt)] {
				skills = append(skills, map[string]string{"name": f.variants[rng.IntN(len(f.variants))], "description": f.description})
			}
			v = map[string]any{"skills": skills}
		case SchemaSkillTags:
			if s.cfg.InvalidTagRate > 0 && rng.Float64() < s.cfg.InvalidTagRate {
				if rng.IntN(2) == 0 {
					out[i] = `{"skills": ["astrophysics"]}`
				} else {
					out[i] = "The problem mostly needs careful reading."
				}
				continue
			}
			enum, err := schemaEnum(rf.JSONSchema.Schema)
			if err != nil {
				return nil, err
			}
			problem, _ := ProblemOf(userTurn)
			v = map[string]any{"skills": simTags(problem, enum)}
		case SchemaSkillProblems:
			f, ok := simFamilyOf(ProblemsSkill(userTurn))
			if !ok || f.write == nil {
				f = simFamilies[len(simFamilies)-1]
			}
			want := 1
			if m := writeCountRE.FindStringSubmatch(userTurn); m != nil {
				want, _ = strconv.Atoi(m[1])
			}
			var problems []string
			for range max(want, 1) {
				p, _ := f.write(rng)
				problems = append(problems, p)
			}
			v = map[string]any{"problems": problems}
		default:
			return nil, fmt.Errorf("response_format: unknown json_schema %q", rf.JSONSchema.Name)
		}
		b, _ := json.Marshal(v)
		out[i] = string(b)
	}
	return out, nil
}

// simTags picks up to three names of enum for problem: the catalogue skills
// whose keywords occur most, else the first catalogue skill.
func simTags(problem string, enum []string) []string {
	var tags []string
	for _, f := range simScores(problem) {
		for _, name := range enum {
			if g, ok := simFamilyOf(name); ok && g.name == f.name && len(tags) < MaxTagsPerPrompt {
				tags = append(tags, name)
				break
			}
		}
	}
	if len(tags) == 0 {
		for _, name := range enum {
			if g, ok := simFamilyOf(name); ok && g.name == simGeneric.name {
				return []string{name}
			}
		}
		if len(enum) > 0 {
			tags = enum[:1]
		}
	}
	return tags
}

// schemaEnum reads properties.skills.items.enum of a tag request's schema.
func schemaEnum(schema json.RawMessage) ([]string, error) {
	var sc struct {
		Properties struct {
			Skills struct {
				Items struct {
					Enum []string `json:"enum"`
				} `json:"items"`
			} `json:"skills"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(schema, &sc); err != nil || len(sc.Properties.Skills.Items.Enum) == 0 {
		return nil, fmt.Errorf("response_format: the skill_tags schema has no enum of skills")
	}
	return sc.Properties.Skills.Items.Enum, nil
}

var writeCountRE = regexp.MustCompile(`Write (\d+) new problems`)

// simSolveSynthesized solves a problem the sim wrote for a skill.
func simSolveSynthesized(problem string) (Solution, bool) {
	for _, f := range simFamilies {
		m := f.solve.FindStringSubmatch(problem)
		if m == nil {
			continue
		}
		nums := make([]int, len(m)-1)
		for i, s := range m[1:] {
			nums[i], _ = strconv.Atoi(s)
		}
		ans := strconv.Itoa(f.calc(nums))
		return Solution{Steps: []string{fmt.Sprintf("This is a %s problem with the numbers %v.", strings.ReplaceAll(f.name, "_", " "), nums), "Compute the result: " + ans + "."}, Answer: ans}, true
	}
	return Solution{}, false
}
