// Package verifiertest is the conformance suite every filters.Verifier
// passes: the math, exact-string and multiple-choice verifiers here, and a
// reward-model or judge verifier later. Call RunConformance from a test of
// the implementation.
package verifiertest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syllabus-dev/syllabus/filters"
)

// Fixture gives the suite one graded example in the verifier's terms.
type Fixture struct {
	// Reference is a reference answer; Right and Wrong are full responses
	// whose final answers are right and wrong for it.
	Reference, Right, Wrong string
	// GSM8KReference, when set, is a GSM8K-style solution ending in
	// "#### answer" for which Right is also right.
	GSM8KReference string
}

// hostile responses must be graded without panic, hang or a multi-line reason.
var hostile = []string{
	"",
	`\boxed{`,
	`\boxed{}`,
	strings.Repeat(`\boxed{`, 10000),
	strings.Repeat("{", 5000) + strings.Repeat("}", 5000),
	`\boxed{` + strings.Repeat("(", 1000) + strings.Repeat(")", 1000) + `}`,
	`\boxed{2^{2^{2^{2^{2^{2^{2^{2}}}}}}}}`,
	`\boxed{10^{10^{10}}}`,
	`\boxed{` + strings.Repeat("9", 2000) + `}`,
	`\boxed{100000!}`,
	`\boxed{\frac{1}{0}}`,
	`\boxed{\sqrt{-1}}`,
	`\boxed{` + strings.Repeat("x", 2000) + `}`,
	`\boxed{` + strings.Repeat("x+", 1000) + `x}`,
	"The answer is " + strings.Repeat("1,", 3000),
	"#### " + strings.Repeat("\\", 3000),
	"\xff\xfe\x00 \\boxed{\xff}",
	strings.Repeat("a", 2<<20) + `\boxed{1}`,
}

// RunConformance checks the behaviour every Verifier promises.
func RunConformance(t *testing.T, v filters.Verifier, f Fixture) {
	t.Run("Name", func(t *testing.T) {
		// The name labels verdicts in manifests and rejection reasons: it
		// must be a short lowercase identifier that grading does not change.
		name := v.Name()
		if !validName(name) {
			t.Errorf("Name() = %q: want a non-empty lowercase identifier ([a-z][a-z0-9_-]*)", name)
		}
		v.Verify(f.Right, f.Reference)
		v.Verify(f.Wrong, f.Reference)
		if after := v.Name(); after != name {
			t.Errorf("Name() changed from %q to %q after Verify", name, after)
		}
	})
	t.Run("Right", func(t *testing.T) {
		got := v.Verify(f.Right, f.Reference)
		if !got.HasAnswer || !got.Correct || got.Extracted == "" {
			t.Errorf("Verify(right) = %+v: want a correct verdict with the extracted answer", got)
		}
		checkReason(t, got)
	})
	t.Run("Wrong", func(t *testing.T) {
		got := v.Verify(f.Wrong, f.Reference)
		if !got.HasAnswer || got.Correct || got.Extracted == "" {
			t.Errorf("Verify(wrong) = %+v: want a wrong verdict with the extracted answer", got)
		}
		checkReason(t, got)
	})
	t.Run("GSM8KReference", func(t *testing.T) {
		if f.GSM8KReference == "" {
			t.Skip("no GSM8K reference in the fixture")
		}
		if got := v.Verify(f.Right, f.GSM8KReference); !got.Correct {
			t.Errorf("Verify(right, GSM8K solution) = %+v: want correct", got)
		}
		if got := v.Verify(f.Wrong, f.GSM8KReference); got.Correct {
			t.Errorf("Verify(wrong, GSM8K solution) = %+v: want wrong", got)
		}
	})
	t.Run("NoAnswer", func(t *testing.T) {
		for _, r := range []string{"", "I am not sure.", `\boxed{1`} {
			got := v.Verify(r, f.Reference)
			if got.HasAnswer || got.Correct || got.Extracted != "" || got.Reason != filters.ReasonNoAnswer {
				t.Errorf("Verify(%q) = %+v: want HasAnswer=false, Reason=%q", r, got, filters.ReasonNoAnswer)
			}
		}
	})
	t.Run("Hostile", func(t *testing.T) {
		for _, r := range hostile {
			for _, pair := range [][2]string{{r, f.Reference}, {f.Right, r}, {r, r}} {
				start := time.Now()
				got := v.Verify(pair[0], pair[1])
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("Verify(%.40q..., %.40q...) took %v", pair[0], pair[1], d)
				}
				if got.Correct && !got.HasAnswer {
					t.Errorf("Verify(%.40q..., %.40q...) = %+v: correct without an answer", pair[0], pair[1], got)
				}
				checkReason(t, got)
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		want := v.Verify(f.Right, f.Reference)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 50 {
					if got := v.Verify(f.Right, f.Reference); got != want {
						t.Errorf("concurrent Verify = %+v, want %+v", got, want)
						return
					}
					v.Verify(f.Wrong, f.Reference)
				}
			})
		}
		wg.Wait()
	})
}

func checkReason(t *testing.T, got filters.Verdict) {
	t.Helper()
	if got.Reason == "" || strings.ContainsAny(got.Reason, "\n\r") {
		t.Errorf("Reason %q: want one non-empty line", got.Reason)
	}
}

func validName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
