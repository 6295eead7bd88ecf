// Package monitor probes TLS endpoints, evaluates what they serve, moves
// alerts through their lifecycle and schedules the probes.
//
// Probe does the I/O: it resolves a target, connects to each address, records
// the served and verified chains and reads the pin and HSTS headers over the
// same connection, returning one pinwatchd.Observation per address. Evaluate is
// pure: it turns a target's observations, its pin-sets and the thresholds into
// findings. The header parsers implement RFC 7469 and RFC 6797 as browsers
// enforced them. Check probes and evaluates a list of targets once, for
// `pinwatchd check` and `probe`. NewResolver points the prober's lookups at
// one DNS server (the config's `resolver`).
//
// UpdateAlerts and Withdraw are the alert rules (SPEC §6), also pure: from
// the open alerts and a Round (its findings, how much of each address it
// saw, the failure counts) they return the next alert states and the
// changes to notify; an address a round did not see keeps its alerts as
// they are. Memory is what the rules carry from round to round (failures
// in a row, rounds in which an alerted address was missing from the
// name's answer) and Memory.Advance, pure too, moves it on by one round.
// A Runner ties one round together for the daemon: probe, record in a
// Store, evaluate, update the alerts and enqueue their notifications. The
// Scheduler runs each target on its cron schedule (robfig/cron/v3, imported
// only here), in UTC with a stable per-target jitter; CheckSchedule
// validates a schedule with the same parser.
package monitor
