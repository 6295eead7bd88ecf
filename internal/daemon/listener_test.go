package daemon

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

// testDaemon is a Daemon run by RunWithSignals on signals the test sends
// down a channel, with a real configuration file and a SQLite database in
// a temporary directory.
type testDaemon struct {
	d       *Daemon
	dir     string
	config  string // the configuration file
	log     *pinwatchdtest.SyncBuffer
	sigs    chan os.Signal
	done    chan error // RunWithSignals' result
	exits   chan int   // codes passed to exit
	stopped bool
}

// configDoc renders a configuration with one target on a closed loopback
// port (probes fail at once), the given [http] listen ("" for none) and
// probe timeout.
func configDoc(t *testing.T, listen, timeout string) string {
	t.Helper()
	doc := fmt.Sprintf("database = \"pw.db\"\nschedule = \"@every 1h\"\ntimeout = %q\n", timeout)
	if listen != "" {
		doc += fmt.Sprintf("[http]\nlisten = %q\n", listen)
	}
	return doc + fmt.Sprintf("[[target]]\nname = \"closed\"\nhost = \"localhost\"\naddresses = [%q]\n", freeAddr(t))
}

// startSignalled writes doc as the configuration, starts the daemon and
// waits until it is ready. It is stopped at the end of the test.
func startSignalled(t *testing.T, doc string) *testDaemon {
	t.Helper()
	td := &testDaemon{dir: t.TempDir(), log: &pinwatchdtest.SyncBuffer{}, sigs: make(chan os.Signal, 8),
		done: make(chan error, 1), exits: make(chan int, 4)}
	td.config = filepath.Join(td.dir, "config.toml")
	td.write(t, doc)
	cfg, err := LoadConfig(td.config, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(td.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	td.d, err = New(t.Context(), cfg, Options{ConfigPath: td.config, Log: log, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	go func() { td.done <- td.d.RunWithSignals(t.Context(), td.sigs, func(code int) { td.exits <- code }) }()
	select {
	case <-td.d.Ready():
	case err := <-td.done:
		t.Fatalf("the daemon did not start: %v\n%s", err, td.log)
	case <-time.After(waitLimit):
		t.Fatalf("the daemon did not start within %s:\n%s", waitLimit, td.log)
	}
	t.Cleanup(func() {
		if !td.stopped {
			td.sigs <- syscall.SIGTERM
			select {
			case <-td.done:
			case <-time.After(waitLimit):
				t.Errorf("the daemon did not stop within %s", waitLimit)
				return
			}
		}
		td.d.Close()
		if t.Failed() {
			t.Logf("daemon log:\n%s", td.log)
		}
	})
	return td
}

// write replaces the configuration file.
func (td *testDaemon) write(t *testing.T, doc string) {
	t.Helper()
	if err := os.WriteFile(td.config, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitLog waits until the log holds n lines containing s.
func (td *testDaemon) waitLog(t *testing.T, s string, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d log lines with %q", n, s), func() bool { return strings.Count(td.log.String(), s) >= n })
}

// healthz returns the status of GET /healthz at addr, 0 when nothing
// answers.
func healthz(addr string) int {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestReloadMovesHTTPListener changes [http] listen and sends SIGHUP:
// the listener moves to the new address, turns off, turns on again, takes
// over a port the old address held, and stays put when the new address
// cannot be listened on.
func TestReloadMovesHTTPListener(t *testing.T) {
	a := freeAddr(t)
	td := startSignalled(t, configDoc(t, a, "1s"))
	if got := healthz(a); got != http.StatusOK {
		t.Fatalf("GET /healthz on %s = %d, want 200", a, got)
	}
	reload := func(n int, listen string) {
		t.Helper()
		td.write(t, configDoc(t, listen, "1s"))
		td.sigs <- syscall.SIGHUP
		td.waitLog(t, "msg=\"configuration reloaded\"", n)
	}

	b := freeAddr(t)
	reload(1, b)
	if got := healthz(b); got != http.StatusOK {
		t.Errorf("after the move, GET /healthz on %s = %d, want 200", b, got)
	}
	if got := healthz(a); got != 0 {
		t.Errorf("after the move, the old address %s still answers (%d)", a, got)
	}

	reload(2, "")
	if got := healthz(b); got != 0 {
		t.Errorf("with [http] listen removed, %s still answers (%d)", b, got)
	}

	c := freeAddr(t)
	reload(3, c)
	if got := healthz(c); got != http.StatusOK {
		t.Errorf("with [http] listen set again, GET /healthz on %s = %d, want 200", c, got)
	}

	// The same port written another way: the old listener holds it, so it
	// is stopped first and the new one takes the port over.
	_, port, _ := net.SplitHostPort(c)
	mapped := net.JoinHostPort("::ffff:127.0.0.1", port)
	reload(4, mapped)
	if got := healthz(c); got != http.StatusOK {
		t.Errorf("after taking port %s over as %s, GET /healthz = %d, want 200", port, mapped, got)
	}

	// An address someone else holds: the reload fails and the listener
	// stays where it was.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	td.write(t, configDoc(t, busy.Addr().String(), "1s"))
	td.sigs <- syscall.SIGHUP
	td.waitLog(t, "msg=\"reload failed; keeping the running configuration\"", 1)
	if got := healthz(c); got != http.StatusOK {
		t.Errorf("after a reload to a busy address, GET /healthz on %s = %d, want 200 (the old listener)", c, got)
	}
	if !strings.Contains(td.log.String(), "address already in use") {
		t.Errorf("the failed reload does not say why")
	}
}

// TestStopDuringBlockedReload sends SIGTERM while a reload is stuck (its
// configuration file is a FIFO nobody writes): the daemon still shuts
// down within the probe timeout plus ShutdownGrace (SPEC §7: SIGHUP and
// SIGTERM never wait on each other). SIGHUPs during the stuck reload fold
// into one more reload.
func TestStopDuringBlockedReload(t *testing.T) {
	const timeout = time.Second
	td := startSignalled(t, configDoc(t, freeAddr(t), timeout.String()))
	good := configDoc(t, "", timeout.String())
	if err := os.Remove(td.config); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(td.config, 0o600); err != nil {
		t.Fatal(err)
	}
	// feed unblocks the reload waiting on the FIFO with a valid file.
	feed := func() {
		t.Helper()
		f, err := os.OpenFile(td.config, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(f, good)
		f.Close()
	}

	// Three SIGHUPs during one stuck reload make one more reload.
	td.sigs <- syscall.SIGHUP
	td.sigs <- syscall.SIGHUP
	td.sigs <- syscall.SIGHUP
	td.waitLog(t, "msg=\"reloading configuration\"", 1)
	feed()
	td.waitLog(t, "msg=\"configuration reloaded\"", 1)
	td.waitLog(t, "msg=\"reloading configuration\"", 2)
	feed()
	td.waitLog(t, "msg=\"configuration reloaded\"", 2)

	// A reload stuck for good, then SIGTERM.
	td.sigs <- syscall.SIGHUP
	td.waitLog(t, "msg=\"reloading configuration\"", 3)
	td.sigs <- syscall.SIGTERM
	budget := timeout + ShutdownGrace
	select {
	case err := <-td.done:
		td.stopped = true
		if err != nil {
			t.Errorf("RunWithSignals = %v, want nil", err)
		}
	case <-time.After(budget):
		t.Fatalf("SIGTERM during a stuck reload: not stopped within %s", budget)
	}
	if n := strings.Count(td.log.String(), "msg=\"configuration reloaded\""); n != 2 {
		t.Errorf("%d reloads completed, want 2 (three SIGHUPs during a reload make one more)", n)
	}
	// Let the stuck reload see its file and give up.
	feed()
	td.waitLog(t, "msg=\"reload abandoned: shutting down\"", 1)
	select {
	case code := <-td.exits:
		t.Errorf("exit(%d) was called, want a clean stop", code)
	default:
	}
}
