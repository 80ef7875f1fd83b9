package main

import (
	"strings"
	"testing"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string // substrings of the validation error; none means valid
	}{
		{"valid", []string{"--input=in.jsonl", "--output=out.jsonl"}, nil},
		{"missing input", []string{"--output=out.jsonl"}, []string{"--input is required"}},
		{"missing both", nil, []string{"--input is required", "--output is required"}},
		{"output overwrites input", []string{"--input=a.jsonl", "--output=./a.jsonl"}, []string{"--output must differ from --input"}},
		{"dead letters onto input", []string{"--input=a.jsonl", "--output=b.jsonl", "--dead_letter=a.jsonl"}, []string{"--dead_letter must differ"}},
		{"stray argument", []string{"--input=a.jsonl", "out.jsonl"}, []string{`unexpected argument "out.jsonl"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parse(tc.args)
			if len(tc.want) == 0 {
				if err != nil {
					t.Errorf("valid flags rejected: %v", err)
				}
				if got, want := cfg.DeadLetterPath(), "out.jsonl.dead_letter.jsonl"; got != want {
					t.Errorf("dead letters default to %s, want %s", got, want)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}
