// Package pinwatchdtest holds the fakes that tests across the repository
// share, so that each seam is written and tested once: a stand-in Slack
// (incoming webhook and Web API) on loopback, a stand-in DNS server on
// loopback (UDP and TCP) that can be made to fail, a TCP server that accepts
// connections and never answers, a log buffer safe for concurrent writers,
// and OutboxContract, the suite that every notification outbox (both storage
// backends, through storage/storagetest, and the notify tests' in-memory
// double) must pass.
//
// Only _test.go files import it. Its own code imports nothing of pinwatchd
// but the domain package (and may use internal/testpki and internal/loopdns, the DNS server the
// stand-in resolver is), so that the tests
// inside notify, monitor, storage and cmd can all use it without an import
// cycle; what it needs of those packages, such as the Outbox interface, it
// declares again with the same method set.
package pinwatchdtest
