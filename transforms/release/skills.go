package release

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// TableSkills holds the skill catalogue the run tagged prompts with, as
// skills/catalogue.yaml: one row, a Document holding the YAML file.
const TableSkills = "skills"

// CatalogueFile is where a release keeps its skill catalogue.
const CatalogueFile = "skills/catalogue.yaml"

func init() {
	Tables = append(Tables, TableInfo{
		Name:    TableSkills,
		File:    func(int, int) string { return CatalogueFile },
		encoder: newDocumentEncoder,
	})
}

// Document is a row written verbatim as a whole file (a YAML catalogue).
type Document struct {
	Text string `json:"text"`
}

// documentEncoder writes each row's text as is.
type documentEncoder struct{ w *bufio.Writer }

func newDocumentEncoder(w io.Writer, _ recipe.OutputConfig) rowEncoder {
	return &documentEncoder{bufio.NewWriter(w)}
}

func (e *documentEncoder) Write(raw []byte) error {
	var d Document
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("decoding a document row: %w", err)
	}
	_, err := e.w.WriteString(d.Text)
	return err
}

func (e *documentEncoder) WriteRecord(record any) error { return writeMarshalled(e, record) }

func (e *documentEncoder) Close() error { return e.w.Flush() }

// CoverageKey is the tally key counting kept prompts of one skill in one
// difficulty bucket; BuildManifest sums these into Manifest.Coverage.
func CoverageKey(skill, difficulty string) string {
	return "coverage:" + skill + "\x00" + difficulty
}

// addCoverage reads a "coverage:" tally into m.Coverage; false when key is
// not one.
func addCoverage(m *Manifest, key string, v int64) bool {
	rest, ok := strings.CutPrefix(key, "coverage:")
	if !ok {
		return false
	}
	skill, difficulty, _ := strings.Cut(rest, "\x00")
	if m.Coverage == nil {
		m.Coverage = map[string]map[string]int64{}
	}
	if m.Coverage[skill] == nil {
		m.Coverage[skill] = map[string]int64{}
	}
	m.Coverage[skill][difficulty] += v
	return true
}

// coverageSection renders the skill × difficulty table of the card.
func coverageSection(b *strings.Builder, m *Manifest) {
	if len(m.Coverage) == 0 {
		return
	}
	buckets := map[string]bool{}
	for _, row := range m.Coverage {
		for d := range row {
			buckets[d] = true
		}
	}
	var cols []string
	for _, d := range []string{"easy", "medium", "hard"} { // the usual order first
		if buckets[d] {
			cols = append(cols, d)
			delete(buckets, d)
		}
	}
	rest := make([]string, 0, len(buckets))
	for d := range buckets {
		rest = append(rest, d)
	}
	sort.Strings(rest)
	cols = append(cols, rest...)
	skills := make([]string, 0, len(m.Coverage))
	for s := range m.Coverage {
		skills = append(skills, s)
	}
	sort.Strings(skills)
	b.WriteString("## Skill coverage (kept prompts by skill and difficulty)\n\n| skill |")
	for _, c := range cols {
		fmt.Fprintf(b, " %s |", c)
	}
	b.WriteString(" total |\n| --- |")
	for range cols {
		b.WriteString(" ---: |")
	}
	b.WriteString(" ---: |\n")
	for _, s := range skills {
		var total int64
		fmt.Fprintf(b, "| %s |", s)
		for _, c := range cols {
			fmt.Fprintf(b, " %d |", m.Coverage[s][c])
			total += m.Coverage[s][c]
		}
		fmt.Fprintf(b, " %d |\n", total)
	}
	b.WriteString("\n")
}
