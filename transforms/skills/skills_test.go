package skills

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/storage/storagetest"
)

func TestMergeFoldsSpellingsAndKeepsK(t *testing.T) {
	induced := [][]schemas.Skill{
		{{Name: "Percentages", Description: "percent of a quantity"}, {Name: "money", Description: "prices"}},
		{{Name: "percentage calculations", Description: "percent of a quantity"}},
		{{Name: "percentage", Description: "compute percents"}, {Name: "money_problems", Description: "prices"}},
		{{Name: "Money", Description: "prices"}, {Name: "unit conversion", Description: "convert units"}},
		{{Name: "fractions", Description: "parts of a whole"}},
	}
	c, err := Merge(induced, 3, "test")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"money", "percentage", "fractions"}
	if got := c.Names(); !slices.Equal(got, want) {
		t.Fatalf("names %v, want %v (percentage spellings and money_problems folded, K=3 cuts unit conversion)", got, want)
	}
	if d, _ := c.Lookup("percentage"); d.Description != "percent of a quantity" {
		t.Errorf("description %q, want the most common one", d.Description)
	}
	rev := slices.Clone(induced)
	slices.Reverse(rev)
	c2, _ := Merge(rev, 3, "test")
	if c2.Version != c.Version || !slices.Equal(c2.Names(), c.Names()) {
		t.Errorf("merge depends on order: %v %s vs %v %s", c.Names(), c.Version, c2.Names(), c2.Version)
	}
	if _, err := Merge([][]schemas.Skill{{{Name: " "}}}, 3, "test"); err == nil {
		t.Error("no usable name: want an error")
	}
}

func TestCatalogueRoundTripAndValidation(t *testing.T) {
	c := Catalogue{Format: FormatVersion, Skills: []schemas.Skill{{Name: "a", Description: "first"}, {Name: "b", Description: "second"}}}
	c.Version = c.ContentVersion()
	data, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil || back.Version != c.Version || !slices.Equal(back.Names(), c.Names()) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	for name, text := range map[string]string{
		"unknown key": "format: 1\nskills:\n  - name: a\n    description: x\n    colour: red\n",
		"duplicate":   "format: 1\nskills:\n  - name: a\n  - name: a\n",
		"no skills":   "format: 1\nskills: []\n",
		"no name":     "format: 1\nskills:\n  - description: x\n",
		"format":      "format: 7\nskills:\n  - name: a\n",
	} {
		if _, err := Parse([]byte(text)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
	// A user's file without version gets its content version; one with a
	// version keeps it.
	pinned, err := Parse([]byte("format: 1\nversion: mine-3\nskills:\n  - name: a\n    description: x\n"))
	if err != nil || pinned.Version != "mine-3" {
		t.Errorf("pinned version %q, %v", pinned.Version, err)
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, data, 0o644)
	if l, err := Load(t.Context(), path, ""); err != nil || l.Source != path {
		t.Errorf("Load: %+v %v", l, err)
	}
}

func TestProfileWeightMissing(t *testing.T) {
	var results []Result
	add := func(n, failed int, skills ...string) {
		for i := range n {
			results = append(results, Result{Correct: i >= failed, Skills: skills})
		}
	}
	add(10, 9, "fractions")
	add(10, 8, "rates", "multiplication")
	add(30, 3, "multiplication")
	add(20, 2, "addition")
	p := Profile(results)
	got := []string{}
	for _, f := range p.Skills {
		got = append(got, f.Skill)
	}
	if !slices.Equal(got, []string{"fractions", "rates", "multiplication", "addition"}) {
		t.Fatalf("ranking %v", got)
	}
	if f := p.Skills[0]; f.Failed != 9 || f.Attempted != 10 || f.FailureRate != 0.9 {
		t.Errorf("fractions %+v", f)
	}
	overall := Overall(p) // (9+8+11+2)/(10+10+40+20) = 30/80
	if math.Abs(overall-30.0/80) > 1e-12 {
		t.Errorf("overall %g", overall)
	}
	wFrac := Weight(p, []string{"fractions"}, 4)
	wMul := Weight(p, []string{"multiplication"}, 4)
	if math.Abs(wFrac-(1+4*(0.9-overall)/(1-overall))) > 1e-12 || wMul != 1 || Weight(p, []string{"unknown"}, 4) != 1 {
		t.Errorf("weights: fractions %g, multiplication %g", wFrac, wMul)
	}
	if w := Weight(p, []string{"multiplication", "fractions"}, 4); w != wFrac {
		t.Errorf("a row's weight is its worst skill's: %g", w)
	}
	m := Missing(p, 2, 0.5, 5)
	if len(m) != 2 || m[0].Skill != "fractions" || m[1].Skill != "rates" {
		t.Errorf("missing %+v", m)
	}
}

func TestAgree(t *testing.T) {
	for _, tc := range []struct {
		name      string
		solutions []string
		kept      bool
		answer    string
	}{
		{"three agree", []string{`so \boxed{12}`, `\boxed{12}`, `\boxed{12.0}`}, true, "12"},
		{"two agree in other forms", []string{`\boxed{0.5}`, `\boxed{\frac{1}{2}}`, `\boxed{3}`}, true, "0.5"},
		{"all differ", []string{`\boxed{1}`, `\boxed{2}`, `\boxed{3}`}, false, ""},
		{"one answered", []string{`\boxed{7}`, "I am not sure.", "no idea"}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Agree(tc.solutions, MinAgreeing)
			if a.Kept != tc.kept || a.Answer != tc.answer {
				t.Errorf("%+v, want kept %v answer %q", a, tc.kept, tc.answer)
			}
		})
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"Percentages": "percentage", "percentage calculations": "percentage_calculation", "multi-step reasoning": "multi_step_reasoning", "Class": "class"} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
	if strings.Contains(Slug("a  b"), "__") {
		t.Error("double separator")
	}
}

// A pinned catalogue may live on S3 beside the releases it tags.
func TestLoadFromS3(t *testing.T) {
	bucket, opts := storagetest.NewS3Bucket(t)
	c := Catalogue{Format: FormatVersion, Skills: []schemas.Skill{{Name: "fraction", Description: "parts of a whole"}, {Name: "money", Description: "prices"}}}
	c.Version = c.ContentVersion()
	data, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	store, err := storage.Open(bucket+"/catalogues", opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(t.Context(), "math.yaml", data); err != nil {
		t.Fatal(err)
	}
	got, err := Load(t.Context(), bucket+"/catalogues/math.yaml", opts.S3Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != c.Version || !slices.Equal(got.Names(), c.Names()) || got.Source != bucket+"/catalogues/math.yaml" {
		t.Errorf("loaded %+v, want the catalogue put there (%s) with its URL as source", got, c.Version)
	}
	if _, err := Load(t.Context(), bucket+"/catalogues/missing.yaml", opts.S3Endpoint); err == nil || !strings.Contains(err.Error(), "skills catalogue") {
		t.Errorf("missing catalogue: err %v, want one naming the skills catalogue", err)
	}
}
