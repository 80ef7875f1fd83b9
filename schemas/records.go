package schemas

// Version is the schema version of released files. It is written into every
// manifest; bump it when a column is renamed, removed or changes meaning.
const Version = "1"

// Message is one turn of a conversation, in the {role, content} form that
// TRL, OpenRLHF and the OpenAI chat API all read.
type Message struct {
	Role    string `json:"role" parquet:"role"`
	Content string `json:"content" parquet:"content"`
}

// Roles of a Message.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Prompt is one input record after reading: a question with, where the input
// has one, a reference answer to verify samples against.
type Prompt struct {
	// ID is the input record's id (or one derived from its source and line
	// when the input has none); every released row carries it as prompt_id.
	ID string `json:"id"`
	// Text is the prompt as the teacher sees it.
	Text string `json:"prompt"`
	// Messages, for chat input, is the conversation as the record holds it
	// (system, few-shot turns, final user turn; a trailing assistant turn is
	// taken as the reference solution, never kept here). Text is then the
	// turns' contents, one per line, for dedup and decontamination.
	Messages []Message `json:"messages,omitempty"`
	// Answer is the reference's final answer; empty when the input has none.
	Answer string `json:"answer,omitempty"`
	// Solution is the reference's full worked solution, when the input's
	// reference is more than its final answer (a GSM8K or MATH solution).
	Solution string `json:"solution,omitempty"`
	// Source names where the record came from: a file path or a builtin set.
	Source string `json:"source"`
	// Line is the 1-based line (JSONL) or row (Parquet) of the record in Source.
	Line int `json:"line"`
	// Skills are skill tags known before generation (the builtin generator
	// knows them; real input may carry none).
	Skills []string `json:"skills,omitempty"`
	// SourceDifficulty is the input's own difficulty label (MATH "level"),
	// when it has one (input.difficulty_field).
	SourceDifficulty string `json:"source_difficulty,omitempty"`
	// Weight is the prompt's STAT-Sel sampling weight when the run has a
	// skill profile; nil otherwise.
	Weight *float64 `json:"weight,omitempty"`
	// Synthesized marks a problem STAT-Syn wrote for a missing skill.
	Synthesized bool `json:"synthesized,omitempty"`
}

// Sample is one response drawn from the teacher for a prompt.
type Sample struct {
	PromptID string `json:"prompt_id"`
	// Index is the sample's position among the k samples of its prompt.
	Index int    `json:"index"`
	Text  string `json:"text"`
	Model string `json:"model"`
	// FinishReason is the server's finish_reason ("stop", "length", ...).
	FinishReason string `json:"finish_reason"`
	// Truncated is true when the server cut the sample at max_tokens; a
	// truncated sample is never released.
	Truncated bool `json:"truncated"`
	// Reasoning is the chain of thought of a reasoning model, apart from
	// Text, which is then the final answer only (what is verified).
	Reasoning string `json:"reasoning,omitempty"`
	// Reward is the reward model's score of the sample when Scored (the
	// reward stage scores only samples that can be released).
	Reward float64 `json:"reward,omitempty"`
	Scored bool    `json:"scored,omitempty"`
}

// SFTExample is one released supervised fine-tuning row: a conversation whose
// final assistant turn is a teacher rationale that passed verification.
type SFTExample struct {
	PromptID string    `json:"prompt_id" parquet:"prompt_id"`
	Messages []Message `json:"messages" parquet:"messages,list"`
	Answer   string    `json:"answer" parquet:"answer"`
	// Solution is the input's full reference solution ("" when the input
	// gave only a final answer).
	Solution  string `json:"solution" parquet:"solution"`
	Extracted string `json:"extracted" parquet:"extracted"`
	// Verdict says why the verifier accepted the sample.
	Verdict      string   `json:"verdict" parquet:"verdict"`
	Skills       []string `json:"skills" parquet:"skills,list"`
	Difficulty   string   `json:"difficulty" parquet:"difficulty"`
	PassRate     float64  `json:"pass_rate" parquet:"pass_rate"`
	Source       string   `json:"source" parquet:"source"`
	TeacherModel string   `json:"teacher_model" parquet:"teacher_model"`
	SampleIndex  int32    `json:"sample_index" parquet:"sample_index"`
	// Reasoning is the teacher's chain of thought when the recipe puts it in
	// a column of its own (sampling.reasoning: column); empty otherwise.
	Reasoning string `json:"reasoning" parquet:"reasoning"`
	// Reward is the reward model's score of the sample (null without a
	// reward model); with one, SFT rows are the best-of-N.
	Reward *float64 `json:"reward" parquet:"reward,optional"`
	// ResponseTokens is the length of the assistant turn in tokens
	// (cl100k_base, an approximation of the teacher's tokenizer).
	ResponseTokens int32 `json:"response_tokens" parquet:"response_tokens"`
	// PassRateLow and PassRateHigh are the 95 % Wilson interval of
	// PassRate over SamplesDrawn samples.
	PassRateLow  float64 `json:"pass_rate_low" parquet:"pass_rate_low"`
	PassRateHigh float64 `json:"pass_rate_high" parquet:"pass_rate_high"`
	SamplesDrawn int32   `json:"samples_drawn" parquet:"samples_drawn"`
	// SourceDifficulty is the input's own difficulty label ("" if none).
	SourceDifficulty string `json:"source_difficulty" parquet:"source_difficulty"`
	// Weight is the STAT-Sel sampling weight (null without a skill
	// profile); Synthesized marks a STAT-Syn problem.
	Weight      *float64 `json:"weight,omitempty" parquet:"weight,optional"`
	Synthesized bool     `json:"synthesized" parquet:"synthesized"`
}

