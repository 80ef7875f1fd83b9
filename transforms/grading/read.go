package grading

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/transforms/input"
)

// Field names of an input line.
const (
	FieldID        = "id"
	FieldResponse  = "response"
	FieldReference = "reference"
)

// Response is one usable input line: a model response to grade against a
// reference.
type Response struct {
	// ID is the id as written in the input, as JSON: `"a-1"` or `7`. The
	// output repeats it verbatim, so a numeric id stays a number.
	ID        string
	Response  string
	Reference string
	Source    string
	Line      int
}

// IDText is the id as text ("a-1", "7"), for messages.
func (r Response) IDText() string { return idText(r.ID) }

func idText(raw string) string {
	var s string
	if json.Unmarshal([]byte(raw), &s) == nil {
		return s
	}
	return raw
}

// ReadStats counts what a read saw: Lines = Responses + Dead.
type ReadStats struct {
	Lines     int // non-blank lines
	Responses int
	Dead      int
}

// Sink receives what ReadJSONL produces.
type Sink struct {
	Response func(Response)
	Dead     func(schemas.DeadLetter)
}

// ReadFile reads a local input file; a name ending in .gz is gunzipped.
func ReadFile(path string, sink Sink) (ReadStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return ReadStats{}, fmt.Errorf("grade: %w", err)
	}
	defer f.Close()
	var rd io.Reader = f
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return ReadStats{}, fmt.Errorf("grade: %s: %w", path, err)
		}
		defer zr.Close()
		rd = zr
	}
	return ReadJSONL(rd, path, sink)
}

// ReadJSONL reads input lines from rd; source names the file in dead
// letters. It returns an error only when rd itself fails: every bad line
// becomes a dead letter and reading goes on.
func ReadJSONL(rd io.Reader, source string, sink Sink) (ReadStats, error) {
	var st ReadStats
	err := scanLines(rd, source, func(line int, raw []byte, tooLong bool) {
		st.Lines++
		if r, d := parseRaw(source, line, raw, tooLong); d != nil {
			st.Dead++
			sink.Dead(*d)
		} else {
			st.Responses++
			sink.Response(r)
		}
	})
	return st, err
}

// scanLines calls fn with every non-blank line of rd (raw is only valid
// during the call). A line longer than input.MaxLineBytes comes with
// tooLong set and its first bytes. It returns an error only when rd fails.
func scanLines(rd io.Reader, source string, fn func(line int, raw []byte, tooLong bool)) error {
	br := bufio.NewReaderSize(rd, 1<<20)
	for line := 1; ; line++ {
		raw, tooLong, err := input.ReadLine(br)
		if len(bytes.TrimSpace(raw)) > 0 || tooLong {
			fn(line, raw, tooLong)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("grade: reading %s at line %d: %w", source, line, err)
		}
	}
}

// parseRaw is ParseLine for a line scanLines found.
func parseRaw(source string, line int, raw []byte, tooLong bool) (Response, *schemas.DeadLetter) {
	if tooLong {
		return Response{}, deadLetter(source, line, "", "", fmt.Sprintf("line is longer than %d bytes", input.MaxLineBytes), raw)
	}
	return ParseLine(source, line, raw)
}

// ParseLine turns one non-blank input line into a Response, or into a dead
// letter naming the first problem found (whole-line problems first, then
// id, response, reference).
func ParseLine(source string, line int, raw []byte) (Response, *schemas.DeadLetter) {
	dead := func(id, field, reason string) (Response, *schemas.DeadLetter) {
		return Response{}, deadLetter(source, line, id, field, reason, raw)
	}
	if !utf8.Valid(raw) {
		return dead("", "", fmt.Sprintf("invalid UTF-8 at byte %d", input.InvalidUTF8Offset(raw)))
	}
	var record map[string]json.RawMessage
	if err := json.Unmarshal(raw, &record); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return dead("", "", "a line must hold a JSON object {id, response, reference}, got "+jsonKind(raw))
		case !json.Valid(raw) && json.NewDecoder(bytes.NewReader(raw)).Decode(new(json.RawMessage)) == nil:
			return dead("", "", "unexpected data after the JSON value")
		}
		return dead("", "", "malformed JSON: "+err.Error())
	}
	if record == nil {
		return dead("", "", "a line must hold a JSON object {id, response, reference}, got null")
	}

	id, problem := field(record, FieldID, true)
	if problem == "" && strings.TrimSpace(idText(id)) == "" {
		problem = fmt.Sprintf("field %q is empty", FieldID)
	}
	if problem != "" {
		return dead("", FieldID, problem)
	}
	idt := idText(id)
	response, problem := field(record, FieldResponse, false)
	if problem != "" {
		return dead(idt, FieldResponse, problem)
	}
	reference, problem := field(record, FieldReference, true)
	switch {
	case problem != "":
		return dead(idt, FieldReference, problem)
	case strings.TrimSpace(reference) == "":
		return dead(idt, FieldReference, fmt.Sprintf("field %q is empty", FieldReference))
	case filters.ReferenceAnswer(reference) == "":
		return dead(idt, FieldReference, fmt.Sprintf("field %q holds no final answer (nothing after ####, or an empty \\boxed{})", FieldReference))
	}
	return Response{ID: id, Response: response, Reference: reference, Source: source, Line: line}, nil
}

// field reads a string field; with numbers, a JSON number is accepted too.
// For FieldID the JSON text as written is returned (`"a"`, `7`); for the
// other fields the value (a number as written).
func field(record map[string]json.RawMessage, name string, numbers bool) (string, string) {
	raw, ok := record[name]
	if !ok {
		return "", fmt.Sprintf("missing field %q", name)
	}
	want := "a string"
	if numbers {
		want = "a string or a number"
	}
	switch kind := jsonKind(raw); {
	case kind == "a string":
		if name == FieldID {
			return string(raw), ""
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Sprintf("field %q: %v", name, err)
		}
		return s, ""
	case kind == "a number" && numbers:
		return string(raw), ""
	default:
		return "", fmt.Sprintf("field %q is %s, want %s", name, kind, want)
	}
}

// jsonKind names the kind of a JSON value from its first byte.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch c := raw[0]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	default:
		return "a number"
	}
}

func deadLetter(source string, line int, id, field, reason string, raw []byte) *schemas.DeadLetter {
	return &schemas.DeadLetter{
		Source:   source,
		Line:     line,
		PromptID: id,
		Stage:    "read",
		Field:    field,
		Reason:   fmt.Sprintf("%s:%d: %s", source, line, reason),
		Raw:      input.Preview(raw),
	}
}
