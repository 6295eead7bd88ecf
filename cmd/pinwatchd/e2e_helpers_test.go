package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/pgtest"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"golang.org/x/sys/unix"
)

// The end-to-end tests build the pinwatchd binary once and run it as child
// processes: `pinwatchd run` against loopback TLS servers and a local HTTP
// server standing in for Slack, queried with the CLI as other processes.

// e2eWait bounds every wait of the end-to-end tests for something to happen.
const e2eWait = 30 * time.Second

// webhookPathSecret is the secret part of the fake Slack webhook's URL; it
// must never appear in logs or command output.
const (
	webhookPathSecret = "/services/T000/B000/SECRETSECRET"
	webhookSecret     = "SECRETSECRET"
)

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m) // stops the PostgreSQL cluster, if a test started one
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// pinwatchdBinary builds the binary from this directory once per test run
// and returns its path.
func pinwatchdBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs the binary")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "pinwatchd-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "pinwatchd")
		// The go command that runs the tests is on PATH (go test puts
		// its GOROOT/bin there).
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("find the go command: %w", err)
			return
		}
		cmd := exec.Command(goTool, "build", "-o", binPath, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build pinwatchd: %v", buildErr)
	}
	return binPath
}

// childEnv is the whole environment of a child process: nothing of the test
// runner's environment leaks in (NOTIFY_SOCKET, PINWATCHD_CONFIG, …).
func childEnv(extra ...string) []string {
	return append([]string{"PATH=/usr/bin:/bin", "TZ=UTC"}, extra...)
}

// daemonProc is a running `pinwatchd run`.
type daemonProc struct {
	cmd    *exec.Cmd
	output *pinwatchdtest.SyncBuffer // stdout and stderr
	done   chan struct{}
	code   int
}

// startDaemon starts `pinwatchd run --config cfg` with env (K=V) added to
// an empty environment and waits until it logs that it started. The process
// is killed at the end of the test if it is still running.
func startDaemon(t *testing.T, cfg string, env ...string) *daemonProc {
	t.Helper()
	bin := pinwatchdBinary(t)
	d := &daemonProc{output: &pinwatchdtest.SyncBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(bin, "run", "--config", cfg)
	d.cmd.Env = childEnv(env...)
	d.cmd.Stdout, d.cmd.Stderr = d.output, d.output
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start pinwatchd run: %v", err)
	}
	go func() {
		_ = d.cmd.Wait()
		d.code = d.cmd.ProcessState.ExitCode()
		close(d.done)
	}()
	t.Cleanup(func() {
		if !d.exited() {
			_ = d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("daemon output:\n%s", d.output.String())
		}
	})
	// The database exists and is migrated once the daemon says it started.
	waitFor(t, "the daemon to start", func() bool {
		if d.exited() {
			t.Fatalf("pinwatchd run exited with status %d:\n%s", d.code, d.output.String())
		}
		return strings.Contains(d.output.String(), `msg="pinwatchd started"`)
	})
	return d
}

func (d *daemonProc) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the daemon.
func (d *daemonProc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("send %v to the daemon: %v", sig, err)
	}
}

// wait waits up to limit for the daemon to exit and returns its exit code
// (-1 when a signal killed it).
func (d *daemonProc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-d.done:
		return d.code
	case <-time.After(limit):
		t.Fatalf("the daemon did not exit within %s", limit)
		return 0
	}
}

// stop sends SIGTERM and expects exit status 0.
func (d *daemonProc) stop(t *testing.T) {
	t.Helper()
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, e2eWait); code != exitOK {
		t.Fatalf("the daemon exited with status %d after SIGTERM, want 0", code)
	}
}

