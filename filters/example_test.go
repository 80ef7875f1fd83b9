package filters_test

import (
	"fmt"

	"github.com/syllabus-dev/syllabus/filters"
)

func ExampleMathVerifier() {
	v := filters.NewMathVerifier(nil)
	for _, response := range []string{
		`Simplifying, $x = \boxed{\dfrac{6}{8}}$.`,
		`The answer is 0.7.`,
		`I could not finish.`,
	} {
		verdict := v.Verify(response, `0.75`)
		fmt.Printf("%q has=%v correct=%v: %s\n", verdict.Extracted, verdict.HasAnswer, verdict.Correct, verdict.Reason)
	}
	// Output:
	// "\\dfrac{6}{8}" has=true correct=true: equal as rationals: \frac{6}{8} = 0.75
	// "0.7" has=true correct=false: not equal: 0.7 = 7/10 but 0.75 = 3/4
	// "" has=false correct=false: no_answer
}
