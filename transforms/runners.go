package transforms

import (
	"context"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"
)

// Execute runs a pipeline on one runner.
type Execute func(context.Context, *beam.Pipeline) (beam.PipelineResult, error)

// runners are the runners the pipelines link: the embedded Prism runner,
// and Beam's portable job service client, which is how a job reaches Flink
// (its job server), Spark or a standalone Prism job server. Not beamx: that
// links every runner Beam has, Dataflow, GCS and Docker clients included.
var runners = map[string]Execute{
	"prism":     prism.Execute,
	"universal": universal.Execute,
	"flink":     universal.Execute,
}

// RunnerNames says which --runner values work, for flag help and errors.
const RunnerNames = "prism (embedded), universal or flink (a Beam job service at --endpoint)"

// Runner returns the runner named by --runner, or an error naming the
// ones that work.
func Runner(name string) (Execute, error) {
	if ex, ok := runners[name]; ok {
		return ex, nil
	}
	return nil, fmt.Errorf("unknown --runner=%q: want %s", name, RunnerNames)
}
