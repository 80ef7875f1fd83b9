package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/syllabus-dev/syllabus/transforms"
)

// watchProgress prints the run's progress line on w every tick: through a
// progress bar (a spinner with the figures; schollz/progressbar) when w is
// a terminal, as plain "sftgen: progress: ..." lines when it is not (a log
// file, a scheduler, a pipe). stop prints the last figures after label
// ("done", or "got as far as" when the run failed), whatever the tick.
func watchProgress(w *os.File, p *transforms.Progress, tick time.Duration, dryRun bool) (stop func(label string)) {
	if dryRun {
		return func(string) {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	var bar *progressbar.ProgressBar
	if tick > 0 {
		if term.IsTerminal(int(w.Fd())) {
			bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(w), progressbar.OptionSpinnerType(14),
				progressbar.OptionSetDescription("starting"), progressbar.OptionClearOnFinish(),
				progressbar.OptionThrottle(200*time.Millisecond))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(tick)
			defer t.Stop()
			for {
				select {
				case <-quit:
					return
				case <-t.C:
					if bar != nil {
						bar.Describe(p.Snapshot().String())
						_ = bar.Add(1)
					} else {
						fmt.Fprintf(w, "sftgen: progress: %s\n", p.Snapshot())
					}
				}
			}
		}()
	}
	return func(label string) {
		close(quit)
		wg.Wait()
		if bar != nil {
			_ = bar.Finish()
		}
		fmt.Fprintf(w, "sftgen: %s: %s\n", label, p.Snapshot())
	}
}