// cliRun runs the binary with args to completion and returns its output.
func cliRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, pinwatchdBinary(t), args...)
	cmd.Env = childEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("run pinwatchd %v: %v", args, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// e2eAlert is one entry of `alerts --json`.
type e2eAlert struct {
	ID        int64    `json:"id"`
	Target    string   `json:"target"`
	Kind      string   `json:"kind"`
	Severity  string   `json:"severity"`
	Subject   string   `json:"subject"`
	Addresses []string `json:"addresses"`
	Sites     []struct {
		Vantage string `json:"vantage"`
		Address string `json:"address"`
	} `json:"sites"`
	State         string  `json:"state"`
	Message       string  `json:"message"`
	ResolveReason *string `json:"resolve_reason"`
}

// e2eAlerts is the document `alerts --json` prints.
type e2eAlerts struct {
	Alerts               []e2eAlert `json:"alerts"`
	NotificationsPending int        `json:"notifications_pending"`
}

// find returns the alert of target and kind, if listed.
func (a e2eAlerts) find(target, kind string) (e2eAlert, bool) {
	for _, x := range a.Alerts {
		if x.Target == target && x.Kind == kind {
			return x, true
		}
	}
	return e2eAlert{}, false
}

// queryAlerts runs `pinwatchd alerts --json --database db` (with --all when
// all is set) as another process.
func queryAlerts(t *testing.T, db string, all bool) e2eAlerts {
	t.Helper()
	args := []string{"alerts", "--json", "--database", db}
	if all {
		args = append(args, "--all")
	}
	var doc e2eAlerts
	cliJSON(t, &doc, args...)
	return doc
}

// e2eEvent is one entry of `history --json`.
type e2eEvent struct {
	Time       time.Time `json:"time"`
	Target     string    `json:"target"`
	Address    string    `json:"address"`
	Event      string    `json:"event"`
	Class      *string   `json:"class"`
	OldLeafPin *string   `json:"old_leaf_pin"`
	NewLeafPin *string   `json:"new_leaf_pin"`
	ErrorKind  *string   `json:"error_kind"`
}

// queryHistory runs `pinwatchd history --json --database db`.
func queryHistory(t *testing.T, db string) []e2eEvent {
	t.Helper()
	var doc struct {
		Events []e2eEvent `json:"events"`
	}
	cliJSON(t, &doc, "history", "--json", "--database", db)
	return doc.Events
}

// cliJSON runs the binary with args, which must exit 0, and decodes what
// it prints into v.
func cliJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	stdout, stderr, code := cliRun(t, args...)
	if code != exitOK {
		t.Fatalf("pinwatchd %s exited %d: %s", args[0], code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		t.Fatalf("pinwatchd %s printed invalid JSON: %v\n%s", strings.Join(args, " "), err, stdout)
	}
}

// lastSeen returns the last_seen of target's address from `certs --json`,
// zero when it is not listed.
func lastSeen(t *testing.T, db, target string) time.Time {
	t.Helper()
	stdout, stderr, code := cliRun(t, "certs", "--json", "--database", db)
	if code != exitOK {
		t.Fatalf("pinwatchd certs exited %d: %s", code, stderr)
	}
	var doc struct {
		Certs []struct {
			Target   string     `json:"target"`
			LastSeen *time.Time `json:"last_seen"`
		} `json:"certs"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("certs --json printed invalid JSON: %v\n%s", err, stdout)
	}
	for _, c := range doc.Certs {
		if c.Target == target && c.LastSeen != nil {
			return *c.LastSeen
		}
	}
	return time.Time{}
}

// waitFor polls cond until it holds, failing the test after e2eWait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitForWithin(t, e2eWait, what, cond)
}

// waitForWithin polls cond until it holds, failing the test after limit.
func waitForWithin(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", limit, what)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// e2eConfig renders a daemon configuration.
type e2eConfig struct {
	db          string
	timeout     string // default "2s"
	threshold   int    // failure_threshold; default 1
	webhookFile string // empty: log only
	metrics     string // [http] listen; empty: off
	resolver    string // resolver (IP:PORT); empty: the system resolver
	// digestWindow is [alerts] digest_window; default 1s, so tests that
	// wait on Slack do not wait the default 10s for every message.
	digestWindow time.Duration
	// renotify is [alerts] renotify_after; nil keeps the default (24h).
	renotify *time.Duration
	targets  []config.TargetConfig
}

// write writes the configuration to path.
func (c e2eConfig) write(t *testing.T, path string) {
	t.Helper()
	cfg := config.Default()
	cfg.Database = c.db
	cfg.Schedule = mustSchedule(t, "@every 1s")
	cfg.Timeout = config.Duration{Duration: 2 * time.Second}
	if c.timeout != "" {
		d, err := config.ParseDuration(c.timeout)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Timeout = config.Duration{Duration: d}
	}
	cfg.Alerts.FailureThreshold = 1
	if c.threshold != 0 {
		cfg.Alerts.FailureThreshold = c.threshold
	}
	if c.renotify != nil {
		cfg.Alerts.RenotifyAfter = config.Duration{Duration: *c.renotify}
	}
	cfg.Alerts.DigestWindow = config.Duration{Duration: time.Second}
	if c.digestWindow != 0 {
		cfg.Alerts.DigestWindow = config.Duration{Duration: c.digestWindow}
	}
	cfg.Slack.WebhookURLFile = c.webhookFile
	cfg.HTTP.Listen = c.metrics
	if c.resolver != "" {
		if err := cfg.Resolver.UnmarshalText([]byte(c.resolver)); err != nil {
			t.Fatal(err)
		}
	}
	cfg.TargetConfigs = c.targets
	var b bytes.Buffer
	if err := config.Encode(&b, cfg); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b.String())
}

func mustSchedule(t *testing.T, spec string) config.Schedule {
	t.Helper()
	s, err := config.ParseSchedule(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// addrTarget is a target probing addr as localhost, trusting the fleet's
// CA, for addresses that are not servers of the fleet.
func (f *fleet) addrTarget(t *testing.T, name, addr string) config.TargetConfig {
	t.Helper()
	hp, err := config.ParseHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port := int(hp.Port)
	return config.TargetConfig{Name: name, Host: "localhost", Port: &port, Addresses: []config.HostPort{hp}, CAFile: f.caFile}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// hstsHeaders keeps hsts_missing out of the way of the tests' findings.
var hstsHeaders = map[string]string{"Strict-Transport-Security": "max-age=31536000"}

// openAlert reports whether alerts lists an open alert of target and kind.
func openAlert(a e2eAlerts, target, kind string) bool {
	x, ok := a.find(target, kind)
	return ok && x.State == "open"
}

// findEvent returns the first event of target and type that match.
func findEvent(events []e2eEvent, target, event string, match func(e2eEvent) bool) (e2eEvent, bool) {
	for _, e := range events {
		if e.Target == target && e.Event == event && (match == nil || match(e)) {
			return e, true
		}
	}
	return e2eEvent{}, false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// monotonicNow reads CLOCK_MONOTONIC in microseconds, as the daemon stamps
// MONOTONIC_USEC.
func monotonicNow(t *testing.T) int64 {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return ts.Nano() / 1000
}
