package notify

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/slack-go/slack"
)

// An alert's details (pinwatchd.Details) in a message: the certificate it
// is about, the pins a pin_mismatch expected (SPEC §8), and for the TLSA
// kinds the RRset with what each record matches (SPEC §12).

// maxPins is how many expected pins a message lists before "and N more".
const maxPins = 10

// certHeading names the certificate of an alert's details: the served leaf
// a pin_mismatch found, else the certificate and its place in the chain.
func certHeading(a *pinwatchd.Alert, c *pinwatchd.CertSummary) string {
	switch {
	case showsKey(a.Kind):
		return "Served leaf"
	case c.Position != "":
		return "Certificate (" + c.Position + ")"
	}
	return "Certificate"
}

// detailsSection shows an alert's details as fields side by side (SPEC §8):
// the certificate with its issuer, NotAfter and days left (and key pin for
// a pin_mismatch), next to the pins the chain was expected to match. It
// returns nil when the details hold nothing to show.
func detailsSection(a *pinwatchd.Alert, now time.Time) *slack.SectionBlock {
	d := a.Details
	var fields []*slack.TextBlockObject
	if c := d.Cert; c != nil {
		lines := []string{
			esc(orNone(c.Subject)),
			"issuer " + esc(orNone(c.Issuer)),
			fmt.Sprintf("NotAfter %s (%s)", when(c.NotAfter), daysLeft(c.NotAfter, now)),
		}
		if showsKey(a.Kind) {
			lines = append(lines, "key pin `"+c.Pin.String()+"`")
		}
		if isTLSA(a.Kind) {
			lines = append(lines, "DANE-EE record `"+daneEE(c)+"`")
		}
		fields = append(fields, field(certHeading(a, c), strings.Join(lines, "\n")))
	}
	if r := d.TLSA; r != nil && len(r.Records) > 0 {
		lines := make([]string, 0, min(len(r.Records), maxPins)+1)
		for _, rec := range r.Records[:min(len(r.Records), maxPins)] {
			lines = append(lines, "`"+shortTLSA(rec)+"`"+esc(tlsaMatch(rec, d.Cert != nil)))
		}
		if rest := len(r.Records) - maxPins; rest > 0 {
			lines = append(lines, fmt.Sprintf("and %d more", rest))
		}
		fields = append(fields, field(tlsaLabel(r, true), strings.Join(lines, "\n")))
	}
	if len(d.ExpectedPins) > 0 {
		label := "Expected pins"
		if a.Subject != "" {
			label += " (pin-set `" + esc(a.Subject) + "`)"
		}
		fields = append(fields, field(label, pinList(d.ExpectedPins, "\n", "`")))
	}
	if len(fields) == 0 {
		return nil
	}
	return slack.NewSectionBlock(nil, fields, nil)
}

// detailsText is the plain-text form of detailsSection, unescaped: the same
// facts in sentences.
func detailsText(a *pinwatchd.Alert, now time.Time) string {
	d := a.Details
	var parts []string
	if c := d.Cert; c != nil {
		s := fmt.Sprintf("%s: %s; issuer %s; NotAfter %s (%s)", certHeading(a, c), orNone(c.Subject), orNone(c.Issuer),
			when(c.NotAfter), daysLeft(c.NotAfter, now))
		if showsKey(a.Kind) {
			s += "; key pin " + c.Pin.String()
		}
		if isTLSA(a.Kind) {
			s += "; DANE-EE record " + daneEE(c)
		}
		parts = append(parts, s+".")
	}
	if r := d.TLSA; r != nil && len(r.Records) > 0 {
		recs := make([]string, 0, min(len(r.Records), maxPins)+1)
		for _, rec := range r.Records[:min(len(r.Records), maxPins)] {
			recs = append(recs, shortTLSA(rec)+tlsaMatch(rec, d.Cert != nil))
		}
		if rest := len(r.Records) - maxPins; rest > 0 {
			recs = append(recs, fmt.Sprintf("and %d more", rest))
		}
		parts = append(parts, tlsaLabel(r, false)+": "+strings.Join(recs, ", ")+".")
	}
	if len(d.ExpectedPins) > 0 {
		label := "Expected pins"
		if a.Subject != "" {
			label += fmt.Sprintf(" (pin-set %q)", a.Subject)
		}
		parts = append(parts, label+": "+pinList(d.ExpectedPins, ", ", "")+".")
	}
	return strings.Join(parts, " ")
}

