package textreport

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/terminal"
	"github.com/pinwatchd/pinwatchd/storage"
)

// term shows untrusted text (certificates, servers, the database) escaped
// in human output (SPEC §16); JSON is exact.
func term(s string) string { return terminal.Escape(s) }

// countSeverities returns how many findings have each severity.
func countSeverities(fs []pinwatchd.Finding) (crit, warn, info int) {
	for _, f := range fs {
		switch f.Severity {
		case pinwatchd.SeverityCritical:
			crit++
		case pinwatchd.SeverityWarning:
			warn++
		default:
			info++
		}
	}
	return crit, warn, info
}

// Count returns "1 thing" or "n things".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// summaryLine says how many findings of each severity there are.
func summaryLine(fs []pinwatchd.Finding) string {
	crit, warn, info := countSeverities(fs)
	return fmt.Sprintf("%d critical, %s, %d info", crit, Count(warn, "warning", "warnings"), info)
}

// writeFindings prints findings as an aligned list, worst first.
func writeFindings(w io.Writer, indent string, fs []pinwatchd.Finding) {
	if len(fs) == 0 {
		fmt.Fprintf(w, "%sno findings\n", indent)
		return
	}
	kindWidth := 0
	for _, f := range fs {
		kindWidth = max(kindWidth, len(f.Kind))
	}
	for _, f := range fs {
		fmt.Fprintf(w, "%s%-8s  %-*s  %s\n", indent, f.Severity.Label(), kindWidth, f.Kind, term(f.Message))
	}
}

// chainRole names the position of a certificate in a chain.
func chainRole(i, n int, verified bool) string {
	switch {
	case i == 0:
		return "leaf"
	case verified && i == n-1:
		return "root"
	default:
		return fmt.Sprintf("intermediate %d", i)
	}
}

// formatNotAfter renders a NotAfter with the days left (or since expiry).
func formatNotAfter(t time.Time, now time.Time) string {
	days := pinwatchd.Cert{NotAfter: t}.DaysLeft(now)
	d := t.UTC().Format("2006-01-02")
	switch {
	case days < 0:
		return fmt.Sprintf("%s (EXPIRED %s ago)", d, Count(-days, "day", "days"))
	default:
		return fmt.Sprintf("%s (%s left)", d, Count(days, "day", "days"))
	}
}

// writeObservation prints one address: its chain, headers and errors.
func writeObservation(w io.Writer, o *pinwatchd.Observation, now time.Time) {
	fmt.Fprintf(w, "  %s", term(o.Address))
	if o.SNI != "" {
		fmt.Fprintf(w, "  sni %s", term(o.SNI))
	}
	if o.TLSVersion != "" {
		fmt.Fprintf(w, "  %s", o.TLSVersion)
	}
	fmt.Fprintln(w)
	if o.STARTTLS != "" {
		fmt.Fprintf(w, "    starttls  %s\n", term(string(o.STARTTLS)))
	}
	defer writeTLSA(w, o.TLSA) // last, whether or not a chain was served
	if o.Error != nil {
		fmt.Fprintf(w, "    error: %s: %s\n", o.Error.Kind, term(o.Error.Message))
	}
	if len(o.ServedChain) == 0 {
		return
	}
	chain, verified := o.ServedChain, false
	status := "not verified: " + term(o.Verification.UntrustedReason)
	if o.Verification.Trusted && len(o.VerifiedChain) > 0 {
		chain, verified = o.VerifiedChain, true
		status = "verified"
	}
	if !o.Verification.HostnameValid {
		status += "; name mismatch: " + term(o.Verification.HostnameError)
	}
	fmt.Fprintf(w, "    chain (%d served, %s)\n", len(o.ServedChain), status)
	for i, c := range chain {
		role := chainRole(i, len(chain), verified)
		if verified && i >= len(o.ServedChain) {
			role += ", not served"
		}
		fmt.Fprintf(w, "      %d %-22s %s\n", i, role, term(c.Subject))
		fmt.Fprintf(w, "        issuer    %s\n", term(c.Issuer))
		fmt.Fprintf(w, "        key       %s  pin sha256/%s\n", c.KeyType, c.Pin)
		fmt.Fprintf(w, "        expires   %s\n", formatNotAfter(c.NotAfter, now))
	}
	if o.HTTP != nil {
		if o.HTTP.Error != "" {
			fmt.Fprintf(w, "    http      %s: %s\n", o.HTTP.Method, term(o.HTTP.Error))
		} else {
			fmt.Fprintf(w, "    http      %s %d\n", o.HTTP.Method, o.HTTP.Status)
		}
		writePinHeader(w, "Public-Key-Pins", o.PublicKeyPins, chain, verified)
		writePinHeader(w, "Public-Key-Pins-Report-Only", o.PublicKeyPinsReportOnly, chain, verified)
		if h := o.StrictTransportSecurity; h != nil {
			state := "valid"
			if !h.Valid {
				state = "MALFORMED: " + strings.Join(terminal.EscapeAll(h.Errors), "; ")
			}
			fmt.Fprintf(w, "    Strict-Transport-Security: %s (%s)\n", term(headerText(h.Raw, h.Cut)), state)
		} else {
			fmt.Fprintln(w, "    Strict-Transport-Security: not sent")
		}
	}
}

