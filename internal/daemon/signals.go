package daemon

import (
	"context"
	"os"
	"syscall"
	"time"

	"github.com/pinwatchd/pinwatchd/internal/logkey"
)

// ShutdownGrace is what shutdown may take beyond the probe timeout (SPEC §7):
// systemd's TimeoutStopSec must allow the probe timeout plus this.
const ShutdownGrace = 5 * time.Second

// shutdownDeadlines returns, for a shutdown starting at now with the given
// probe timeout, when running probes are cancelled (stopBy) and when
// flushing the outbox gives up (flushBy). The whole shutdown ends half a
// second inside timeout + ShutdownGrace, so systemd's TimeoutStopSec (set
// to that sum) never has to kill the process; the last two seconds of it
// are the flush's.
func shutdownDeadlines(now time.Time, timeout time.Duration) (stopBy, flushBy time.Time) {
	flushBy = now.Add(timeout + ShutdownGrace - 500*time.Millisecond)
	return flushBy.Add(-2 * time.Second), flushBy
}

// RunWithSignals runs d until a stop signal arrives on sigs: SIGHUP reloads
// the configuration (a failed reload is logged and the running
// configuration kept), the first SIGTERM or SIGINT shuts down cleanly, and
// any later one calls exit(1) at once. Signals that arrive during start-up
// wait until it is done. It returns Run's error.
func (d *Daemon) RunWithSignals(ctx context.Context, sigs <-chan os.Signal, exit func(int)) error {
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	select {
	case <-d.started:
	case err := <-done:
		return err
	}
	for sig := range sigs {
		if sig == syscall.SIGHUP {
			if err := d.Reload(ctx); err != nil {
				d.log.Error("reload failed; keeping the running configuration", logkey.Config, d.opts.ConfigPath, logkey.Err, err)
			}
			continue
		}
		d.log.Info("shutting down", logkey.Signal, sig.String())
		break
	}
	go func() {
		for sig := range sigs {
			if sig != syscall.SIGHUP {
				d.log.Error("second signal; exiting at once", logkey.Signal, sig.String())
				exit(1)
			}
		}
	}()
	stop()
	return <-done
}