// PreferencePair is one released preference row in TRL's conversational form:
// prompt, chosen and rejected are message lists; chosen is a verified-correct
// sample and rejected an incorrect one for the same prompt.
type PreferencePair struct {
	PromptID     string    `json:"prompt_id" parquet:"prompt_id"`
	Prompt       []Message `json:"prompt" parquet:"prompt,list"`
	Chosen       []Message `json:"chosen" parquet:"chosen,list"`
	Rejected     []Message `json:"rejected" parquet:"rejected,list"`
	Answer       string    `json:"answer" parquet:"answer"`
	Skills       []string  `json:"skills" parquet:"skills,list"`
	Difficulty   string    `json:"difficulty" parquet:"difficulty"`
	PassRate     float64   `json:"pass_rate" parquet:"pass_rate"`
	Source       string    `json:"source" parquet:"source"`
	TeacherModel string    `json:"teacher_model" parquet:"teacher_model"`
	// RejectedVerdict says why the verifier refused the rejected sample.
	RejectedVerdict string `json:"rejected_verdict" parquet:"rejected_verdict"`
	ChosenIndex     int32  `json:"chosen_index" parquet:"chosen_index"`
	RejectedIndex   int32  `json:"rejected_index" parquet:"rejected_index"`
	// ChosenReasoning and RejectedReasoning are the two samples' chains of
	// thought with sampling.reasoning: column; empty otherwise.
	ChosenReasoning   string `json:"chosen_reasoning" parquet:"chosen_reasoning"`
	RejectedReasoning string `json:"rejected_reasoning" parquet:"rejected_reasoning"`
	// ChosenReward and RejectedReward are the reward model's scores (null
	// without one); with scores, pairs are picked by the largest margin.
	ChosenReward   *float64 `json:"chosen_reward" parquet:"chosen_reward,optional"`
	RejectedReward *float64 `json:"rejected_reward" parquet:"rejected_reward,optional"`
	// ChosenTokens and RejectedTokens are the two turns' lengths in tokens.
	ChosenTokens   int32   `json:"chosen_tokens" parquet:"chosen_tokens"`
	RejectedTokens int32   `json:"rejected_tokens" parquet:"rejected_tokens"`
	PassRateLow    float64 `json:"pass_rate_low" parquet:"pass_rate_low"`
	PassRateHigh   float64 `json:"pass_rate_high" parquet:"pass_rate_high"`
	SamplesDrawn   int32   `json:"samples_drawn" parquet:"samples_drawn"`
	// SourceDifficulty is the input's own difficulty label ("" if none).
	SourceDifficulty string `json:"source_difficulty" parquet:"source_difficulty"`
	// Weight and Synthesized: as in SFTExample.
	Weight      *float64 `json:"weight,omitempty" parquet:"weight,optional"`
	Synthesized bool     `json:"synthesized" parquet:"synthesized"`
}

