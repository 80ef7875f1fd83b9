package transforms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/top"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
	"github.com/syllabus-dev/syllabus/transforms/release"
	"github.com/syllabus-dev/syllabus/transforms/skills"
)

func init() {
	register.Function2x1[schemas.Prompt, schemas.Prompt, bool](lessBySample)
	register.DoFn5x1[context.Context, []schemas.Prompt, func(string), func(release.Row), func(string, int64), error](&induceFn{})
	register.DoFn6x1[context.Context, schemas.Prompt, func(*string) bool, func(schemas.Prompt), func(release.Row), func(string, int64), error](&tagFn{})
	register.DoFn5x1[context.Context, []byte, func(schemas.Prompt), func(release.Row), func(string, int64), error](&synthesizeFn{})
	register.Emitter1[string]()
	register.Iter1[string]()
}

// Tally keys of the skills stages.
const (
	tallyTagRetries     = "skills:tag_retries"
	tallyInduceFailed   = "skills:induce_failed"
	tallySynthAsked     = "skills:synthesized_asked"
	tallySynthKept      = "skills:synthesized_kept"
	reasonNoAgreement   = "no_agreement"
	stageTag            = "tag"
	stageSynthesize     = "synthesize"
	synthesizedSourcePx = "stat-syn:"
)

// lessBySample orders prompts by their dedup key: the induction sample is
// the prompts with the smallest keys, the same for the same input whatever
// the runner's bundling.
func lessBySample(a, b schemas.Prompt) bool { return dedupKey(a) < dedupKey(b) }

// tagSkills is the skills stage of sftgen, between decontamination and
// generation (a prompt thrown away costs no tagging): with a pinned
// catalogue it tags with it; otherwise it first induces a catalogue from a
// sample of prompts. Every prompt that goes on carries 1 to 3 catalogue
// skills (and, with a profile, its STAT-Sel weight); one whose tags stay
// invalid after skills.tag_attempts answers is dead-lettered. The
// catalogue is released as skills/catalogue.yaml. Off unless
// r.Skills.Tagging(): prompts then go on as they are.
func tagSkills(s beam.Scope, r recipe.Recipe, info *release.Info, teacherJSON string, prompts beam.PCollection) (tagged beam.PCollection, rows, tallies []beam.PCollection, err error) {
	if !r.Skills.Tagging() {
		return prompts, nil, nil, nil
	}
	s = s.Scope("skills")
	profile, err := loadProfile(r)
	if err != nil {
		return prompts, nil, nil, err
	}
	var catalogue beam.PCollection
	if r.Skills.Catalogue != "" {
		c, err := skills.Load(context.Background(), r.Skills.Catalogue, r.Output.S3Endpoint)
		if err != nil {
			return prompts, nil, nil, fmt.Errorf("skills.catalogue: %w", err)
		}
		if err := profileMatches(profile, c); r.Skills.Profile != "" && err != nil {
			return prompts, nil, nil, err
		}
		text, err := c.Marshal()
		if err != nil {
			return prompts, nil, nil, err
		}
		catalogue = beam.Create(s, string(text))
		row, err := release.NewRow(release.TableSkills, "catalogue", release.Document{Text: string(text)})
		if err != nil {
			return prompts, nil, nil, err
		}
		rows = append(rows, beam.Create(s, row))
	} else {
		sample := top.Smallest(s.Scope("induce_sample"), prompts, r.Skills.InduceSample, lessBySample)
		var catRows, catTally beam.PCollection
		catalogue, catRows, catTally = beam.ParDo3(s.Scope("induce"), &induceFn{Teacher: teacherJSON, S3Endpoint: r.Output.S3Endpoint, K: r.Skills.K}, sample)
		rows, tallies = append(rows, catRows), append(tallies, catTally)
	}
	profileJSON, err := json.Marshal(profile)
	if err != nil {
		return prompts, nil, nil, err
	}
	tagged, tagRows, tagTally := beam.ParDo3(s.Scope("tag"), &tagFn{Teacher: teacherJSON, S3Endpoint: r.Output.S3Endpoint, Attempts: r.Skills.TagAttempts,
		Profile: string(profileJSON), HasProfile: r.Skills.Profile != "", Boost: r.Skills.WeightBoost}, prompts, beam.SideInput{Input: catalogue})
	info.Tables = append(append([]string(nil), info.Tables...), release.TableSkills)
	return tagged, append(rows, tagRows), append(tallies, tagTally), nil
}

