package input

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// ProbeRecords is how many records Probe reads from the start of a file.
const ProbeRecords = 100

// Probe reads the start of a prompt file (its first ProbeRecords records,
// or a Parquet file's schema) and fails when no record has the mapping's
// prompt field, or, with the prompt there, none has its reference field: a
// field mapping that matches nothing is a mistake of the run, caught before
// any teacher call, not thousands of dead letters or rejections.
func Probe(f File, size int64, source string, m Mapping) error {
	switch FormatOf(source) {
	case FormatParquet:
		pf, err := parquet.OpenFile(f, size)
		if err != nil {
			return fmt.Errorf("input: %s is not a readable Parquet file: %w", source, err)
		}
		s := pf.Schema()
		if !hasColumn(s, m.Text) && (m.Messages == "" || !hasColumn(s, m.Messages)) {
			return fmt.Errorf("input: %s has no column %q (set --text_field; columns: %s)", source, m.Text, columnNames(s))
		}
		if m.Answer != "" && !hasColumn(s, m.Answer) && !hasColumn(s, m.Messages) {
			return fmt.Errorf("input: %s has no column %q for the reference answer (set --answer_field; columns: %s)", source, m.Answer, columnNames(s))
		}
		return nil
	case FormatJSONLGzip:
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("input: %s: %w", source, err)
		}
		defer zr.Close()
		return probeJSONL(zr, source, m)
	case FormatJSONL:
		return probeJSONL(f, source, m)
	}
	return fmt.Errorf("%w: %s", ErrUnknownFormat, source)
}

func probeJSONL(rd io.Reader, source string, m Mapping) error {
	br := bufio.NewReaderSize(rd, 1<<20)
	var records, withText, withAnswer int
	fields := map[string]bool{}
	for records < ProbeRecords {
		raw, tooLong, err := ReadLine(br)
		if len(bytes.TrimSpace(raw)) > 0 && !tooLong {
			var record map[string]any
			if json.Unmarshal(raw, &record) == nil {
				records++
				for k := range record {
					fields[k] = true
				}
				_, text := lookup(record, m.Text)
				chat, isChat := lookup(record, m.Messages)
				if text || (m.Messages != "" && isChat) {
					withText++
					_, answer := lookup(record, m.Answer)
					if answer || (isChat && endsInAssistant(chat)) {
						withAnswer++
					}
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("input: reading %s: %w", source, err)
		}
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	switch {
	case records == 0:
		return nil // an empty or unreadable start: the read reports it
	case withText == 0:
		return fmt.Errorf("input: none of the first %d records of %s has the field %q (set --text_field; fields: %s)", records, source, m.Text, strings.Join(names, ", "))
	case m.Answer != "" && withAnswer == 0:
		return fmt.Errorf("input: none of the first %d records of %s has the reference field %q (set --answer_field; fields: %s)", records, source, m.Answer, strings.Join(names, ", "))
	}
	return nil
}

func endsInAssistant(v any) bool {
	turns, ok := v.([]any)
	if !ok || len(turns) == 0 {
		return false
	}
	last, ok := turns[len(turns)-1].(map[string]any)
	return ok && last["role"] == "assistant"
}
