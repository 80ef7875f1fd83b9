// Package input reads prompt files (JSONL and Parquet) into schemas.Prompt
// records with a field mapping, and turns every record it cannot use into a
// schemas.DeadLetter naming the file, the line (or row) and the field.
//
// Guarantees: every record of a file is either emitted as a Prompt or as a
// DeadLetter, exactly once, so Stats.Records = Stats.Prompts + Stats.Dead.
// Blank lines in JSONL are not records. The package knows nothing of Beam.
package input

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
)

// Mapping names the fields of an input record.
type Mapping struct {
	// ID is the field holding the record's id (default "id"). Records with
	// no such field get an id derived from their prompt text, so reruns over
	// the same data give the same ids.
	ID string `yaml:"id_field" json:"id_field"`
	// Text is the field holding the prompt (default "prompt").
	Text string `yaml:"text_field" json:"text_field"`
	// Answer is the field holding the reference answer (default "answer");
	// a record without it is still a prompt, with no reference.
	Answer string `yaml:"answer_field" json:"answer_field"`
	// Messages is the field holding a chat prompt, a list of {role,
	// content} (default "messages"), read when the record has no Text
	// field. A Text field holding such a list is read as a chat prompt too.
	// Fields may be dotted paths into nested objects ("problem.text").
	Messages string `yaml:"messages_field" json:"messages_field,omitempty"`
	// AnswerFormat is how the reference is written: auto (default), gsm8k
	// ("#### n"), boxed (last \boxed{}) or plain. The final answer becomes
	// the prompt's Answer and the full solution its Solution.
	AnswerFormat string `yaml:"answer_format" json:"answer_format,omitempty"`
	// Difficulty is the field holding the input's own difficulty label
	// (default "level", as in MATH: "Level 3"), released as the
	// source_difficulty column; a record without it has none.
	Difficulty string `yaml:"difficulty_field" json:"difficulty_field,omitempty"`
}

// DefaultMapping is the mapping of DESIGN.md: id, prompt, answer.
func DefaultMapping() Mapping {
	return Mapping{ID: "id", Text: "prompt", Answer: "answer", Messages: "messages", AnswerFormat: filters.FormatAuto, Difficulty: "level"}
}

// Limits bound what one record may hold.
const (
	// MaxLineBytes is the longest JSONL line read; a longer one is a dead
	// letter, and reading goes on at the next line.
	MaxLineBytes = 8 << 20
	// PreviewBytes is how much of a bad record a dead letter keeps.
	PreviewBytes = 200
)

// Stats counts what a read saw.
type Stats struct {
	Records int // records in the file
	Prompts int // emitted as prompts
	Dead    int // emitted as dead letters
}

// Sink receives what a reader produces.
type Sink struct {
	Prompt func(schemas.Prompt)
	Dead   func(schemas.DeadLetter)
	// Record, when set, receives each usable record instead of Prompt,
	// with the whole input record as a JSON object (the line as written
	// for JSONL), for tools that pass records through unchanged.
	Record func(p schemas.Prompt, raw []byte)
}

// reader keeps the per-file state of a read: the sink, the counts, and the
// ids seen so far (an id reused for a different prompt is a dead letter).
type reader struct {
	source  string
	mapping Mapping
	sink    Sink
	stats   Stats
	seenIDs map[string]idUse
}

type idUse struct {
	line     int
	textHash [8]byte
}

func newReader(source string, m Mapping, sink Sink) *reader {
	return &reader{source: source, mapping: m, sink: sink, seenIDs: map[string]idUse{}}
}

func (r *reader) dead(line int, field, reason string, raw []byte) {
	r.stats.Dead++
	r.sink.Dead(schemas.DeadLetter{
		Source: r.source,
		Line:   line,
		Stage:  "read",
		Field:  field,
		Reason: fmt.Sprintf("%s:%d: %s", r.source, line, reason),
		Raw:    Preview(raw),
	})
}

