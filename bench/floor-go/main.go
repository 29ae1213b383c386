// The platform's floor with the Go SDK: the same no-op workflow as bench/floor (n activities in sequence),
// run on a Go worker against any frontend, so docs/benchmarks.md can tell the server's share of a step from
// the TypeScript SDK's. Prints one JSON object: ms per step for each repetition.
//
//	go run . -address 127.0.0.1:7233 -steps 9 -reps 10
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Noop is the activity: it does nothing but return its input.
func Noop(_ context.Context, i int) (int, error) { return i, nil }

// Trivial runs n no-op activities one after another.
func Trivial(ctx workflow.Context, n int) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	x := 0
	for i := 0; i < n; i++ {
		var r int
		if err := workflow.ExecuteActivity(ctx, Noop, i).Get(ctx, &r); err != nil {
			return 0, err
		}
		x += r
	}
	return x, nil
}

type report struct {
	SDK       string    `json:"sdk"`
	Steps     int       `json:"steps"`
	MsPerStep []float64 `json:"msPerStep"`
}

func main() {
	address := flag.String("address", "127.0.0.1:7233", "Temporal frontend")
	namespace := flag.String("namespace", "default", "namespace")
	steps := flag.Int("steps", 9, "activities per workflow")
	reps := flag.Int("reps", 10, "workflows, one after another")
	warmup := flag.Int("warmup", 2, "workflows run first and not counted")
	flag.Parse()

	c, err := client.Dial(client.Options{
		HostPort:  *address,
		Namespace: *namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	})
	if err != nil {
		log.Fatalf("cannot reach Temporal at %s: %v", *address, err)
	}
	defer c.Close()
	queue := fmt.Sprintf("floor-go-%d", time.Now().UnixNano())
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflow(Trivial)
	w.RegisterActivity(Noop)
	if err := w.Start(); err != nil {
		log.Fatalf("worker: %v", err)
	}
	defer w.Stop()

	out := report{SDK: "go", Steps: *steps}
	for rep := 0; rep < *warmup+*reps; rep++ {
		started := time.Now()
		run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
			ID:        fmt.Sprintf("%s-%d", queue, rep),
			TaskQueue: queue,
		}, Trivial, *steps)
		if err != nil {
			log.Fatalf("start: %v", err)
		}
		var result int
		if err := run.Get(context.Background(), &result); err != nil {
			log.Fatalf("run: %v", err)
		}
		if rep >= *warmup {
			out.MsPerStep = append(out.MsPerStep, float64(time.Since(started).Microseconds())/1000/float64(*steps))
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		log.Fatal(err)
	}
}
