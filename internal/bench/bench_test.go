package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/bench/bare"
)

// TestFleetAnswersBareClient serves a small fleet and probes it with the
// bare client as the harness does: every target answers with its pins.
func TestFleetAnswersBareClient(t *testing.T) {
	f, err := NewFleet(t.TempDir(), 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	list := filepath.Join(t.TempDir(), "targets.txt")
	if err := f.WriteTargetList(list); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(list)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := bare.ParseTargetList(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 5 {
		t.Fatalf("target list holds %d targets, want 5", len(targets))
	}
	if targets[0].Addr != targets[2].Addr || targets[0].Addr == targets[1].Addr {
		t.Errorf("targets 1..3 on %s, %s, %s: want 5 targets spread over 2 servers", targets[0].Addr, targets[1].Addr, targets[2].Addr)
	}
	for i, bt := range targets {
		res, err := bare.Probe(t.Context(), bt, 5*time.Second)
		if err != nil {
			t.Fatalf("probe %s: %v", bt.Host, err)
		}
		if res.Status != 200 || len(res.Pins) != 2 {
			t.Errorf("%s: status %d, %d served certificates; want 200 and leaf + intermediate", bt.Host, res.Status, len(res.Pins))
		}
		if res.Pins[0] != f.Targets[i].Pins[0] {
			t.Errorf("%s: served leaf pin is not the configured pin", bt.Host)
		}
		if !strings.Contains(res.PinHeader, f.Targets[i].Pins[0].String()) || !strings.Contains(res.PinHeader, f.Targets[i].Pins[1].String()) {
			t.Errorf("%s: Public-Key-Pins %q lacks the leaf or the spare pin", bt.Host, res.PinHeader)
		}
	}
	failed, first := bare.ProbeAll(t.Context(), targets, 3, 5*time.Second)
	if failed != 0 {
		t.Fatalf("%d targets failed: %v", failed, first)
	}
	if got := f.Requests(); got != 10 {
		t.Errorf("fleet answered %d requests, want 10 (two rounds of 5)", got)
	}
}

func TestWriteConfig(t *testing.T) {
	f, err := NewFleet(t.TempDir(), 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	path := filepath.Join(t.TempDir(), "c.toml")
	if err := f.WriteConfig(path, ConfigOptions{Database: "/tmp/x.db", Schedule: "@every 24h", Concurrency: 4}); err != nil {
		t.Fatal(err)
	}
	// pinwatchd reads the file back as the fleet: every target with its
	// address, CA and pins.
	cfg, err := config.Load(path, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != "/tmp/x.db" || cfg.Schedule.String() != "@every 24h" || cfg.Concurrency != 4 {
		t.Errorf("globals: database %q, schedule %q, concurrency %d", cfg.Database, cfg.Schedule, cfg.Concurrency)
	}
	targets := cfg.Targets()
	if len(targets) != 2 {
		t.Fatalf("%d targets, want 2", len(targets))
	}
	got, want := targets[1], f.Targets[1]
	if got.Name != want.Name || got.Host != want.Host || len(got.Addresses) != 1 || got.Addresses[0] != want.Addr ||
		got.CAFile != f.CAFile || len(got.PinSets) != 1 || !got.PinSets[0].Contains(want.Pins[0]) || !got.PinSets[0].Contains(want.Pins[1]) {
		t.Errorf("target 2 = %+v, want %+v with ca_file %s", got, want, f.CAFile)
	}
}

func TestNewFleetRejectsMoreServersThanTargets(t *testing.T) {
	if _, err := NewFleet(t.TempDir(), 2, 3); err == nil || !strings.Contains(err.Error(), "2 targets on 3 servers") {
		t.Fatalf("NewFleet(2 targets, 3 servers) = %v, want an error naming both counts", err)
	}
}

func TestParseTargetListBadLine(t *testing.T) {
	_, err := bare.ParseTargetList(strings.NewReader("127.0.0.1:1 a.test\n\n127.0.0.1:2\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v, want one naming line 3", err)
	}
}

func TestSpreadOf(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want Spread
	}{
		{nil, Spread{}},
		{[]float64{3, 1, 2}, Spread{Min: 1, Median: 2, Max: 3, N: 3}},
		{[]float64{4, 1, 3, 2}, Spread{Min: 1, Median: 2.5, Max: 4, N: 4}},
	} {
		if got := SpreadOf(c.in); got != c.want {
			t.Errorf("SpreadOf(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
	if got := (Spread{Min: 1, Median: 2, Max: 3, N: 3}).Format("%.1f"); got != "2.0 (min 1.0, max 3.0, n=3)" {
		t.Errorf("Format = %q", got)
	}
}

func TestRunChildReportsFailure(t *testing.T) {
	sh, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary itself, asked to run a test that fails at once.
	u, err := RunChild(t.Context(), sh, []string{"-test.run=^TestChildFails$"}, []string{"PINWATCHD_BENCH_CHILD=1"})
	if err == nil || !strings.Contains(err.Error(), "child failed on purpose") {
		t.Fatalf("RunChild error = %v, want the child's stderr quoted", err)
	}
	if u.Wall <= 0 {
		t.Errorf("wall time %v, want it measured", u.Wall)
	}
}

// TestChildFails is the child of TestRunChildReportsFailure.
func TestChildFails(t *testing.T) {
	if os.Getenv("PINWATCHD_BENCH_CHILD") == "" {
		t.Skip("only run as the child of TestRunChildReportsFailure")
	}
	os.Stderr.WriteString("child failed on purpose\n")
	os.Exit(3)
}

func TestProcMemory(t *testing.T) {
	rss, hwm, err := procMemory(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if rss <= 0 || hwm < rss {
		t.Errorf("VmRSS %d, VmHWM %d: want 0 < VmRSS ≤ VmHWM", rss, hwm)
	}
}

// TestHarnessSmall runs the whole harness on small fleets: builds both
// binaries, compares them, starts the daemon and times the query commands. Set PINWATCHD_BENCH=1 to
// run it (about half a minute); `make bench` runs the real sizes.
func TestHarnessSmall(t *testing.T) {
	if os.Getenv("PINWATCHD_BENCH") == "" {
		t.Skip("set PINWATCHD_BENCH=1 to build and run the harness")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	var out bytes.Buffer
	dir := t.TempDir()
	// The query commands run on the database the one-shot comparison
	// recorded (make bench gives them a year of history).
	err = Run(t.Context(), &out, Options{Targets: 20, Runs: 1, SteadyPairs: 2, Concurrency: 4, DaemonTargets: 200, DaemonServers: 5, DaemonRuns: 1,
		LargeTargets: 300, LargeRuns: 1, QueriesDB: filepath.Join(dir, "check", "check.db"), QueryRuns: 1, Dir: dir})
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ratio:", "steady-state ratio:", "start-up to READY=1:", "VmRSS after the first round:", "pinwatchd run: 300 targets",
		"== Query commands", "\nhistory ", "\nalerts --all ", "\ncerts "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestProcCPU(t *testing.T) {
	before, err := ProcCPU(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	// Spin until the kernel has charged this process at least two ticks.
	var after time.Duration
	for x := 0; after-before < 20*time.Millisecond; x++ {
		if x%1_000_000 == 0 {
			if after, err = ProcCPU(os.Getpid()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if after <= before {
		t.Errorf("CPU time went from %v to %v while spinning", before, after)
	}
}
