// Package daemon wires one running pinwatchd: the scheduler and runner of
// package monitor, the database (SQLite or PostgreSQL, opened by
// storage/backend), the outbox sender of
// package notify, the HTTP listener for metrics and /healthz, retention,
// configuration reload, systemd notifications and the graceful shutdown.
//
// LoadConfig reads a configuration file with every check the daemon makes
// before starting (CheckConfig, for `config check`, also connects to a
// PostgreSQL database), New opens the database, Run
// starts everything and shuts it down when its context is done, Reload
// applies a changed configuration file (the HTTP listener's address
// included), and RunWithSignals drives them from SIGHUP, SIGTERM and
// SIGINT without a reload and a shutdown ever waiting on each other.
package daemon
