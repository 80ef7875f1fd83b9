package decontam

import (
	"testing"
)

// TestShortItemQuestionSentence checks short SVAMP, ASDiv and GSM8K items
// against the built-in fingerprints. A prompt that shares only an item's
// stock question sentence ("How many birds are left on the branch?") is a
// different problem and must not be flagged; the item itself, copied
// verbatim, with a number changed, or wrapped in an instruction, must be.
func TestShortItemQuestionSentence(t *testing.T) {
	ix, err := Builtin(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, item, text string
		flagged          bool
	}{
		// The items: asdiv/23 "4 birds are sitting on a branch. 1 flies
		// away. How many birds are left on the branch?", asdiv/24 "3
		// raccoons are playing in the woods. 2 go home to eat dinner. How
		// many raccoons are left in the woods?", asdiv/53 "Millie had 9
		// bracelets. She lost 2 of them. How many bracelets does Millie have
		// left?", svamp/chal-770 "Dave had 19 apps on his phone. He deleted
		// 5 apps. How many apps are left on his phone?", gsm8k/84 "A
		// football team played 22 games. They won 8 more than they lost. How
		// many did they win?", gsm8k/623 "Charmaine will be 16 years old in
		// 12 years. How old will she be 4 years from now?"
		{"birds on a wire (the pipeline's prompt)", "asdiv/23", "There are 20 birds and 8 fly away. How many birds are left on the wire?", false},
		{"birds on the branch, other story", "asdiv/23", "A farmer counts 35 birds in his orchard; a dog barks and 12 of them fly off. How many birds are left on the branch?", false},
		{"raccoons, other story", "asdiv/24", "A family of 8 raccoons lives under the old bridge. Hunters scare away 5 of them. How many raccoons are left in the woods?", false},
		{"bracelets, other story", "asdiv/53", "Millie made 15 bracelets for the craft fair and sold 11 of them on Saturday morning. How many bracelets does Millie have left?", false},
		{"apps, other story", "svamp/chal-770", "Sam's tablet came with 42 games and 7 music players, and he removed every game. How many apps are left on his phone?", false},
		{"football, other story", "gsm8k/84", "The school chess club entered 30 tournaments this year and placed first in 9 of them. How many did they win?", false},
		{"age, other story", "gsm8k/623", "Oliver was 7 years old when his sister was born, and she is 5 now. How old will she be 4 years from now?", false},

		{"birds verbatim", "asdiv/23", "4 birds are sitting on a branch. 1 flies away. How many birds are left on the branch?", true},
		{"birds, numbers changed", "asdiv/23", "9 birds are sitting on a branch. 3 flies away. How many birds are left on the branch?", true},
		{"raccoons, a number changed", "asdiv/24", "3 raccoons are playing in the woods. 7 go home to eat dinner. How many raccoons are left in the woods?", true},
		{"bracelets wrapped", "asdiv/53", "Solve step by step: Millie had 9 bracelets. She lost 2 of them. How many bracelets does Millie have left?", true},
		{"apps, a number changed", "svamp/chal-770", "Dave had 19 apps on his phone. He deleted 11 apps. How many apps are left on his phone?", true},
		{"football verbatim", "gsm8k/84", "A football team played 22 games. They won 8 more than they lost. How many did they win?", true},
		{"age, a number changed", "gsm8k/623", "Charmaine will be 18 years old in 12 years. How old will she be 4 years from now?", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := ix.Check(tt.text)
			var got *Match
			for i := range ms {
				if ms[i].Benchmark+"/"+ms[i].BenchmarkID == tt.item {
					got = &ms[i]
				}
			}
			switch {
			case tt.flagged && got == nil:
				t.Errorf("a copy of %s is not flagged (matches %+v)", tt.item, ms)
			case !tt.flagged && len(ms) > 0:
				t.Errorf("shares only the question sentence of %s but is flagged: %+v", tt.item, ms)
			}
		})
	}
}
