package main

import (
	"fmt"
	"strings"

	"github.com/pinwatchd/pinwatchd"
)

// probeMail applies probe's --starttls and --dane to t: a STARTTLS target
// sends no HTTP request, and SMTP implies DANE (SPEC §12).
func probeMail(t *pinwatchd.Target, starttls string, dane bool) error {
	if starttls != "" {
		p, err := pinwatchd.ParseProtocol(starttls)
		if err != nil {
			return fmt.Errorf("--starttls: %w", err)
		}
		t.STARTTLS, t.HTTP = p, false
		dane = dane || p == pinwatchd.ProtocolSMTP
	}
	t.DANE = dane
	return nil
}

// tlsaJSON is a tlsa_changed event's records for `history --json`: a list
// of lines (empty when none) for that event, null for the others.
func tlsaJSON(ev pinwatchd.Event, lines string) []string {
	if ev.Event != pinwatchd.EventTLSAChanged {
		return nil
	}
	if lines == "" {
		return []string{}
	}
	return strings.Split(lines, "\n")
}
