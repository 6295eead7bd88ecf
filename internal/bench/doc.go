// Package bench measures pinwatchd against the performance budgets of SPEC
// §11 as whole processes: `pinwatchd check --record` against a bare
// crypto/tls client over the same loopback fleet (CPU from each child's
// rusage), and `pinwatchd run` on a 10,000-target config (time to READY=1,
// resident memory after the first round). The fleet is served from the
// measuring process, so the servers' CPU is never counted against either
// client. Run it with `make bench` from the repository root; BENCHMARKS.md
// holds the figures.
package bench
