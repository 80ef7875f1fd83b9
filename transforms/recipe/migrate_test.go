package recipe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/schemas"
)

func TestSystemPromptMigrates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	r, err := Load(write("old.yaml", "input:\n  system_prompt: Be brief.\n"))
	if err != nil || r.Teacher.SystemPrompt != "Be brief." || r.Input.SystemPrompt != "" {
		t.Errorf("old key: teacher.system_prompt %q, input.system_prompt %q, err %v", r.Teacher.SystemPrompt, r.Input.SystemPrompt, err)
	}
	r, err = Load(write("new.yaml", "teacher:\n  system_prompt: Be brief.\n"))
	if err != nil || r.TeacherInput().SystemPrompt != "Be brief." {
		t.Errorf("new key: %q, %v", r.TeacherInput().SystemPrompt, err)
	}
	_, err = Load(write("both.yaml", "input:\n  system_prompt: A\nteacher:\n  system_prompt: B\n"))
	if err == nil || !strings.Contains(err.Error(), "keep only teacher.system_prompt") {
		t.Errorf("both keys, differing: %v", err)
	}
	r = Default()
	r.Input.AnswerFormat = "latex"
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "input.answer_format") {
		t.Errorf("bad answer_format: %v", err)
	}
}

func TestConversationChat(t *testing.T) {
	chat := []schemas.Message{{Role: "user", Content: "1+1?"}, {Role: "assistant", Content: "2"}, {Role: "user", Content: "2+2?"}}
	in := InputConfig{SystemPrompt: "Be brief.", Instruction: "Box it."}
	got := Conversation(schemas.Prompt{Text: "x", Messages: chat}, in)
	if len(got) != 4 || got[0] != (schemas.Message{Role: "system", Content: "Be brief."}) || got[3].Content != "2+2?" {
		t.Errorf("chat without a system turn: %+v", got)
	}
	withSystem := append([]schemas.Message{{Role: "system", Content: "Own."}}, chat...)
	got = Conversation(schemas.Prompt{Messages: withSystem}, in)
	if len(got) != 4 || got[0].Content != "Own." {
		t.Errorf("chat with its own system turn: %+v", got)
	}
}
