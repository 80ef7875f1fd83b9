package main

import (
	"cmp"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"

	"github.com/syllabus-dev/syllabus/transforms"
)

// runnerFlags are the Beam flags a person running sftgen may need, with
// what they mean for sftgen; --help lists the rest by name only.
var runnerFlags = map[string]string{
	"endpoint":           "job service address HOST:PORT (Flink job server, Spark, standalone Prism); required with --runner=universal or flink",
	"environment_type":   "where workers run: LOOPBACK (in this process), EXTERNAL (a worker pool at --environment_config) or DOCKER",
	"environment_config": "the worker pool address with EXTERNAL, the container image with DOCKER",
	"job_name":           "the job's name in the runner's UI",
	"parallelism":        "Flink parallelism (-1: the cluster's default)",
	"worker_binary":      "a prebuilt worker binary for the cluster's platform, instead of compiling one",
	"async":              "submit the job and exit without waiting (no release summary)",
}

// dialTimeout bounds the check that the job service listens.
const dialTimeout = 3 * time.Second

func flagNames() map[string]bool {
	names := map[string]bool{}
	flag.VisitAll(func(f *flag.Flag) { names[f.Name] = true })
	return names
}

// usage is --help: sftgen's own flags and what they do, then the Beam
// runner flags that matter, then the names of the rest of Beam's.
func usage() {
	w := flag.CommandLine.Output()
	fmt.Fprint(w, `sftgen turns prompts into a released SFT, preference and RLVR dataset.
With no flags it runs the offline quickstart (built-in prompts, simulated teacher).

Usage:
  sftgen [flags]
  sftgen --recipe=recipe.yaml [--output=s3://bucket/prefix]
  sftgen --runner=flink --endpoint=HOST:8099 --recipe=recipe.yaml

Flags:
`)
	ours := flag.NewFlagSet("sftgen", flag.ContinueOnError)
	ours.SetOutput(w)
	beam := flag.NewFlagSet("beam", flag.ContinueOnError)
	beam.SetOutput(w)
	var others []string
	flag.VisitAll(func(f *flag.Flag) {
		switch {
		case !beamFlags[f.Name]:
			ours.Var(f.Value, f.Name, f.Usage)
		case runnerFlags[f.Name] != "":
			beam.Var(f.Value, f.Name, runnerFlags[f.Name])
		default:
			others = append(others, "--"+f.Name)
		}
	})
	ours.PrintDefaults()
	fmt.Fprint(w, "\nBeam runner flags (with --runner=universal or flink):\n")
	beam.PrintDefaults()
	sort.Strings(others)
	fmt.Fprintf(w, "\nOther Beam flags, for Beam's own use: %s\n\nExit codes: 0 released, 1 failed (nothing published), 3 nothing new to release (LATEST unchanged).\n", strings.Join(others, " "))
}

// checkCommandLine fails at once, with one line, on what would otherwise
// fail late or silently: a stray argument (Go's flag package stops at the
// first one and ignores every flag after it), an unknown runner, and a job
// service that does not listen (the universal runner would first compile
// the worker for minutes).
func checkCommandLine() (transforms.Execute, error) {
	if flag.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: flags are written --name=value, and every flag after a stray word is ignored (see --help)", flag.Arg(0))
	}
	execute, err := transforms.Runner(*runnerName)
	if err != nil {
		return nil, err
	}
	if *runnerName == "prism" && *jobopts.Endpoint == "" {
		return execute, nil
	}
	if *jobopts.Endpoint == "" {
		return nil, fmt.Errorf("--runner=%s needs --endpoint=HOST:PORT, the address of a Beam job service", *runnerName)
	}
	conn, err := net.DialTimeout("tcp", *jobopts.Endpoint, dialTimeout)
	if err != nil {
		return nil, fmt.Errorf("job service at --endpoint=%s is unreachable: %v", *jobopts.Endpoint, err)
	}
	conn.Close()
	if !workersInProcess() {
		fmt.Fprintf(os.Stderr, "sftgen: workers run in other processes (--environment_type=%s): no progress line here; watch the runner's UI (Beam metrics, namespace sftgen)\n", cmp.Or(*jobopts.EnvironmentType, "DOCKER, Beam's default"))
	}
	return execute, nil
}

// workersInProcess reports whether the job's workers run in this process,
// where the progress line can read their counters: the embedded runner, or
// a job service with LOOPBACK workers.
func workersInProcess() bool {
	if *runnerName == "prism" && *jobopts.Endpoint == "" {
		return true
	}
	return jobopts.IsLoopback() // empty means DOCKER to Beam's portable runners
}
