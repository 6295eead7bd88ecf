package main

import (
	"fmt"

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
