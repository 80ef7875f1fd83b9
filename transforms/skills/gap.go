package skills

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/parquet-go/parquet-go"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/teacher"
)

// GapConfig is what pipelines/skillgap is asked to do.
type GapConfig struct {
	// Results is a JSONL file of a student's evaluation: lines
	// {prompt_id, correct} or {prompt, response, reference} (graded with the
	// math verifier); a line may carry prompt_id and prompt both.
	Results string
	// Release is a release directory (a version root, or a dataset root
	// whose LATEST names one): its rows' skills are reused, by prompt_id or
	// by prompt text.
	Release string
	// Catalogue pins the catalogue to tag with; default the release's.
	Catalogue string
	// Teacher tags the results the release does not cover (URL empty: no
	// teacher; then such results are reported, not guessed).
	Teacher teacher.Config
	// Attempts bounds the answers one tag may take (default 3).
	Attempts   int
	Output     string
	S3Endpoint string
}

// Validate reports every bad field at once, named as the flags.
func (c GapConfig) Validate() error {
	var errs []error
	if c.Results == "" {
		errs = append(errs, errors.New("--results must be set"))
	}
	if c.Output == "" {
		errs = append(errs, errors.New("--output must be set"))
	}
	if c.Release == "" && c.Teacher.URL == "" {
		errs = append(errs, errors.New("set --release to reuse a release's tags, or --teacher_url/--teacher_model to tag with a teacher"))
	}
	if c.Release == "" && c.Catalogue == "" {
		errs = append(errs, errors.New("--catalogue must be set when there is no --release to take the catalogue from"))
	}
	return errors.Join(errs...)
}

// GapSummary says what a skillgap run did with every result line.
type GapSummary struct {
	Lines, Graded, FromRelease, Tagged int
	// Unusable lists lines that count nowhere, each naming line and reason.
	Unusable []string
	Profile  schemas.SkillProfile
}

func (s GapSummary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d result lines: %d with skills from the release, %d tagged by the teacher, %d unusable (%d graded from responses)\n", s.Lines, s.FromRelease, s.Tagged, len(s.Unusable), s.Graded)
	for _, u := range s.Unusable {
		fmt.Fprintf(&b, "  unusable: %s\n", u)
	}
	b.WriteString("skill                          failure_rate  failed/attempted\n")
	for _, f := range s.Profile.Skills {
		fmt.Fprintf(&b, "%-30s %12.3f  %d/%d\n", f.Skill, f.FailureRate, f.Failed, f.Attempted)
	}
	return b.String()
}

// resultLine is one line of --results.
type resultLine struct {
	PromptID  string `json:"prompt_id"`
	Correct   *bool  `json:"correct"`
	Prompt    string `json:"prompt"`
	Response  string `json:"response"`
	Reference string `json:"reference"`
}

