package recipe

import (
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// MarshalJSON writes the recipe as a recipe file would: the YAML keys
// (teacher.max_concurrency, not MaxConcurrency) and durations as strings
// ("10m0s", not nanoseconds). JSON is YAML, so the "recipe" object of a
// manifest, saved to a file, is a recipe that Load reads back.
func (r Recipe) MarshalJSON() ([]byte, error) {
	data, err := yaml.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("recipe: %w", err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("recipe: %w", err)
	}
	prune(tree)
	return json.Marshal(tree)
}

// prune drops empty lists, empty maps and nulls, which a recipe leaves
// out: read back, they stay as Default has them.
func prune(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case []any:
			if len(v) == 0 {
				delete(m, k)
			}
		case map[string]any:
			prune(v)
			if len(v) == 0 {
				delete(m, k)
			}
		}
	}
}

// UnmarshalJSON reads what MarshalJSON wrote, over the defaults, as Load
// does (unknown keys are an error).
func (r *Recipe) UnmarshalJSON(data []byte) error {
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		return err
	}
	y, err := yaml.Marshal(tree)
	if err != nil {
		return err
	}
	out, err := parse(y)
	if err != nil {
		return err
	}
	*r = out
	return nil
}

// Rerunnable is the recipe as the manifest records it: what reruns the
// same job when saved to a file and passed to --recipe. It leaves out what
// belongs to this run only: the version (each run makes a new one) and the
// address of a simulated teacher (and reward model) started for the run.
func (r Recipe) Rerunnable() Recipe {
	r.Output.Version = ""
	if r.Teacher.Model == SimTeacher {
		r.Teacher.URL = ""
	}
	if r.Reward.Model == SimTeacher {
		r.Reward.URL = ""
	}
	return r
}
