// Package pinwatchdtest holds the fakes that tests across the repository
// share, so that each seam is written and tested once: a stand-in Slack
// (incoming webhook and Web API) on loopback, a TCP server that accepts
// connections and never answers, and a log buffer safe for concurrent
// writers.
//
// Only _test.go files import it. Its own code imports nothing of pinwatchd
// but the domain package (and may use internal/testpki), so that the tests
// inside notify, monitor, storage and cmd can all use it without an import
// cycle.
package pinwatchdtest
