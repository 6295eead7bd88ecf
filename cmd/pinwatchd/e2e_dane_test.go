package main

import (
	"encoding/hex"
	"encoding/json"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// The daemon watching mail servers: SMTP, IMAP and POP3 servers speaking
// STARTTLS on loopback, the stand-in DNS publishing their MX and TLSA
// records with the AD bit or without, and the daemon's `resolver` pointing
// at it (SPEC §12).

// mailDomain is the mail domain the stand-in DNS answers MX for.
const mailDomain = "mail.pinwatchd.test"

// mailLeaf issues a leaf of the fleet's intermediate valid for names, with
// a key of its own.
func (f *fleet) mailLeaf(t *testing.T, names ...string) *testpki.Cert {
	t.Helper()
	return f.pki.Intermediate.Leaf(t, testpki.Options{CommonName: names[0], DNSNames: names})
}

// daneEE is the TLSA record data of a certificate's key: "3 1 1 HEX".
func daneEE(c *testpki.Cert) string {
	p := c.Pin()
	return "3 1 1 " + hex.EncodeToString(p[:])
}

// portOf returns the port of an "ip:port".
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, ps, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(ps)
	return p
}

// alertState returns the state of target's alert of kind ("" when none)
// and its resolve reason.
func alertState(t *testing.T, db, target, kind string) (string, string) {
	t.Helper()
	a, ok := queryAlerts(t, db, true).find(target, kind)
	if !ok {
		return "", ""
	}
	return a.State, deref(a.ResolveReason)
}

// waitAlert waits until target's alert of kind is in state.
func waitAlert(t *testing.T, db, target, kind, state string) e2eAlert {
	t.Helper()
	var a e2eAlert
	waitFor(t, kind+" on "+target+" to be "+state, func() bool {
		var ok bool
		a, ok = queryAlerts(t, db, true).find(target, kind)
		return ok && a.State == state
	})
	return a
}

// The RFC 7671 rollover of an MX host's key, through the daemon: with only
// the current key's record there is no backup (tlsa_missing_backup);
// publishing the next key's record clears it; rotating to the next key is
// fine; removing the old record leaves the new key without a backup again.
// No step is a tlsa_mismatch, the RRset changes show in the history, and
// pinwatchd_tlsa_match stays 1.
func TestDaemonDANERollover(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	mx1 := "mx1." + mailDomain
	current, next := f.mailLeaf(t, mx1), f.mailLeaf(t, mx1)
	srv := testpki.ServeMail(t, "smtp", testpki.Chain(current, f.pki.Intermediate))
	port := portOf(t, srv.Addr)
	tlsaName := pinwatchd.TLSAName(mx1, port)

	dns := pinwatchdtest.NewDNS(t)
	dns.SetMX(mailDomain, pinwatchdtest.MX{Preference: 10, Host: mx1})
	dns.Set(mx1, "127.0.0.1")
	dns.SetTLSA(tlsaName, true, daneEE(current))
	slack := newE2ESlack(t)
	listen := closedPort(t)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	e2eConfig{db: db, resolver: dns.Addr, metrics: listen, webhookFile: slack.WebhookFile(t, f.dir), targets: []config.TargetConfig{
		{Name: "mail", MX: mailDomain, Port: &port, CAFile: f.caFile, EHLO: "watcher.pinwatchd.test"},
	}}.write(t, cfg)
	d := startDaemon(t, cfg)
	sub := "mail/" + mx1

	// 1. Only the current key's record: no backup.
	backup := waitAlert(t, db, sub, "tlsa_missing_backup", "open")
	if backup.Severity != "warning" || backup.Subject != "tlsa" || len(backup.Addresses) != 1 || backup.Addresses[0] != srv.Addr {
		t.Errorf("tlsa_missing_backup = %+v, want a warning about tlsa at %s", backup, srv.Addr)
	}
	if names := srv.EHLONames(); len(names) == 0 || names[0] != "watcher.pinwatchd.test" {
		t.Errorf("EHLO names %q, want the target's ehlo", names)
	}
	metric := func(v string) bool {
		_, body := httpGet("http://" + listen + "/metrics")
		return strings.Contains(body, `pinwatchd_tlsa_match{target="`+sub+`"} `+v)
	}
	waitFor(t, "pinwatchd_tlsa_match 1", func() bool { return metric("1") })

	// 2. Publish the next key's record: the backup is there.
	dns.SetTLSA(tlsaName, true, daneEE(current), daneEE(next))
	a := waitAlert(t, db, sub, "tlsa_missing_backup", "resolved")
	if got := deref(a.ResolveReason); got != "a TLSA record for the next key or CA is published" {
		t.Errorf("tlsa_missing_backup resolved with %q", got)
	}

	// 3. Rotate to the next key: still fine.
	srv.SetCertificate(testpki.Chain(next, f.pki.Intermediate))
	waitFor(t, "the key rotation in the history", func() bool {
		_, ok := findEvent(queryHistory(t, db), sub, "chain_changed", func(e e2eEvent) bool { return deref(e.Class) == "key_rotated" })
		return ok
	})
	// 4. Remove the old record: the new key has no backup until the one
	// after it is published.
	dns.SetTLSA(tlsaName, true, daneEE(next))
	reopened := waitAlert(t, db, sub, "tlsa_missing_backup", "open")
	if reopened.ID == backup.ID {
		t.Errorf("tlsa_missing_backup after removing the old record is alert %d again, want a new alert", backup.ID)
	}
	for _, a := range queryAlerts(t, db, true).Alerts {
		if a.Kind == "tlsa_mismatch" || a.Kind == "starttls_failed" || (a.Target == sub && a.Severity == "critical") {
			t.Errorf("alert %+v during a correct rollover", a)
		}
	}
	if !metric("1") {
		t.Error("pinwatchd_tlsa_match is not 1 after the rollover")
	}

	// The history shows both RRset changes with their records.
	stdout, _, code := cliRun(t, "history", sub, "--database", db)
	if code != exitOK || strings.Count(stdout, "tlsa_changed") != 2 || !strings.Contains(stdout, "+ "+daneEE(next)) || !strings.Contains(stdout, "- "+daneEE(current)) {
		t.Errorf("history of %s:\n%s\nwant two tlsa_changed: the next record added, then the old one removed", sub, stdout)
	}
	waitFor(t, "Slack to get the TLSA alerts", func() bool {
		return slack.Count("opened", sub, "tlsa_missing_backup") == 2 && slack.Count("resolved", sub, "tlsa_missing_backup") == 1
	})
	d.stop(t)
}

