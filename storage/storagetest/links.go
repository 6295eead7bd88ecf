package storagetest

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/storage"
)

var linkChecks = []check{
	{"VerifiedLinksOfVerifiedChainsOnly", checkVerifiedLinks},
}

// checkVerifiedLinks: the leaf-to-issuer link of every recorded verified
// chain, and none of a chain that was only served (an untrusted one, whose
// served issuer may not have signed its leaf).
func checkVerifiedLinks(t *testing.T, newDB Factory) {
	db := newDB(t)
	now := t0
	root := fakeCert("root", "root", now.AddDate(5, 0, 0), 0)
	inter := fakeCert("inter", "root", now.AddDate(2, 0, 0), 0)
	trusted := fakeCert("trusted.test", "inter", now.AddDate(0, 3, 0), 0)
	forged := fakeCert("forged.test", "inter", now.AddDate(0, 3, 0), 0)
	links, err := db.Store.VerifiedLinks(t.Context())
	if err != nil || len(links) != 0 {
		t.Fatalf("VerifiedLinks of an empty database = %v, %v; want none", links, err)
	}
	ok := okObs("a", "192.0.2.1:443", now, chain{served: []pinwatchd.Cert{trusted, inter}, verified: []pinwatchd.Cert{trusted, inter, root}})
	bad := okObs("b", "192.0.2.2:443", now, chain{served: []pinwatchd.Cert{forged, inter}})
	bad.Verification = pinwatchd.Verification{UntrustedReason: "x509: certificate signed by unknown authority"}
	record(t, db.Store, ok, bad)
	// A later round of the first address: the link stays known.
	ok.Time = now.Add(time.Hour)
	record(t, db.Store, ok)
	links, err = db.Store.VerifiedLinks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := storage.VerifiedLink{Cert: digest(t, trusted), Issuer: digest(t, inter)}
	if len(links) != 1 || links[0] != want {
		t.Errorf("VerifiedLinks = %x, want only %s → %s", links, trusted.Subject, inter.Subject)
	}
}

func digest(t *testing.T, c pinwatchd.Cert) [sha256.Size]byte {
	t.Helper()
	var d [sha256.Size]byte
	if _, err := hex.Decode(d[:], []byte(c.SHA256)); err != nil {
		t.Fatal(err)
	}
	return d
}
