package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Options configure Run.
type Options struct {
	// Targets is the size of the fleet for the CPU comparison (SPEC §11:
	// 600); 0 skips it.
	Targets int
	// Runs is how many alternating pairs of runs the comparison measures
	// (SPEC §11: at least 9).
	Runs int
	// SteadyPairs is how many pairs of rounds the daemon's steady state is
	// measured over against the bare client, on the fleet of Targets; 0
	// skips it.
	SteadyPairs int
	// Concurrency is the probes in flight of both clients.
	Concurrency int
	// DaemonTargets is the size of the daemon's config (SPEC §11: 10,000);
	// 0 skips the daemon measurement.
	DaemonTargets int
	// DaemonServers is how many servers answer for the daemon's targets.
	DaemonServers int
	// DaemonRuns is how many times the daemon is started.
	DaemonRuns int
	// LargeTargets is the size of the second start-up and memory
	// measurement (SPEC §11: 100,000), on DaemonServers servers, metrics
	// off; 0 skips it.
	LargeTargets int
	// LargeRuns is how many times the daemon is started on LargeTargets.
	LargeRuns int
	// QueriesDB is a year of history of 1,000 targets (written by `go test
	// ./storage -bench AlertsYear -args -year-db PATH`) to run the query
	// commands on; "" skips them.
	QueriesDB string
	// QueryRuns is how many times each query command runs.
	QueryRuns int
	// Dir holds the binaries, configs and databases; "" means a new
	// temporary directory, removed at the end.
	Dir string
	// Servers is how many servers answer for the Targets of Serve; 0 means
	// one per target.
	Servers int
	// Serve only starts the fleet of Targets, writes its config and target
	// list to Dir and serves until ctx is done, for profiling a client by
	// hand.
	Serve bool
}

// Budgets of SPEC §11.
const (
	BudgetCPURatio = 1.10
	BudgetStartup  = 5 * time.Second
	// BudgetRSS is the resident memory after the first round of up to
	// 10,000 targets, BudgetRSSLarge of up to 100,000.
	BudgetRSS      = 64 << 20
	BudgetRSSLarge = 256 << 20
)

// budgetRSS returns the memory budget of a daemon watching targets.
func budgetRSS(targets int) int64 {
	if targets <= 10000 {
		return BudgetRSS
	}
	return BudgetRSSLarge
}

// Run builds pinwatchd and the bare client from the module in the current
// directory, measures them as SPEC §11 asks and writes the report to w. It
// fails when a measurement cannot be made, not when a budget is missed: the
// report says that.
func Run(ctx context.Context, w io.Writer, o Options) error {
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "pinwatchd-bench-")
		if err != nil {
			return fmt.Errorf("create work directory: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	if o.Serve {
		return serve(ctx, w, dir, o)
	}
	pinwatchdBin, bareBin := filepath.Join(dir, "pinwatchd"), filepath.Join(dir, "bareclient")
	fmt.Fprintf(w, "building pinwatchd and the bare client in %s\n", dir)
	if err := build(ctx, pinwatchdBin, "./cmd/pinwatchd"); err != nil {
		return err
	}
	if err := build(ctx, bareBin, "./internal/bench/cmd/bareclient"); err != nil {
		return err
	}
	if o.Targets > 0 {
		if err := compareCPU(ctx, w, dir, pinwatchdBin, bareBin, o); err != nil {
			return err
		}
	}
	if o.DaemonTargets > 0 {
		if err := measureStartup(ctx, w, dir, pinwatchdBin, o.DaemonTargets, o.DaemonServers, o.DaemonRuns, []bool{false, true}); err != nil {
			return err
		}
	}
	if o.LargeTargets > 0 {
		if err := measureStartup(ctx, w, dir, pinwatchdBin, o.LargeTargets, o.DaemonServers, o.LargeRuns, []bool{false}); err != nil {
			return err
		}
	}
	if o.QueriesDB != "" {
		if err := measureQueries(ctx, w, dir, pinwatchdBin, o.QueriesDB, max(o.QueryRuns, 1)); err != nil {
			return err
		}
	}
	return nil
}

// serve runs the fleet of the CPU comparison until ctx is done.
func serve(ctx context.Context, w io.Writer, dir string, o Options) error {
	servers := o.Servers
	if servers <= 0 {
		servers = o.Targets
	}
	fleet, err := NewFleet(dir, o.Targets, servers)
	if err != nil {
		return err
	}
	defer fleet.Close()
	cfg, list := filepath.Join(dir, "check.toml"), filepath.Join(dir, "targets.txt")
	if err := fleet.WriteConfig(cfg, ConfigOptions{Database: filepath.Join(dir, "check.db"), Concurrency: o.Concurrency}); err != nil {
		return err
	}
	if err := fleet.WriteTargetList(list); err != nil {
		return err
	}
	fmt.Fprintf(w, "serving %d targets; config %s, bare client list %s; interrupt to stop\n", o.Targets, cfg, list)
	<-ctx.Done()
	return nil
}

