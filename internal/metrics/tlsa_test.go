package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pinwatchd/pinwatchd"
)

func TestTLSAMatch(t *testing.T) {
	c := newTLSAMetrics()
	dane := &pinwatchd.Target{Name: "mail", DANE: true}
	chain := []pinwatchd.Cert{{SHA256: "a"}}
	rr := &pinwatchd.TLSAResult{Authenticated: true, Records: []pinwatchd.TLSARecord{{Usage: 3}}}
	obs := []pinwatchd.Observation{{ServedChain: chain, TLSA: rr}}
	want := func(v string) {
		t.Helper()
		exp := "# HELP pinwatchd_tlsa_match 1 when an authenticated TLSA record matches the chain every address of the DANE target serves, else 0.\n" +
			"# TYPE pinwatchd_tlsa_match gauge\n"
		if v != "" {
			exp += `pinwatchd_tlsa_match{target="mail"} ` + v + "\n"
		}
		if err := testutil.CollectAndCompare(c, strings.NewReader(exp)); err != nil {
			t.Error(err)
		}
	}
	c.observe(&pinwatchd.Target{Name: "mail"}, obs, nil)
	want("") // not a DANE target
	c.observe(dane, obs, nil)
	want("1")
	c.observe(dane, obs, []pinwatchd.Finding{{Kind: pinwatchd.KindTLSAMismatch}})
	want("0")
	c.observe(dane, []pinwatchd.Observation{{ServedChain: chain, TLSA: &pinwatchd.TLSAResult{Error: "SERVFAIL"}}}, nil)
	want("0") // a failed lookup says nothing new
	c.observe(dane, []pinwatchd.Observation{{ServedChain: chain, TLSA: &pinwatchd.TLSAResult{Records: rr.Records}}}, nil)
	want("0") // unauthenticated
	c.observe(dane, obs, nil)
	want("1")
	c.forget("mail")
	want("")
}
