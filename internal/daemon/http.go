package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/pinwatchd/pinwatchd/internal/logkey"
	"github.com/pinwatchd/pinwatchd/internal/metrics"
)

// httpServer is the daemon's HTTP listener on one address, serving
// /metrics and /healthz until Shutdown.
type httpServer struct {
	addr    string // as configured
	ln      net.Listener
	srv     *http.Server
	stopped chan struct{} // closed when Serve has returned
	log     *slog.Logger
}

// listenHTTP listens on addr (host:port, from [http] listen) and serves h
// in the background. An address that cannot be listened on is an error
// naming it.
func listenHTTP(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (*httpServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http: listen on %s from [http] listen: %w", addr, err)
	}
	return serveOn(ln, addr, h, log), nil
}

// serveOn serves h on a listener the caller opened; Shutdown closes it.
func serveOn(ln net.Listener, addr string, h http.Handler, log *slog.Logger) *httpServer {
	s := &httpServer{
		addr: addr,
		ln:   ln,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		},
		stopped: make(chan struct{}),
		log:     log,
	}
	log.Info("serving HTTP", logkey.Listen, ln.Addr().String())
	go func() {
		err := s.srv.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server stopped", logkey.Listen, addr, logkey.Err, err)
		}
		close(s.stopped)
	}()
	return s
}

// Shutdown stops listening at once, lets the requests in flight finish
// until ctx is done, then closes their connections. It returns when the
// server has stopped; calling it again does nothing.
func (s *httpServer) Shutdown(ctx context.Context) {
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
	<-s.stopped
	s.log.Debug("stopped serving HTTP", logkey.Listen, s.ln.Addr().String())
}

// httpStopGrace bounds how long a replaced listener lets its requests in
// flight finish.
const httpStopGrace = 2 * time.Second

// meter returns the daemon's metrics, nil while they are off.
func (d *Daemon) meter() *metrics.Metrics {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.metrics
}

// enableMetrics creates the metrics on first use: they are recorded only
// while they are served (see New).
func (d *Daemon) enableMetrics() *metrics.Metrics {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.metrics == nil {
		d.metrics = metrics.New(d.opts.Version, d.opts.Commit)
	}
	return d.metrics
}

// openHTTP starts the HTTP listener on addr, with the metrics, health and
// dashboard of this daemon.
func (d *Daemon) openHTTP(ctx context.Context, addr string) (*httpServer, error) {
	m := d.enableMetrics()
	runCtx := d.runCtx
	h := withDashboard(m.Handler(func() bool { return d.healthy(runCtx) }), d.dashboard())
	return listenHTTP(ctx, addr, h, d.log)
}

// httpSwap is a change of listener prepared by prepareHTTP: the new
// server already serves, the old one still does until commit.
type httpSwap struct {
	d        *Daemon
	old, new *httpServer
	oldAddr  string
	closed   bool // the old server was shut down to free its port
}

// prepareHTTP starts the listener of a reloaded configuration whose
// address differs from the running one; commit then stops the old one, or
// rollback goes back to it. An address whose port the old listener holds
// (127.0.0.1:9794 → 0.0.0.0:9794) is taken over by stopping the old one
// first; if the new address cannot be listened on, the old one is restored
// and the error returned.
func (d *Daemon) prepareHTTP(ctx context.Context, newAddr string) (*httpSwap, error) {
	d.mu.Lock()
	old := d.http
	d.mu.Unlock()
	sw := &httpSwap{d: d, old: old}
	if old != nil {
		sw.oldAddr = old.addr
	}
	if newAddr == sw.oldAddr {
		return nil, nil
	}
	if newAddr == "" {
		return sw, nil
	}
	var err error
	sw.new, err = d.openHTTP(ctx, newAddr)
	if err == nil {
		return sw, nil
	}
	if old == nil || !errors.Is(err, syscall.EADDRINUSE) {
		return nil, err
	}
	shutdownWithin(ctx, old)
	sw.closed = true
	if sw.new, err = d.openHTTP(ctx, newAddr); err != nil {
		sw.rollback(ctx)
		return nil, err
	}
	return sw, nil
}

// commit makes the new listener the daemon's and stops the old one. Once
// shutdown has begun, the new one is stopped instead: shutdown stops the
// one installed.
func (sw *httpSwap) commit(ctx context.Context) {
	if sw == nil {
		return
	}
	sw.d.mu.Lock()
	stopping := sw.d.stopping
	if !stopping {
		sw.d.http = sw.new
	}
	sw.d.mu.Unlock()
	retired := sw.old
	if stopping {
		retired = sw.new
	} else if sw.closed {
		retired = nil
	}
	shutdownWithin(ctx, retired)
}

// rollback stops the new listener and keeps the old one, listening on its
// address again if prepareHTTP had to stop it (unless shutdown has begun).
func (sw *httpSwap) rollback(ctx context.Context) {
	if sw == nil {
		return
	}
	shutdownWithin(ctx, sw.new)
	if !sw.closed {
		return
	}
	var restored *httpServer
	if sw.d.isRunning() {
		var err error
		if restored, err = sw.d.openHTTP(ctx, sw.oldAddr); err != nil {
			sw.d.log.Error("could not listen on the previous HTTP address again", logkey.Listen, sw.oldAddr, logkey.Err, err)
		}
	}
	sw.d.mu.Lock()
	if sw.d.stopping {
		sw.d.mu.Unlock()
		shutdownWithin(ctx, restored)
		return
	}
	sw.d.http = restored
	sw.d.mu.Unlock()
}

// shutdownWithin shuts s down (if not nil), letting its requests in flight
// finish for at most httpStopGrace.
func shutdownWithin(ctx context.Context, s *httpServer) {
	if s == nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, httpStopGrace)
	defer cancel()
	s.Shutdown(sctx)
}

// stopHTTP stops the daemon's listener, if any, letting requests in flight
// finish until ctx is done.
func (d *Daemon) stopHTTP(ctx context.Context) {
	d.mu.Lock()
	s := d.http
	d.http = nil
	d.mu.Unlock()
	if s != nil {
		s.Shutdown(ctx)
	}
}