// RLVRExample is one released row for reinforcement learning with verifiable
// rewards: a prompt and the ground truth a rule-based reward checks against.
// Only prompts whose pass rate is inside the recipe's range (rlvr.min_pass_rate,
// rlvr.max_pass_rate; by default solved sometimes but not always) are
// released here, since those carry a learning signal.
type RLVRExample struct {
	PromptID string    `json:"prompt_id" parquet:"prompt_id"`
	Prompt   []Message `json:"prompt" parquet:"prompt,list"`
	// GroundTruth is always the reference's final answer, what a rule-based
	// reward compares with; Solution is the full reference solution.
	GroundTruth string   `json:"ground_truth" parquet:"ground_truth"`
	Solution    string   `json:"solution" parquet:"solution"`
	Skills      []string `json:"skills" parquet:"skills,list"`
	Difficulty  string   `json:"difficulty" parquet:"difficulty"`
	PassRate    float64  `json:"pass_rate" parquet:"pass_rate"`
	Source      string   `json:"source" parquet:"source"`
	// PassRateLow and PassRateHigh are the 95 % Wilson interval of
	// PassRate over SamplesDrawn samples, Correct of them verified.
	PassRateLow      float64 `json:"pass_rate_low" parquet:"pass_rate_low"`
	PassRateHigh     float64 `json:"pass_rate_high" parquet:"pass_rate_high"`
	SamplesDrawn     int32   `json:"samples_drawn" parquet:"samples_drawn"`
	Correct          int32   `json:"correct" parquet:"correct"`
	SourceDifficulty string  `json:"source_difficulty" parquet:"source_difficulty"`
	// Weight and Synthesized: as in SFTExample.
	Weight      *float64 `json:"weight,omitempty" parquet:"weight,optional"`
	Synthesized bool     `json:"synthesized" parquet:"synthesized"`
}

// RefusalExample is one released R-Tuning row (table "refusal", off by
// default): a prompt no sample solved, with an assistant turn saying the
// model is not sure, so a student learns to say so where its teacher fails.
type RefusalExample struct {
	PromptID string    `json:"prompt_id" parquet:"prompt_id"`
	Messages []Message `json:"messages" parquet:"messages,list"`
	// Answer is the reference the samples missed (for auditing, not
	// training).
	Answer           string   `json:"answer" parquet:"answer"`
	Skills           []string `json:"skills" parquet:"skills,list"`
	Difficulty       string   `json:"difficulty" parquet:"difficulty"`
	PassRateHigh     float64  `json:"pass_rate_high" parquet:"pass_rate_high"`
	SamplesDrawn     int32    `json:"samples_drawn" parquet:"samples_drawn"`
	SourceDifficulty string   `json:"source_difficulty" parquet:"source_difficulty"`
	Source           string   `json:"source" parquet:"source"`
	TeacherModel     string   `json:"teacher_model" parquet:"teacher_model"`
}

// Rejection records why a readable prompt (or a duplicate of one) released no
// row. Stage names the pipeline stage ("dedup", "verify"), Reason is a stable
// machine-readable word ("duplicate", "no_correct_sample", ...) and Detail a
// sentence for people.
type Rejection struct {
	PromptID string `json:"prompt_id" parquet:"prompt_id"`
	Stage    string `json:"stage" parquet:"stage"`
	Reason   string `json:"reason" parquet:"reason"`
	Detail   string `json:"detail" parquet:"detail"`
	Source   string `json:"source" parquet:"source"`
	Line     int64  `json:"line" parquet:"line"`
	// Skills are the prompt's skills when it was tagged before it was
	// rejected (what the teacher could not do is worth knowing per skill).
	Skills []string `json:"skills,omitempty" parquet:"skills,list"`
}

// DeadLetter records an input record that could not be processed at all:
// unreadable input, or a teacher failure that outlasted retries.
type DeadLetter struct {
	// Source is the input file (or builtin set), Line the 1-based line or row.
	Source string `json:"source"`
	Line   int    `json:"line"`
	// PromptID is set when the record was readable far enough to have one.
	PromptID string `json:"prompt_id,omitempty"`
	// Stage is where it failed: "read", "generate".
	Stage string `json:"stage"`
	// Field names the offending field, when one is to blame.
	Field string `json:"field,omitempty"`
	// Reason is a sentence naming what is wrong.
	Reason string `json:"reason"`
	// Raw is the start of the offending input, for a person to look at.
	Raw string `json:"raw,omitempty"`
}

// Contamination is one line of contamination.jsonl: a record that overlaps an
// item of an evaluation benchmark.
type Contamination struct {
	ID            string   `json:"id"`
	Benchmark     string   `json:"benchmark"`
	BenchmarkID   string   `json:"benchmark_id"`
	Score         float64  `json:"score"`
	MatchedNgrams []string `json:"matched_ngrams"`
	// Stage is "prompt" when the prompt itself matched (before any teacher
	// call) and "response" when a teacher sample recited a benchmark item.
	Stage string `json:"stage,omitempty"`
}

// Generation is a prompt with the samples the teacher drew for it: what the
// verify stage grades.
type Generation struct {
	Prompt   Prompt
	Messages []Message // the conversation sent to the teacher
	Samples  []Sample
	Model    string
	Usage    TokenUsage
	Cached   bool
}
