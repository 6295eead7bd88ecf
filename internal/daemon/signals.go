package daemon

import (
	"context"
	"errors"
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
// configuration kept), the first SIGTERM or SIGINT (or sigs closing) shuts
// down cleanly, and any later one calls exit(1) at once. Signals that
// arrive during start-up wait until it is done. A reload runs beside the
// signal loop, so a stop signal during a reload cancels it and shuts down
// at once, within the probe timeout plus ShutdownGrace, whatever the
// reload is waiting for; SIGHUPs during a reload are folded into one more
// reload after it. It returns Run's error.
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
	r := &reloader{d: d, ctx: ctx}
	defer r.cancel()
	for stopped := false; !stopped; {
		select {
		case sig, ok := <-sigs:
			switch {
			case !ok:
				d.log.Info("shutting down: the signal channel closed")
				stopped = true
			case sig == syscall.SIGHUP:
				r.request()
			default:
				d.log.Info("shutting down", logkey.Signal, sig.String())
				stopped = true
			}
		case <-r.finished():
			r.next()
		}
	}
	r.cancel()
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

// reloader runs one reload at a time beside RunWithSignals' loop. Its
// methods are called from that loop only.
type reloader struct {
	d       *Daemon
	ctx     context.Context
	running chan struct{}      // closed when the reload in flight returns; nil when none
	stop    context.CancelFunc // cancels the reload in flight
	again   bool               // a SIGHUP arrived during the reload in flight
}

// request starts a reload, or asks for one more after the one in flight.
func (r *reloader) request() {
	if r.running != nil {
		r.again = true
		return
	}
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	r.running, r.stop = done, cancel
	go func() {
		defer close(done)
		switch err := r.d.Reload(ctx); {
		case err == nil:
		case errors.Is(err, errStopping) || ctx.Err() != nil:
			r.d.log.Info("reload abandoned: shutting down", logkey.Config, r.d.opts.ConfigPath)
		default:
			r.d.log.Error("reload failed; keeping the running configuration", logkey.Config, r.d.opts.ConfigPath, logkey.Err, err)
		}
	}()
}

// finished is closed when the reload in flight returns; nil (never ready)
// when none runs.
func (r *reloader) finished() <-chan struct{} { return r.running }

// next clears the finished reload and starts the one asked for meanwhile.
func (r *reloader) next() {
	r.stop()
	r.running, r.stop = nil, nil
	if r.again {
		r.again = false
		r.request()
	}
}

// cancel cancels the reload in flight, without waiting for it.
func (r *reloader) cancel() {
	if r.stop != nil {
		r.stop()
	}
}
