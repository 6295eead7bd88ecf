// Package logkey names the attributes of pinwatchd's log lines, so that one
// field has one name in every package: `target=api err=…`, never `error=`
// in one place and `err=` in another.
package logkey

// Attribute keys.
const (
	Err      = "err"      // an error
	Target   = "target"   // a target's name
	Address  = "address"  // "ip:port" of one address
	Kind     = "kind"     // a finding or error kind
	Config   = "config"   // the config file
	Database = "database" // the database file or URL
	Listen   = "listen"   // a listen address
	Signal   = "signal"   // a signal received
)
