package decontam

import (
	"testing"

	"github.com/syllabus-dev/syllabus/storage"
	"github.com/syllabus-dev/syllabus/storage/storagetest"
)

// TestOpenFromStorage reads benchmark sets through the storage layer, as a
// run with benchmarks_dir=s3://... does: in memory, and on the real S3
// server.
func TestOpenFromStorage(t *testing.T) {
	question := "A lighthouse keeper climbs 117 steps twice each evening and 93 steps every morning; how many steps does she climb in a week of nine days?"
	set := `{"id": "h1", "question": "` + question + `"}` + "\n"
	stores := map[string]func(t *testing.T) storage.Store{
		"Mem": func(*testing.T) storage.Store { return storage.NewMem() },
		"S3": func(t *testing.T) storage.Store {
			url, opts := storagetest.NewS3Bucket(t)
			s, err := storage.Open(url+"/evals", opts)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			store := open(t)
			if err := store.Put(t.Context(), "house_eval/test.jsonl", []byte(set)); err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.Builtin = false
			ix, err := Open(cfg, ".", storage.FS(t.Context(), store))
			if err != nil {
				t.Fatal(err)
			}
			if got := ix.Check("Please solve this: " + question); len(got) == 0 || got[0].Benchmark != "house_eval" {
				t.Errorf("Check of the house question = %+v, want a house_eval match", got)
			}
			if got := ix.Check("How many apples are left if Tom eats two of his seven apples?"); len(got) != 0 {
				t.Errorf("Check of a clean prompt = %+v", got)
			}
		})
	}
}
