// Package builtin generates the sample prompts of the offline quickstart:
// grade-school arithmetic word problems with known answers and worked steps,
// written by our own code from templates (no third-party text).
//
// Generation is deterministic: the same Spec always yields the same problems
// in the same order, so a worker that regenerates a set on another machine
// sees what the driver saw, and the simulated teacher can be given the answer
// key.
package builtin

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Problem is one generated word problem.
type Problem struct {
	ID     string
	Text   string
	Answer string
	// Steps is a worked solution, one sentence a step.
	Steps  []string
	Skills []string
}

// Spec selects a built-in set: `builtin:arithmetic?n=200&seed=1&min_steps=1&max_steps=4&max_number=100&distractors=0.3`.
type Spec struct {
	Set string // only "arithmetic" for now
	// N is how many problems to generate (default 200, at most 1,000,000).
	N int
	// Seed picks the problems (default 1).
	Seed uint64
	// MinSteps and MaxSteps bound the number of operations (default 1 and 4,
	// at most 8): the main difficulty knob.
	MinSteps, MaxSteps int
	// MaxNumber bounds the starting quantities (default 100, 2 to 1,000,000).
	MaxNumber int
	// Distractors is the probability of an irrelevant sentence with a
	// number in it (default 0.25).
	Distractors float64
}

// Prefix marks a built-in input in --input.
const Prefix = "builtin:"

// IsBuiltin reports whether input names a built-in set.
func IsBuiltin(input string) bool { return strings.HasPrefix(input, Prefix) }

// ParseSpec parses `builtin:arithmetic?n=200&...`, reporting every bad
// parameter at once.
func ParseSpec(input string) (Spec, error) {
	s := Spec{N: 200, Seed: 1, MinSteps: 1, MaxSteps: 4, MaxNumber: 100, Distractors: 0.25}
	rest, ok := strings.CutPrefix(input, Prefix)
	if !ok {
		return s, fmt.Errorf("builtin: %q does not start with %q", input, Prefix)
	}
	set, query, _ := strings.Cut(rest, "?")
	s.Set = set
	var errs []string
	if set != "arithmetic" {
		errs = append(errs, fmt.Sprintf("unknown set %q (known: arithmetic)", set))
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		errs = append(errs, fmt.Sprintf("bad query %q: %v", query, err))
	}
	intParam := func(name string, dst *int, lo, hi int) {
		v := values.Get(name)
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Sprintf("%s must be a whole number from %d to %d, got %q", name, lo, hi, v))
			return
		}
		*dst = n
	}
	for name := range values {
		switch name {
		case "n", "seed", "min_steps", "max_steps", "max_number", "distractors":
		default:
			errs = append(errs, fmt.Sprintf("unknown parameter %q (known: n, seed, min_steps, max_steps, max_number, distractors)", name))
		}
	}
	intParam("n", &s.N, 1, 1_000_000)
	intParam("min_steps", &s.MinSteps, 1, 8)
	intParam("max_steps", &s.MaxSteps, 1, 8)
	intParam("max_number", &s.MaxNumber, 2, 1_000_000)
	if v := values.Get("seed"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Sprintf("seed must be a non-negative whole number, got %q", v))
		}
		s.Seed = seed
	}
	if v := values.Get("distractors"); v != "" {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p < 0 || p > 1 {
			errs = append(errs, fmt.Sprintf("distractors must be a probability from 0 to 1, got %q", v))
		}
		s.Distractors = p
	}
	if s.MinSteps > s.MaxSteps {
		errs = append(errs, fmt.Sprintf("min_steps (%d) must not exceed max_steps (%d)", s.MinSteps, s.MaxSteps))
	}
	if len(errs) > 0 {
		return s, fmt.Errorf("builtin input %q: %s", input, strings.Join(errs, "; "))
	}
	return s, nil
}

// String renders s in the form ParseSpec reads.
func (s Spec) String() string {
	return fmt.Sprintf("%s%s?n=%d&seed=%d&min_steps=%d&max_steps=%d&max_number=%d&distractors=%g",
		Prefix, s.Set, s.N, s.Seed, s.MinSteps, s.MaxSteps, s.MaxNumber, s.Distractors)
}

// Generate returns the problems of s, in order. IDs are unique within a set
// and stable across runs: arithmetic-s<seed>-<index>.
func Generate(s Spec) []Problem {
	out := make([]Problem, 0, s.N)
	for i := range s.N {
		out = append(out, generateOne(s, i))
	}
	return out
}

// Nth returns problem i of s (0 <= i < s.N), the same as Generate(s)[i],
// without making the others: a reader of a large set holds one at a time.
func Nth(s Spec, i int) Problem { return generateOne(s, i) }

