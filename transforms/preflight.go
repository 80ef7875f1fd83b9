package transforms

import (
	"context"
	"fmt"

	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/transforms/recipe"
)

// Preflight checks the recipe's teacher before anything runs (see
// teacher.Preflight): a wrong URL, a refused key, an unknown model or a
// spent quota fails in seconds with one line naming the cause. When the
// server refuses n > 1 it sets teacher.single_sample, so workers draw the
// k samples one request each from the start, and returns a note saying so.
// With a reward model it checks that too (teacher.RewardPreflight).
func Preflight(ctx context.Context, r *recipe.Recipe) (note string, err error) {
	rep, err := teacher.Preflight(ctx, r.Teacher, r.Sampling.SamplesPerPrompt, nil)
	if err != nil {
		return "", fmt.Errorf("teacher preflight: %w", err)
	}
	if r.Reward.URL != "" {
		if err := teacher.RewardPreflight(ctx, r.Reward, nil); err != nil {
			return "", fmt.Errorf("reward preflight: %w", err)
		}
	}
	if rep.SingleSample {
		r.Teacher.SingleSample = true
		return fmt.Sprintf("the teacher at %s refuses n > 1: drawing each of the %d samples per prompt with its own request", r.Teacher.URL, r.Sampling.SamplesPerPrompt), nil
	}
	return "", nil
}
