package pinwatchd

import "time"

// EventType names an entry of the change timeline.
type EventType string

// Timeline events (SPEC §5 history).
const (
	EventFirstSeen    EventType = "first_seen"    // once per (target, address)
	EventChainChanged EventType = "chain_changed" // the served chain differs from the previous successful one
	EventProbeFailed  EventType = "probe_failed"  // once when an address starts failing
	EventRecovered    EventType = "recovered"     // the address answers again
	EventTLSAChanged  EventType = "tlsa_changed"  // the TLSA RRset differs from the previous one looked up
)

// Event is one entry of the per-address change timeline. It has no JSON
// form of its own: `pinwatchd history --json` renders it, with empty
// strings and zero times as null.
type Event struct {
	ID      int64 // storage identity; 0 until stored
	Time    time.Time
	Target  string
	Address string
	// Vantage names the node whose probe recorded the event (SPEC §14);
	// "" for events recorded before vantage points existed.
	Vantage       string
	Event         EventType
	Class         ChangeClass // chain_changed only
	OldLeafPin    string      // base64; chain_changed only
	NewLeafPin    string      // base64; the leaf seen at and after Time
	OldLeafSHA256 string
	NewLeafSHA256 string
	Issuer        string    // issuer of the new leaf
	NotAfter      time.Time // NotAfter of the new leaf
	ErrorKind     Kind      // probe_failed only
	ErrorMessage  string    // probe_failed only
	// OldTLSA and NewTLSA are the TLSA records before and after a
	// tlsa_changed, one per line in presentation form ("3 1 1 5e8f…"), a
	// last line saying "not authenticated" for an RRset without the AD
	// bit. (Lines in a string keep Event comparable.)
	OldTLSA, NewTLSA string
}

// CertStatus is what one address of a target serves now (the certs query).
// For an address whose latest probe failed it holds the last chain seen, with
// LastSeen and the failure's ErrorKind.
type CertStatus struct {
	Target        string
	Address       string
	Vantage       string // the node whose probes these are (SPEC §14)
	LeafSubject   string
	Issuer        string
	LeafPin       string // base64
	LeafSHA256    string
	NotAfter      time.Time // the leaf's
	DaysLeft      int       // whole days from now to NotAfter
	ChainNotAfter time.Time // earliest NotAfter in the chain
	LastSeen      time.Time // last successful probe that served this chain
	ErrorKind     Kind      // of the latest probe when it failed, else empty
	// Stale says why the row shows the past rather than what a configured
	// target serves now; empty when it is current.
	Stale Staleness
}

// Staleness says why a CertStatus is history (the "stale" field of
// `certs --json`).
type Staleness string

// Reasons a CertStatus is stale.
const (
	// StaleNotConfigured: the target is no longer in the configuration.
	StaleNotConfigured Staleness = "not_configured"
	// StaleLeftDNS: the address was not part of the target's latest
	// round that resolved the name (it left DNS, or was removed from the
	// target's addresses).
	StaleLeftDNS Staleness = "left_dns"
)
