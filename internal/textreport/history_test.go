package textreport

import (
	"bytes"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// historyEvents has one event of every kind History prints, from two
// vantage points, with a control character where a server chose the text.
func historyEvents() []pinwatchd.Event {
	at := time.Date(2026, 11, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	exp := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
	return []pinwatchd.Event{
		{Time: at, Target: "api", Address: "192.0.2.1:443", Vantage: "fra", Event: pinwatchd.EventFirstSeen,
			NewLeafPin: "AAAA", Issuer: "CN=Example CA,O=Example", NotAfter: exp},
		{Time: at.Add(time.Hour), Target: "api", Address: "192.0.2.1:443", Vantage: "ams", Event: pinwatchd.EventChainChanged,
			Class: "renewed_same_key", OldLeafPin: "AAAA", NewLeafPin: "AAAA", NewLeafSHA256: "0123456789abcdef0123456789abcdef", Issuer: "O=No CN", NotAfter: exp},
		{Time: at.Add(2 * time.Hour), Target: "api", Address: "192.0.2.1:443", Vantage: "ams", Event: pinwatchd.EventChainChanged,
			Class: "key_rotated", OldLeafPin: "AAAA", NewLeafPin: "BBBB", Issuer: "", NotAfter: exp},
		{Time: at.Add(3 * time.Hour), Target: "mail\x1b[2J", Address: "[2001:db8::1]:25", Event: pinwatchd.EventProbeFailed,
			ErrorKind: pinwatchd.KindTimeout, ErrorMessage: "no answer\x07 within 10s"},
		{Time: at.Add(4 * time.Hour), Target: "mail", Address: "[2001:db8::1]:25", Event: pinwatchd.EventRecovered},
		{Target: "mail", Address: "[2001:db8::1]:25", Event: pinwatchd.EventTLSAChanged,
			OldTLSA: "3 1 1 aaaa\n3 1 1 bbbb", NewTLSA: "3 1 1 bbbb\n3 1 1 cccc"},
	}
}

func TestHistoryText(t *testing.T) {
	var b bytes.Buffer
	History(&b, historyEvents(), "")
	const want = "" +
		"2026-11-02 02:04:05  api  192.0.2.1:443  fra  first_seen\n" +
		"    leaf key AAAA, issuer Example CA, expires 2027-01-31\n" +
		"2026-11-02 03:04:05  api  192.0.2.1:443  ams  chain_changed (renewed_same_key)\n" +
		"    same leaf key AAAA, new certificate sha256:0123456789abcdef…\n" +
		"    issuer O=No CN, expires 2027-01-31\n" +
		"2026-11-02 04:04:05  api  192.0.2.1:443  ams  chain_changed (key_rotated)\n" +
		"    leaf key AAAA -> BBBB\n" +
		"    issuer -, expires 2027-01-31\n" +
		"2026-11-02 05:04:05  mail\\x1b[2J  [2001:db8::1]:25  -  probe_failed (timeout)\n" +
		"    no answer\\x07 within 10s\n" +
		"2026-11-02 06:04:05  mail  [2001:db8::1]:25  -  recovered\n" +
		"-  mail  [2001:db8::1]:25  -  tlsa_changed\n" +
		"    - 3 1 1 aaaa\n" +
		"      3 1 1 bbbb\n" +
		"    + 3 1 1 cccc\n"
	if b.String() != want {
		t.Errorf("History printed\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	History(&b, historyEvents()[:1], "api")
	if got := b.String(); got != "2026-11-02 02:04:05  api  192.0.2.1:443  first_seen\n    leaf key AAAA, issuer Example CA, expires 2027-01-31\n" {
		t.Errorf("one vantage: History printed %q, want no vantage column", got)
	}
	b.Reset()
	History(&b, nil, "api")
	if got := b.String(); got != "no history for target \"api\"\n" {
		t.Errorf("no events: History printed %q", got)
	}
}