// Rotating before publishing the next key's record is a tlsa_mismatch,
// critical, and pinwatchd_tlsa_match drops to 0; publishing it resolves
// the alert.
func TestDaemonDANERotatedEarly(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	host := "smtp.pinwatchd.test"
	current, next := f.mailLeaf(t, host), f.mailLeaf(t, host)
	srv := testpki.ServeMail(t, "smtp", testpki.Chain(current, f.pki.Intermediate))
	port := portOf(t, srv.Addr)
	hp, _ := config.ParseHostPort(srv.Addr)
	dns := pinwatchdtest.NewDNS(t)
	dns.SetTLSA(pinwatchd.TLSAName(host, port), true, daneEE(current))
	slack := newE2ESlack(t)
	listen := closedPort(t)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	e2eConfig{db: db, resolver: dns.Addr, metrics: listen, webhookFile: slack.WebhookFile(t, f.dir), targets: []config.TargetConfig{
		{Name: "smtp", Host: host, Port: &port, Addresses: []config.HostPort{hp}, CAFile: f.caFile, STARTTLS: "smtp"},
	}}.write(t, cfg)
	d := startDaemon(t, cfg)
	waitAlert(t, db, "smtp", "tlsa_missing_backup", "open")

	srv.SetCertificate(testpki.Chain(next, f.pki.Intermediate))
	m := waitAlert(t, db, "smtp", "tlsa_mismatch", "open")
	if m.Severity != "critical" || m.Subject != "tlsa" || len(m.Addresses) != 1 || m.Addresses[0] != srv.Addr {
		t.Errorf("tlsa_mismatch = %+v, want critical about tlsa at %s", m, srv.Addr)
	}
	waitFor(t, "pinwatchd_tlsa_match 0", func() bool {
		_, body := httpGet("http://" + listen + "/metrics")
		return strings.Contains(body, `pinwatchd_tlsa_match{target="smtp"} 0`)
	})
	waitFor(t, "Slack to get the tlsa_mismatch", func() bool { return slack.Count("opened", "smtp", "tlsa_mismatch") == 1 })

	dns.SetTLSA(pinwatchd.TLSAName(host, port), true, daneEE(current), daneEE(next))
	a := waitAlert(t, db, "smtp", "tlsa_mismatch", "resolved")
	if got := deref(a.ResolveReason); got != "a TLSA record matches the served chain again" {
		t.Errorf("tlsa_mismatch resolved with %q", got)
	}
	d.stop(t)
}

