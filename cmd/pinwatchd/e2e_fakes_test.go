package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

// Stand-ins for the daemon's peers in the end-to-end tests: Slack's
// incoming webhook (the shared fake) and systemd's notify socket.

// newE2ESlack starts the fake Slack the daemons deliver to: an incoming
// webhook at webhookPathSecret and nothing else, so that a request to the
// Web API counts as unexpected.
func newE2ESlack(t *testing.T) *pinwatchdtest.Slack {
	t.Helper()
	return pinwatchdtest.NewSlack(t, pinwatchdtest.WebhookPath(webhookPathSecret), pinwatchdtest.WebhookOnly())
}

// sdMessage is one datagram the daemon sent to $NOTIFY_SOCKET.
type sdMessage struct {
	At   time.Time
	Text string
}

// sdListener stands in for systemd's notify socket.
type sdListener struct {
	path string
	mu   sync.Mutex
	msgs []sdMessage
}

func newSDListener(t *testing.T) *sdListener {
	t.Helper()
	dir, err := os.MkdirTemp("", "pwsd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l := &sdListener{path: filepath.Join(dir, "notify.sock")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: l.path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen on %s: %v", l.path, err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, sdMessage{At: time.Now(), Text: string(buf[:n])})
			l.mu.Unlock()
		}
	}()
	return l
}

// messages returns what arrived so far.
func (l *sdListener) messages() []sdMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sdMessage(nil), l.msgs...)
}

// next waits for the first message at index from or later that match
// accepts, and returns its index.
func (l *sdListener) next(t *testing.T, what string, from int, match func(string) bool) int {
	t.Helper()
	i := -1
	waitFor(t, what+" on the notify socket", func() bool {
		msgs := l.messages()
		for j := from; j < len(msgs); j++ {
			if match(msgs[j].Text) {
				i = j
				return true
			}
		}
		return false
	})
	return i
}

// httpGet fetches url and returns the status and body; status 0 when the
// request failed.
func httpGet(url string) (int, string) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
