// Command pinwatchd-bench measures pinwatchd against the performance budgets
// of SPEC §11 as whole processes and prints the figures. Run it from the
// repository root (it builds ./cmd/pinwatchd and the bare client):
//
//	go run ./internal/bench/cmd/pinwatchd-bench [-runs 9] [-steady-pairs 9] [-targets 600] [-daemon-runs 3] [-daemon-targets 10000] [-large-targets 100000]
//
// `make bench` runs it together with the Go benchmarks of monitor and
// storage.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pinwatchd/pinwatchd/internal/bench"
)

func main() {
	var o bench.Options
	flag.IntVar(&o.Targets, "targets", 600, "loopback targets of the CPU comparison; 0 skips it")
	flag.IntVar(&o.Runs, "runs", 31, "alternating pairs of runs in the CPU comparison of check --record")
	flag.IntVar(&o.SteadyPairs, "steady-pairs", 25, "alternating pairs of rounds in the daemon's steady-state comparison; 0 skips it")
	flag.IntVar(&o.LargeTargets, "large-targets", 0, "targets of a second daemon start-up and memory measurement, metrics off (SPEC §11: 100000); 0 skips it")
	flag.IntVar(&o.LargeRuns, "large-runs", 2, "daemon starts on -large-targets")
	flag.IntVar(&o.DaemonRuns, "daemon-runs", 3, "daemon starts")
	flag.IntVar(&o.Concurrency, "concurrency", 16, "probes in flight of both clients (pinwatchd's default)")
	flag.IntVar(&o.DaemonTargets, "daemon-targets", 10000, "targets of the daemon start-up config; 0 skips it")
	flag.IntVar(&o.DaemonServers, "daemon-servers", 50, "loopback servers answering for the daemon's targets")
	flag.StringVar(&o.QueriesDB, "queries-db", "", "a year of history of 1,000 targets (go test ./storage -bench AlertsYear -args -year-db PATH) to time the history, alerts and certs commands on; empty skips them")
	flag.IntVar(&o.QueryRuns, "query-runs", 15, "runs of each query command")
	flag.StringVar(&o.Dir, "dir", "", "keep binaries, configs and databases in this directory (default: a temporary one, removed)")
	flag.BoolVar(&o.Serve, "serve", false, "only serve the fleet of -targets and write its config and target list to -dir, until interrupted (for profiling)")
	flag.IntVar(&o.Servers, "servers", 0, "with -serve: servers answering for the targets (default: one per target)")
	flag.Parse()
	if o.Runs < 1 || o.DaemonRuns < 1 || o.LargeRuns < 1 || o.Concurrency < 1 || o.Targets < 0 || o.DaemonTargets < 0 || o.LargeTargets < 0 || o.SteadyPairs < 0 || o.DaemonServers < 1 {
		fmt.Fprintln(os.Stderr, "pinwatchd-bench: -runs, -daemon-runs, -large-runs, -concurrency and -daemon-servers must be at least 1, target counts and -steady-pairs at least 0")
		os.Exit(2)
	}
	if o.Serve && o.Dir == "" {
		fmt.Fprintln(os.Stderr, "pinwatchd-bench: -serve needs -dir")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench.Run(ctx, os.Stdout, o); err != nil {
		fmt.Fprintf(os.Stderr, "pinwatchd-bench: %v\n", err)
		os.Exit(1)
	}
}
