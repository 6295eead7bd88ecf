package monitor

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/pinwatchd/pinwatchd"
)

// Bounds of a STARTTLS dialogue (SPEC §16): a server that sends endless
// continuation lines, or a line that never ends, costs at most these, and
// the probe's deadline bounds the time.
const (
	MaxSTARTTLSLine  = 4 << 10 // bytes of one reply line, without its CRLF
	MaxSTARTTLSLines = 100     // reply lines read in one dialogue
)

// DefaultEHLO is the name sent in SMTP's EHLO when a target sets none.
const DefaultEHLO = "pinwatchd"

// errRefused marks a dialogue that ended because the server did not offer
// STARTTLS or refused it; its message says what the server answered.
var errRefused = errors.New("starttls refused")

// refusedError is a STARTTLS the server did not offer or refused.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }
func (e *refusedError) Is(target error) bool {
	return target == errRefused
}

// dialogue is the plaintext opening of one STARTTLS connection.
type dialogue struct {
	conn  net.Conn
	r     *bufio.Reader
	lines int // reply lines read so far
}

// startTLS speaks proto's plaintext opening on conn up to the point where
// the TLS handshake starts (SPEC §12): SMTP greeting, EHLO ehlo and
// STARTTLS; IMAP greeting and STARTTLS; POP3 greeting and STLS. The caller
// sets conn's deadline. A server that does not offer STARTTLS, refuses it,
// or answers past the line bounds is an error matching errRefused whose
// message quotes its answer; a deadline or a closed connection is the
// network error.
func startTLS(conn net.Conn, proto pinwatchd.Protocol, ehlo string) error {
	// The reader never holds more than one line: the server sends nothing
	// after its go-ahead until the client's handshake, so nothing of the
	// TLS stream can be left behind in it.
	d := &dialogue{conn: conn, r: bufio.NewReaderSize(conn, MaxSTARTTLSLine+2)}
	switch proto {
	case pinwatchd.ProtocolSMTP:
		return d.smtp(ehlo)
	case pinwatchd.ProtocolIMAP:
		return d.imap()
	case pinwatchd.ProtocolPOP3:
		return d.pop3()
	}
	return fmt.Errorf("unknown STARTTLS protocol %q", proto)
}

// refused returns the errRefused error "what; the server answered "…"".
func refused(what string, answer []string) error {
	quoted := quoteAnswer(answer)
	if quoted == "" {
		return &refusedError{what}
	}
	return &refusedError{what + "; the server answered " + quoted}
}

// quoteAnswer returns the lines of a reply as one quoted string, shortened
// to 200 bytes, control characters escaped.
func quoteAnswer(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	s := strings.Join(lines, " / ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// line reads one reply line, without its CRLF (a bare LF is accepted).
func (d *dialogue) line() (string, error) {
	if d.lines >= MaxSTARTTLSLines {
		return "", &refusedError{fmt.Sprintf("the server sent more than %d lines before the TLS handshake", MaxSTARTTLSLines)}
	}
	b, err := d.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", &refusedError{fmt.Sprintf("the server sent a line longer than %d bytes before the TLS handshake; it starts %q",
			MaxSTARTTLSLine, string(b[:min(len(b), 80)]))}
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(b) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	d.lines++
	return strings.TrimRight(string(b), "\r\n"), nil
}

// send writes one command line.
func (d *dialogue) send(cmd string) error {
	_, err := io.WriteString(d.conn, cmd+"\r\n")
	return err
}

// smtpReply reads one SMTP reply, every line of a multi-line one (RFC 5321
// §4.2.1), and returns its code and lines.
func (d *dialogue) smtpReply() (code string, lines []string, err error) {
	for {
		l, err := d.line()
		if err != nil {
			return "", lines, err
		}
		lines = append(lines, l)
		if len(l) < 3 || !isDigits(l[:3]) || (len(l) > 3 && l[3] != '-' && l[3] != ' ') {
			return "", lines, refused("the server's reply is not SMTP", lines)
		}
		if code == "" {
			code = l[:3]
		}
		if len(l) == 3 || l[3] == ' ' {
			return code, lines, nil
		}
	}
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// smtp is SMTP's opening (RFC 3207): greeting, EHLO, STARTTLS.
func (d *dialogue) smtp(ehlo string) error {
	if ehlo == "" {
		ehlo = DefaultEHLO
	}
	code, lines, err := d.smtpReply()
	if err != nil {
		return err
	}
	if code != "220" {
		return refused("the server's greeting is not 220", lines)
	}
	if err := d.send("EHLO " + ehlo); err != nil {
		return err
	}
	code, lines, err = d.smtpReply()
	if err != nil {
		return err
	}
	if code != "250" {
		return refused("the server refused EHLO", lines)
	}
	offered := false
	for _, l := range lines[1:] {
		if len(l) >= 4 && strings.EqualFold(strings.TrimSpace(l[4:]), "STARTTLS") {
			offered = true
		}
	}
	if !offered {
		return refused("the server does not offer STARTTLS", lines)
	}
	if err := d.send("STARTTLS"); err != nil {
		return err
	}
	code, lines, err = d.smtpReply()
	if err != nil {
		return err
	}
	if code != "220" {
		return refused("the server refused STARTTLS", lines)
	}
	return nil
}

// imapTag is the tag of pinwatchd's one IMAP command.
const imapTag = "a1"

// imap is IMAP's opening (RFC 9051 §6.2.1): the greeting, then STARTTLS.
func (d *dialogue) imap() error {
	l, err := d.line()
	if err != nil {
		return err
	}
	if !hasPrefixFold(l, "* OK") {
		return refused("the server's greeting is not \"* OK\"", []string{l})
	}
	if err := d.send(imapTag + " STARTTLS"); err != nil {
		return err
	}
	var lines []string
	for {
		l, err := d.line()
		if err != nil {
			return err
		}
		lines = append(lines, l)
		if !strings.HasPrefix(l, imapTag+" ") {
			continue // untagged data before the answer
		}
		if hasPrefixFold(l, imapTag+" OK") {
			return nil
		}
		return refused("the server refused STARTTLS", lines)
	}
}

// pop3 is POP3's opening (RFC 2595 §4): the greeting, then STLS.
func (d *dialogue) pop3() error {
	l, err := d.line()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(l, "+OK") {
		return refused("the server's greeting is not \"+OK\"", []string{l})
	}
	if err := d.send("STLS"); err != nil {
		return err
	}
	if l, err = d.line(); err != nil {
		return err
	}
	if !strings.HasPrefix(l, "+OK") {
		return refused("the server refused STLS", []string{l})
	}
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
