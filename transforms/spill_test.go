package transforms

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/transforms/builtin"
)

// TestSpillRoundTrip: records spilled by two bundles come back, per
// partition, as written and in order; a bundle with no records writes no
// file; removeSpill leaves nothing behind.
func TestSpillRoundTrip(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	store, err := storage.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	refs := map[int][]spillRef{}
	want := map[int][]string{}
	for bundle := range 2 {
		s := newSpiller(store, "test")
		for i := range 300 {
			part := (i * 7) % (spillParts + 5) // some beyond spillParts: taken modulo
			rec := fmt.Sprintf("b%d-r%d", bundle, i)
			if i%50 == 0 {
				rec = "" // empty records survive too
			}
			if err := s.add(part, []byte(rec)); err != nil {
				t.Fatal(err)
			}
			want[part%spillParts] = append(want[part%spillParts], rec)
		}
		if err := s.flush(ctx, func(p int, r spillRef) { refs[p] = append(refs[p], r) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := newSpiller(store, "test").flush(ctx, func(int, spillRef) { t.Error("an empty bundle emitted a reference") }); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, spillDir, "test", "*"))
	if len(files) != 2 {
		t.Errorf("spill files = %v, want one per bundle with records", files)
	}
	got := map[int][]string{}
	for p, rs := range refs {
		next := 0
		err := readSpill(ctx, store, func(r *spillRef) bool {
			if next == len(rs) {
				return false
			}
			*r = rs[next]
			next++
			return true
		}, func(rec []byte) error {
			got[p] = append(got[p], string(rec))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %d partitions, want %d; first differing: %v", len(got), len(want), firstDiff(got, want))
	}
	if err := removeSpill(ctx, store); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, spillDir)); !os.IsNotExist(err) {
		t.Errorf("spill folder left after removeSpill (stat: %v)", err)
	}
}

func firstDiff(got, want map[int][]string) string {
	for p := range spillParts {
		if !slices.Equal(got[p], want[p]) {
			return fmt.Sprintf("partition %d: got %q, want %q", p, got[p], want[p])
		}
	}
	return ""
}

// TestMemberCodec: a near-dup member survives the spill's encoding, its
// prompt key first, and a truncated record is an error, not a member.
func TestMemberCodec(t *testing.T) {
	m := nearMember{Ref: nearRef{Key: "00112233445566778899aabbccddeeff", ID: "p-1", Source: "s3://b/in.jsonl", Line: 42},
		Sig: []uint32{1, 0xffffffff, 7}, Math: 1 << 63, Sentences: 12345}
	b, err := encodeMember(m)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%x", b[:nearKeyLen]) != m.Ref.Key {
		t.Errorf("record starts %x, want the key %s", b[:nearKeyLen], m.Ref.Key)
	}
	got, err := decodeMember(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("decoded %+v, want %+v", got, m)
	}
	if _, err := decodeMember(b[:len(b)-1]); err == nil {
		t.Error("a truncated member decoded")
	}
	if _, err := encodeMember(nearMember{Ref: nearRef{Key: "abc"}}); err == nil {
		t.Error("a member with a short key encoded")
	}
}

// TestSimAnswerKey: the simulated teacher's key, which holds no prompt
// text, answers every prompt of the set, bare or followed by an
// instruction, with its own problem's answer, and knows no other prompt.
func TestSimAnswerKey(t *testing.T) {
	spec, err := builtin.ParseSpec("builtin:arithmetic?n=300")
	if err != nil {
		t.Fatal(err)
	}
	solve := simAnswerKey(spec)
	for i, p := range builtin.Generate(spec) {
		if !reflect.DeepEqual(p, builtin.Nth(spec, i)) {
			t.Fatalf("Nth(%d) differs from Generate's", i)
		}
		for _, prompt := range []string{p.Text, p.Text + "\n\nThink step by step."} {
			sol, ok := solve(prompt)
			if !ok || sol.Answer != p.Answer || !slices.Equal(sol.Steps, p.Steps) {
				t.Fatalf("problem %d: solve = %+v, %v; want answer %q", i, sol, ok, p.Answer)
			}
		}
	}
	if _, ok := solve("What is the capital of France?"); ok {
		t.Error("the key answered a prompt of no set")
	}
}
