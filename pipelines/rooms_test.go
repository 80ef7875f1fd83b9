package pipelines

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/syllabus-dev/syllabus/"

// allowed lists, for each room (top-level folder, or a plain-Go package
// under transforms/), which of our rooms it may import (DESIGN.md). Beam
// may be imported only by transforms and pipelines.
var allowed = map[string][]string{
	"schemas":            {},
	"docs":               {},
	"storage":            {"storage"},
	"teacher":            {"schemas", "storage", "teacher"},
	"filters":            {"schemas", "filters"},
	"decontam":           {"schemas", "storage", "decontam"},
	"bench":              {"schemas", "storage", "teacher", "filters", "decontam", "bench", "transforms", "pipelines"},
	"transforms/recipe":  {"schemas", "storage", "teacher", "filters", "decontam", "transforms/input", "transforms/builtin", "transforms/recipe"},
	"transforms/release": {"schemas", "storage", "teacher", "filters", "decontam", "transforms/input", "transforms/recipe", "transforms/release"},
	"transforms/input":   {"schemas", "storage", "filters", "transforms/input"},
	"transforms/builtin": {"schemas", "transforms/builtin"},
	"transforms/grading": {"schemas", "storage", "filters", "transforms/input", "transforms/grading"},
	"transforms":         {"schemas", "storage", "teacher", "filters", "decontam", "transforms"},
	"pipelines":          {"schemas", "storage", "teacher", "filters", "decontam", "transforms", "pipelines"},
}

// room is the most specific entry of allowed that pkg (relative to the
// module) belongs to.
func room(pkg string) string {
	best := ""
	for r := range allowed {
		if (pkg == r || strings.HasPrefix(pkg, r+"/")) && len(r) > len(best) {
			best = r
		}
	}
	return best
}

// TestRooms checks the import rules of DESIGN.md on every package of the
// module, tests included: libraries never import transforms/, and only
// transforms/ and pipelines/ import Beam.
func TestRooms(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if strings.HasSuffix(fields[0], ".test") {
			continue // the generated test main
		}
		// "pkg [pkg.test]" is pkg compiled with its tests.
		pkg := strings.TrimPrefix(strings.Fields(strings.NewReplacer("[", " ", "]", " ").Replace(fields[0]))[0], module)
		pkg = strings.TrimSuffix(pkg, "_test")
		r := room(pkg)
		if r == "" {
			t.Errorf("package %s is in no room of DESIGN.md", pkg)
			continue
		}
		checked++
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, "github.com/apache/beam/") && r != "transforms" && r != "pipelines" && r != "bench" {
				t.Errorf("%s (room %s) imports Beam (%s): only transforms/ and pipelines/ may", pkg, r, imp)
			}
			dep, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			depRoom := room(dep)
			okDep := false
			for _, a := range allowed[r] {
				if depRoom == a || strings.HasPrefix(depRoom, a+"/") {
					okDep = true
				}
			}
			if !okDep {
				t.Errorf("%s (room %s) imports %s (room %s), which DESIGN.md does not allow", pkg, r, dep, depRoom)
			}
		}
	}
	if checked < 15 {
		t.Errorf("checked only %d packages", checked)
	}
}
