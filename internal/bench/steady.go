package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of utime and stime in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go supports.
const userHZ = 100

// ProcCPU returns the user plus system time a running process has spent so
// far, from /proc/PID/stat (to 1/USER_HZ of a second).
func ProcCPU(pid int) (time.Duration, error) {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read CPU time of process %d: %w", pid, err)
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// the fields counted are those after its closing parenthesis, the
	// first of which is field 3 (state); utime and stime are 14 and 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: no command name in %q", path, tail(string(b), 80))
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: %d fields after the command name, want at least 13", path, len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: utime or stime %q is not a number", path, s)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// SteadyResult is what MeasureSteady measured: the CPU of each measured
// daemon round and of each bare round, in the order they ran (daemon round
// i ran between bare rounds i and i+1), and the ratios of the pairs.
type SteadyResult struct {
	Daemon, Bare []time.Duration
	// Ratios are daemon round i over the bare round right after it (even
	// i) or right before it (odd i): consecutive pairs alternate which
	// side ran first.
	Ratios []float64
}

// steadySchedule is the daemon's schedule in the steady-state measurement:
// long enough for a round of the daemon and one of the bare client to fit
// between two activations on a loaded 2-core machine.
const steadySchedule = "@every 5s"

// steadyWarmup is the number of daemon rounds not measured: the start-up
// round (which stores every chain) and one more.
const steadyWarmup = 2

// MeasureSteady runs `pinwatchd run` over the fleet on a short schedule
// and, between its rounds, the bare client in -rounds mode over the same
// targets, both as long-lived processes. After steadyWarmup rounds of the
// daemon it measures pairs rounds: the daemon's CPU from one idle gap
// between its rounds to the next (one whole round: probes, recording,
// evaluation, alerts, and the timers in between), and the bare client's
// CPU over one round it runs in that gap, both from /proc/PID/stat. A
// round's end is when the fleet has answered every target of it and
// nothing more arrives for a moment. Files go to dir.
func MeasureSteady(ctx context.Context, pinwatchdBin, bareBin, dir string, fleet *Fleet, list string, concurrency, pairs int) (SteadyResult, error) {
	var res SteadyResult
	cfg, db := filepath.Join(dir, "steady.toml"), filepath.Join(dir, "steady.db")
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		_ = os.Remove(p)
	}
	if err := fleet.WriteConfig(cfg, ConfigOptions{Database: db, Schedule: steadySchedule, Concurrency: concurrency}); err != nil {
		return res, err
	}
	logFile, err := os.Create(filepath.Join(dir, "steady.log"))
	if err != nil {
		return res, fmt.Errorf("create daemon log: %w", err)
	}
	defer logFile.Close()

	bare := exec.CommandContext(ctx, bareBin, "-rounds", "-concurrency", strconv.Itoa(concurrency), list)
	bareIn, err := bare.StdinPipe()
	if err != nil {
		return res, err
	}
	bareOut, err := bare.StdoutPipe()
	if err != nil {
		return res, err
	}
	bare.Stderr = logFile
	if err := bare.Start(); err != nil {
		return res, fmt.Errorf("start %s: %w", bareBin, err)
	}
	defer func() { _ = bareIn.Close(); _ = bare.Wait() }()
	answers := bufio.NewScanner(bareOut)
	bareRound := func() (time.Duration, error) {
		before, err := ProcCPU(bare.Process.Pid)
		if err != nil {
			return 0, err
		}
		if _, err := io.WriteString(bareIn, "round\n"); err != nil {
			return 0, fmt.Errorf("start a round of the bare client: %w", err)
		}
		if !answers.Scan() {
			return 0, errors.New("the bare client exited during a round")
		}
		if a := answers.Text(); a != "done" {
			return 0, fmt.Errorf("bare client round: %s", a)
		}
		after, err := ProcCPU(bare.Process.Pid)
		return after - before, err
	}

	daemon := exec.Command(pinwatchdBin, "run", "--config", cfg, "--log-level", "warn")
	daemon.Stdout, daemon.Stderr = logFile, logFile
	if err := daemon.Start(); err != nil {
		return res, fmt.Errorf("start %s: %w", pinwatchdBin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- daemon.Wait() }()
	defer func() {
		_ = daemon.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = daemon.Process.Kill()
			<-exited
		}
	}()

	n := int64(len(fleet.Targets))
	want := fleet.Requests()
	// roundDone waits until the fleet has answered want requests and then
	// nothing more for a moment: the daemon has finished its round and
	// is idle until its next activation.
	roundDone := func() error {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			select {
			case err := <-exited:
				return fmt.Errorf("the daemon exited: %v: %s", err, logTail(logFile.Name()))
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("daemon round not done within 2 minutes: %d of %d requests answered: %s", fleet.Requests()-(want-n), n, logTail(logFile.Name()))
			}
			if got := fleet.Requests(); got > want {
				return fmt.Errorf("the fleet answered %d requests in a round of %d targets: rounds overlap (schedule %s too short?)", got-(want-n), n, steadySchedule)
			} else if got < want {
				continue
			}
			// Recording and alert evaluation follow the last request.
			time.Sleep(400 * time.Millisecond)
			if fleet.Requests() == want {
				return nil
			}
		}
	}
	var marks []time.Duration // daemon CPU in the gaps after measured rounds
	for round := 0; round < steadyWarmup+pairs; round++ {
		want += n
		if err := roundDone(); err != nil {
			return res, err
		}
		if round < steadyWarmup-1 {
			continue
		}
		c, err := ProcCPU(daemon.Process.Pid)
		if err != nil {
			return res, err
		}
		marks = append(marks, c)
		b, err := bareRound()
		if err != nil {
			return res, err
		}
		want += n
		res.Bare = append(res.Bare, b)
	}
	for i := 1; i < len(marks); i++ {
		res.Daemon = append(res.Daemon, marks[i]-marks[i-1])
	}
	// Daemon round i ran between bare rounds i and i+1.
	for i, d := range res.Daemon {
		b := res.Bare[i]
		if i%2 == 0 {
			b = res.Bare[i+1]
		}
		res.Ratios = append(res.Ratios, float64(d)/float64(b))
	}
	return res, nil
}
