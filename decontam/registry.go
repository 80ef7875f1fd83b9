package decontam

import "sort"

// Benchmark is one evaluation set as text, read from its files.
type Benchmark struct {
	Name string
	// Version is a hash of the set's file contents ("sha256:" and 16 hex
	// digits), recorded in the manifest so a release says exactly which
	// version of each benchmark it was decontaminated against.
	Version string
	Items   []BenchmarkItem
}

// BenchmarkItem is one evaluation problem.
type BenchmarkItem struct {
	ID       string // the item's id within the set (its id field, else its 0-based row)
	Question string
	Solution string // reference solution, empty when the set has none
}

// knownBenchmarks are the standard sets of ../shared/benchmarks/<name>/test.jsonl
// and where their fields are.
var knownBenchmarks = []BenchmarkSpec{
	{Name: "aime24", IDField: "id", QuestionFields: []string{"problem"}, SolutionFields: []string{"solution"}},
	{Name: "amc23", IDField: "id", QuestionFields: []string{"problem"}},
	{Name: "asdiv", IDField: "idx", QuestionFields: []string{"body", "question"}},
	{Name: "carp_en", QuestionFields: []string{"content"}, SolutionFields: []string{"steps"}},
	{Name: "cmath", QuestionFields: []string{"question"}},
	{Name: "college_math", QuestionFields: []string{"question"}},
	{Name: "gaokao2023en", QuestionFields: []string{"question"}},
	{Name: "gsm8k", IDField: "idx", QuestionFields: []string{"question"}, SolutionFields: []string{"answer"}},
	{Name: "math500", IDField: "unique_id", QuestionFields: []string{"problem"}, SolutionFields: []string{"solution"}},
	{Name: "minerva_math", IDField: "idx", QuestionFields: []string{"problem"}, SolutionFields: []string{"solution"}},
	{Name: "mmlu_stem", QuestionFields: []string{"question"}},
	{Name: "olympiadbench", IDField: "id", QuestionFields: []string{"question"}, SolutionFields: []string{"solution"}},
	{Name: "sat_math", IDField: "id", QuestionFields: []string{"question"}},
	{Name: "svamp", IDField: "ID", QuestionFields: []string{"Body", "Question"}},
}

func init() {
	for i := range knownBenchmarks {
		knownBenchmarks[i].Path = knownBenchmarks[i].Name + "/test.jsonl"
		knownBenchmarks[i].Format = "jsonl"
	}
}

// KnownBenchmarks returns the field mappings of the standard sets, with Path
// relative to a benchmarks directory (<name>/test.jsonl), sorted by name.
func KnownBenchmarks() []BenchmarkSpec {
	out := make([]BenchmarkSpec, len(knownBenchmarks))
	copy(out, knownBenchmarks)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// KnownBenchmark returns the field mapping of a standard set by name.
func KnownBenchmark(name string) (BenchmarkSpec, bool) {
	for _, b := range knownBenchmarks {
		if b.Name == name {
			return b, true
		}
	}
	return BenchmarkSpec{}, false
}

// guessSpec maps the fields of an unknown set found as <name>/test.jsonl by
// the conventions of the known ones.
func guessSpec(name string, fields map[string]bool) (BenchmarkSpec, bool) {
	spec := BenchmarkSpec{Name: name, Path: name + "/test.jsonl", Format: "jsonl"}
	for _, id := range []string{"id", "idx", "ID", "unique_id"} {
		if fields[id] {
			spec.IDField = id
			break
		}
	}
	switch {
	case fields["body"] && fields["question"]:
		spec.QuestionFields = []string{"body", "question"}
	case fields["Body"] && fields["Question"]:
		spec.QuestionFields = []string{"Body", "Question"}
	default:
		for _, q := range []string{"problem", "question", "content", "prompt", "Question"} {
			if fields[q] {
				spec.QuestionFields = []string{q}
				break
			}
		}
	}
	for _, s := range []string{"solution", "steps"} {
		if fields[s] {
			spec.SolutionFields = []string{s}
			break
		}
	}
	return spec, len(spec.QuestionFields) > 0
}
