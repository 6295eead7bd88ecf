package sdnotify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// listenNotify opens a datagram socket standing in for systemd's notify
// socket and returns the NOTIFY_SOCKET value naming it.
func listenNotify(t *testing.T, abstract bool) (*net.UnixConn, string) {
	t.Helper()
	var name string
	if abstract {
		var b [8]byte
		rand.Read(b[:])
		name = "@pinwatchd-test-" + hex.EncodeToString(b[:])
	} else {
		name = filepath.Join(t.TempDir(), "notify.sock")
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen on %s: %v", name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, name
}

// readNotify returns the next datagram. The deadline only keeps a broken
// test from hanging.
func readNotify(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("read notification: %v", err)
	}
	return string(buf[:n])
}

// clockMonotonicUsec reads CLOCK_MONOTONIC in microseconds, independently
// of the code under test.
func clockMonotonicUsec(t *testing.T) int64 {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return ts.Sec*1_000_000 + ts.Nsec/1_000
}

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestNotifierMessages(t *testing.T) {
	for _, abstract := range []bool{false, true} {
		t.Run("abstract="+strconv.FormatBool(abstract), func(t *testing.T) {
			conn, sock := listenNotify(t, abstract)
			n := New(envOf(map[string]string{"NOTIFY_SOCKET": sock}))
			if n == nil {
				t.Fatalf("New(%q) = nil", sock)
			}
			for _, tc := range []struct {
				send func() error
				want string
			}{
				{n.Ready, "READY=1"},
				{n.Stopping, "STOPPING=1"},
				{n.Watchdog, "WATCHDOG=1"},
			} {
				if err := tc.send(); err != nil {
					t.Fatalf("sending %q: %v", tc.want, err)
				}
				if got := readNotify(t, conn); got != tc.want {
					t.Errorf("systemd received %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestNotifierReloadingMonotonic(t *testing.T) {
	conn, sock := listenNotify(t, false)
	n := New(envOf(map[string]string{"NOTIFY_SOCKET": sock}))
	before := clockMonotonicUsec(t)
	if err := n.Reloading(); err != nil {
		t.Fatal(err)
	}
	got := readNotify(t, conn)
	after := clockMonotonicUsec(t)
	first, second, ok := strings.Cut(got, "\n")
	if !ok || first != "RELOADING=1" || !strings.HasPrefix(second, "MONOTONIC_USEC=") {
		t.Fatalf("systemd received %q, want RELOADING=1 and MONOTONIC_USEC=… on two lines", got)
	}
	usec, err := strconv.ParseInt(strings.TrimPrefix(second, "MONOTONIC_USEC="), 10, 64)
	if err != nil {
		t.Fatalf("MONOTONIC_USEC in %q is not an integer: %v", got, err)
	}
	if usec < before || usec > after {
		t.Errorf("MONOTONIC_USEC=%d, want it between the CLOCK_MONOTONIC readings %d and %d taken around the call", usec, before, after)
	}
}

func TestNotifierUnset(t *testing.T) {
	n := New(envOf(nil))
	if n != nil {
		t.Fatalf("newSDNotifier without NOTIFY_SOCKET = %+v, want nil", n)
	}
	for name, f := range map[string]func() error{
		"Ready": n.Ready, "Reloading": n.Reloading, "Stopping": n.Stopping,
		"Watchdog": n.Watchdog,
	} {
		if err := f(); err != nil {
			t.Errorf("%s on a nil notifier: %v, want nil", name, err)
		}
	}
	// runWatchdog returns at once instead of ticking for nothing.
	RunWatchdog(t.Context(), n, time.Millisecond, func() bool { return true }, slog.New(slog.DiscardHandler))
}

func TestNotifierErrors(t *testing.T) {
	n := New(envOf(map[string]string{"NOTIFY_SOCKET": "run/notify"}))
	err := n.Ready()
	if err == nil || !strings.Contains(err.Error(), `"run/notify"`) || !strings.Contains(err.Error(), "NOTIFY_SOCKET") {
		t.Errorf("relative NOTIFY_SOCKET: err = %v, want one naming the value and NOTIFY_SOCKET", err)
	}

	missing := filepath.Join(t.TempDir(), "gone.sock")
	n = New(envOf(map[string]string{"NOTIFY_SOCKET": missing}))
	if err := n.Ready(); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("NOTIFY_SOCKET without a listener: err = %v, want one naming %s", err, missing)
	}
}

func TestWatchdogInterval(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	for _, tc := range []struct {
		name string
		vars map[string]string
		want time.Duration
		on   bool
	}{
		{"unset", nil, 0, false},
		{"usec only", map[string]string{"WATCHDOG_USEC": "60000000"}, 60 * time.Second, true},
		{"our pid", map[string]string{"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": pid}, 60 * time.Second, true},
		{"other pid", map[string]string{"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": strconv.Itoa(os.Getpid() + 1)}, 0, false},
		{"zero", map[string]string{"WATCHDOG_USEC": "0"}, 0, false},
		{"negative", map[string]string{"WATCHDOG_USEC": "-5"}, 0, false},
		{"garbage", map[string]string{"WATCHDOG_USEC": "60s"}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, on := WatchdogInterval(envOf(tc.vars))
			if got != tc.want || on != tc.on {
				t.Errorf("WatchdogInterval(%v) = %v, %v; want %v, %v", tc.vars, got, on, tc.want, tc.on)
			}
		})
	}
}

func TestWatchdogPingsOnlyWhileHealthy(t *testing.T) {
	conn, sock := listenNotify(t, true)
	n := New(envOf(map[string]string{"NOTIFY_SOCKET": sock}))

	// One tick per entry; the loop asks healthy() once per tick.
	states := []bool{false, true, false, false, true, false}
	next := 0
	healthy := func() bool { ok := states[next]; next++; return ok }

	var logs bytes.Buffer
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchdogLoop(ctx, n, ticks, healthy, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	for range states {
		ticks <- time.Now()
	}
	// The loop finishes the tick it took before it notices the cancel.
	cancel()
	<-done
	if next != len(states) {
		t.Fatalf("the loop asked healthy() %d times for %d ticks", next, len(states))
	}

	// A marker sent now lands behind every ping the loop sent.
	if err := n.Stopping(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		m := readNotify(t, conn)
		if m == "STOPPING=1" {
			break
		}
		got = append(got, m)
	}
	if want := []string{"WATCHDOG=1", "WATCHDOG=1"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("systemd received %q over the health sequence %v, want %q (one ping per healthy tick)", got, states, want)
	}
	if c := strings.Count(logs.String(), "withholding watchdog pings"); c != 3 {
		t.Errorf("logged turning unhealthy %d times, want 3 (once per healthy→unhealthy change):\n%s", c, logs.String())
	}
	if c := strings.Count(logs.String(), "resuming watchdog pings"); c != 2 {
		t.Errorf("logged recovery %d times, want 2:\n%s", c, logs.String())
	}
}
