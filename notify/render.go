package notify

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pinwatchd/pinwatchd"
	"github.com/slack-go/slack"
)

// Slack's limits (characters, blocks), and what this package keeps below
// them.
const (
	maxSectionText = 3000 // a section's text
	maxFieldText   = 2000 // a section field
	maxBlocks      = 50   // blocks per message
	maxFallback    = 4000 // the plain-text fallback
	maxAddresses   = 10   // addresses listed before "and N more"
	maxLineMessage = 160  // a digest entry's sentence
	maxLineName    = 50   // a target name or address in a digest entry
	maxDigestLine  = 260  // a digest entry, escaped
	// maxDigestText bounds a digest's fallback text: Slack truncates a
	// message text beyond 40,000 characters, and MaxDigest entries of
	// maxDigestLine fit far below.
	maxDigestText = 40000
)

// DigestThreshold is the number of changes pending for one channel within
// the digest window above which they go out as one digest.
const DigestThreshold = 5

// MaxDigest is the most entries one digest message lists, one block each
// between its heading and its footer: Slack's 50-block limit. A larger
// batch is split into several digests.
const MaxDigest = maxBlocks - 2

// Message is one Slack message: Block Kit blocks and the plain-text fallback
// that notifications and old clients show.
type Message struct {
	Text   string
	Blocks []slack.Block
}

// WebhookMessage returns m as an incoming-webhook payload for channel (""
// for the webhook's own channel).
func (m Message) WebhookMessage(channel string) *slack.WebhookMessage {
	return &slack.WebhookMessage{Channel: channel, Text: m.Text, Blocks: &slack.Blocks{BlockSet: m.Blocks}}
}

// RenderBatch renders one notification as itself and several as a digest.
// now is the clock for "days left" and "since" phrases.
func RenderBatch(ns []pinwatchd.Notification, now time.Time) Message {
	if len(ns) == 1 {
		return Render(&ns[0], now)
	}
	return RenderDigest(ns, now)
}

// Render turns one notification into a Slack message. It is pure: the same
// notification and now give the same message.
func Render(n *pinwatchd.Notification, now time.Time) Message {
	if n.Event != nil {
		return renderEvent(n.Event, now)
	}
	if n.Alert == nil {
		return Message{Text: "empty notification", Blocks: []slack.Block{section("empty notification")}}
	}
	return renderAlert(n, now)
}

func renderAlert(n *pinwatchd.Notification, now time.Time) Message {
	a := n.Alert
	kind, target, sev := string(a.Kind), a.Target, a.Severity.String()
	upper := strings.ToUpper(sev)
	var head, textHead, body, textBody string
	switch n.Type {
	case pinwatchd.ChangeResolved:
		head = fmt.Sprintf("*Resolved* :white_check_mark: `%s` on *%s* (was %s)", esc(kind), esc(target), sev)
		textHead = fmt.Sprintf("Resolved: %s on %s (was %s)", kind, target, sev)
		reason := a.ResolveReason
		if reason == "" {
			reason = "the condition is gone"
		}
		body = "Resolved because " + esc(reason) + "."
		textBody = reason + "."
		if a.Message != "" {
			body += "\n_Was:_ " + esc(a.Message)
		}
	case pinwatchd.ChangeReminder:
		since := fmt.Sprintf("Still firing since %s (%s)", when(a.OpenedAt), ago(now.Sub(a.OpenedAt)))
		head = fmt.Sprintf(":bell: %s *%s* `%s` on *%s*. %s", severityEmoji(a.Severity), upper, esc(kind), esc(target), since)
		textHead = fmt.Sprintf("%s: %s %s on %s", since, upper, kind, target)
		body, textBody = esc(a.Message), a.Message
	case pinwatchd.ChangeEscalated:
		esca := fmt.Sprintf("escalated from %s to %s", n.PrevSeverity, sev)
		head = fmt.Sprintf(":arrow_double_up: *%s* `%s` on *%s* %s", upper, esc(kind), esc(target), esca)
		textHead = fmt.Sprintf("%s %s on %s %s", upper, kind, target, esca)
		body, textBody = esc(a.Message), a.Message
	default:
		head = fmt.Sprintf("%s *%s* `%s` on *%s*", severityEmoji(a.Severity), upper, esc(kind), esc(target))
		textHead = fmt.Sprintf("%s %s on %s", upper, kind, target)
		body, textBody = esc(a.Message), a.Message
	}

	fields := []*slack.TextBlockObject{
		field("Target", esc(target)),
		field("Kind", "`"+esc(kind)+"`"),
		field("Severity", sev),
	}
	if label, value := subjectField(a); label != "" {
		fields = append(fields, field(label, value))
	}
	if len(a.Addresses) > 0 {
		fields = append(fields, field(plural(len(a.Addresses), "Address", "Addresses"), addressList(a.Addresses, true)))
	}
	ctx := fmt.Sprintf("Opened %s", when(a.OpenedAt))
	if n.Type == pinwatchd.ChangeResolved && !a.ResolvedAt.IsZero() {
		ctx += fmt.Sprintf(" · resolved %s", when(a.ResolvedAt))
	}
	if a.ID != 0 {
		ctx += fmt.Sprintf(" · alert %d", a.ID)
	}
	blocks := []slack.Block{section(head), section(body)}
	text := textHead + ": " + textBody
	// What the alert is about in detail; a resolve says only why it is
	// gone.
	if a.Details != nil && n.Type != pinwatchd.ChangeResolved {
		if b := detailsSection(a, now); b != nil {
			blocks = append(blocks, b)
			text = sentence(text) + " " + detailsText(a, now)
		}
	}
	blocks = append(blocks,
		slack.NewSectionBlock(nil, fields, nil),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, ctx, false, false)))
	if len(a.Addresses) > 0 {
		text += " " + plural(len(a.Addresses), "Address", "Addresses") + ": " + addressList(a.Addresses, false) + "."
	}
	return Message{Text: clip(escText(text), maxFallback), Blocks: blocks}
}

