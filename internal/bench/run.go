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
	// Runs is how many times each side of the comparison is measured.
	Runs int
	// Concurrency is the probes in flight of both clients.
	Concurrency int
	// DaemonTargets is the size of the daemon's config (SPEC §11: 10,000);
	// 0 skips the daemon measurement.
	DaemonTargets int
	// DaemonServers is how many servers answer for the daemon's targets.
	DaemonServers int
	// DaemonRuns is how many times the daemon is started.
	DaemonRuns int
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
	BudgetCPURatio = 1.3
	BudgetStartup  = 5 * time.Second
	BudgetRSS      = 64 << 20
)

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
		if err := measureStartup(ctx, w, dir, pinwatchdBin, o); err != nil {
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
	fmt.Fprintf(w, "%-4s %14s %14s %8s %12s %12s\n", "run", "pinwatchd µs", "bare µs", "ratio", "pw wall ms", "pw maxrss")
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
	fmt.Fprintf(w, "ratio: %s; budget ≤ %.1f: %s\n", rs.Format("%.2f"), BudgetCPURatio, verdict(rs.Median <= BudgetCPURatio))
	return nil
}

// measureStartup starts the daemon on a large config o.DaemonRuns times and
// reports readiness time and memory after the first round.
func measureStartup(ctx context.Context, w io.Writer, dir, pinwatchdBin string, o Options) error {
	ddir := filepath.Join(dir, "daemon")
	if err := os.MkdirAll(ddir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", ddir, err)
	}
	fleet, err := NewFleet(ddir, o.DaemonTargets, o.DaemonServers)
	if err != nil {
		return err
	}
	defer fleet.Close()
	for _, metrics := range []bool{false, true} {
		if err := startupRuns(ctx, w, ddir, pinwatchdBin, fleet, metrics, o); err != nil {
			return err
		}
	}
	return nil
}

// startupRuns measures o.DaemonRuns starts of the daemon, with or without
// its metrics server.
func startupRuns(ctx context.Context, w io.Writer, ddir, pinwatchdBin string, fleet *Fleet, metrics bool, o Options) error {
	what := "metrics off (the default)"
	if metrics {
		what = "metrics on ([http] listen set)"
	}
	fmt.Fprintf(w, "\n== pinwatchd run: %d targets on %d loopback servers, %s ==\n", o.DaemonTargets, o.DaemonServers, what)
	fmt.Fprintf(w, "%-4s %12s %14s %10s %10s %14s\n", "run", "READY ms", "1st round s", "VmRSS", "VmHWM", "CPU/probe µs")
	var ready, rss, hwm []float64
	for r := range max(o.DaemonRuns, 1) {
		res, err := MeasureDaemon(ctx, pinwatchdBin, ddir, fleet, metrics)
		if err != nil {
			return err
		}
		ready, rss, hwm = append(ready, ms(res.Ready)), append(rss, mib(res.RSS)), append(hwm, mib(res.HWM))
		fmt.Fprintf(w, "%-4d %12.0f %14.1f %6.1f MiB %6.1f MiB %14.0f\n", r+1, ms(res.Ready), res.FirstRound.Seconds(),
			mib(res.RSS), mib(res.HWM), us(res.CPU)/float64(o.DaemonTargets))
	}
	rd, rs := SpreadOf(ready), SpreadOf(rss)
	fmt.Fprintf(w, "start-up to READY=1: %s ms; budget < %s: %s\n", rd.Format("%.0f"), BudgetStartup, verdict(rd.Max < ms(BudgetStartup)))
	fmt.Fprintf(w, "VmRSS after the first round: %s MiB; budget < %d MiB: %s\n", rs.Format("%.1f"), BudgetRSS>>20, verdict(rs.Max < BudgetRSS>>20))
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
