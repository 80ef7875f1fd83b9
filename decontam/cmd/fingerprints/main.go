// Command fingerprints regenerates decontam/fingerprints.bin, the built-in
// fingerprints of the standard benchmarks, from their text:
//
//	go run ./decontam/cmd/fingerprints -benchmarks ../shared/benchmarks -out decontam/fingerprints.bin
//
// (or `go generate ./decontam`). The output holds n-gram hashes, word counts,
// set names, versions and item ids; no benchmark text.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/syllabus-dev/syllabus/decontam"
)

func main() {
	dir := flag.String("benchmarks", "../shared/benchmarks", "directory of <name>/test.jsonl benchmark sets")
	out := flag.String("out", "decontam/fingerprints.bin", "fingerprint file to write")
	n := flag.Int("ngram_size", decontam.DefaultConfig().NgramSize, "n-gram size in words")
	flag.Parse()
	if err := run(*dir, *out, *n); err != nil {
		fmt.Fprintln(os.Stderr, "fingerprints:", err)
		os.Exit(1)
	}
}

func run(dir, out string, n int) error {
	sets, err := decontam.ReadDir(os.DirFS(dir))
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	var buf bytes.Buffer
	if err := decontam.WriteFingerprints(&buf, sets, n); err != nil {
		return err
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	items := 0
	for _, s := range sets {
		items += len(s.Items)
	}
	fmt.Printf("wrote %s: %d sets, %d items, %d-grams, %d bytes\n", out, len(sets), items, n, buf.Len())
	return nil
}
