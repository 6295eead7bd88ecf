// Package loopdns is a small DNS server for loopback: it answers A, AAAA,
// MX and TLSA questions from records set in code, with or without the AD
// bit, and can be switched to SERVFAIL, NXDOMAIN, empty answers, silence
// (a resolver that times out) or truncated UDP answers. The tests' stand-in
// resolver (internal/pinwatchdtest) and the demo's DANE mail server use it.
//
// It writes the wire format with the standard library (RFC 1035 §4, RFC
// 3596, RFC 6698 §2, RFC 7505), so that github.com/miekg/dns stays in the
// one package that asks DNS questions (monitor).
package loopdns
