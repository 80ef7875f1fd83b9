package skills

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
)

// FormatVersion is the version of the catalogue file format.
const FormatVersion = 1

// MaxSkills bounds a catalogue: every tag request lists the whole catalogue.
const MaxSkills = 200

// Catalogue is the set of skills prompts are tagged with.
type Catalogue struct {
	// Format is the file format version (FormatVersion).
	Format int `yaml:"format" json:"format"`
	// Version names this catalogue's content: "sha256:" and the first 12
	// hex digits of the hash of its names and descriptions, unless the file
	// sets its own. Releases record it, so two releases tagged with the
	// same catalogue say so.
	Version string `yaml:"version" json:"version"`
	// Source says where it came from: "induced from N prompts by MODEL"
	// or the path it was loaded from.
	Source string          `yaml:"source,omitempty" json:"source,omitempty"`
	Skills []schemas.Skill `yaml:"skills" json:"skills"`
}

// Names returns the skill names in catalogue order.
func (c Catalogue) Names() []string {
	out := make([]string, len(c.Skills))
	for i, s := range c.Skills {
		out[i] = s.Name
	}
	return out
}

// Has reports whether name is a skill of the catalogue.
func (c Catalogue) Has(name string) bool {
	for _, s := range c.Skills {
		if s.Name == name {
			return true
		}
	}
	return false
}

// Lookup returns the skill named name.
func (c Catalogue) Lookup(name string) (schemas.Skill, bool) {
	for _, s := range c.Skills {
		if s.Name == name {
			return s, true
		}
	}
	return schemas.Skill{}, false
}

// ContentVersion is the hash version of the catalogue's content.
func (c Catalogue) ContentVersion() string {
	h := sha256.New()
	for _, s := range c.Skills {
		fmt.Fprintf(h, "%s\x00%s\x00", s.Name, s.Description)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:12]
}

// Validate reports every problem at once, naming the skill.
func (c Catalogue) Validate() error {
	var errs []error
	if c.Format != FormatVersion {
		errs = append(errs, fmt.Errorf("format must be %d, got %d", FormatVersion, c.Format))
	}
	if len(c.Skills) == 0 || len(c.Skills) > MaxSkills {
		errs = append(errs, fmt.Errorf("skills: want 1 to %d, got %d", MaxSkills, len(c.Skills)))
	}
	seen := map[string]bool{}
	for i, s := range c.Skills {
		switch {
		case strings.TrimSpace(s.Name) == "":
			errs = append(errs, fmt.Errorf("skills[%d]: name must be set", i))
		case s.Name != strings.TrimSpace(s.Name) || strings.ContainsAny(s.Name, "\n\t"):
			errs = append(errs, fmt.Errorf("skills[%d] %q: name has surrounding or inner control whitespace", i, s.Name))
		case seen[s.Name]:
			errs = append(errs, fmt.Errorf("skills[%d] %q: named twice", i, s.Name))
		}
		seen[s.Name] = true
		if strings.Contains(s.Description, "\n") {
			errs = append(errs, fmt.Errorf("skills[%d] %q: description must be one line", i, s.Name))
		}
	}
	return errors.Join(errs...)
}

// Parse reads a catalogue file. Unknown keys are an error naming their
// line; a missing version is filled with the content version.
func Parse(data []byte) (Catalogue, error) {
	var c Catalogue
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("skills catalogue: %w", err)
	}
	if c.Version == "" {
		c.Version = c.ContentVersion()
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("skills catalogue: %w", err)
	}
	return c, nil
}

// Marshal renders the catalogue as the YAML file Parse reads.
func (c Catalogue) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Skill catalogue: edit names or descriptions freely, then pin it with\n# skills.catalogue in a recipe; a pinned catalogue is used as is.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

// Load reads a catalogue from a local path or an s3:// URL.
func Load(ctx context.Context, url, s3Endpoint string) (Catalogue, error) {
	data, err := ReadURL(ctx, url, s3Endpoint)
	if err != nil {
		return Catalogue{}, fmt.Errorf("skills catalogue: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return c, fmt.Errorf("%s: %w", url, err)
	}
	if c.Source == "" {
		c.Source = url
	}
	return c, nil
}

// ReadURL reads a whole file from a local path or an s3:// URL.
func ReadURL(ctx context.Context, url, s3Endpoint string) ([]byte, error) {
	if !strings.HasPrefix(url, "s3://") {
		return os.ReadFile(url)
	}
	dir, name := path.Split(url)
	store, err := storage.Open(dir, &storage.Options{S3Endpoint: s3Endpoint})
	if err != nil {
		return nil, err
	}
	return store.Get(ctx, name)
}
