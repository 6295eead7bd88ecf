package pinwatchdtest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// StallServer accepts TCP connections on 127.0.0.1 and never says a word:
// it reads and discards what clients send until they hang up. A TLS probe
// of it times out waiting for the server's hello.
type StallServer struct {
	// Addr is the host:port it listens on.
	Addr string
	// Accepted receives a value for every connection accepted, without
	// ever blocking the server: beyond 1000 unread values, more are
	// dropped.
	Accepted <-chan struct{}
}

// NewStallServer starts a StallServer. At the end of the test it closes the
// listener and every connection and waits for its goroutines, so a test
// that checks for leaked goroutines can use it.
func NewStallServer(t testing.TB) *StallServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on loopback: %v", err)
	}
	accepted := make(chan struct{}, 1000)
	var (
		conns    []net.Conn // owned by the accept loop until it ends
		handlers sync.WaitGroup
	)
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			select {
			case accepted <- struct{}{}:
			default:
			}
			handlers.Go(func() {
				defer c.Close()
				_, _ = io.Copy(io.Discard, c)
			})
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-loopDone // no connection is accepted after this
		for _, c := range conns {
			_ = c.Close()
		}
		handlers.Wait()
	})
	return &StallServer{Addr: ln.Addr().String(), Accepted: accepted}
}