// profileMatches fails when no skill of the profile is in the catalogue:
// every weight would be 1 and STAT-Syn would write for skills no tag
// names, which is a wrong pairing of files, not a dataset.
func profileMatches(p schemas.SkillProfile, c skills.Catalogue) error {
	for _, f := range p.Skills {
		if c.Has(f.Skill) {
			return nil
		}
	}
	return fmt.Errorf("skills.profile: none of its skills is in the catalogue %s (%v): pin the catalogue the profile was made with", c.Version, c.Names())
}

// loadProfile reads skills.profile (nil profile when unset).
func loadProfile(r recipe.Recipe) (schemas.SkillProfile, error) {
	var p schemas.SkillProfile
	if r.Skills.Profile == "" {
		return p, nil
	}
	data, err := skills.ReadURL(context.Background(), r.Skills.Profile, r.Output.S3Endpoint)
	if err != nil {
		return p, fmt.Errorf("skills.profile: %w", err)
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("skills.profile %s: %w", r.Skills.Profile, err)
	}
	if len(p.Skills) == 0 {
		return p, fmt.Errorf("skills.profile %s: no skills (write it with pipelines/skillgap)", r.Skills.Profile)
	}
	return p, nil
}

// induceFn asks the teacher which skills each prompt of the sample needs
// and merges the names into a catalogue of K skills, emitted as YAML (the
// tag stage's side input) and as the release's skills/catalogue.yaml. A
// prompt whose answer is unusable is left out of the sample (counted); a
// sample with no usable answer at all fails the run, since nothing could
// be tagged.
type induceFn struct {
	Teacher    string
	S3Endpoint string
	K          int
}

func (f *induceFn) ProcessElement(ctx context.Context, sample []schemas.Prompt, emitCatalogue func(string), emitRow func(release.Row), emitTally func(string, int64)) error {
	if len(sample) == 0 {
		return nil // no prompt to tag
	}
	w, cfg, err := openWorkerTeacher(f.Teacher, f.S3Endpoint)
	if err != nil {
		return fmt.Errorf("skills induce: %w", err)
	}
	type answer struct {
		skills []schemas.Skill
		res    teacher.Result
	}
	answers := make([]answer, len(sample))
	var wg sync.WaitGroup
	for i, p := range sample {
		wg.Go(func() {
			reqCtx, calls := teacher.WithCalls(ctx)
			req := cfg.InductionRequest(p.Text)
			resp, err := w.Complete(reqCtx, req)
			answers[i].res = teacher.Result{Key: pendingPrompt{p, calls}, Request: req, Response: resp, Err: err}
			if err == nil {
				answers[i].skills, answers[i].res.Err = teacher.ParseInduction(resp.Choices[0].Text)
			}
		})
	}
	wg.Wait()
	var induced [][]schemas.Skill
	var fatal error
	model := cfg.Model
	for _, a := range answers {
		tallyCalls(emitTally, a.res)
		if a.res.Response != nil && !a.res.Response.Cached {
			tallyUsage(emitTally, a.res.Request.Model, a.res.Response.Usage)
		}
		if a.res.Err != nil {
			if teacher.IsFatal(a.res.Err) {
				fatal = errors.Join(fatal, a.res.Err)
			}
			emitTally(tallyInduceFailed, 1)
			continue
		}
		induced = append(induced, a.skills)
	}
	if fatal != nil {
		return fmt.Errorf("skills induce: the run stops: %w", fatal)
	}
	c, err := skills.Merge(induced, f.K, fmt.Sprintf("induced by %s from %d sampled prompts", model, len(sample)))
	if err != nil {
		return fmt.Errorf("skills induce: the run stops: %w", err)
	}
	text, err := c.Marshal()
	if err != nil {
		return err
	}
	emitCatalogue(string(text))
	row, err := release.NewRow(release.TableSkills, "catalogue", release.Document{Text: string(text)})
	if err != nil {
		return err
	}
	emitRow(row)
	return nil
}

// pendingTag is a tag request in flight: the prompt and its attempt.
type pendingTag struct {
	pendingPrompt
	attempt int
	last    error
}

