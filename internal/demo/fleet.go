package demo

import (
	"fmt"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// round is the schedule of the demo's targets.
const round = 3 * time.Second

// fleet is the demo's endpoints and their PKI.
type fleet struct {
	pki             *testpki.PKI
	caFile          string
	spare           pinwatchd.Pin
	api             *testpki.Server
	www, legacy     *testpki.Server
	expiring, rogue *testpki.Server
	expLeaf         *testpki.Cert
	rogueLeaf       *testpki.Cert
	mail            *mail
}

// newFleet starts five loopback HTTPS endpoints: one pinned with a backup,
// one announcing pins in a header, one pinned without a backup, one whose
// leaf expires in five days and one signed by a CA nobody trusts.
func newFleet(tb testpki.TB, now time.Time) *fleet {
	p := testpki.New(tb)
	d := &fleet{pki: p, caFile: p.WriteCAFile(tb), spare: testpki.KeyPin(tb, p.Spare)}
	hsts := map[string]string{"Strict-Transport-Security": "max-age=31536000; includeSubDomains"}
	d.api = testpki.Serve(tb, p.TLS(), testpki.HeaderHandler(hsts))
	d.www = testpki.Serve(tb, p.TLS(), testpki.HeaderHandler(map[string]string{
		"Strict-Transport-Security": "max-age=31536000",
		"Public-Key-Pins":           fmt.Sprintf(`pin-sha256="%s"; pin-sha256="%s"; max-age=5184000`, p.Leaf.Pin(), d.spare),
	}))
	d.legacy = testpki.Serve(tb, p.TLS(), testpki.HeaderHandler(hsts))
	d.expLeaf = p.Intermediate.Leaf(tb, testpki.Options{NotBefore: now.Add(-85 * 24 * time.Hour), NotAfter: now.Add(5*24*time.Hour + time.Hour)})
	d.expiring = testpki.Serve(tb, testpki.Chain(d.expLeaf, p.Intermediate), testpki.HeaderHandler(hsts))
	other := testpki.New(tb)
	d.rogueLeaf = other.Leaf
	d.rogue = testpki.Serve(tb, other.TLS(), testpki.HeaderHandler(hsts))
	d.mail = newMail(tb, p, d.spare)
	return d
}

// rotate makes the api endpoint serve a new key that no pin-set lists.
func (d *fleet) rotate(tb testpki.TB) {
	leaf := d.pki.Intermediate.Leaf(tb, testpki.Options{})
	d.api.SetCertificate(testpki.Chain(leaf, d.pki.Intermediate))
}

// renew makes the billing endpoint serve a fresh certificate for its key.
func (d *fleet) renew(tb testpki.TB) {
	leaf := d.pki.Intermediate.Leaf(tb, testpki.Options{Key: d.expLeaf.Key})
	d.expiring.SetCertificate(testpki.Chain(leaf, d.pki.Intermediate))
}

func (d *fleet) describe() []string {
	return []string{
		fmt.Sprintf("api       %s  pinned by pin-set \"mobile-app\" (leaf key + a backup key)", d.api.Addr),
		fmt.Sprintf("www       %s  sends Public-Key-Pins with a backup pin", d.www.Addr),
		fmt.Sprintf("legacy    %s  pinned to one key only: no backup", d.legacy.Addr),
		fmt.Sprintf("billing   %s  leaf expires in 5 days", d.expiring.Addr),
		fmt.Sprintf("partner   %s  chain from a CA nobody trusts", d.rogue.Addr),
		d.mail.describe(d.spare),
	}
}

// config is the demo's configuration: the five endpoints and the mail
// server, probed every round, recording into dbPath, with the demo's DNS
// server as the resolver.
func (d *fleet) config(dbPath string) (*config.Config, error) {
	c := config.Default()
	c.Database = dbPath
	sched, err := config.ParseSchedule("@every " + round.String())
	if err != nil {
		return nil, err
	}
	c.Schedule = sched
	if err := c.Resolver.UnmarshalText([]byte(d.mail.dns.Addr)); err != nil {
		return nil, err
	}
	c.Timeout = config.Duration{Duration: 3 * time.Second}
	// The tour prints each alert as it fires: no digest window.
	c.Alerts.DigestWindow = config.Duration{}
	c.PinSets = []config.PinSetConfig{{Name: "mobile-app", Pins: []pinwatchd.Pin{d.pki.Leaf.Pin(), d.spare}}}
	for _, t := range []struct {
		name    string
		srv     *testpki.Server
		pinsets []string
		pins    []pinwatchd.Pin
	}{
		{"api", d.api, []string{"mobile-app"}, nil},
		{"www", d.www, nil, nil},
		{"legacy", d.legacy, nil, []pinwatchd.Pin{d.pki.Leaf.Pin()}},
		{"billing", d.expiring, nil, []pinwatchd.Pin{d.expLeaf.Pin(), d.spare}},
		{"partner", d.rogue, nil, []pinwatchd.Pin{d.rogueLeaf.Pin(), d.spare}},
	} {
		addr, err := config.ParseHostPort(t.srv.Addr)
		if err != nil {
			return nil, err
		}
		port := int(addr.Port)
		c.TargetConfigs = append(c.TargetConfigs, config.TargetConfig{
			Name: t.name, Host: "localhost", Port: &port, Addresses: []config.HostPort{addr},
			CAFile: d.caFile, PinSets: t.pinsets, Pins: t.pins,
		})
	}
	mt, err := d.mail.target(d.caFile)
	if err != nil {
		return nil, err
	}
	c.TargetConfigs = append(c.TargetConfigs, mt)
	return c, c.Validate()
}
