package pinwatchdtest

import (
	"regexp"
	"strings"
)

// SlackEntry is one notification as Slack shows it: the change, the target
// and the kind named in the text of a message or of a digest's line.
type SlackEntry struct {
	Change string // opened, escalated, reminder, resolved, chain_changed; unknown when the text names none
	Target string
	Kind   string // "chain_changed" for chain events
	Class  string // chain_changed only
	Text   string
}

// Delivered returns the notifications of every message the fake accepted
// (webhook posts and chat.postMessage, not the edits of chat.update), in
// order of arrival; a digest yields one entry per line.
func (s *Slack) Delivered() []SlackEntry {
	var out []SlackEntry
	for _, r := range s.Requests() {
		if r.Accepted && r.Path != apiUpdate {
			out = append(out, SlackEntries(r.Text())...)
		}
	}
	return out
}

// Count returns how many delivered notifications have this change, target
// and kind ("chain_changed" for chain events).
func (s *Slack) Count(change, target, kind string) int {
	n := 0
	for _, e := range s.Delivered() {
		if e.Change == change && e.Target == target && e.Kind == kind {
			n++
		}
	}
	return n
}

// Message texts as notify renders them: single messages, then digest lines.
var (
	singleResolved = regexp.MustCompile(`^Resolved: ([a-z_]+) on (\S+) \(was `)
	singleReminder = regexp.MustCompile(`^Still firing since .*?: (?:CRITICAL|WARNING|INFO) ([a-z_]+) on (\S+?): `)
	singleChange   = regexp.MustCompile(`^INFO chain_changed \(([a-z_]+)\) on (\S+) at `)
	singleEscalate = regexp.MustCompile(`^(?:CRITICAL|WARNING|INFO) ([a-z_]+) on (\S+) escalated from `)
	singleOpened   = regexp.MustCompile(`^(?:CRITICAL|WARNING|INFO) ([a-z_]+) on (\S+?): `)
	digestHead     = regexp.MustCompile(`^\d+ pinwatchd notifications:`)
	digestResolved = regexp.MustCompile(`^Resolved ([a-z_]+) on (\S+?): `)
	digestChange   = regexp.MustCompile(`^chain_changed \(([a-z_]+)\) on (\S+) at `)
	digestEscalate = regexp.MustCompile(`^(?:critical|warning|info) ([a-z_]+) on (\S+?), escalated `)
	digestReminder = regexp.MustCompile(`^(?:critical|warning|info) ([a-z_]+) on (\S+?), still firing `)
	digestOpened   = regexp.MustCompile(`^(?:critical|warning|info) ([a-z_]+) on (\S+?): `)
)

// SlackEntries splits a message text into its notifications: one for a
// single message, one per "• " line of a digest.
func SlackEntries(text string) []SlackEntry {
	if !digestHead.MatchString(text) {
		return []SlackEntry{parseEntry(text, false)}
	}
	var out []SlackEntry
	for _, line := range strings.Split(text, "\n")[1:] {
		if l, ok := strings.CutPrefix(line, "• "); ok {
			out = append(out, parseEntry(l, true))
		}
	}
	return out
}

func parseEntry(text string, digest bool) SlackEntry {
	type form struct {
		re     *regexp.Regexp
		change string
	}
	forms := []form{{singleResolved, "resolved"}, {singleReminder, "reminder"}, {singleChange, "chain_changed"},
		{singleEscalate, "escalated"}, {singleOpened, "opened"}}
	if digest {
		forms = []form{{digestResolved, "resolved"}, {digestChange, "chain_changed"}, {digestEscalate, "escalated"},
			{digestReminder, "reminder"}, {digestOpened, "opened"}}
	}
	for _, f := range forms {
		m := f.re.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		if f.change == "chain_changed" {
			return SlackEntry{Change: f.change, Kind: "chain_changed", Class: m[1], Target: m[2], Text: text}
		}
		return SlackEntry{Change: f.change, Kind: m[1], Target: m[2], Text: text}
	}
	return SlackEntry{Change: "unknown", Text: text}
}
