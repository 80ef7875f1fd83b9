package decontam

import (
	"strings"
	"testing"
)

// maxReconstructed is the most of the GSM8K test questions' words the
// attack may rebuild from fingerprints.bin.
const maxReconstructed = 0.05

// TestFingerprintAttack attacks the built-in fingerprints the way issue 10
// attacked the v1 file, with only public data: the words and 5-grams of
// GSM8K *train*. For each GSM8K test question, and each SVAMP and ASDiv
// question of the excerpts (short items, sampled most densely), it tests every train 5-gram
// against the item's stored keys (seeds), then chains: from each n-gram
// found it tries every train word before and after it, keeping the n-grams
// whose keys are stored, until nothing new is found. A word of an item
// counts as reconstructed when an n-gram the attack found covers it where
// it stands in the item; n-grams found that are not in the item (key
// collisions) count for nothing, so the figure is generous to the attack.
// Keys and comparisons mask numbers as the index does (see maskedNumbers):
// a train n-gram with other numbers finds a masked key, and rebuilds its
// words but not its numbers.
// The same attack on every n-gram of each item (what v1 stored, less the
// order) shows it is not toothless.
func TestFingerprintAttack(t *testing.T) {
	fp, err := builtinOnce()
	if err != nil {
		t.Fatal(err)
	}
	n := fp.n
	// The attacker's material: GSM8K train words and n-grams.
	vocab := map[string]uint64{}
	seeds := map[uint32][]string{}
	var w words
	for _, p := range cleanPrompts(t) {
		w.tokenize(p)
		ws := make([]string, w.len())
		for i := range ws {
			ws[i] = w.join(i, i+1)
			vocab[ws[i]] = w.hashes[i]
		}
		for i := 0; i+n <= len(ws); i++ {
			g := ws[i : i+n]
			seeds[attackKey(g, vocab)] = g
		}
	}
	vocabList := make([]string, 0, len(vocab))
	for v := range vocab {
		vocabList = append(vocabList, v)
	}
	// The targets: the questions of GSM8K test and of the short-item sets
	// SVAMP and ASDiv (text from the excerpts, stored keys from
	// fingerprints.bin).
	targets := map[string]Benchmark{}
	for _, s := range excerptSets(t) {
		if s.Name == "gsm8k" || s.Name == "svamp" || s.Name == "asdiv" {
			targets[s.Name] = s
		}
	}
	stored := map[string]map[uint32]bool{} // by set/id
	for _, p := range fp.parts {
		it := fp.items[p.item]
		if name := fp.sets[it.set].Name; targets[name].Name == "" || p.kind != partQuestion {
			continue
		}
		set := map[uint32]bool{}
		for _, g := range p.grams {
			set[g] = true
		}
		stored[fp.sets[it.set].Name+"/"+it.id] = set
	}
	if g := targets["gsm8k"]; len(g.Items) != 1319 {
		t.Fatalf("%d GSM8K test questions in the excerpt; want 1319", len(g.Items))
	}
	vocabHash := make([]uint64, len(vocabList))
	vocabNum := make([]bool, len(vocabList))
	for i, v := range vocabList {
		vocabHash[i], vocabNum[i] = vocab[v], isNumberWord(v)
	}
	attack := func(items []BenchmarkItem, keysOf func(item BenchmarkItem, words []string) map[uint32]bool) (share float64, exact, falseGrams int) {
		total, covered := 0, 0
		hs := make([]uint64, n)
		num := make([]bool, n)
		for _, item := range items {
			w.tokenize(item.Question)
			iw := make([]string, w.len())
			for i := range iw {
				iw[i] = w.join(i, i+1)
			}
			keys := keysOf(item, iw)
			found := map[string][]string{}
			var queue [][]string
			add := func(g []string) {
				if s := strings.Join(g, " "); found[s] == nil {
					found[s] = g
					queue = append(queue, g)
				}
			}
			for k := range keys {
				if g, ok := seeds[k]; ok {
					add(g)
				}
			}
			for len(queue) > 0 && len(found) < 4*len(iw) {
				g := queue[0]
				queue = queue[1:]
				for i := range n - 1 {
					hs[i], num[i] = vocab[g[i+1]], isNumberWord(g[i+1])
				}
				for vi, vh := range vocabHash {
					hs[n-1], num[n-1] = vh, vocabNum[vi]
					if keys[hashKey(hs, num)] {
						add(append(append([]string{}, g[1:]...), vocabList[vi]))
					}
				}
				for i := range n - 1 {
					hs[i+1], num[i+1] = vocab[g[i]], isNumberWord(g[i])
				}
				for vi, vh := range vocabHash {
					hs[0], num[0] = vh, vocabNum[vi]
					if keys[hashKey(hs, num)] {
						add(append([]string{vocabList[vi]}, g[:n-1]...))
					}
				}
			}
			// A found n-gram covers the item's words where the item has
			// it, compared as the keys are: with its numbers masked
			// when it is masked. A masked number is not rebuilt: the
			// attack learns that a number stands there, not which.
			cov := make([]bool, len(iw))
			at := map[string][]int{}
			for i := 0; i+n <= len(iw); i++ {
				s := maskedForm(iw[i : i+n])
				at[s] = append(at[s], i)
			}
			for _, g := range found {
				pos, ok := at[maskedForm(g)]
				if !ok {
					falseGrams++
					continue
				}
				masked := maskedForm(g) != strings.Join(g, " ")
				for _, i := range pos {
					for j := range n {
						if !masked || !isNumberWord(iw[i+j]) {
							cov[i+j] = true
						}
					}
				}
			}
			c := 0
			for _, b := range cov {
				if b {
					c++
				}
			}
			if c == len(iw) {
				exact++
			}
			total, covered = total+len(iw), covered+c
		}
		return float64(covered) / float64(total), exact, falseGrams
	}
	for _, name := range []string{"gsm8k", "svamp", "asdiv"} {
		set := targets[name]
		share, exact, falseGrams := attack(set.Items, func(item BenchmarkItem, _ []string) map[uint32]bool {
			keys, ok := stored[name+"/"+item.ID]
			if !ok {
				t.Fatalf("%s/%s: not in fingerprints.bin", name, item.ID)
			}
			return keys
		})
		t.Logf("fingerprints.bin: the attack rebuilds %.4f of the words of %d %s test questions (%d questions whole; %d n-grams found by key collision)", share, len(set.Items), name, exact, falseGrams)
		if share > maxReconstructed {
			t.Errorf("%s: the attack rebuilds %.4f of the words, more than %.2f", name, share, maxReconstructed)
		}
	}
	gsm8k := targets["gsm8k"]
	allShare, allExact, _ := attack(gsm8k.Items[:100], func(_ BenchmarkItem, iw []string) map[uint32]bool {
		keys := map[uint32]bool{}
		for i := 0; i+n <= len(iw); i++ {
			keys[attackKey(iw[i:i+n], vocab)] = true
		}
		return keys
	})
	t.Logf("every n-gram, unordered (control, first 100 questions): the attack rebuilds %.4f of the words (%d questions whole)", allShare, allExact)
	if allShare < 0.3 {
		t.Errorf("control: the attack rebuilds only %.4f of the words from every n-gram; it has lost its teeth", allShare)
	}
}

