package filters

import (
	"testing"
)

// BenchmarkMathVerify grades the recorded MATH responses in turn; the
// grades/sec metric is per core (run with -cpu 1).
//
//	go test ./filters/ -run XXX -bench BenchmarkMathVerify -cpu 1
func BenchmarkMathVerify(b *testing.B) {
	type pair struct{ response, reference string }
	var pairs []pair
	var bytes int64
	for _, p := range readRecordings(b) {
		for _, s := range p.Samples {
			pairs = append(pairs, pair{s.Response, p.Answer})
			bytes += int64(len(s.Response))
		}
	}
	b.SetBytes(bytes / int64(len(pairs)))
	v := NewMathVerifier(nil)
	i := 0
	for b.Loop() {
		p := pairs[i%len(pairs)]
		v.Verify(p.response, p.reference)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grades/s")
}

// BenchmarkEqual compares typical extracted MATH answers, without
// extraction.
func BenchmarkEqual(b *testing.B) {
	pairs := [][2]string{
		{`\frac{3}{4}`, `0.75`}, {`12\frac{3}{5}`, `12.6`}, {`4a-2`, `-2+4a`},
		{`7\pi`, `7 \pi`}, {`x = 3400`, `3400`}, {`10000`, `10{,}000`},
		{`(1, 2)`, `(1,2)`}, {`\sqrt{34}+3\sqrt{10}`, `28`}, {`120^\circ`, `120`},
		{`25\%`, `25`}, {`18`, `17`},
	}
	v := NewMathVerifier(nil)
	i := 0
	for b.Loop() {
		p := pairs[i%len(pairs)]
		v.Equal(p[0], p[1])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grades/s")
}
