package filters

import (
	"fmt"
	"testing"
	"time"
)

func TestChoiceLetter(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"B", "B", true},
		{"b", "B", true},
		{"(B)", "B", true},
		{"(b)", "B", true},
		{"[C]", "C", true},
		{"B)", "B", true},
		{"B. 42", "B", true},
		{"D: the third", "D", true},
		{`\text{(E)}`, "E", true},
		{"**A**", "A", true},
		{"Bob", "", false},
		{"42", "", false},
		{"(bc)", "", false},
		{"(x+1)", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := choiceLetter(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("choiceLetter(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzNormalize(f *testing.F) {
	for _, tt := range equivalenceCases {
		f.Add(tt.got)
		f.Add(tt.want)
	}
	for _, s := range []string{`(p,q)=(3,2)`, `AB=4,CD=5`, `V_{1}:V_{2}=11:21`, `x = 5+5+1 = 11`, `6 \text{ and } 8`,
		`(11,7) or (7,11)`, `-12;-11;-10`, `(0;0;6)`, `x \approx 1/3 \approx 0.33`, `x \in [-2, 7]`, `\\frac{1}{2}`, `11,\! 111`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start := time.Now()
		n := NormalizeAnswer(s)
		if len(n) > 4*len(s)+16 {
			t.Fatalf("NormalizeAnswer(%q) grew to %d bytes", s, len(n))
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("NormalizeAnswer(%q) took %v", s, d)
		}
	})
}

// FuzzEqual checks that comparison never panics or hangs, and is reflexive
// and symmetric.
func FuzzEqual(f *testing.F) {
	for _, tt := range equivalenceCases {
		f.Add(tt.got, tt.want)
	}
	for _, tt := range kindsCases {
		if a, ok := ExtractAnswer(tt.response); ok {
			f.Add(a, ReferenceAnswer(tt.reference))
		}
	}
	v := NewMathVerifier(nil)
	f.Fuzz(func(t *testing.T, a, b string) {
		watchdog := time.AfterFunc(3*time.Second, func() { panic(fmt.Sprintf("slow Equal(%q, %q)", a, b)) })
		defer watchdog.Stop()
		start := time.Now()
		ab, why := v.Equal(a, b)
		ba, _ := v.Equal(b, a)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Equal(%q, %q) took %v", a, b, d)
		}
		if ab != ba {
			t.Fatalf("Equal(%q, %q) = %v (%s) but Equal(%q, %q) = %v", a, b, ab, why, b, a, ba)
		}
		if NormalizeAnswer(a) != "" {
			if ok, why := v.Equal(a, a); !ok {
				t.Fatalf("Equal(%q, itself) = false (%s)", a, why)
			}
		}
	})
}
