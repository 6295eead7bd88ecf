// Package postgres keeps pinwatchd's state in a PostgreSQL database (SPEC
// §14), behind the same store contract as the SQLite backend of package
// storage (storage.Store), and passes the same test-suite
// (storage/storagetest).
//
// The tables, columns and numbered migrations mirror the SQLite ones step
// for step: certificates, chains and header values stored once by content,
// observation spans per (target, address) that grow with changes rather
// than probes, events with a notified mark, alerts and an outbox whose IDs
// (identity columns) are never reused. Times are UTC unix seconds in
// bigint columns. Migrations are embedded from migrations/, each applied
// in one transaction under pg_advisory_xact_lock, and a database newer
// than the binary is refused.
//
// Several processes may share a database: Record and Prune serialise on an
// advisory lock (one round is one transaction, as in SQLite), every other
// write is a row-level change that PostgreSQL serialises itself.
//
// This is the only package that imports the driver (github.com/jackc/pgx/v5,
// through pgxpool). The password never reaches an error, a log line or
// Path: it comes from Options.PasswordFile, libpq's PGPASSFILE, or the URL,
// and the URL is shown without it.
package postgres
