// Package sdnotify speaks systemd's service notification protocol
// (sd_notify): READY, RELOADING, STOPPING and the watchdog pings, sent over
// the datagram socket systemd names in $NOTIFY_SOCKET.
package sdnotify

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pinwatchd/pinwatchd/internal/logkey"
)

// Client sends service state to systemd over the datagram socket named by
// $NOTIFY_SOCKET. A nil *Client is valid and sends nothing, so code outside
// systemd calls the same methods.
//
// Every message is sent on a fresh socket, so a Client is safe for
// concurrent use and survives a re-executed systemd.
type Client struct {
	addr *net.UnixAddr
	err  error // set when $NOTIFY_SOCKET names something this client cannot use
}

// New returns a Client for $NOTIFY_SOCKET as getenv reports it, or nil when
// it is unset. An absolute path names a socket in the file system, a leading
// '@' an abstract socket. Any other value gives a Client whose every send
// fails with an error naming the value.
func New(getenv func(string) string) *Client {
	sock := getenv("NOTIFY_SOCKET")
	if sock == "" {
		return nil
	}
	if !strings.HasPrefix(sock, "/") && !strings.HasPrefix(sock, "@") {
		return &Client{err: fmt.Errorf("notify socket %q from NOTIFY_SOCKET is neither an absolute path nor an abstract socket name starting with '@'", sock)}
	}
	// The net package maps a leading '@' to the abstract namespace.
	return &Client{addr: &net.UnixAddr{Name: sock, Net: "unixgram"}}
}

// send delivers one notification: newline-separated VARIABLE=value lines.
func (n *Client) send(state string) error {
	if n == nil {
		return nil
	}
	if n.err != nil {
		return n.err
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("notify systemd at %s: %w", n.addr.Name, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify systemd at %s: %w", n.addr.Name, err)
	}
	return nil
}

// Ready tells systemd that start-up (or a reload) is complete.
func (n *Client) Ready() error { return n.send("READY=1") }

// Reloading tells systemd that the configuration is being reloaded, stamped
// with the current CLOCK_MONOTONIC time in microseconds as systemd 253 and
// later require. Ready must follow once the reload is done, whatever its
// outcome.
func (n *Client) Reloading() error {
	if n == nil {
		return nil
	}
	usec, err := monotonicUsec()
	if err != nil {
		return err
	}
	return n.send("RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(usec, 10))
}

// Stopping tells systemd that shutdown has begun.
func (n *Client) Stopping() error { return n.send("STOPPING=1") }

// Watchdog pets the service watchdog.
func (n *Client) Watchdog() error { return n.send("WATCHDOG=1") }

// monotonicUsec reads CLOCK_MONOTONIC in microseconds.
func monotonicUsec() (int64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0, fmt.Errorf("read CLOCK_MONOTONIC: %w", err)
	}
	return ts.Nano() / 1000, nil
}

// watchdogInterval returns the watchdog timeout systemd expects pings
// within ($WATCHDOG_USEC) and whether the watchdog is on for this process.
// It is off when WATCHDOG_USEC is unset, not a positive integer, or when
// $WATCHDOG_PID is set to another process's id. Ping at half the interval.
func WatchdogInterval(getenv func(string) string) (time.Duration, bool) {
	usec, err := strconv.ParseInt(getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0, false
	}
	if pid := getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0, false
	}
	return time.Duration(usec) * time.Microsecond, true
}

// RunWatchdog sends WATCHDOG=1 every `every` for as long as healthy reports
// true, until ctx is done. While healthy reports false nothing is sent, so
// systemd restarts a daemon that stays unhealthy past the watchdog timeout.
// Turning unhealthy, turning healthy again and failed sends are logged. It
// returns at once when n is nil or every is not positive.
func RunWatchdog(ctx context.Context, n *Client, every time.Duration, healthy func() bool, log *slog.Logger) {
	if n == nil || every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	watchdogLoop(ctx, n, t.C, healthy, log)
}

// watchdogLoop is RunWatchdog with the ticks supplied by the caller.
func watchdogLoop(ctx context.Context, n *Client, ticks <-chan time.Time, healthy func() bool, log *slog.Logger) {
	wasHealthy := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			ok := healthy()
			switch {
			case !ok && wasHealthy:
				log.Warn("unhealthy: withholding watchdog pings from systemd")
			case ok && !wasHealthy:
				log.Info("healthy again: resuming watchdog pings")
			}
			wasHealthy = ok
			if !ok {
				continue
			}
			if err := n.Watchdog(); err != nil {
				log.Warn("watchdog ping failed", logkey.Err, err)
			}
		}
	}
}
