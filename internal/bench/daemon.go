package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pinwatchd/pinwatchd/storage"
)

// DaemonResult is what one start of `pinwatchd run` measured.
type DaemonResult struct {
	// Ready is the time from starting the process to its READY=1.
	Ready time.Duration
	// FirstRound is the time from starting the process until every target
	// was probed once and recorded.
	FirstRound time.Duration
	// RSS is VmRSS right after the first round, HWM the peak (VmHWM) until
	// then, in bytes.
	RSS, HWM int64
	// CPU is what the daemon spent from start to exit (start-up, the first
	// round, shutdown).
	CPU time.Duration
}

// MeasureDaemon starts binary as `run` watching every target of fleet,
// with NOTIFY_SOCKET pointing at a socket it listens on, and measures the
// time to READY=1, the time until the first round is recorded and the
// resident memory then; it then stops the daemon with SIGTERM. Files go to
// dir. With metrics, the config turns the metrics server on (on a free
// loopback port), so the daemon keeps its per-target series.
func MeasureDaemon(ctx context.Context, binary, dir string, fleet *Fleet, metrics bool) (DaemonResult, error) {
	var res DaemonResult
	cfg, db := filepath.Join(dir, "daemon.toml"), filepath.Join(dir, "daemon.db")
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		_ = os.Remove(p)
	}
	o := ConfigOptions{Database: db, Schedule: "@every 24h"}
	if metrics {
		addr, err := freePort()
		if err != nil {
			return res, err
		}
		o.MetricsListen = addr
	}
	if err := fleet.WriteConfig(cfg, o); err != nil {
		return res, err
	}
	sock := filepath.Join(dir, "notify.sock")
	_ = os.Remove(sock)
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		return res, fmt.Errorf("listen on notify socket %s: %w", sock, err)
	}
	defer ln.Close()
	ready := make(chan time.Time, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ln.Read(buf)
			if err != nil {
				return
			}
			for _, l := range strings.Split(string(buf[:n]), "\n") {
				if l == "READY=1" {
					select {
					case ready <- time.Now():
					default:
					}
				}
			}
		}
	}()

	logFile, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		return res, fmt.Errorf("create daemon log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(binary, "run", "--config", cfg, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	before := fleet.Requests()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start %s: %w", binary, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("the daemon did not stop within 30 s of SIGTERM")
		}
	}

	select {
	case at := <-ready:
		res.Ready = at.Sub(start)
	case err := <-exited:
		return res, fmt.Errorf("the daemon exited before READY=1: %v: %s", err, logTail(logFile.Name()))
	case <-time.After(2 * time.Minute):
		_ = stop()
		return res, fmt.Errorf("no READY=1 within 2 minutes: %s", logTail(logFile.Name()))
	case <-ctx.Done():
		_ = stop()
		return res, ctx.Err()
	}

	if err := waitRecorded(ctx, fleet, before, db, exited); err != nil {
		_ = stop()
		return res, fmt.Errorf("%w: %s", err, logTail(logFile.Name()))
	}
	res.FirstRound = time.Since(start)
	if res.RSS, res.HWM, err = procMemory(cmd.Process.Pid); err != nil {
		_ = stop()
		return res, err
	}
	if err := stop(); err != nil {
		return res, fmt.Errorf("stop the daemon: %w: %s", err, logTail(logFile.Name()))
	}
	res.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return res, nil
}

// freePort returns a loopback address with a port free right now (the
// config does not accept port 0).
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port for the metrics server: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitRecorded waits until the fleet has answered one request per target
// since before and the database at db holds a recorded chain for every
// target.
func waitRecorded(ctx context.Context, fleet *Fleet, before int64, db string, exited <-chan error) error {
	want := len(fleet.Targets)
	deadline := time.Now().Add(15 * time.Minute)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("the daemon exited during the first round: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("first round not recorded within 15 minutes: %d of %d targets answered", fleet.Requests()-before, want)
		}
		if fleet.Requests()-before < int64(want) {
			continue
		}
		n, err := recordedTargets(ctx, db)
		if err != nil {
			return err
		}
		if n >= want {
			return nil
		}
	}
}

// recordedTargets counts the (target, address) pairs with a recorded chain
// in the database at path, read as `pinwatchd certs` reads it.
func recordedTargets(ctx context.Context, path string) (int, error) {
	db, err := storage.OpenReadOnly(ctx, path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	certs, err := db.Certs(ctx, time.Now(), nil)
	return len(certs), err
}

// procMemory reads VmRSS and VmHWM of a process from /proc, in bytes.
func procMemory(pid int) (rss, hwm int64, err error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[2] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %s %q is not a number", path, f[0], f[1])
		}
		switch f[0] {
		case "VmRSS:":
			rss = kb * 1024
		case "VmHWM:":
			hwm = kb * 1024
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("%s has no VmRSS line", path)
	}
	return rss, hwm, nil
}

// logTail returns the end of the daemon's log file for an error message.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log)"
	}
	return "log: " + tail(string(b), 600)
}