// build compiles pkg to out as `make build` does.
func build(ctx context.Context, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s (run from the repository root): %w: %s", pkg, err, tail(string(b), 600))
	}
	return nil
}

// compareCPU measures `pinwatchd check --record` against the bare client
// over the same loopback fleet, alternating the two, and reports CPU per
// probe of each and their ratio.
func compareCPU(ctx context.Context, w io.Writer, dir, pinwatchdBin, bareBin string, o Options) error {
	fdir := filepath.Join(dir, "check")
	if err := os.MkdirAll(fdir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", fdir, err)
	}
	fleet, err := NewFleet(fdir, o.Targets, o.Targets)
	if err != nil {
		return err
	}
	defer fleet.Close()
	cfg, list := filepath.Join(fdir, "check.toml"), filepath.Join(fdir, "targets.txt")
	if err := fleet.WriteConfig(cfg, ConfigOptions{Database: filepath.Join(fdir, "check.db"), Concurrency: o.Concurrency}); err != nil {
		return err
	}
	if err := fleet.WriteTargetList(list); err != nil {
		return err
	}
	checkArgs := []string{"check", "--config", cfg, "--record"}
	bareArgs := []string{"-concurrency", fmt.Sprint(o.Concurrency), list}
	// Process floors: what a process costs that does (almost) nothing.
	floorP, err := RunChild(ctx, pinwatchdBin, []string{"version"}, nil)
	if err != nil {
		return err
	}
	floorB, err := RunChild(ctx, bareBin, []string{os.DevNull}, nil)
	if err != nil {
		return err
	}
	// Warm-up, not counted: creates the database (the measured runs record
	// unchanged probes, as a periodic `check --record` does) and fills the
	// page cache with both binaries.
	if _, err := RunChild(ctx, pinwatchdBin, checkArgs, nil); err != nil {
		return err
	}
	if _, err := RunChild(ctx, bareBin, bareArgs, nil); err != nil {
		return err
	}
	n := float64(o.Targets)
	fmt.Fprintf(w, "\n== CPU per probe: pinwatchd check --record vs bare crypto/tls client, %d loopback targets, concurrency %d ==\n", o.Targets, o.Concurrency)
	fmt.Fprintf(w, "process floor (CPU of `pinwatchd version` / bare client with no targets): %.1f ms / %.1f ms\n",
		ms(floorP.CPU()), ms(floorB.CPU()))
	fmt.Fprintf(w, "%-4s %14s %14s %8s %12s %12s\n", "pair", "pinwatchd µs", "bare µs", "ratio", "pw wall ms", "pw maxrss")
	var pw, bare, ratio []float64
	for r := range o.Runs {
		// Alternate which goes first, so drift in the machine's load
		// favours neither.
		var up, ub Usage
		first, second := func() (err error) { up, err = RunChild(ctx, pinwatchdBin, checkArgs, nil); return err },
			func() (err error) { ub, err = RunChild(ctx, bareBin, bareArgs, nil); return err }
		if r%2 == 1 {
			first, second = second, first
		}
		if err := first(); err != nil {
			return err
		}
		if err := second(); err != nil {
			return err
		}
		p, b := us(up.CPU())/n, us(ub.CPU())/n
		pw, bare, ratio = append(pw, p), append(bare, b), append(ratio, p/b)
		fmt.Fprintf(w, "%-4d %14.0f %14.0f %8.2f %12.0f %9.1f MiB\n", r+1, p, b, p/b, ms(up.Wall), mib(up.MaxRSS))
	}
	rs := SpreadOf(ratio)
	fmt.Fprintf(w, "pinwatchd CPU/probe: %s µs\n", SpreadOf(pw).Format("%.0f"))
	fmt.Fprintf(w, "bare client CPU/probe: %s µs\n", SpreadOf(bare).Format("%.0f"))
	fmt.Fprintf(w, "ratio: %s; budget ≤ %.2f: %s\n", rs.Format("%.2f"), BudgetCPURatio, verdict(rs.Median <= BudgetCPURatio))
	if o.SteadyPairs > 0 {
		return compareSteady(ctx, w, fdir, pinwatchdBin, bareBin, fleet, list, o)
	}
	return nil
}

