// Package monitor probes TLS endpoints and evaluates what they serve.
//
// Probe does the I/O: it resolves a target, connects to each address, records
// the served and verified chains and reads the pin and HSTS headers over the
// same connection, returning one pinwatchd.Observation per address. Evaluate is
// pure: it turns a target's observations, its pin-sets and the thresholds into
// findings. The header parsers implement RFC 7469 and RFC 6797 as browsers
// enforced them.
package monitor