// Every other DANE and STARTTLS finding, one target each, in one daemon:
// an RRset without the AD bit, a malformed record, a SERVFAIL (bogus
// signatures), no records where they are required, a server that refuses
// STARTTLS with 454, and one that answers EHLO with endless 250- lines. An
// IMAP and a POP3 server that behave raise nothing.
func TestDaemonDANEFindings(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	names := []string{"unsigned.pinwatchd.test", "malformed.pinwatchd.test", "bogus.pinwatchd.test",
		"bare.pinwatchd.test", "refuses.pinwatchd.test", "endless.pinwatchd.test", "imap.pinwatchd.test", "pop.pinwatchd.test"}
	leaf := f.mailLeaf(t, names...)
	chain := testpki.Chain(leaf, f.pki.Intermediate)
	spare := testpki.KeyPin(t, f.pki.Spare)
	spareRec := "3 1 1 " + hex.EncodeToString(spare[:])
	dns := pinwatchdtest.NewDNS(t)
	var targets []config.TargetConfig
	servers := map[string]*testpki.MailServer{}
	add := func(name, host, proto string, b testpki.MailBehaviour, opts ...func(*config.TargetConfig)) {
		srv := testpki.ServeMail(t, proto, chain)
		srv.SetBehaviour(b)
		servers[name] = srv
		port := portOf(t, srv.Addr)
		hp, _ := config.ParseHostPort(srv.Addr)
		tc := config.TargetConfig{Name: name, Host: host, Port: &port, Addresses: []config.HostPort{hp}, CAFile: f.caFile, STARTTLS: proto}
		for _, o := range opts {
			o(&tc)
		}
		targets = append(targets, tc)
	}
	on := true
	tlsaOf := func(name string) string {
		return pinwatchd.TLSAName(name, portOf(t, servers[strings.SplitN(name, ".", 2)[0]].Addr))
	}
	add("unsigned", names[0], "smtp", testpki.MailNormal)
	add("malformed", names[1], "smtp", testpki.MailNormal)
	add("bogus", names[2], "smtp", testpki.MailNormal)
	add("bare", names[3], "smtp", testpki.MailNormal, func(tc *config.TargetConfig) { tc.RequireTLSA = true })
	add("refuses", names[4], "smtp", testpki.MailRefuse)
	add("endless", names[5], "smtp", testpki.MailEndlessEHLO)
	add("imap", names[6], "imap", testpki.MailNormal, func(tc *config.TargetConfig) { tc.DANE = &on })
	add("pop", names[7], "pop3", testpki.MailNormal, withPins(leaf.Pin(), spare))
	dns.SetTLSA(tlsaOf(names[0]), false, daneEE(leaf), spareRec)
	dns.SetTLSA(tlsaOf(names[1]), true, daneEE(leaf), spareRec, "3 1 1 abcdef")
	dns.SetTLSA(tlsaOf(names[2]), true, daneEE(leaf), spareRec)
	dns.SetBogus(tlsaOf(names[2]), true)
	dns.SetTLSA(tlsaOf(names[6]), true, daneEE(leaf), spareRec)

	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	e2eConfig{db: db, resolver: dns.Addr, targets: targets}.write(t, cfg)
	d := startDaemon(t, cfg)

	for _, c := range []struct{ target, kind, severity, message string }{
		{"unsigned", "tlsa_unsigned", "warning", "not DNSSEC-authenticated"},
		{"malformed", "tlsa_malformed", "warning", "3 1 1 abcdef (SHA-256 data of 3 bytes (want 32))"},
		{"bogus", "tlsa_lookup_failed", "warning", "SERVFAIL"},
		{"bare", "no_tlsa", "warning", "has no TLSA records"},
		{"refuses", "starttls_failed", "warning", "454 4.7.0 TLS not available"},
		{"endless", "starttls_failed", "warning", "more than 100 lines"},
	} {
		var msg string
		waitFor(t, c.kind+" on "+c.target, func() bool {
			// One reading of the alerts, so that the message checked is
			// the one of the alert found.
			stdout, _, _ := cliRun(t, "alerts", "--json", "--database", db)
			var doc e2eAlerts
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Fatalf("alerts --json printed invalid JSON: %v\n%s", err, stdout)
			}
			for _, a := range doc.Alerts {
				if a.Target == c.target && a.Kind == c.kind && a.Severity == c.severity {
					msg = stdout
					return true
				}
			}
			return false
		})
		if !strings.Contains(msg, c.message) {
			t.Errorf("%s on %s: the alerts do not say %q:\n%s", c.kind, c.target, c.message, msg)
		}
	}
	// One more round for every target, then nothing else is open.
	before := lastSeen(t, db, "pop")
	waitFor(t, "another round", func() bool { return lastSeen(t, db, "pop").After(before) })
	for _, a := range queryAlerts(t, db, false).Alerts {
		if a.Target == "imap" || a.Target == "pop" {
			t.Errorf("alert %+v on a mail server that behaves", a)
		}
		if a.Target == "unsigned" && a.Kind != "tlsa_unsigned" {
			t.Errorf("alert %+v: an unauthenticated RRset is only tlsa_unsigned", a)
		}
	}
	// The bogus zone is fixed: the lookup answers and the alert resolves.
	dns.SetBogus(tlsaOf(names[2]), false)
	waitAlert(t, db, "bogus", "tlsa_lookup_failed", "resolved")
	d.stop(t)
}

