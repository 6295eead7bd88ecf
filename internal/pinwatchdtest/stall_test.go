package pinwatchdtest_test

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

func TestStallServerNeverAnswers(t *testing.T) {
	before := runtime.NumGoroutine()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	t.Run("stall", func(t *testing.T) {
		s := pinwatchdtest.NewStallServer(t)
		for range 2 {
			c, err := net.Dial("tcp", s.Addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			select {
			case <-s.Accepted:
			case <-time.After(10 * time.Second):
				t.Fatal("no value on Accepted for a connection")
			}
			if _, err := c.Write([]byte("\x16\x03\x01 a client hello")); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
				t.Fatalf("the server answered: %d bytes, %v", n, err)
			}
		}
	})
	// The clients have not hung up: the server's cleanup closed the
	// connections and waited for its goroutines.
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after cleanup, %d before", runtime.NumGoroutine(), before)
		}
	}
}
