package config

import (
	"crypto/x509"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/pinwatchd/pinwatchd"
)

// Problem is one thing wrong with a config file.
type Problem struct {
	// Path is the key path, e.g. `target "api" (target[2]).pinsets[0]`;
	// "" when the problem is about the whole file.
	Path string
	// Line is the 1-based line the problem is on, 0 when unknown.
	Line int
	// Message says what is wrong, with the bad value (never a secret) and a
	// hint.
	Message string

	key string // raw key path ("target[2].pinsets[0]") for the line lookup
	col int    // 1-based column when known, to order problems on one line
}

// Error lists every problem of a config file. Error renders one
// problem per line as `source:line: path: message`.
type Error struct {
	Source   string
	Problems []Problem
}

// newError sorts problems by line and column, keeping the order of the
// checks for problems at the same place.
func newError(source string, probs []Problem) *Error {
	sort.SliceStable(probs, func(i, j int) bool {
		a, b := probs[i], probs[j]
		return a.Line < b.Line || a.Line == b.Line && a.col < b.col
	})
	return &Error{Source: source, Problems: probs}
}

// Error renders one problem per line.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		if e.Source != "" {
			b.WriteString(e.Source)
			if p.Line > 0 {
				fmt.Fprintf(&b, ":%d", p.Line)
			}
			b.WriteString(": ")
		} else if p.Line > 0 {
			fmt.Fprintf(&b, "line %d: ", p.Line)
		}
		if p.Path != "" {
			b.WriteString(p.Path)
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// Validate checks the whole config and returns every problem at once as a
// *Error, or nil. Lines are known only for configs from ParseConfig or
// LoadConfig, which call it themselves.
func (c *Config) Validate() error {
	probs := c.problems(Options{})
	if len(probs) == 0 {
		return nil
	}
	return newError("", probs)
}

// validator collects problems.
type validator struct {
	c       *Config
	o       Options
	probs   []Problem
	caFiles map[string]string // ca_file path → problem ("" for none)
}

// problems runs every check.
func (c *Config) problems(o Options) []Problem {
	v := &validator{c: c, o: o}
	v.global()
	v.alerts()
	v.slack()
	v.listen()
	v.pinSets()
	v.targets()
	v.mailTargets()
	v.databaseSyntax()
	v.database()
	v.notifier()
	return v.probs
}

// add records a problem at the raw key path key.
func (v *validator) add(key, format string, a ...any) {
	v.probs = append(v.probs, Problem{Path: displayPath(key, v.nameOf), Message: fmt.Sprintf(format, a...), key: key})
}

// nameOf returns the name of "target[N]" or "pinset[N]", "" when none.
func (v *validator) nameOf(kind string, i int) string {
	switch {
	case kind == "target" && i < len(v.c.TargetConfigs):
		return v.c.TargetConfigs[i].Name
	case kind == "pinset" && i < len(v.c.PinSets):
		return v.c.PinSets[i].Name
	}
	return ""
}

func (v *validator) global() {
	c := v.c
	if c.Concurrency < 1 {
		v.add("concurrency", "concurrency = %d must be at least 1", c.Concurrency)
	}
	v.positive("timeout", c.Timeout, "10s")
	v.positive("retention", c.Retention, "400d")
	if c.Vantage != "" && !validVantage(c.Vantage) {
		v.add("vantage", "vantage = %q must be 1 to 64 letters, digits, '.', '_' or '-', e.g. \"eu-west-1\"", c.Vantage)
	}
}

// positive reports a duration that is zero or negative.
func (v *validator) positive(key string, d Duration, example string) {
	if d.Duration <= 0 {
		name := key[strings.LastIndexByte(key, '.')+1:]
		v.add(key, "%s = %q must be positive, e.g. %q", name, d.String(), example)
	}
}

func (v *validator) alerts() {
	a := v.c.Alerts
	v.positive("alerts.expiry_warning", a.ExpiryWarning, "30d")
	v.positive("alerts.expiry_critical", a.ExpiryCritical, "7d")
	if a.ExpiryCritical.Duration > a.ExpiryWarning.Duration {
		v.add("alerts.expiry_critical", "expiry_critical = %q is longer than expiry_warning = %q; the critical window must lie inside the warning window", a.ExpiryCritical.String(), a.ExpiryWarning.String())
	}
	if a.FailureThreshold < 1 {
		v.add("alerts.failure_threshold", "failure_threshold = %d must be at least 1", a.FailureThreshold)
	}
	if a.RenotifyAfter.Duration < 0 {
		v.add("alerts.renotify_after", "renotify_after = %q must not be negative; \"0s\" turns reminders off", a.RenotifyAfter.String())
	}
	if s := a.NodeSilentAfter; s != nil && s.Duration < MinNodeSilentAfter {
		v.add("alerts.node_silent_after", "node_silent_after = %q is shorter than 30s; nodes heartbeat every 10s, so write e.g. \"5m\"", s.String())
	}
	switch w := a.DigestWindow; {
	case w.Duration < 0:
		v.add("alerts.digest_window", "digest_window = %q must not be negative; write e.g. \"10s\", or \"0s\" to send every notification alone", w.String())
	case w.Duration > MaxDigestWindow:
		v.add("alerts.digest_window", "digest_window = %q is longer than 1h; every notification would wait that long, write e.g. \"10s\"", w.String())
	}
}

// slack checks the notifier. Secret values are never printed: messages say
// only that a value is set.
func (v *validator) slack() {
	s := v.c.Slack
	webhook := s.WebhookURLFile != "" || s.WebhookURL.IsSet()
	if s.WebhookURL.IsSet() && s.WebhookURLFile != "" {
		v.add("slack.webhook_url", "webhook_url is set and so is webhook_url_file; keep one (webhook_url_file is preferred)")
	} else if s.WebhookURL.IsSet() && !isSlackURL(s.WebhookURL.Value()) {
		v.add("slack.webhook_url", "webhook_url is set but is not an https:// URL; %s", loopbackHint)
	}
	if webhook && s.TokenFile != "" {
		v.add("slack.token_file", "token_file is set and so is a webhook (webhook_url_file or webhook_url); choose one")
	}
	if s.WebhookURLFile != "" && !v.o.SkipSecretFiles {
		if u, err := readSecretFile(s.WebhookURLFile); err != nil {
			v.add("slack.webhook_url_file", "%v", err)
		} else if !isSlackURL(u) {
			v.add("slack.webhook_url_file", "file %s does not hold an https:// URL; %s", s.WebhookURLFile, loopbackHint)
		}
	}
	if s.TokenFile != "" && !v.o.SkipSecretFiles {
		if _, err := readSecretFile(s.TokenFile); err != nil {
			v.add("slack.token_file", "%v", err)
		}
	}
	if s.APIURL != "" {
		if s.TokenFile == "" {
			v.add("slack.api_url", "api_url %q applies only to a bot token (token_file); a webhook's URL is its own address", s.APIURL)
		} else if !isSlackURL(s.APIURL) {
			v.add("slack.api_url", "api_url %q is not an https:// URL; %s", s.APIURL, loopbackHint)
		}
	}
	const onlyToken = "only a bot token (token_file) can choose channels; a webhook posts to the channel it was created for"
	if s.TokenFile == "" {
		if s.Channel != "" {
			v.add("slack.channel", "channel %q is set but token_file is not: %s", s.Channel, onlyToken)
		}
		for i, t := range v.c.TargetConfigs {
			if t.SlackChannel != "" {
				v.add(fmt.Sprintf("target[%d].slack_channel", i), "slack_channel %q is set but [slack] token_file is not: %s", t.SlackChannel, onlyToken)
			}
		}
		return
	}
	if s.Channel == "" {
		var homeless []string
		for i, t := range v.c.TargetConfigs {
			if t.SlackChannel == "" {
				homeless = append(homeless, displayPath(fmt.Sprintf("target[%d]", i), v.nameOf))
			}
		}
		if len(homeless) > 0 {
			if len(homeless) > 3 {
				homeless = append(homeless[:3], fmt.Sprintf("%d more", len(homeless)-3))
			}
			v.add("slack.token_file", "token_file is set but channel is not, and %s set no slack_channel: their alerts would have nowhere to post; set channel = \"#tls-alerts\" or slack_channel on each target", strings.Join(homeless, ", "))
		}
	}
}

// reservedPinSets are the pin-set names that do not come from [[pinset]].
var reservedPinSets = map[string]string{
	pinwatchd.PinSetInline:           "a target's inline pins",
	pinwatchd.PinSetHeader:           "the Public-Key-Pins header",
	pinwatchd.PinSetHeaderReportOnly: "the Public-Key-Pins-Report-Only header",
}

func (v *validator) pinSets() {
	first := map[string]int{}
	for i, ps := range v.c.PinSets {
		key := fmt.Sprintf("pinset[%d]", i)
		switch j, dup := first[ps.Name]; {
		case ps.Name == "":
			v.add(key, "pin-set has no name; add name = \"…\"")
		case reservedPinSets[ps.Name] != "":
			v.add(key+".name", "name %q is reserved for %s; choose another", ps.Name, reservedPinSets[ps.Name])
		case dup:
			v.add(key+".name", "duplicate pin-set name %q; first defined as pinset[%d]", ps.Name, j)
		default:
			first[ps.Name] = i
		}
		if len(ps.Pins) == 0 {
			v.add(key+".pins", "pin-set has no pins; list at least two (the current key and a backup)")
		}
		if ps.Expires.invalid != "" {
			v.add(key+".expires", "%s", ps.Expires.problem())
		}
	}
}

func (v *validator) targets() {
	c := v.c
	if len(c.TargetConfigs) == 0 {
		v.add("", "no [[target]] is defined; there is nothing to watch")
		return
	}
	defined := make(map[string]bool, len(c.PinSets))
	var names []string
	for _, ps := range c.PinSets {
		if ps.Name != "" && !defined[ps.Name] {
			defined[ps.Name] = true
			names = append(names, ps.Name)
		}
	}
	first := make(map[string]int, len(c.TargetConfigs))
	for i, t := range c.TargetConfigs {
		key := "target[" + strconv.Itoa(i) + "]"
		if j, dup := first[t.Name]; dup && t.Name != "" {
			v.add(key+".name", "duplicate target name %q; first defined as target[%d]", t.Name, j)
		} else if t.Name == "" {
			v.add(key, "target has no name; add name = \"…\"")
		} else {
			first[t.Name] = i
		}
		switch {
		case t.MX != "": // an mx target's hosts come from DNS (mailTargets)
		case t.Host == "":
			v.add(key, "host is missing; add host = \"api.example.com\"")
		default:
			v.serverName(key+".host", "host", t.Host)
		}
		if t.SNI != "" {
			v.serverName(key+".sni", "sni", t.SNI)
		}
		if t.Port != nil && (*t.Port < 1 || *t.Port > 65535) {
			v.add(key+".port", "port = %d is out of range; want 1 to 65535", *t.Port)
		}
		for j, name := range t.PinSets {
			if defined[name] {
				continue
			}
			known := "no [[pinset]] is defined"
			if len(names) > 0 {
				known = "defined pin-sets: " + strings.Join(names, ", ")
			}
			v.add(fmt.Sprintf("%s.pinsets[%d]", key, j), "unknown pin-set %q; %s", name, known)
		}
		http := t.httpOn()
		if len(t.Pins) == 0 && len(t.PinSets) == 0 && !http && !t.mailTarget() {
			v.add(key, "target has no pins, no pinsets and http = false: nothing to check; add pinsets or pins, or remove http = false")
		}
		if t.Path != "" && !strings.HasPrefix(t.Path, "/") {
			v.add(key+".path", "path = %q must start with \"/\"", t.Path)
		}
		if !http && t.RequireHeader {
			v.add(key+".require_header", "require_header = true needs http = true: the header is read from an HTTP request")
		}
		if !http && t.RequireHSTS {
			v.add(key+".require_hsts", "require_hsts = true needs http = true: the header is read from an HTTP request")
		}
		if t.CAFile != "" {
			v.caFile(key+".ca_file", t.CAFile)
		}
	}
}

// caFile checks that a CA bundle is readable and holds a PEM certificate.
// Each file is read once however many targets share it.
func (v *validator) caFile(key, path string) {
	msg, seen := v.caFiles[path]
	if !seen {
		if b, err := os.ReadFile(path); err != nil {
			msg = fmt.Sprintf("ca_file %s cannot be read: %v", path, pathErr(err))
		} else if !x509.NewCertPool().AppendCertsFromPEM(b) {
			msg = fmt.Sprintf("ca_file %s holds no PEM certificate", path)
		}
		if v.caFiles == nil {
			v.caFiles = map[string]string{}
		}
		v.caFiles[path] = msg
	}
	if msg != "" {
		v.add(key, "%s", msg)
	}
}

// dateProblems lists the pin-set dates that are not calendar days, with
// their lines in the document ix indexes.
func (c *Config) dateProblems(ix *docIndex) []Problem {
	v := &validator{c: c}
	for i, ps := range c.PinSets {
		if ps.Expires.invalid != "" {
			v.add(fmt.Sprintf("pinset[%d].expires", i), "%s", ps.Expires.problem())
		}
	}
	for i := range v.probs {
		v.probs[i].Line = ix.line(v.probs[i].key)
	}
	return v.probs
}

// displayPath turns a raw key path into the one shown to users: a leading
// "target[N]" or "pinset[N]" gains the table's name when it has one, as in
// `target "api" (target[2]).pinsets[0]`.
func displayPath(key string, nameOf func(kind string, i int) string) string {
	for _, kind := range []string{"target", "pinset"} {
		rest, ok := strings.CutPrefix(key, kind+"[")
		if !ok {
			continue
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return key
		}
		i, err := strconv.Atoi(rest[:end])
		if err != nil {
			return key
		}
		if name := nameOf(kind, i); name != "" {
			return fmt.Sprintf("%s %q (%s[%d])%s", kind, name, kind, i, rest[end+1:])
		}
	}
	return key
}
