package teacher_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/syllabus-dev/syllabus/schemas"
	"github.com/syllabus-dev/syllabus/teacher"
)

// A DoFn's life in miniature: submit prompts to a Pool as they arrive, emit
// the results that are ready, and drain the rest at the end of the bundle.
func ExamplePool() {
	sim, err := teacher.StartSim(teacher.SimConfig{
		Accuracy: 1,
		Solve: func(prompt string) (teacher.Solution, bool) {
			return teacher.Solution{Steps: []string{"Count them."}, Answer: "4"}, true
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sim.Close()

	cfg := teacher.DefaultConfig()
	cfg.URL, cfg.Model = sim.URL(), sim.Model()
	client, err := teacher.NewClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	pool := teacher.NewPool(client, cfg.MaxConcurrency)

	ctx := context.Background()
	prompts, samples, correct := 0, 0, 0
	emit := func(results []teacher.Result) {
		for _, r := range results {
			if r.Err != nil {
				log.Fatal(r.Err) // a DoFn dead-letters, or fails if teacher.IsFatal(r.Err)
			}
			prompts++
			for _, c := range r.Response.Choices {
				samples++
				if strings.HasSuffix(c.Text, `\boxed{4}$.`) {
					correct++
				}
			}
		}
	}
	for _, id := range []string{"p1", "p2", "p3"} { // ProcessElement
		msgs := []schemas.Message{{Role: schemas.RoleUser, Content: "How many legs has a cat? (" + id + ")"}}
		if err := pool.Submit(ctx, id, cfg.NewRequest(msgs, 4)); err != nil {
			log.Fatal(err)
		}
		emit(pool.Ready())
	}
	emit(pool.Drain()) // FinishBundle
	fmt.Printf("%d prompts, %d samples, %d correct\n", prompts, samples, correct)
	// Output: 3 prompts, 12 samples, 12 correct
}
