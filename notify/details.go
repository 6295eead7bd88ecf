package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/slack-go/slack"
)

// An alert's details (pinwatchd.Details) in a message: the certificate it
// is about and the pins a pin_mismatch expected (SPEC §8).

// maxPins is how many expected pins a message lists before "and N more".
const maxPins = 10

// certHeading names the certificate of an alert's details: the served leaf
// a pin_mismatch found, else the certificate and its place in the chain.
func certHeading(a *pinwatchd.Alert, c *pinwatchd.CertSummary) string {
	switch {
	case a.Kind == pinwatchd.KindPinMismatch:
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
		if a.Kind == pinwatchd.KindPinMismatch {
			lines = append(lines, "key pin `"+c.Pin.String()+"`")
		}
		fields = append(fields, field(certHeading(a, c), strings.Join(lines, "\n")))
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
		if a.Kind == pinwatchd.KindPinMismatch {
			s += "; key pin " + c.Pin.String()
		}
		parts = append(parts, s+".")
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
