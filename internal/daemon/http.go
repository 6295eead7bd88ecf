package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/pinwatchd/pinwatchd/internal/logkey"
)

// httpShutdownTimeout bounds how long serveHTTP waits for scrapes in
// flight when ctx is done.
const httpShutdownTimeout = 5 * time.Second

// serveHTTP listens on listen (host:port) and serves h until ctx is done,
// then shuts the server down and returns nil. An address that cannot be
// listened on is returned at once as an error naming it.
func serveHTTP(ctx context.Context, listen string, h http.Handler, log *slog.Logger) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s from [metrics] listen: %w", listen, err)
	}
	return serveOn(ctx, ln, h, log)
}

// serveOn is serveHTTP on a listener the caller opened; it closes
// ln.
func serveOn(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	log.Info("serving metrics", logkey.Listen, ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("metrics: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("metrics: shut down server on %s: %w", ln.Addr(), err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: serve on %s: %w", ln.Addr(), err)
	}
	return nil
}
