// Package querydoc builds the JSON documents of the query commands
// (`history`, `certs`, `nodes`; SPEC §5) from what the store returns, and
// selects their rows by vantage point (SPEC §14). The field names are the
// contract: fields may be added, never renamed. Human output is
// internal/textreport's.
package querydoc
