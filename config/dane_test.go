package config

import (
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// The defaults of SPEC §12: an mx target is SMTP on port 25 with DANE and
// no HTTP; starttls turns HTTP off and, for SMTP, DANE on; dane = false
// wins.
func TestMailTargetDefaults(t *testing.T) {
	c, err := Parse(strings.NewReader(`
[[target]]
name = "mail"
mx = "Example.COM."
ehlo = "watcher.example.net"

[[target]]
name = "smtp"
host = "smtp.example.com"
port = 587
starttls = "smtp"
dane = false

[[target]]
name = "imap"
host = "imap.example.com"
port = 143
starttls = "imap"
dane = true
require_tlsa = true
`), "test.toml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := c.Targets()
	mail, smtp, imap := ts[0], ts[1], ts[2]
	if mail.MX != "example.com" || mail.Host != "" || mail.Port != 25 || mail.STARTTLS != pinwatchd.ProtocolSMTP ||
		!mail.DANE || mail.HTTP || mail.EHLO != "watcher.example.net" {
		t.Errorf("mx target = %+v", mail)
	}
	if smtp.STARTTLS != pinwatchd.ProtocolSMTP || smtp.DANE || smtp.HTTP || smtp.Port != 587 {
		t.Errorf("smtp target with dane = false: %+v", smtp)
	}
	if imap.STARTTLS != pinwatchd.ProtocolIMAP || !imap.DANE || !imap.RequireTLSA || imap.HTTP {
		t.Errorf("imap target = %+v", imap)
	}
}

func TestCheckDomainAndEHLO(t *testing.T) {
	for d, bad := range map[string]bool{"example.com": false, "mail.example.com.": false, "192.0.2.1": true,
		"example": true, "smtp://example.com": true, "exa mple.com": true, "example.com\x00": true} {
		if got := checkDomain(d) != ""; got != bad {
			t.Errorf("checkDomain(%q) = %q", d, checkDomain(d))
		}
	}
	for e, bad := range map[string]bool{"pinwatchd.example.net": false, "[192.0.2.1]": false, "a b": true, "x\r\nRCPT": true, "me@x": true} {
		if got := checkEHLO(e) != ""; got != bad {
			t.Errorf("checkEHLO(%q) = %q", e, checkEHLO(e))
		}
	}
}
