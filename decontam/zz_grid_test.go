package decontam

import (
	"math/rand/v2"
	"testing"
)

func TestZZGrid(t *testing.T) {
	sets := readShared(t)
	clean := cleanPrompts(t)
	for _, n := range []int{4, 5, 6} {
		for _, maxItems := range []int{50, 200} {
			for _, minMatched := range []int{1, n + 1} {
				for _, th := range []float64{0.5} {
					cfg := DefaultConfig()
					cfg.NgramSize, cfg.MaxItemsPerNgram, cfg.MinMatchedWords, cfg.Threshold = n, maxItems, minMatched, th
					ix, _ := Build(sets, cfg)
					r := rand.New(rand.NewPCG(1, 2))
					pos, fl := make([]int, len(transformations)), make([]int, len(transformations))
					for _, set := range sets {
						for _, item := range set.Items {
							for ti, tr := range transformations {
								text, ok := tr.apply(item.Question, r)
								if !ok {
									continue
								}
								pos[ti]++
								if len(ix.Check(text)) > 0 {
									fl[ti]++
								}
							}
						}
					}
					fp := 0
					for _, p := range clean {
						if len(ix.Check(p)) > 0 {
							fp++
						}
					}
					tp, tot := 0, 0
					line := ""
					for ti := range pos {
						tp += fl[ti]
						tot += pos[ti]
						line += " " + transformations[ti].name[:4] + "=" + f4(float64(fl[ti])/float64(pos[ti]))
					}
					t.Logf("n=%d max=%d minm=%d th=%.2f recall=%.4f fp=%d %s", n, maxItems, minMatched, th, float64(tp)/float64(tot), fp, line)
				}
			}
		}
	}
}

func f4(x float64) string { return string([]byte{byte('0' + int(x*10)%10), byte('0' + int(x*100)%10), byte('0' + int(x*1000)%10)}) }