// ReadJSONL reads JSON Lines from rd. source names the file in dead letters.
// It returns an error only when rd itself fails; bad records become dead
// letters.
func ReadJSONL(rd io.Reader, source string, m Mapping, sink Sink) (Stats, error) {
	r := newReader(source, m, sink)
	br := bufio.NewReaderSize(rd, 1<<20)
	for line := 1; ; line++ {
		raw, tooLong, err := ReadLine(br)
		if len(bytes.TrimSpace(raw)) > 0 || tooLong {
			r.stats.Records++
			if tooLong {
				r.dead(line, "", fmt.Sprintf("line is longer than %d bytes", MaxLineBytes), raw)
			} else {
				r.jsonRecord(line, raw)
			}
		}
		if err == io.EOF {
			return r.stats, nil
		}
		if err != nil {
			return r.stats, fmt.Errorf("input: reading %s at line %d: %w", source, line, err)
		}
	}
}

// ReadLine returns the next line of a line-oriented input without its
// newline. A line longer than MaxLineBytes is consumed whole but only its
// start returned, with tooLong. A last line without a newline is returned
// with a nil error; io.EOF comes on the next call.
func ReadLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if len(buf)+len(chunk) <= MaxLineBytes {
			buf = append(buf, chunk...)
		} else {
			tooLong = true
			if len(buf) < PreviewBytes {
				buf = append(buf, chunk[:min(len(chunk), PreviewBytes)]...)
			}
		}
		if err != nil || !isPrefix {
			if err == io.EOF && (len(buf) > 0 || tooLong) {
				err = nil // the last line had no newline; EOF comes next call
			}
			return buf, tooLong, err
		}
	}
}

