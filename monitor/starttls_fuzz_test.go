package monitor

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// FuzzSTARTTLSReplies feeds whatever a server might send into each
// protocol's dialogue: it never panics, and it ends within its bounds with
// the go-ahead, a refusal or the end of the input.
func FuzzSTARTTLSReplies(f *testing.F) {
	f.Add([]byte("220 mx ESMTP\r\n250-mx\r\n250 STARTTLS\r\n220 go ahead\r\n"), uint8(0))
	f.Add([]byte("220-a\r\n220 b\r\n250 mx\r\n"), uint8(0))
	f.Add([]byte("* OK ready\r\n* BYE\r\na1 OK go\r\n"), uint8(1))
	f.Add([]byte("+OK\r\n-ERR no\r\n"), uint8(2))
	f.Add([]byte("454 \x1b[31m\xff\r\n"), uint8(0))
	f.Fuzz(func(t *testing.T, reply []byte, which uint8) {
		proto := []pinwatchd.Protocol{pinwatchd.ProtocolSMTP, pinwatchd.ProtocolIMAP, pinwatchd.ProtocolPOP3}[int(which)%3]
		client, server := net.Pipe()
		defer client.Close()
		go func() {
			defer server.Close()
			go func() { _, _ = io.Copy(io.Discard, server) }()
			_, _ = server.Write(reply)
		}()
		_ = client.SetDeadline(time.Now().Add(5 * time.Second))
		err := startTLS(client, proto, "fuzz.example")
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the dialogue on %d bytes of input ran into its deadline", len(reply))
		}
	})
}
