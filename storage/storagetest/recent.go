package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

var recentChecks = []check{
	{"RecentObservations", checkRecentObservations},
	{"RecentObservationsReadOnly", checkRecentObservationsReadOnly},
}

func checkRecentObservations(t *testing.T, newDB Factory) {
	db := newDB(t)
	if got, err := db.Store.RecentObservations(t.Context(), ""); err != nil || len(got) != 0 {
		t.Fatalf("RecentObservations of an empty database = %v, %v; want none", got, err)
	}
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	pkp := &pinwatchd.PinHeader{Raw: "max-age=600; pin-sha256=\"x\"", Pins: []pinwatchd.Pin{c.leaf().Pin, {7}}, MaxAge: 600, Valid: true}
	hsts := &pinwatchd.HSTSHeader{Raw: "max-age=31536000", MaxAge: 31536000, Valid: true}

	api1 := okObs("api", "127.0.0.1:1", t0, c)
	api1.PublicKeyPins, api1.StrictTransportSecurity = pkp, hsts
	api2 := okObs("api", "127.0.0.1:2", t0, c)
	www := okObs("www", "127.0.0.1:3", t0, c)
	www.PublicKeyPins = pkp // the same header value, stored once
	record(t, db.Store, api1, api2, www)
	// api's second address fails twice; a third address never answered.
	record(t, db.Store, failObs("api", "127.0.0.1:2", t0.Add(time.Hour), pinwatchd.KindTimeout, "handshake took longer than 2s"))
	record(t, db.Store, failObs("api", "127.0.0.1:2", t0.Add(2*time.Hour), pinwatchd.KindTimeout, "handshake took longer than 2s"),
		failObs("api", "127.0.0.1:9", t0.Add(2*time.Hour), pinwatchd.KindConnectFailed, "connection refused"))
	api1.Time = t0.Add(2 * time.Hour)
	record(t, db.Store, api1)

	type row struct {
		target, address string
		time            time.Time
		errorKind       pinwatchd.Kind
		chain           int
	}
	summarise := func(obs []pinwatchd.Observation) []row {
		var out []row
		for _, o := range obs {
			r := row{target: o.Target, address: o.Address, time: o.Time, chain: len(o.Chain())}
			if o.Error != nil {
				r.errorKind = o.Error.Kind
			}
			out = append(out, r)
		}
		return out
	}
	all, err := db.Store.RecentObservations(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{"api", "127.0.0.1:1", t0.Add(2 * time.Hour), "", 3},
		{"api", "127.0.0.1:2", t0.Add(2 * time.Hour), pinwatchd.KindTimeout, 0}, // the latest, failed
		{"api", "127.0.0.1:2", t0, "", 3},                                       // the last that served a chain
		{"api", "127.0.0.1:9", t0.Add(2 * time.Hour), pinwatchd.KindConnectFailed, 0},
		{"www", "127.0.0.1:3", t0, "", 3},
	}
	if got := summarise(all); !slices.Equal(got, want) {
		t.Errorf("RecentObservations(all):\n got %+v\nwant %+v", got, want)
	}

	o := all[0]
	if len(o.ServedChain) != 2 || len(o.VerifiedChain) != 3 {
		t.Fatalf("api 127.0.0.1:1 chains: %d served, %d verified; want 2 and 3", len(o.ServedChain), len(o.VerifiedChain))
	}
	for i, cert := range o.VerifiedChain {
		w := c.verified[i]
		if cert.SHA256 != w.SHA256 || cert.Subject != w.Subject || cert.Issuer != w.Issuer || cert.Pin != w.Pin ||
			!cert.NotAfter.Equal(w.NotAfter) || cert.IsCA != w.IsCA || cert.KeyType != w.KeyType || cert.Serial != w.Serial {
			t.Errorf("verified chain[%d] = %+v, want %+v", i, cert, w)
		}
		if cert.DER != nil {
			t.Errorf("verified chain[%d] carries its DER; RecentObservations leaves it out", i)
		}
	}
	if h := o.PublicKeyPins; h == nil || h.Raw != pkp.Raw || !slices.Equal(h.Pins, pkp.Pins) || !h.Valid {
		t.Errorf("api Public-Key-Pins = %+v, want %+v", h, pkp)
	}
	if h := o.StrictTransportSecurity; h == nil || h.MaxAge != 31536000 {
		t.Errorf("api Strict-Transport-Security = %+v", h)
	}
	if o.PublicKeyPinsReportOnly != nil {
		t.Errorf("api Public-Key-Pins-Report-Only = %+v, want none", o.PublicKeyPinsReportOnly)
	}
	if all[4].PublicKeyPins == nil || all[4].PublicKeyPins.Raw != pkp.Raw || all[4].StrictTransportSecurity != nil {
		t.Errorf("www headers = %+v / %+v, want the shared Public-Key-Pins and no HSTS", all[4].PublicKeyPins, all[4].StrictTransportSecurity)
	}
	if o.HTTP == nil || o.HTTP.Status != 200 || !o.Verification.Trusted || o.TLSVersion != "TLS 1.3" || o.SNI != "localhost" {
		t.Errorf("api 127.0.0.1:1 = %+v", o)
	}
	if e := all[1].Error; e == nil || e.Message != "handshake took longer than 2s" {
		t.Errorf("api 127.0.0.1:2 error = %+v", e)
	}

	www2, err := db.Store.RecentObservations(t.Context(), "www")
	if err != nil {
		t.Fatal(err)
	}
	if got := summarise(www2); !slices.Equal(got, want[4:]) {
		t.Errorf("RecentObservations(www) = %+v, want %+v", got, want[4:])
	}
	none, err := db.Store.RecentObservations(t.Context(), "nope")
	if err != nil || len(none) != 0 {
		t.Errorf("RecentObservations(nope) = %v, %v; want none", none, err)
	}
}

func checkRecentObservationsReadOnly(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	record(t, db.Store, okObs("api", "127.0.0.1:1", t0, pkiChain(p.Leaf, p.Intermediate, p.Root)))
	ro := openReadOnly(t, db)
	got, err := ro.RecentObservations(t.Context(), "")
	if err != nil || len(got) != 1 || got[0].Leaf() == nil || got[0].Leaf().Pin != p.Leaf.Pin() {
		t.Errorf("RecentObservations on a read-only database = %+v, %v", got, err)
	}
}