func (r *reader) jsonRecord(line int, raw []byte) {
	if !utf8.Valid(raw) {
		off := InvalidUTF8Offset(raw)
		r.dead(line, "", fmt.Sprintf("invalid UTF-8 at byte %d", off), raw)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var value any
	if err := dec.Decode(&value); err != nil {
		r.dead(line, "", "malformed JSON: "+err.Error(), raw)
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		r.dead(line, "", "unexpected data after the JSON value", raw)
		return
	}
	record, ok := value.(map[string]any)
	if !ok {
		r.dead(line, "", fmt.Sprintf("a line must hold a JSON object, got %s", jsonKind(value)), raw)
		return
	}
	r.record(line, record, raw)
}

// record validates one decoded record and emits it.
func (r *reader) record(line int, record map[string]any, raw []byte) {
	m := r.mapping
	var msgs []schemas.Message
	var chatReference string
	textField := m.Text
	if _, has := lookup(record, m.Text); !has && m.Messages != "" {
		if _, hasChat := lookup(record, m.Messages); hasChat {
			textField = m.Messages
		}
	}
	text, ok, problem := stringField(record, textField, false)
	if v, _ := lookup(record, textField); isConversation(v) {
		if msgs, chatReference, problem = conversation(textField, v); problem == "" {
			text, ok = conversationText(msgs), true
		}
	}
	switch {
	case problem != "":
		r.dead(line, textField, problem, raw)
		return
	case !ok:
		r.dead(line, m.Text, fmt.Sprintf("missing field %q (set --text_field to the field holding the prompt)", m.Text), raw)
		return
	case strings.TrimSpace(text) == "":
		r.dead(line, textField, fmt.Sprintf("field %q is empty", textField), raw)
		return
	case !utf8.ValidString(text):
		r.dead(line, textField, fmt.Sprintf("field %q is not valid UTF-8", textField), raw)
		return
	}
	if r.sink.Record != nil && chatReference != "" {
		// A pass-through tool (decontam) checks the whole conversation,
		// answers included.
		text += "\n" + chatReference
	}
	answer, hasAnswer, problem := stringField(record, m.Answer, true)
	if problem != "" {
		r.dead(line, m.Answer, problem, raw)
		return
	}
	if !hasAnswer || strings.TrimSpace(answer) == "" {
		answer = chatReference // a trailing assistant turn is the reference solution
	}
	answer, solution, problem := m.splitAnswer(answer)
	if problem != "" {
		r.dead(line, m.Answer, problem, raw)
		return
	}
	id, hasID, problem := stringField(record, m.ID, true)
	switch {
	case problem != "":
		r.dead(line, m.ID, problem, raw)
		return
	case hasID && strings.TrimSpace(id) == "":
		r.dead(line, m.ID, fmt.Sprintf("field %q is empty", m.ID), raw)
		return
	case !hasID:
		id = DerivedID(text)
	}
	h := sha256.Sum256([]byte(text))
	var th [8]byte
	copy(th[:], h[:8])
	if prev, seen := r.seenIDs[id]; seen && hasID && prev.textHash != th {
		r.dead(line, m.ID, fmt.Sprintf("id %q is already used on line %d for a different prompt", id, prev.line), raw)
		return
	} else if !seen {
		r.seenIDs[id] = idUse{line: line, textHash: th}
	}
	var level string
	if m.Difficulty != "" {
		if level, _, problem = stringField(record, m.Difficulty, true); problem != "" {
			r.dead(line, m.Difficulty, problem+" (set input.difficulty_field to the field holding a difficulty label, or to \"\" for none)", raw)
			return
		}
	}
	r.stats.Prompts++
	p := schemas.Prompt{ID: id, Text: text, Messages: msgs, Answer: answer, Solution: solution, Source: r.source, Line: line, SourceDifficulty: strings.TrimSpace(level)}
	if r.sink.Record == nil {
		r.sink.Prompt(p)
		return
	}
	if raw == nil { // a Parquet row: hand it on as JSON
		var err error
		if raw, err = json.Marshal(record); err != nil {
			raw = []byte("{}")
		}
	}
	r.sink.Record(p, bytes.TrimSpace(raw))
}

// DerivedID is the id given to a record with no id field: a hash of its
// prompt text, stable across reruns and file reorderings.
func DerivedID(text string) string {
	h := sha256.Sum256([]byte(text))
	return "sha256:" + hex.EncodeToString(h[:8])
}

// stringField reads field name as a string. With numbers, numbers are
// accepted and kept as written (ids and answers are often numeric); booleans,
// objects, arrays and null are a problem. ok is false when the field is absent.
func stringField(record map[string]any, name string, numbers bool) (value string, ok bool, problem string) {
	v, present := lookup(record, name)
	if !present {
		return "", false, ""
	}
	if !numbers {
		if _, isString := v.(string); !isString {
			if _, isBytes := v.([]byte); !isBytes && v != nil {
				return "", true, fmt.Sprintf("field %q is %s, want a string", name, jsonKind(v))
			}
		}
	}
	switch x := v.(type) {
	case string:
		return x, true, ""
	case json.Number:
		return x.String(), true, ""
	case int64:
		return strconv.FormatInt(x, 10), true, ""
	case int32:
		return strconv.FormatInt(int64(x), 10), true, ""
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true, ""
	case []byte:
		if !utf8.Valid(x) {
			return "", true, fmt.Sprintf("field %q is not valid UTF-8", name)
		}
		return string(x), true, ""
	case nil:
		return "", true, fmt.Sprintf("field %q is null, want a string", name)
	default:
		return "", true, fmt.Sprintf("field %q is %s, want a string", name, jsonKind(v))
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number, float64, int64, int32:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

// InvalidUTF8Offset returns the byte offset of the first invalid UTF-8
// sequence in b, or -1.
func InvalidUTF8Offset(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// Preview keeps the start of a bad record (at most PreviewBytes) as valid
// UTF-8, so a dead letter can be written as JSON or Parquet: invalid bytes
// are shown as \xNN escapes, the rest as is, and a character is never cut
// in two.
func Preview(raw []byte) string {
	var b strings.Builder
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && size == 1 {
			if b.Len()+4 > PreviewBytes {
				break
			}
			fmt.Fprintf(&b, "\\x%02x", raw[i])
		} else {
			if b.Len()+size > PreviewBytes {
				break
			}
			b.Write(raw[i : i+size])
		}
		i += size
	}
	return b.String()
}

// ErrUnknownFormat is returned for a path whose name ends in none of the
// known formats.
var ErrUnknownFormat = errors.New("input: unknown file format (want .jsonl, .ndjson, .jsonl.gz or .parquet)")
