// Package pinwatchd holds the domain types of pinwatchd, a daemon that watches
// TLS endpoints for certificate-pinning mistakes: targets and pin-sets from the
// configuration, observations of one address, the certificates and headers an
// observation records, and the findings evaluation derives from them.
//
// The package imports nothing internal. Probing and evaluation live in
// monitor, persistence in storage, delivery in notify, and the command line
// and wiring in cmd/pinwatchd.
package pinwatchd
