// Package storage keeps pinwatchd's state in one SQLite file: certificates,
// chains and header values stored once by content, observation spans per
// (target, address), and the change timeline derived from them (SPEC §9).
//
// The database grows with changes, not with probes: an observation equal to
// the latest one at its address only moves that span's last_seen and
// probe_count. Record stores a round of observations in one transaction and
// returns the timeline events it derived; History, Certs,
// LatestObservations and RecentObservations read the file, also from another process while the
// daemon writes (WAL); Prune applies the retention.
//
// This is the only package that imports the SQLite driver (modernc.org/sqlite,
// pure Go). Times are stored as integer UTC unix seconds in STRICT tables; the
// schema comes from the numbered migrations embedded from migrations/.
//
// Store is the store contract that DB keeps, and so does the PostgreSQL
// backend in storage/postgres (SPEC §14), which reuses the content
// identities of shared.go; storage/storagetest is the one test-suite both
// run, and storage/backend opens either from the config's database value.
package storage