// Gap turns a student's results into a missing-skill profile and writes it
// to cfg.Output as JSON. Every line ends counted in the profile or listed
// as unusable with its line number and reason.
func Gap(ctx context.Context, cfg GapConfig) (GapSummary, error) {
	var sum GapSummary
	if err := cfg.Validate(); err != nil {
		return sum, err
	}
	raw, err := ReadURL(ctx, cfg.Results, cfg.S3Endpoint)
	if err != nil {
		return sum, fmt.Errorf("--results: %w", err)
	}
	var tags *releaseTags
	var cat Catalogue
	if cfg.Release != "" {
		if tags, err = readReleaseTags(ctx, cfg.Release, cfg.S3Endpoint); err != nil {
			return sum, fmt.Errorf("--release: %w", err)
		}
		cat = tags.catalogue
	}
	if cfg.Catalogue != "" {
		if cat, err = Load(ctx, cfg.Catalogue, cfg.S3Endpoint); err != nil {
			return sum, err
		}
	}
	verifier := filters.NewMathVerifier(nil)
	var results []Result
	type untagged struct {
		index  int
		prompt string
		line   int
	}
	var toTag []untagged
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		sum.Lines++
		unusable := func(format string, args ...any) {
			sum.Unusable = append(sum.Unusable, fmt.Sprintf("%s:%d: %s", cfg.Results, line, fmt.Sprintf(format, args...)))
		}
		var l resultLine
		if err := json.Unmarshal(text, &l); err != nil {
			unusable("not a JSON object: %v", err)
			continue
		}
		var correct bool
		switch {
		case l.Correct != nil:
			correct = *l.Correct
		case l.Response != "" && l.Reference != "":
			correct = verifier.Verify(l.Response, filters.ReferenceAnswer(l.Reference)).Correct
			sum.Graded++
		default:
			unusable("field correct: want {prompt_id, correct} or {prompt, response, reference}")
			continue
		}
		r := Result{PromptID: l.PromptID, Correct: correct}
		if tags != nil {
			r.Skills = tags.lookup(l.PromptID, l.Prompt)
		}
		if len(r.Skills) > 0 {
			sum.FromRelease++
			results = append(results, r)
			continue
		}
		if l.Prompt == "" || cfg.Teacher.URL == "" {
			unusable("prompt %q: no skills for it in the release, and no prompt text and teacher to tag it with", l.PromptID)
			continue
		}
		results = append(results, r)
		toTag = append(toTag, untagged{len(results) - 1, l.Prompt, line})
	}
	if err := sc.Err(); err != nil {
		return sum, fmt.Errorf("--results: %w", err)
	}
	if len(toTag) > 0 {
		if len(cat.Skills) == 0 {
			return sum, errors.New("no catalogue to tag with: the release has none; set --catalogue")
		}
		prompts := make([]string, len(toTag))
		for i, u := range toTag {
			prompts[i] = u.prompt
		}
		got, errs, err := TagAll(ctx, cfg.Teacher, cat, prompts, cfg.Attempts)
		if err != nil {
			return sum, err
		}
		failed := map[int]bool{}
		for i, u := range toTag {
			if errs[i] != nil {
				sum.Unusable = append(sum.Unusable, fmt.Sprintf("%s:%d: tagging: %v", cfg.Results, u.line, errs[i]))
				failed[u.index] = true
				continue
			}
			results[u.index].Skills = got[i]
			sum.Tagged++
		}
		kept := results[:0]
		for i, r := range results {
			if !failed[i] {
				kept = append(kept, r)
			}
		}
		results = kept
	}
	sum.Profile = Profile(results)
	out, err := json.MarshalIndent(sum.Profile, "", "  ")
	if err != nil {
		return sum, err
	}
	if err := writeURL(ctx, cfg.Output, cfg.S3Endpoint, append(out, '\n')); err != nil {
		return sum, fmt.Errorf("--output: %w", err)
	}
	return sum, nil
}