// compareSteady measures the daemon's steady state against the bare client
// in rounds (MeasureSteady) and reports CPU per probe of each and their
// ratio.
func compareSteady(ctx context.Context, w io.Writer, fdir, pinwatchdBin, bareBin string, fleet *Fleet, list string, o Options) error {
	fmt.Fprintf(w, "\n== CPU per probe, steady state: pinwatchd run vs bare client in rounds, %d unchanged loopback targets, schedule %s, concurrency %d ==\n",
		o.Targets, steadySchedule, o.Concurrency)
	res, err := MeasureSteady(ctx, pinwatchdBin, bareBin, fdir, fleet, list, o.Concurrency, o.SteadyPairs)
	if err != nil {
		return err
	}
	n := float64(o.Targets)
	fmt.Fprintf(w, "%-4s %14s %14s %8s\n", "pair", "daemon µs", "bare µs", "ratio")
	var d, b []float64
	for i, r := range res.Ratios {
		bi := i
		if i%2 == 0 {
			bi = i + 1
		}
		dp, bp := us(res.Daemon[i])/n, us(res.Bare[bi])/n
		d, b = append(d, dp), append(b, bp)
		fmt.Fprintf(w, "%-4d %14.0f %14.0f %8.2f\n", i+1, dp, bp, r)
	}
	rs := SpreadOf(res.Ratios)
	fmt.Fprintf(w, "daemon CPU/probe per round: %s µs\n", SpreadOf(d).Format("%.0f"))
	fmt.Fprintf(w, "bare client CPU/probe per round: %s µs\n", SpreadOf(b).Format("%.0f"))
	fmt.Fprintf(w, "steady-state ratio: %s; budget ≤ %.2f: %s\n", rs.Format("%.2f"), BudgetCPURatio, verdict(rs.Median <= BudgetCPURatio))
	return nil
}

// measureStartup starts the daemon on a config of targets targets, on
// servers loopback servers, runs times for each metrics setting, and
// reports readiness time and memory after the first round.
func measureStartup(ctx context.Context, w io.Writer, dir, pinwatchdBin string, targets, servers, runs int, metrics []bool) error {
	ddir := filepath.Join(dir, fmt.Sprintf("daemon-%d", targets))
	if err := os.MkdirAll(ddir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", ddir, err)
	}
	fleet, err := NewFleet(ddir, targets, servers)
	if err != nil {
		return err
	}
	defer fleet.Close()
	for _, m := range metrics {
		if err := startupRuns(ctx, w, ddir, pinwatchdBin, fleet, servers, runs, m); err != nil {
			return err
		}
	}
	return nil
}

// startupRuns measures runs starts of the daemon, with or without its
// metrics server.
func startupRuns(ctx context.Context, w io.Writer, ddir, pinwatchdBin string, fleet *Fleet, servers, runs int, metrics bool) error {
	what := "metrics off (the default)"
	if metrics {
		what = "metrics on ([http] listen set)"
	}
	targets := len(fleet.Targets)
	fmt.Fprintf(w, "\n== pinwatchd run: %d targets on %d loopback servers, %s ==\n", targets, servers, what)
	fmt.Fprintf(w, "%-4s %12s %14s %10s %10s %14s\n", "run", "READY ms", "1st round s", "VmRSS", "VmHWM", "CPU/probe µs")
	var ready, rss, hwm []float64
	for r := range max(runs, 1) {
		res, err := MeasureDaemon(ctx, pinwatchdBin, ddir, fleet, metrics)
		if err != nil {
			return err
		}
		ready, rss, hwm = append(ready, ms(res.Ready)), append(rss, mib(res.RSS)), append(hwm, mib(res.HWM))
		fmt.Fprintf(w, "%-4d %12.0f %14.1f %6.1f MiB %6.1f MiB %14.0f\n", r+1, ms(res.Ready), res.FirstRound.Seconds(),
			mib(res.RSS), mib(res.HWM), us(res.CPU)/float64(targets))
	}
	rd, rs := SpreadOf(ready), SpreadOf(rss)
	budget := budgetRSS(targets)
	fmt.Fprintf(w, "start-up to READY=1: %s ms; budget < %s: %s\n", rd.Format("%.0f"), BudgetStartup, verdict(rd.Max < ms(BudgetStartup)))
	fmt.Fprintf(w, "VmRSS after the first round: %s MiB; budget < %d MiB: %s\n", rs.Format("%.1f"), budget>>20, verdict(rs.Max < mib(budget)))
	fmt.Fprintf(w, "VmHWM (peak) until then: %s MiB\n", SpreadOf(hwm).Format("%.1f"))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func mib(b int64) float64        { return float64(b) / (1 << 20) }