// subjectField names what an alert is about, by its kind (SPEC §6).
func subjectField(a *pinwatchd.Alert) (label, value string) {
	if a.Subject == "" {
		return "", ""
	}
	switch a.Kind {
	case pinwatchd.KindCertExpiring, pinwatchd.KindCertExpired:
		return "Certificate SHA-256", "`" + esc(a.Subject) + "`"
	case pinwatchd.KindPinMismatch, pinwatchd.KindMissingBackupPin,
		pinwatchd.KindPinSetExpiring, pinwatchd.KindPinSetExpired, pinwatchd.KindHeaderMalformed:
		return "Pin-set", "`" + esc(a.Subject) + "`"
	}
	if isTLSA(a.Kind) {
		return "TLSA", "`" + esc(tlsaName(a)) + "`"
	}
	if a.Kind.IsConnectivity() {
		return "", "" // the subject is the address, listed anyway
	}
	return "Subject", esc(a.Subject)
}

// classSentence says what a chain_changed class means for clients.
func classSentence(c pinwatchd.ChangeClass) string {
	switch c {
	case pinwatchd.ChangeKeyRotated:
		return "The leaf key changed: clients that pin only the old key will refuse this server."
	case pinwatchd.ChangeIssuerChanged:
		return "The issuer or another certificate of the chain changed; the leaf key is the same."
	case pinwatchd.ChangeRenewed:
		return "The leaf certificate was renewed with the same key."
	}
	return "The served chain changed."
}

func renderEvent(e *pinwatchd.Event, now time.Time) Message {
	class := string(e.Class)
	if class == "" {
		class = "changed"
	}
	head := fmt.Sprintf(":arrows_counterclockwise: *INFO* `chain_changed` (`%s`) on *%s* at `%s`", esc(class), esc(e.Target), esc(e.Address))
	notAfter := "unknown"
	if !e.NotAfter.IsZero() {
		notAfter = fmt.Sprintf("%s (%s)", when(e.NotAfter), daysLeft(e.NotAfter, now))
	}
	old, nw := orNone(e.OldLeafPin), orNone(e.NewLeafPin)
	fields := []*slack.TextBlockObject{
		field("Target", esc(e.Target)),
		field("Kind", "`chain_changed`"),
		field("Class", "`"+esc(class)+"`"),
		field("Address", esc(e.Address)),
		field("Leaf key", fmt.Sprintf("`%s` → `%s`", esc(old), esc(nw))),
		field("Issuer", esc(orNone(e.Issuer))),
		field("NotAfter", notAfter),
	}
	blocks := []slack.Block{
		section(head),
		section(esc(classSentence(e.Class))),
		slack.NewSectionBlock(nil, fields, nil),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "Seen "+when(e.Time), false, false)),
	}
	text := fmt.Sprintf("INFO chain_changed (%s) on %s at %s: leaf key %s → %s, issuer %s, NotAfter %s. %s",
		class, e.Target, e.Address, old, nw, orNone(e.Issuer), notAfter, classSentence(e.Class))
	return Message{Text: clip(escText(text), maxFallback), Blocks: blocks}
}

// RenderDigest renders several notifications as one message listing each:
// its target, kind and one line, in the blocks and in the fallback text. Up
// to MaxDigest entries get a block each; beyond that (the Sender never asks
// for it) the blocks end with "and N more", while the text lists them all.
func RenderDigest(ns []pinwatchd.Notification, now time.Time) Message {
	head := fmt.Sprintf("*%d pinwatchd notifications*", len(ns))
	textLines := []string{fmt.Sprintf("%d pinwatchd notifications:", len(ns))}
	blocks := []slack.Block{section(head)}
	room := maxBlocks - 2
	for i := range ns {
		line := clip(esc(digestLine(&ns[i], now)), maxDigestLine)
		textLines = append(textLines, "• "+line)
		if i < room-1 || len(ns) == room {
			blocks = append(blocks, section(digestEmoji(&ns[i])+" "+line))
		} else if i == room-1 {
			blocks = append(blocks, section(fmt.Sprintf("… and %d more", len(ns)-i)))
		}
	}
	ctx := "pinwatchd"
	if len(ns) > 0 && !ns[0].CreatedAt.IsZero() {
		ctx = "Changes since " + when(ns[0].CreatedAt)
	}
	blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, ctx, false, false)))
	return Message{Text: clip(strings.Join(textLines, "\n"), maxDigestText), Blocks: blocks}
}

