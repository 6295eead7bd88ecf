package web

import (
	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/monitor"
)

// The TLSA records of a DANE target on its page (SPEC §12, §15): the
// recorded RRset, each record matched against the chain the address
// served.

// addressTLSA returns the RRset of address a, matched against the chain it
// last served: the latest one looked up (the failed probe's when the latest
// probe failed after its lookup, else the one of the chain's probe), nil
// when none was (not a DANE target). Without a chain no record matches.
func addressTLSA(t *pinwatchd.Target, a *addressState) *pinwatchd.TLSAResult {
	res, o := a.latest.TLSA, a.chain
	if o == nil {
		o = &pinwatchd.Observation{}
	} else if res == nil {
		res = o.TLSA
	}
	return monitor.MatchTLSA(res, o, t.STARTTLS == pinwatchd.ProtocolSMTP)
}

// tlsaUsage names a record's usage (RFC 7218).
func tlsaUsage(u uint8) string {
	switch u {
	case 0:
		return "PKIX-TA"
	case 1:
		return "PKIX-EE"
	case 2:
		return "DANE-TA"
	case 3:
		return "DANE-EE"
	}
	return "unknown"
}

// tlsaSelector names a record's selector (RFC 7218).
func tlsaSelector(s uint8) string {
	switch s {
	case 0:
		return "Cert"
	case 1:
		return "SPKI"
	}
	return "unknown"
}

// tlsaMatching names a record's matching type (RFC 7218).
func tlsaMatching(m uint8) string {
	switch m {
	case 0:
		return "Full"
	case 1:
		return "SHA2-256"
	case 2:
		return "SHA2-512"
	}
	return "unknown"
}

// maxTLSAData is how many characters of a record's data the page shows; the
// whole of it is in the cell's title and the JSON.
const maxTLSAData = 16

// abbrevData shortens a record's data to maxTLSAData characters and "…".
func abbrevData(s string) string {
	if len(s) <= maxTLSAData {
		return s
	}
	return s[:maxTLSAData] + "…"
}