// TagAll tags prompts with cat through a teacher client (Config.MaxConcurrency
// requests in flight), asking again up to attempts times while an answer is
// invalid. tags[i] or errs[i] is set for each prompt; err is a failure of
// the run (server down, bad key).
func TagAll(ctx context.Context, cfg teacher.Config, cat Catalogue, prompts []string, attempts int) (tags [][]string, errs []error, err error) {
	if attempts < 1 {
		attempts = 3
	}
	client, err := teacher.NewClient(cfg)
	if err != nil {
		return nil, nil, err
	}
	defer client.Close()
	tags, errs = make([][]string, len(prompts)), make([]error, len(prompts))
	sem := make(chan struct{}, max(cfg.MaxConcurrency, 1))
	var wg sync.WaitGroup
	for i, p := range prompts {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for a := range attempts {
				resp, err := client.Complete(ctx, cfg.TagRequest(cat.Skills, p, a))
				if err != nil {
					errs[i] = err
					return
				}
				tags[i], errs[i] = teacher.ParseTags(resp.Choices[0].Text, cat.Skills)
				if errs[i] == nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil && teacher.IsFatal(e) {
			return nil, nil, e
		}
	}
	return tags, errs, nil
}

// releaseTags indexes the skills of a release's rows.
type releaseTags struct {
	byID, byText map[string][]string
	catalogue    Catalogue
}

func (t *releaseTags) lookup(id, prompt string) []string {
	if s := t.byID[id]; id != "" && len(s) > 0 {
		return s
	}
	if prompt != "" {
		return t.byText[filters.DedupText(prompt)]
	}
	return nil
}

// readReleaseTags reads the skills of every row of the release at dir.
func readReleaseTags(ctx context.Context, dir, s3Endpoint string) (*releaseTags, error) {
	store, err := storage.Open(dir, &storage.Options{S3Endpoint: s3Endpoint})
	if err != nil {
		return nil, err
	}
	manifest, err := store.Get(ctx, "manifest.json")
	if err != nil {
		latest, lerr := store.Get(ctx, "LATEST")
		if lerr != nil {
			return nil, fmt.Errorf("%s holds neither manifest.json nor LATEST", store.URL(""))
		}
		return readReleaseTags(ctx, strings.TrimSuffix(dir, "/")+"/"+strings.TrimSpace(string(latest)), s3Endpoint)
	}
	var m struct {
		Files []schemas.File `json:"files"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	t := &releaseTags{byID: map[string][]string{}, byText: map[string][]string{}}
	type row struct {
		PromptID string            `parquet:"prompt_id"`
		Skills   []string          `parquet:"skills,list,optional"`
		Messages []schemas.Message `parquet:"messages,list,optional"`
		Prompt   []schemas.Message `parquet:"prompt,list,optional"`
	}
	for _, f := range m.Files {
		if f.Path == "skills/catalogue.yaml" {
			data, err := store.Get(ctx, f.Path)
			if err != nil {
				return nil, err
			}
			if t.catalogue, err = Parse(data); err != nil {
				return nil, err
			}
			continue
		}
		if !strings.HasSuffix(f.Path, ".parquet") { // rejected rows count too: verification rejections carry skills
			continue
		}
		data, err := store.Get(ctx, f.Path)
		if err != nil {
			return nil, err
		}
		pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		rd := parquet.NewGenericReader[row](pf)
		buf := make([]row, 256)
		for {
			n, err := rd.Read(buf)
			for _, r := range buf[:n] {
				if len(r.Skills) == 0 {
					continue
				}
				t.byID[r.PromptID] = r.Skills
				for _, msgs := range [][]schemas.Message{r.Messages, r.Prompt} {
					for _, msg := range msgs {
						if msg.Role == schemas.RoleUser {
							t.byText[filters.DedupText(msg.Content)] = r.Skills
							if i := strings.LastIndex(msg.Content, "\n\n"); i > 0 { // the problem before the instruction
								t.byText[filters.DedupText(msg.Content[:i])] = r.Skills
							}
						}
					}
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				rd.Close()
				return nil, fmt.Errorf("%s: %w", f.Path, err)
			}
		}
		rd.Close()
	}
	return t, nil
}

// writeURL writes a whole file to a local path or an s3:// URL.
func writeURL(ctx context.Context, url, s3Endpoint string, data []byte) error {
	dir, name := "", url
	if i := strings.LastIndex(url, "/"); i >= 0 {
		dir, name = url[:i+1], url[i+1:]
	}
	if dir == "" {
		dir = "."
	}
	store, err := storage.Open(dir, &storage.Options{S3Endpoint: s3Endpoint})
	if err != nil {
		return err
	}
	return store.Put(ctx, name, data)
}

// StartSimTeacher starts the simulated teacher in-process for cfg (model
// "sim" and no URL) and points cfg at it; it speaks the skills protocol.
func StartSimTeacher(cfg *teacher.Config) (stop func() error, err error) {
	sim, err := teacher.StartSim(teacher.SimConfig{Model: cfg.Model})
	if err != nil {
		return nil, err
	}
	cfg.URL = sim.URL()
	return sim.Close, nil
}