// digestLine is one entry of a digest, unescaped: change, target, kind and
// one sentence.
func digestLine(n *pinwatchd.Notification, now time.Time) string {
	if e := n.Event; e != nil {
		return fmt.Sprintf("chain_changed (%s) on %s at %s: leaf key %s → %s",
			e.Class, clipRaw(e.Target, maxLineName), clipRaw(e.Address, maxLineName), short(e.OldLeafPin), short(e.NewLeafPin))
	}
	a := n.Alert
	if a == nil {
		return "empty notification"
	}
	target, kind, sev := clipRaw(a.Target, maxLineName), string(a.Kind), a.Severity.String()
	switch n.Type {
	case pinwatchd.ChangeResolved:
		return fmt.Sprintf("Resolved %s on %s: %s", kind, target, clipRaw(a.ResolveReason, maxLineMessage))
	case pinwatchd.ChangeReminder:
		return fmt.Sprintf("%s %s on %s, still firing since %s: %s", sev, kind, target, when(a.OpenedAt), clipRaw(a.Message, maxLineMessage))
	case pinwatchd.ChangeEscalated:
		return fmt.Sprintf("%s %s on %s, escalated from %s to %s: %s", sev, kind, target, n.PrevSeverity, sev, clipRaw(a.Message, maxLineMessage))
	}
	return fmt.Sprintf("%s %s on %s: %s", sev, kind, target, clipRaw(a.Message, maxLineMessage))
}

func digestEmoji(n *pinwatchd.Notification) string {
	switch {
	case n.Event != nil:
		return ":arrows_counterclockwise:"
	case n.Type == pinwatchd.ChangeResolved:
		return ":white_check_mark:"
	case n.Alert != nil:
		return severityEmoji(n.Alert.Severity)
	}
	return ":grey_question:"
}

func severityEmoji(s pinwatchd.Severity) string {
	switch s {
	case pinwatchd.SeverityCritical:
		return ":red_circle:"
	case pinwatchd.SeverityWarning:
		return ":large_orange_circle:"
	}
	return ":large_blue_circle:"
}

// section is a mrkdwn section of already escaped text, clipped to Slack's
// limit.
func section(mrkdwn string) *slack.SectionBlock {
	if strings.TrimSpace(mrkdwn) == "" {
		mrkdwn = "_no details_" // Slack rejects an empty text
	}
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, clip(mrkdwn, maxSectionText), false, false), nil, nil)
}

// field is a section field "*label*\nvalue", value already escaped.
func field(label, value string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, clip("*"+label+"*\n"+value, maxFieldText), false, false)
}

// addressList lists the first maxAddresses addresses, then "and N more";
// escaped for mrkdwn when mrkdwn is set.
func addressList(addrs []string, mrkdwn bool) string {
	shown := addrs[:min(len(addrs), maxAddresses)]
	parts := make([]string, len(shown))
	for i, a := range shown {
		if mrkdwn {
			a = esc(a)
		}
		parts[i] = a
	}
	s := strings.Join(parts, ", ")
	if rest := len(addrs) - len(shown); rest > 0 {
		s += fmt.Sprintf(" and %d more", rest)
	}
	return s
}

// esc escapes a host-supplied string for Slack mrkdwn: &, < and > are control
// characters there.
func esc(s string) string {
	return mrkdwnEscaper.Replace(s)
}

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escText escapes the fallback text, which Slack formats like mrkdwn too.
func escText(s string) string { return esc(s) }

// clip shortens s to at most max characters, ending with "…", without
// cutting an escape such as "&amp;" in half.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)[:max-1]
	// Drop a partial entity at the cut: an '&' with no ';' after it.
	for i := len(runes) - 1; i >= 0 && i >= len(runes)-5; i-- {
		if runes[i] == ';' {
			break
		}
		if runes[i] == '&' {
			runes = runes[:i]
			break
		}
	}
	return string(runes) + "…"
}

// clipRaw shortens an unescaped string to max characters with "…".
func clipRaw(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}

// short abbreviates a base64 pin for a digest line.
func short(pin string) string {
	if pin == "" {
		return "none"
	}
	return clipRaw(pin, 12)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// when prints a time in UTC to the minute.
func when(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// ago says how long d is, roughly: minutes, hours or days.
func ago(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}

// daysLeft says how many whole days remain until t.
func daysLeft(t, now time.Time) string {
	days := pinwatchd.Cert{NotAfter: t}.DaysLeft(now)
	switch {
	case days < 0:
		return fmt.Sprintf("expired %d days ago", -days)
	case days == 1:
		return "1 day left"
	}
	return fmt.Sprintf("%d days left", days)
}