// writePinHeader prints a parsed HPKP header with each pin marked as
// matching a chain key or a backup.
func writePinHeader(w io.Writer, name string, h *pinwatchd.PinHeader, chain []pinwatchd.Cert, verified bool) {
	if h == nil {
		fmt.Fprintf(w, "    %s: not sent\n", name)
		return
	}
	cut := ""
	if h.Cut {
		cut = " " + storedCut
	}
	if !h.Valid {
		fmt.Fprintf(w, "    %s: MALFORMED (%s)%s\n", name, strings.Join(terminal.EscapeAll(h.Errors), "; "), cut)
		return
	}
	extra := ""
	if h.IncludeSubDomains {
		extra += ", includeSubDomains"
	}
	if h.ReportURI != "" {
		extra += ", report-uri " + term(h.ReportURI)
	}
	fmt.Fprintf(w, "    %s: max-age %d%s, %s%s\n", name, h.MaxAge, extra, Count(len(h.Pins), "pin", "pins"), cut)
	for _, p := range h.Pins {
		role := "backup (no key of the chain)"
		for i, c := range chain {
			if c.Pin == p {
				role = "matches " + chainRole(i, len(chain), verified)
				break
			}
		}
		fmt.Fprintf(w, "      sha256/%s  %s\n", p, role)
	}
	for _, n := range h.Notes {
		fmt.Fprintf(w, "      note: %s\n", term(n))
	}
}

// headerText returns a header value for human output: at most
// storage.MaxHeaderValue bytes, the limit of a stored value, marked when it
// is cut here or was stored cut. JSON output keeps the value exact, with
// "cut": true when it was stored cut.
func headerText(raw string, cut bool) string {
	if len(raw) > storage.MaxHeaderValue {
		n := storage.MaxHeaderValue
		for n > 0 && !utf8.RuneStart(raw[n]) {
			n--
		}
		return fmt.Sprintf("%s… [cut: the first %d of %d bytes shown]", raw[:n], n, len(raw))
	}
	if cut {
		return raw + "… " + storedCut
	}
	return raw
}

// storedCut marks a header value stored cut (SPEC §9): only its start is
// known.
var storedCut = fmt.Sprintf("[cut: only the first %d KiB of the value were stored]", storage.MaxHeaderValue>>10)

// resultWord is the one-word verdict of a set of findings: "ok" when none is
// above info, else the worst severity.
func resultWord(fs []pinwatchd.Finding) string {
	if w := pinwatchd.Worst(fs); w > pinwatchd.SeverityInfo {
		return w.String()
	}
	return "ok"
}
