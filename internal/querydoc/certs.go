package querydoc

import (
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Cert is one entry of `certs --json`: what one address of a target
// served at the latest probe from one vantage.
type Cert struct {
	Target        string     `json:"target"`
	Address       string     `json:"address"`
	Vantage       string     `json:"vantage"` // "" for probes from before vantage points
	LeafSubject   string     `json:"leaf_subject"`
	Issuer        string     `json:"issuer"`
	LeafPin       string     `json:"leaf_pin"`
	LeafSHA256    string     `json:"leaf_sha256"`
	NotAfter      time.Time  `json:"not_after"`
	DaysLeft      int        `json:"days_left"`
	ChainNotAfter time.Time  `json:"chain_not_after"`
	LastSeen      *time.Time `json:"last_seen"`
	ErrorKind     *string    `json:"error_kind"`
	Stale         *string    `json:"stale"` // null, "not_configured" or "left_dns"
}

// Certs returns rows in the shape of `certs --json`; [] for none.
func Certs(rows []pinwatchd.CertStatus) []Cert {
	out := make([]Cert, 0, len(rows))
	for _, c := range rows {
		out = append(out, Cert{
			Target: c.Target, Address: c.Address, Vantage: c.Vantage, LeafSubject: c.LeafSubject, Issuer: c.Issuer,
			LeafPin: c.LeafPin, LeafSHA256: c.LeafSHA256, NotAfter: c.NotAfter.UTC(), DaysLeft: c.DaysLeft,
			ChainNotAfter: c.ChainNotAfter.UTC(), LastSeen: pinwatchd.NullTime(c.LastSeen), ErrorKind: pinwatchd.NullString(string(c.ErrorKind)),
			Stale: pinwatchd.NullString(string(c.Stale)),
		})
	}
	return out
}

// CertsAt keeps the rows of vantage, all of them when vantage is "". It
// reuses rows.
func CertsAt(rows []pinwatchd.CertStatus, vantage string) []pinwatchd.CertStatus {
	return keep(rows, vantage, func(c pinwatchd.CertStatus) string { return c.Vantage })
}