// tagFn tags each prompt with 1 to 3 skills of the catalogue (side input)
// by structured output, keeping teacher.max_concurrency requests in flight
// as generateFn does. An answer outside the catalogue or not the JSON
// asked for is asked again (a new request: see teacher.TagRequest) up to
// Attempts times, then the prompt is dead-lettered with the last reason;
// invalid tags are never kept.
type tagFn struct {
	Teacher    string
	S3Endpoint string
	Attempts   int
	Profile    string // schemas.SkillProfile as JSON
	HasProfile bool
	Boost      float64

	cfg       teacher.Config
	pool      *teacher.Pool
	life      context.Context
	stop      context.CancelFunc
	catalogue *skills.Catalogue
	profile   schemas.SkillProfile
}

func (f *tagFn) Setup() error {
	w, cfg, err := openWorkerTeacher(f.Teacher, f.S3Endpoint)
	if err != nil {
		return fmt.Errorf("skills tag: %w", err)
	}
	f.cfg = cfg
	f.pool = teacher.NewPool(w, cfg.MaxConcurrency)
	f.life, f.stop = context.WithCancel(context.Background())
	return json.Unmarshal([]byte(f.Profile), &f.profile)
}

func (f *tagFn) Teardown() error {
	if f.stop != nil {
		f.stop()
	}
	return nil
}

func (f *tagFn) ProcessElement(ctx context.Context, p schemas.Prompt, catalogue func(*string) bool, emitPrompt func(schemas.Prompt), emitRow func(release.Row), emitTally func(string, int64)) error {
	if f.catalogue == nil {
		var text string
		if !catalogue(&text) {
			return fmt.Errorf("skills tag: no catalogue reached the tag stage")
		}
		c, err := skills.Parse([]byte(text))
		if err != nil {
			return fmt.Errorf("skills tag: %w", err)
		}
		f.catalogue = &c
	}
	if err := f.submit(pendingTag{pendingPrompt: pendingPrompt{prompt: p}}); err != nil {
		return err
	}
	return f.emit(f.pool.Ready(), emitPrompt, emitRow, emitTally)
}

func (f *tagFn) submit(t pendingTag) error {
	var reqCtx context.Context
	reqCtx, t.calls = teacher.WithCalls(f.life)
	if err := f.pool.Submit(reqCtx, t, f.cfg.TagRequest(f.catalogue.Skills, t.prompt.Text, t.attempt)); err != nil {
		return fmt.Errorf("skills tag: %w", err)
	}
	return nil
}

// FinishBundle takes the side input too, as Beam requires of a DoFn with
// one; the catalogue was read by ProcessElement.
func (f *tagFn) FinishBundle(_ func(*string) bool, emitPrompt func(schemas.Prompt), emitRow func(release.Row), emitTally func(string, int64)) error {
	for {
		results := f.pool.Drain()
		if len(results) == 0 {
			return nil
		}
		if err := f.emit(results, emitPrompt, emitRow, emitTally); err != nil {
			return err
		}
	}
}

func (f *tagFn) emit(results []teacher.Result, emitPrompt func(schemas.Prompt), emitRow func(release.Row), emitTally func(string, int64)) error {
	out := emitters{row: emitRow, tally: emitTally}
	var fatal error
	for _, r := range results {
		t := r.Key.(pendingTag)
		p := t.prompt
		tallyCalls(emitTally, teacher.Result{Key: t.pendingPrompt, Request: r.Request, Response: r.Response})
		if r.Response != nil && !r.Response.Cached {
			tallyUsage(emitTally, r.Request.Model, r.Response.Usage)
		}
		if r.Err != nil {
			if teacher.IsFatal(r.Err) {
				fatal = errors.Join(fatal, r.Err)
				continue
			}
			if err := out.dead(schemas.DeadLetter{Source: p.Source, Line: p.Line, PromptID: p.ID, Stage: stageTag,
				Reason: fmt.Sprintf("prompt %s (%s:%d): tagging skills: %v", p.ID, p.Source, p.Line, r.Err)}); err != nil {
				return err
			}
			continue
		}
		tags, err := teacher.ParseTags(r.Response.Choices[0].Text, f.catalogue.Skills)
		if err != nil {
			if t.attempt+1 < f.Attempts {
				emitTally(tallyTagRetries, 1)
				t.attempt++
				t.last = err
				if err := f.submit(t); err != nil {
					return err
				}
				continue
			}
			if err := out.dead(schemas.DeadLetter{Source: p.Source, Line: p.Line, PromptID: p.ID, Stage: stageTag, Field: "skills",
				Reason: fmt.Sprintf("prompt %s (%s:%d): the teacher's skill tags were invalid %d times (catalogue %s); last: %v", p.ID, p.Source, p.Line, t.attempt+1, f.catalogue.Version, err)}); err != nil {
				return err
			}
			continue
		}
		p.Skills = tags
		if f.HasProfile {
			w := skills.Weight(f.profile, tags, f.Boost)
			p.Weight = &w
		}
		emitTally("skills:tagged", 1)
		emitPrompt(p)
	}
	if fatal != nil {
		return fmt.Errorf("skills tag: the run stops: %w", fatal)
	}
	return nil
}

