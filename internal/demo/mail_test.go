package demo

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/monitor"
)

// The demo's mail server speaks SMTP STARTTLS and its DNS server publishes
// the signed TLSA records of the current and the next key: a probe finds
// the current key's record matching and no finding at all.
func TestMail(t *testing.T) {
	p := testpki.New(t)
	next := testpki.KeyPin(t, p.Spare)
	m := newMail(t, p, next)
	tc, err := m.target(p.WriteCAFile(t))
	if err != nil {
		t.Fatal(err)
	}
	tg := pinwatchd.Target{Name: tc.Name, Host: tc.Host, Port: *tc.Port, Addresses: []string{m.srv.Addr},
		STARTTLS: pinwatchd.ProtocolSMTP, DANE: true}
	pr := &monitor.Prober{Timeout: 5 * time.Second, Roots: p.RootPool(), DNSServer: netip.MustParseAddrPort(m.dns.Addr)}
	obs := pr.Probe(t.Context(), &tg)
	if len(obs) != 1 || obs[0].Error != nil || obs[0].TLSA == nil || !obs[0].TLSA.Authenticated || len(obs[0].TLSA.Records) != 2 {
		t.Fatalf("probe of the demo's mail server: %+v", obs)
	}
	if fs := monitor.Evaluate(&tg, obs, pinwatchd.DefaultThresholds, time.Now()); len(fs) != 0 {
		t.Errorf("findings %+v, want none before the rotation", fs)
	}
	m.rotate(t, p)
	obs = pr.Probe(t.Context(), &tg)
	fs := monitor.Evaluate(&tg, obs, pinwatchd.DefaultThresholds, time.Now())
	if len(fs) != 1 || fs[0].Kind != pinwatchd.KindTLSAMismatch {
		t.Errorf("findings after the rotation %+v, want one tlsa_mismatch", fs)
	}
}