// An mx target follows the MX records at every round: a second exchange is
// watched from the round it appears in; one that leaves has its alerts
// resolved; a null MX is dns_failed about "mx" on the target, and leaves
// the exchanges' alerts alone; `check` expands the target the same way.
func TestDaemonMXChanges(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	mx1, mx2 := "mx1."+mailDomain, "mx2."+mailDomain
	leaf := f.mailLeaf(t, mx1, mx2)
	srv1 := testpki.ServeMail(t, "smtp", testpki.Chain(leaf, f.pki.Intermediate))
	port := portOf(t, srv1.Addr)
	srv2 := testpki.ServeMailOn(t, net.JoinHostPort("127.0.0.2", strconv.Itoa(port)), "smtp", testpki.Chain(leaf, f.pki.Intermediate))
	dns := pinwatchdtest.NewDNS(t)
	dns.Set(mx1, "127.0.0.1")
	dns.Set(mx2, "127.0.0.2")
	dns.SetMX(mailDomain, pinwatchdtest.MX{Preference: 10, Host: mx1})
	dns.SetTLSA(pinwatchd.TLSAName(mx1, port), true, daneEE(leaf))
	dns.SetTLSA(pinwatchd.TLSAName(mx2, port), true, daneEE(leaf))
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	e2eConfig{db: db, resolver: dns.Addr, threshold: 2, targets: []config.TargetConfig{
		{Name: "mail", MX: mailDomain, Port: &port, CAFile: f.caFile},
	}}.write(t, cfg)

	// check expands the mx target into its exchanges.
	stdout, stderr, code := cliRun(t, "check", "--config", cfg, "--json")
	if code != 1 || !strings.Contains(stdout, `"name": "mail/`+mx1+`"`) || !strings.Contains(stdout, `"starttls": "smtp"`) ||
		!strings.Contains(stdout, `"matches": "leaf"`) || !strings.Contains(stdout, `"kind": "tlsa_missing_backup"`) {
		t.Errorf("check --json exited %d (stderr %s):\n%s\nwant the exchange's report with its matching TLSA record and tlsa_missing_backup", code, stderr, stdout)
	}

	d := startDaemon(t, cfg)
	sub1, sub2 := "mail/"+mx1, "mail/"+mx2
	waitAlert(t, db, sub1, "tlsa_missing_backup", "open")
	dns.SetMX(mailDomain, pinwatchdtest.MX{Preference: 10, Host: mx1}, pinwatchdtest.MX{Preference: 20, Host: mx2})
	a2 := waitAlert(t, db, sub2, "tlsa_missing_backup", "open")
	if len(a2.Addresses) != 1 || a2.Addresses[0] != srv2.Addr {
		t.Errorf("the second exchange's alert lists %v, want %s", a2.Addresses, srv2.Addr)
	}

	// A null MX: dns_failed on the target after failure_threshold rounds;
	// the exchanges keep their alerts.
	dns.SetMX(mailDomain, pinwatchdtest.MX{Preference: 0, Host: "."})
	failed := waitAlert(t, db, "mail", "dns_failed", "open")
	if failed.Subject != "mx" {
		t.Errorf("dns_failed subject %q, want mx", failed.Subject)
	}
	if st, _ := alertState(t, db, sub1, "tlsa_missing_backup"); st != "open" {
		t.Errorf("during the null MX the exchange's alert is %q, want still open", st)
	}
	stdout, _, _ = cliRun(t, "alerts", "--database", db)
	if !strings.Contains(stdout, "null MX") {
		t.Errorf("alerts do not say the domain has a null MX:\n%s", stdout)
	}

	// mx2 leaves the MX set: its alerts resolve, saying why.
	dns.SetMX(mailDomain, pinwatchdtest.MX{Preference: 10, Host: mx1})
	waitAlert(t, db, "mail", "dns_failed", "resolved")
	a := waitAlert(t, db, sub2, "tlsa_missing_backup", "resolved")
	if got := deref(a.ResolveReason); got != "no longer an MX of "+mailDomain {
		t.Errorf("the departed exchange's alert resolved with %q, want \"no longer an MX of %s\"", got, mailDomain)
	}
	if st, _ := alertState(t, db, sub1, "tlsa_missing_backup"); st != "open" {
		t.Errorf("the remaining exchange's alert is %q, want open", st)
	}
	// certs counts the exchanges as configured targets.
	stdout, stderr, code = cliRun(t, "certs", "--config", cfg)
	if code != exitOK || !strings.Contains(stdout, sub1) || !strings.Contains(stdout, srv1.Addr) {
		t.Errorf("certs exited %d (%s):\n%s\nwant the exchange %s listed without --all", code, stderr, stdout, sub1)
	}
	d.stop(t)
}
