// Package monitor probes TLS endpoints, evaluates what they serve, moves
// alerts through their lifecycle and schedules the probes.
//
// Probe does the I/O: it resolves a target, connects to each address, records
// the served and verified chains and reads the pin and HSTS headers over the
// same connection, returning one pinwatchd.Observation per address. Evaluate is
// pure: it turns a target's observations, its pin-sets and the thresholds into
// findings. The header parsers implement RFC 7469 and RFC 6797 as browsers
// enforced them. Check probes and evaluates a list of targets once, for
// `pinwatchd check` and `probe`.
//
// UpdateAlerts and ResolveAll are the alert rules (SPEC §6), also pure: from
// the open alerts, a round's findings and the failure counts they return the
// next alert states and the changes to notify. A Runner ties one round
// together for the daemon: probe, record in a Store, evaluate, update the
// alerts and enqueue their notifications. The Scheduler runs each target on
// its cron schedule (robfig/cron/v3, imported only here), in UTC with a
// stable per-target jitter; CheckSchedule validates a schedule with the same
// parser.
package monitor