// addSynthesized is STAT-Syn: with a skill profile and
// skills.synthesize_per_skill > 0, the teacher writes new problems for the
// profile's missing skills; each is solved SolveAttempts times and kept
// only when MinAgreeing final answers agree (the agreed answer becomes its
// reference). Kept problems join the input before dedup, so they go
// through dedup, decontamination, tagging and generation like any prompt,
// marked synthesized; the others are rejected (reason no_agreement). Every
// synthesized problem counts in prompts_in.
func addSynthesized(s beam.Scope, r recipe.Recipe, teacherJSON string, prompts beam.PCollection) (beam.PCollection, []beam.PCollection, []beam.PCollection, error) {
	if r.Skills.Profile == "" || r.Skills.SynthesizePerSkill == 0 || r.DryRun {
		return prompts, nil, nil, nil
	}
	s = s.Scope("stat_syn")
	profile, err := loadProfile(r)
	if err != nil {
		return prompts, nil, nil, err
	}
	missing := skills.Missing(profile, r.Skills.SynthesizeSkills, r.Skills.MinFailureRate, 1)
	if len(missing) == 0 {
		return prompts, nil, nil, nil
	}
	var catalogue skills.Catalogue
	if r.Skills.Catalogue != "" {
		if catalogue, err = skills.Load(context.Background(), r.Skills.Catalogue, r.Output.S3Endpoint); err != nil {
			return prompts, nil, nil, fmt.Errorf("skills.catalogue: %w", err)
		}
	}
	var targets []schemas.Skill
	for _, m := range missing {
		sk, ok := catalogue.Lookup(m.Skill)
		if !ok {
			sk = schemas.Skill{Name: m.Skill, Description: m.Skill}
		}
		targets = append(targets, sk)
	}
	targetsJSON, err := json.Marshal(targets)
	if err != nil {
		return prompts, nil, nil, err
	}
	syn, rows, tally := beam.ParDo3(s, &synthesizeFn{Teacher: teacherJSON, S3Endpoint: r.Output.S3Endpoint, Targets: string(targetsJSON),
		PerSkill: r.Skills.SynthesizePerSkill, Attempts: r.Skills.TagAttempts, Input: r.TeacherInput()}, beam.Impulse(s))
	return beam.Flatten(s, prompts, syn), []beam.PCollection{rows}, []beam.PCollection{tally}, nil
}

// synthesizeFn runs STAT-Syn for every target skill (see addSynthesized).
type synthesizeFn struct {
	Teacher    string
	S3Endpoint string
	Targets    string // []schemas.Skill as JSON
	PerSkill   int
	Attempts   int
	Input      recipe.InputConfig
}

// synthesized is one problem written for a skill and what its solutions
// agreed on.
type synthesized struct {
	skill, text string
	index       int
	agreement   skills.Agreement
	res         teacher.Result
}

