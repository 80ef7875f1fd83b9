package input

import (
	"fmt"
	"strings"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
)

// lookup finds a field by name or by dotted path ("problem.text" is the
// field "text" of the object in "problem"). A field whose name holds the
// dot itself is found first, so records with such keys read as before.
func lookup(record map[string]any, name string) (any, bool) {
	if v, ok := record[name]; ok {
		return v, true
	}
	head, rest, ok := strings.Cut(name, ".")
	if !ok {
		return nil, false
	}
	inner, ok := record[head].(map[string]any)
	if !ok {
		return nil, false
	}
	return lookup(inner, rest)
}

// chatRoles are the roles a chat record's turns may have.
var chatRoles = map[string]bool{schemas.RoleSystem: true, schemas.RoleUser: true, schemas.RoleAssistant: true}

// isConversation reports whether v looks like a chat field: a non-empty
// list whose items are objects with a "role".
func isConversation(v any) bool {
	turns, ok := v.([]any)
	if !ok || len(turns) == 0 {
		return false
	}
	for _, t := range turns {
		m, ok := t.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["role"]; !ok {
			return false
		}
	}
	return true
}

// conversation reads a chat field (a list of {role, content}) as messages.
// A trailing assistant turn is split off as the reference solution: it is
// never prompt text. What remains must end in a user turn. problem is a
// sentence naming what is wrong, for a dead letter.
func conversation(name string, v any) (msgs []schemas.Message, reference string, problem string) {
	turns := v.([]any)
	for i, t := range turns {
		m := t.(map[string]any)
		role, _ := m["role"].(string)
		if !chatRoles[role] {
			return nil, "", fmt.Sprintf("field %q: turn %d has role %v, want system, user or assistant", name, i+1, m["role"])
		}
		content, ok := m["content"].(string)
		if !ok {
			return nil, "", fmt.Sprintf("field %q: turn %d (%s) has content %s, want a string", name, i+1, role, jsonKind(m["content"]))
		}
		msgs = append(msgs, schemas.Message{Role: role, Content: content})
	}
	if last := msgs[len(msgs)-1]; last.Role == schemas.RoleAssistant {
		reference = last.Content
		msgs = msgs[:len(msgs)-1]
	}
	if len(msgs) == 0 || msgs[len(msgs)-1].Role != schemas.RoleUser {
		return nil, "", fmt.Sprintf("field %q: the conversation must end in a user turn (a trailing assistant turn is taken as the reference solution)", name)
	}
	if strings.TrimSpace(msgs[len(msgs)-1].Content) == "" {
		return nil, "", fmt.Sprintf("field %q: the final user turn is empty", name)
	}
	return msgs, reference, ""
}

// conversationText is the text of a conversation's turns, one per line: what
// dedup and decontamination read.
func conversationText(msgs []schemas.Message) string {
	texts := make([]string, len(msgs))
	for i, m := range msgs {
		texts[i] = m.Content
	}
	return strings.Join(texts, "\n")
}

// splitAnswer turns the reference field into the final answer and the full
// solution, reading it in the mapping's answer format.
func (m Mapping) splitAnswer(reference string) (answer, solution string, problem string) {
	answer, solution, err := filters.SplitReference(reference, m.AnswerFormat)
	if err != nil {
		return "", "", fmt.Sprintf("field %q: %v", m.Answer, err)
	}
	return answer, solution, ""
}