var (
	names   = []string{"Ada", "Bram", "Chen", "Dara", "Emeka", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya"}
	things  = []string{"marbles", "stickers", "apples", "pencils", "stamps", "seashells", "books", "coins", "cookies", "beads", "cards", "plums"}
	places  = []string{"the market", "school", "the library", "the park", "a garage sale", "the fair"}
	filler  = []string{"{name} also has {k} friends who like puzzles.", "The shop is {k} minutes from {name}'s house.", "{name}'s favourite number is {k}.", "It rained on {k} days last month, {name} noticed."}
	opTexts = map[string][]string{
		"add": {"{name} buys {k} more {thing} at {place}.", "A friend gives {name} {k} more {thing}.", "{name} finds {k} more {thing} at {place}."},
		"sub": {"{name} gives away {k} {thing}.", "{name} loses {k} {thing} on the way to {place}.", "{name} trades away {k} {thing} at {place}."},
		"mul": {"{name}'s collection of {thing} grows to {k} times its size.", "Then the number of {thing} {name} has is multiplied by {k}."},
		"div": {"{name} shares the {thing} equally among {k} boxes and keeps one box.", "{name} splits the {thing} into {k} equal piles and keeps one pile."},
	}
)

func generateOne(s Spec, index int) Problem {
	rng := rand.New(rand.NewPCG(s.Seed, uint64(index)*0x9e3779b97f4a7c15+1))
	name := names[rng.IntN(len(names))]
	thing := things[rng.IntN(len(things))]
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }

	value := 2 + rng.IntN(s.MaxNumber-1)
	steps := s.MinSteps + rng.IntN(s.MaxSteps-s.MinSteps+1)
	var sentences, worked []string
	skills := map[string]bool{}
	sentences = append(sentences, fmt.Sprintf("%s has %d %s.", name, value, thing))
	worked = append(worked, fmt.Sprintf("%s starts with %d %s.", name, value, thing))
	say := func(template string, k int) {
		r := strings.NewReplacer("{name}", name, "{thing}", thing, "{place}", pick(places), "{k}", strconv.Itoa(k))
		sentences = append(sentences, r.Replace(template))
	}
	for range steps {
		op := chooseOp(rng, value)
		skills[opSkill[op]] = true
		var k, next int
		switch op {
		case "add":
			k = 1 + rng.IntN(s.MaxNumber)
			next = value + k
		case "sub":
			k = 1 + rng.IntN(value-1)
			next = value - k
		case "mul":
			k = 2 + rng.IntN(3)
			next = value * k
		case "div":
			k = smallDivisor(value)
			next = value / k
		}
		say(pick(opTexts[op]), k)
		worked = append(worked, fmt.Sprintf("%d %s %d = %d.", value, opSymbol[op], k, next))
		value = next
		if rng.Float64() < s.Distractors {
			skills["ignoring irrelevant information"] = true
			say(pick(filler), 2+rng.IntN(20))
		}
	}
	if steps > 1 {
		skills["multi-step reasoning"] = true
	}
	sentences = append(sentences, fmt.Sprintf("How many %s does %s have now?", thing, name))
	worked = append(worked, fmt.Sprintf("So %s has %d %s.", name, value, thing))
	return Problem{
		ID:     fmt.Sprintf("arithmetic-s%d-%06d", s.Seed, index),
		Text:   strings.Join(sentences, " "),
		Answer: strconv.Itoa(value),
		Steps:  worked,
		Skills: slices.Sorted(maps.Keys(skills)),
	}
}

var (
	opSkill  = map[string]string{"add": "addition", "sub": "subtraction", "mul": "multiplication", "div": "division"}
	opSymbol = map[string]string{"add": "+", "sub": "-", "mul": "×", "div": "÷"}
)

// chooseOp picks an operation that keeps the quantity a whole number that is
// at least 2 and below a few million.
func chooseOp(rng *rand.Rand, value int) string {
	ops := []string{"add"}
	if value > 2 {
		ops = append(ops, "sub")
	}
	if value < 100_000 {
		ops = append(ops, "mul")
	}
	if smallDivisor(value) > 1 && value >= 4 {
		ops = append(ops, "div")
	}
	return ops[rng.IntN(len(ops))]
}

// smallDivisor returns the smallest divisor of value in 2..9 that leaves at
// least 2, or 1 when there is none.
func smallDivisor(value int) int {
	for k := 2; k <= 9; k++ {
		if value%k == 0 && value/k >= 2 {
			return k
		}
	}
	return 1
}
