package config

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/pinwatchd/pinwatchd"
)

// DefaultMailPort is the port of an mx target's exchanges unless it sets
// one: SMTP (SPEC §12).
const DefaultMailPort = 25

// applyDANE fills the mail and DANE fields of t from the target's keys: an
// mx target watches the MX hosts of a domain on port 25 with SMTP STARTTLS;
// a STARTTLS target sends no HTTP request; DANE is on for mx targets and
// SMTP unless dane = false.
func (tc *TargetConfig) applyDANE(t *pinwatchd.Target) {
	t.EHLO, t.RequireTLSA = tc.EHLO, tc.RequireTLSA
	t.STARTTLS = pinwatchd.Protocol(tc.STARTTLS)
	if tc.MX != "" {
		t.MX, t.Host = strings.TrimSuffix(strings.ToLower(tc.MX), "."), ""
		t.STARTTLS = pinwatchd.ProtocolSMTP
		if tc.Port == nil {
			t.Port = DefaultMailPort
		}
	}
	if t.STARTTLS != "" {
		t.HTTP = false
	}
	t.DANE = tc.daneOn()
}

// daneOn reports whether the target looks up TLSA: dane as set, else on for
// mx targets and SMTP STARTTLS.
func (tc *TargetConfig) daneOn() bool {
	if tc.DANE != nil {
		return *tc.DANE
	}
	return tc.MX != "" || tc.STARTTLS == string(pinwatchd.ProtocolSMTP)
}

// mailTarget reports whether the target speaks STARTTLS or checks TLSA:
// its chain is then worth watching without HTTP or pins (expiry, trust,
// DANE).
func (tc *TargetConfig) mailTarget() bool {
	return tc.MX != "" || tc.STARTTLS != "" || tc.daneOn()
}

// httpOn reports whether the target is HTTP-probed: http as set, else on
// unless it speaks STARTTLS or is an mx target.
func (tc *TargetConfig) httpOn() bool {
	if tc.HTTP != nil {
		return *tc.HTTP
	}
	return tc.MX == "" && tc.STARTTLS == ""
}

// mailTargets checks the keys of SPEC §12: mx, starttls, dane,
// require_tlsa and ehlo.
func (v *validator) mailTargets() {
	mxNames := map[string]bool{}
	for _, t := range v.c.TargetConfigs {
		if t.MX != "" && t.Name != "" {
			mxNames[t.Name] = true
		}
	}
	for i, t := range v.c.TargetConfigs {
		key := fmt.Sprintf("target[%d]", i)
		if parent, _, ok := strings.Cut(t.Name, "/"); ok && mxNames[parent] {
			v.add(key+".name", "name %q is taken by the exchanges of mx target %q, which are named %q; choose another", t.Name, parent, parent+"/EXCHANGE")
		}
		if t.MX != "" {
			v.mxTarget(key, t)
		}
		if t.STARTTLS != "" {
			if _, err := pinwatchd.ParseProtocol(t.STARTTLS); err != nil {
				v.add(key+".starttls", "starttls = %q is not smtp, imap or pop3", t.STARTTLS)
			} else if t.HTTP != nil && *t.HTTP && t.MX == "" {
				v.add(key+".http", "http = true cannot be used with starttls = %q: a STARTTLS target is probed with its own protocol, not HTTP", t.STARTTLS)
			}
		}
		smtp := t.MX != "" || t.STARTTLS == string(pinwatchd.ProtocolSMTP)
		if t.EHLO != "" {
			if !smtp {
				v.add(key+".ehlo", "ehlo = %q applies only to SMTP; set starttls = \"smtp\" or mx", t.EHLO)
			} else if msg := checkEHLO(t.EHLO); msg != "" {
				v.add(key+".ehlo", "ehlo = %q %s", t.EHLO, msg)
			}
		}
		if t.RequireTLSA && !t.daneOn() {
			v.add(key+".require_tlsa", "require_tlsa = true needs dane = true: TLSA records are looked up only for DANE targets")
		}
	}
}

// mxTarget checks an mx target: a mail domain, no host, addresses or sni
// of its own, SMTP only, no HTTP.
func (v *validator) mxTarget(key string, t TargetConfig) {
	if msg := checkDomain(t.MX); msg != "" {
		v.add(key+".mx", "mx = %q %s", t.MX, msg)
	}
	if t.Host != "" {
		v.add(key+".host", "host = %q cannot be used with mx = %q: the hosts are the domain's MX records; remove one", t.Host, t.MX)
	}
	if len(t.Addresses) > 0 {
		v.add(key+".addresses", "addresses cannot be used with mx = %q: the exchanges are resolved from DNS", t.MX)
	}
	if t.SNI != "" {
		v.add(key+".sni", "sni = %q cannot be used with mx = %q: each exchange is probed under its own name", t.SNI, t.MX)
	}
	if t.STARTTLS != "" && t.STARTTLS != string(pinwatchd.ProtocolSMTP) {
		v.add(key+".starttls", "starttls = %q cannot be used with mx: mail exchanges speak SMTP", t.STARTTLS)
	}
	if t.HTTP != nil && *t.HTTP {
		v.add(key+".http", "http = true cannot be used with mx: mail exchanges speak SMTP, not HTTP")
	}
}

// checkDomain says what is wrong with a mail domain, "" when nothing.
func checkDomain(d string) string {
	switch {
	case strings.ContainsAny(d, " \t\r\n\x00"):
		return "must be a domain name: whitespace, CR, LF and NUL are not allowed"
	case strings.ContainsAny(d, "/:@[]"):
		return "must be a bare domain name such as \"example.com\" (no scheme, port, path or address)"
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return "is an IP address; give the mail domain whose MX records to watch, e.g. \"example.com\""
	}
	if !strings.Contains(strings.TrimSuffix(d, "."), ".") && d != "localhost" {
		return "is not a domain name such as \"example.com\""
	}
	return ""
}

// checkEHLO says what is wrong with an EHLO name (SPEC §16: a DNS name or
// IP literal), "" when nothing.
func checkEHLO(s string) string {
	if strings.ContainsAny(s, " \t\r\n\x00") {
		return "must be a host name or IP literal: whitespace, CR, LF and NUL are not allowed"
	}
	if strings.ContainsAny(s, "/:@") && !strings.HasPrefix(s, "[") {
		return "must be a host name such as \"pinwatchd.example.net\" or an address literal such as \"[192.0.2.1]\""
	}
	return ""
}