// pinList lists the first maxPins pins, each between quote and quote,
// joined by sep, then "and N more".
func pinList(pins []pinwatchd.Pin, sep, quote string) string {
	shown := pins[:min(len(pins), maxPins)]
	parts := make([]string, len(shown))
	for i, p := range shown {
		parts[i] = quote + p.String() + quote
	}
	s := strings.Join(parts, sep)
	if rest := len(pins) - len(shown); rest > 0 {
		s += fmt.Sprintf("%sand %d more", sep, rest)
	}
	return s
}

// sentence ends s with a full stop unless it ends with one already.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// showsKey reports whether a message about kind shows the served leaf's key
// pin: the kinds about a key that no pin or record matches, or that has no
// backup beside it.
func showsKey(k pinwatchd.Kind) bool {
	return k == pinwatchd.KindPinMismatch || k == pinwatchd.KindTLSAMismatch || k == pinwatchd.KindTLSAMissingBackup
}

// isTLSA reports whether kind is about a target's TLSA RRset (SPEC §12).
func isTLSA(k pinwatchd.Kind) bool {
	switch k {
	case pinwatchd.KindTLSAMismatch, pinwatchd.KindTLSAMissingBackup, pinwatchd.KindTLSAUnsigned,
		pinwatchd.KindTLSAMalformed, pinwatchd.KindTLSALookupFailed, pinwatchd.KindNoTLSA:
		return true
	}
	return false
}

// tlsaName is the owner name of the RRset an alert is about, from its
// details, or its subject (the pin-set "tlsa") when it carries none.
func tlsaName(a *pinwatchd.Alert) string {
	if a.Details == nil || a.Details.TLSA == nil || a.Details.TLSA.Name == "" {
		return a.Subject
	}
	return a.Details.TLSA.Name
}

// daneEE is the DANE-EE record (3 1 1: SHA-256 of the key) that matches the
// certificate c: its key pin in hex.
func daneEE(c *pinwatchd.CertSummary) string {
	return "3 1 1 " + hex.EncodeToString(c.Pin[:])
}

// maxTLSAData is how many hex digits of a record's data a message shows: a
// SHA-256 in full, longer data cut.
const maxTLSAData = 64

// shortTLSA is a record in presentation form, its data cut after
// maxTLSAData digits; unescaped (hex and digits need no escaping).
func shortTLSA(r pinwatchd.TLSARecord) string {
	if len(r.Data) > maxTLSAData {
		r.Data = r.Data[:maxTLSAData] + "…"
	}
	return r.String()
}

// tlsaMatch says, unescaped, what a record matched in the served chain when
// matched is set (the records were matched against a chain), else only why
// it is not usable, if it says.
func tlsaMatch(r pinwatchd.TLSARecord, matched bool) string {
	switch {
	case r.Note != "":
		return " (" + r.Note + ")"
	case !matched:
		return ""
	case r.Matches != "":
		return " → " + r.Matches
	}
	return " → no match"
}

// tlsaLabel heads the list of an RRset's records, in mrkdwn (the name
// quoted as code) or plain text.
func tlsaLabel(r *pinwatchd.TLSAResult, mrkdwn bool) string {
	name := r.Name
	if mrkdwn {
		name = "`" + esc(name) + "`"
	}
	label := "Published TLSA records at " + name
	if !r.Authenticated {
		label += " (not DNSSEC-authenticated)"
	}
	return label
}