func (f *synthesizeFn) ProcessElement(ctx context.Context, _ []byte, emitPrompt func(schemas.Prompt), emitRow func(release.Row), emitTally func(string, int64)) error {
	w, cfg, err := openWorkerTeacher(f.Teacher, f.S3Endpoint)
	if err != nil {
		return fmt.Errorf("stat-syn: %w", err)
	}
	var targets []schemas.Skill
	if err := json.Unmarshal([]byte(f.Targets), &targets); err != nil {
		return err
	}
	var fatal error
	book := func(res teacher.Result) {
		tallyCalls(emitTally, res)
		if res.Response != nil && !res.Response.Cached {
			tallyUsage(emitTally, res.Request.Model, res.Response.Usage)
		}
		if res.Err != nil && teacher.IsFatal(res.Err) {
			fatal = errors.Join(fatal, res.Err)
		}
	}
	// Problems for each skill: ask again (a new request) while the answer
	// is not the JSON asked for.
	var problems []synthesized
	for _, sk := range targets {
		for attempt := range f.Attempts {
			reqCtx, calls := teacher.WithCalls(ctx)
			req := cfg.ProblemsRequest(sk, f.PerSkill, attempt)
			resp, err := w.Complete(reqCtx, req)
			res := teacher.Result{Key: pendingPrompt{schemas.Prompt{ID: "stat-syn:" + sk.Name}, calls}, Request: req, Response: resp, Err: err}
			book(res)
			if err != nil {
				break
			}
			texts, err := teacher.ParseProblems(resp.Choices[0].Text)
			if err != nil {
				continue
			}
			for i, t := range texts[:min(len(texts), f.PerSkill)] {
				problems = append(problems, synthesized{skill: sk.Name, text: t, index: i})
			}
			break
		}
	}
	if fatal != nil {
		return fmt.Errorf("stat-syn: the run stops: %w", fatal)
	}
	// Solve each problem SolveAttempts times, concurrently.
	var wg sync.WaitGroup
	for i := range problems {
		wg.Go(func() {
			pr := &problems[i]
			p := schemas.Prompt{Text: pr.text}
			reqCtx, calls := teacher.WithCalls(ctx)
			req := cfg.NewRequest(recipe.Conversation(p, f.Input), skills.SolveAttempts)
			resp, err := w.Complete(reqCtx, req)
			pr.res = teacher.Result{Key: pendingPrompt{p, calls}, Request: req, Response: resp, Err: err}
			if err == nil {
				var texts []string
				for _, c := range resp.Choices {
					if !c.Truncated {
						texts = append(texts, c.Text)
					}
				}
				pr.agreement = skills.Agree(texts, skills.MinAgreeing)
			}
		})
	}
	wg.Wait()
	out := emitters{row: emitRow, tally: emitTally}
	for _, pr := range problems {
		book(pr.res)
		sum := sha256.Sum256([]byte(pr.text))
		p := schemas.Prompt{ID: "stat-syn-" + pr.skill + "-" + hex.EncodeToString(sum[:6]), Text: pr.text, Answer: pr.agreement.Answer,
			Source: synthesizedSourcePx + pr.skill, Line: pr.index + 1, Synthesized: true}
		emitTally(release.TallyPromptsIn, 1)
		emitTally(tallySynthAsked, 1)
		switch {
		case pr.res.Err != nil && !teacher.IsFatal(pr.res.Err):
			if err := out.dead(schemas.DeadLetter{Source: p.Source, Line: p.Line, PromptID: p.ID, Stage: stageSynthesize,
				Reason: fmt.Sprintf("synthesized problem %s: solving it: %v", p.ID, pr.res.Err)}); err != nil {
				return err
			}
		case pr.res.Err != nil:
		case !pr.agreement.Kept:
			emitTally(release.FateRejected, 1)
			emitTally("reason:"+reasonNoAgreement, 1)
			rej := schemas.Rejection{PromptID: p.ID, Stage: stageSynthesize, Reason: reasonNoAgreement, Source: p.Source, Line: int64(p.Line),
				Detail: fmt.Sprintf("%d of %d solutions agreed on a final answer (%d answered); %d needed", pr.agreement.Agreeing, skills.SolveAttempts, pr.agreement.Answered, skills.MinAgreeing)}
			if err := out.emit(release.TableRejected, release.SampleKey(p.ID, 0), rej); err != nil {
				return err
			}
		default:
			emitTally(tallySynthKept, 1)
			emitPrompt(p)
		}
	}
	if fatal != nil {
		return fmt.Errorf("stat-syn: the run stops: %w", fatal)
	}
	return nil
}
