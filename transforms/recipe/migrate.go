package recipe

import "fmt"

// migrate moves recipe keys from their old places to their new ones:
// input.system_prompt is now teacher.system_prompt.
func (r *Recipe) migrate() error {
	old := r.Input.SystemPrompt
	if old == "" {
		return nil
	}
	if r.Teacher.SystemPrompt != "" && r.Teacher.SystemPrompt != old {
		return fmt.Errorf("input.system_prompt and teacher.system_prompt are both set and differ; input.system_prompt is the old name of teacher.system_prompt: keep only teacher.system_prompt")
	}
	r.Teacher.SystemPrompt, r.Input.SystemPrompt = old, ""
	return nil
}

// TeacherInput is the input section as the teacher stage reads it: with the
// recipe's system prompt (teacher.system_prompt, or the old
// input.system_prompt set in code).
func (r Recipe) TeacherInput() InputConfig {
	in := r.Input
	if r.Teacher.SystemPrompt != "" {
		in.SystemPrompt = r.Teacher.SystemPrompt
	}
	return in
}