// attackKey is the key of the n-gram of words g, as the index computes it
// (a word missing from vocab is hashed from its text).
func attackKey(g []string, vocab map[string]uint64) uint32 {
	hs := make([]uint64, len(g))
	num := make([]bool, len(g))
	for i, s := range g {
		h, ok := vocab[s]
		if !ok {
			h = wordHash([]byte(s))
		}
		hs[i], num[i] = h, isNumberWord(s)
	}
	return hashKey(hs, num)
}

// hashKey is the key of the n-gram whose word hashes are hs (num tells
// which words are numbers), masked as ngramKey masks.
func hashKey(hs []uint64, num []bool) uint32 {
	nums := 0
	for _, b := range num {
		if b {
			nums++
		}
	}
	var raw uint64
	for i, h := range hs {
		if num[i] && nums == maskedNumbers {
			h = numberHash
		}
		raw = raw*rollBase + h
	}
	return gramKey(finishGram(raw, len(hs)))
}

// isNumberWord reports whether a normalized word is a number.
func isNumberWord(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// maskedForm is the n-gram of words g as its key sees it: its numbers
// replaced by "#" when it is masked.
func maskedForm(g []string) string {
	nums := 0
	for _, s := range g {
		if isNumberWord(s) {
			nums++
		}
	}
	if nums != maskedNumbers {
		return strings.Join(g, " ")
	}
	m := make([]string, len(g))
	for i, s := range g {
		m[i] = s
		if isNumberWord(s) {
			m[i] = "#"
		}
	}
	return strings.Join(m, " ")
}
