package recipe

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// A recipe as JSON (as the manifest records it) uses the recipe file's
// keys and readable durations, and is itself a recipe file Load reads back.
func TestRecipeJSONIsARecipeFile(t *testing.T) {
	r := Default()
	r.Teacher.URL = "http://127.0.0.1:8000/v1"
	r.Teacher.Model = "qwen"
	r.Teacher.Timeout = 90 * time.Second
	r.Decontam.Threshold = 0.6
	r.Output.Version = "v7"
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"max_concurrency":64`, `"timeout":"1m30s"`, `"down_after":"2m0s"`, `"ngram_size":`, `"samples_per_prompt":4`, `"text_field":"prompt"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("recipe JSON lacks %s:\n%s", want, data)
		}
	}
	if strings.Contains(string(data), "MaxConcurrency") || strings.Contains(string(data), "NgramSize") {
		t.Errorf("recipe JSON has Go field names:\n%s", data)
	}
	path := filepath.Join(t.TempDir(), "recipe.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded, r) {
		t.Errorf("Load(recipe JSON) =\n%+v\nwant\n%+v", loaded, r)
	}
	var back Recipe
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, r) {
		t.Errorf("json round trip = %+v, %v", back, err)
	}
}
