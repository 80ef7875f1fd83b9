package filters_test

import (
	"testing"

	"github.com/syllabus-dev/syllabus/filters"
	"github.com/syllabus-dev/syllabus/filters/verifiertest"
)

func TestConformance(t *testing.T) {
	tests := []struct {
		v filters.Verifier
		f verifiertest.Fixture
	}{
		{filters.NewMathVerifier(nil), verifiertest.Fixture{
			Reference:      `\frac{3}{4}`,
			Right:          "So $x = \\frac{6}{8}$, that is \\boxed{0.75}.",
			Wrong:          `\boxed{\frac{4}{3}}`,
			GSM8KReference: "Half of 1.5 is 1.5/2 = <<1.5/2=0.75>>0.75\n#### 0.75",
		}},
		{filters.ExactStringVerifier{}, verifiertest.Fixture{
			Reference:      "18",
			Right:          "Adding, 3 + 15 = 18.\n#### 18",
			Wrong:          `\boxed{18.0}`,
			GSM8KReference: "She has 3 + 15 = <<3+15=18>>18 apples.\n#### 18",
		}},
		{filters.MultipleChoiceVerifier{}, verifiertest.Fixture{
			Reference: "B",
			Right:     "Only the second option works, so the answer is (B).",
			Wrong:     `\boxed{\text{(C)}}`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.v.Name(), func(t *testing.T) {
			verifiertest.RunConformance(t, tt.v, tt.f)
		})
	}
}
