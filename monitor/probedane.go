package monitor

import (
	"context"
	"errors"
	"fmt"

	"github.com/pinwatchd/pinwatchd"
)

// startTLSA starts the TLSA lookup of a DANE target and returns the
// function that waits for its result; for any other target that function
// returns nil at once. The lookup is bounded by the Prober's timeout.
func (p *Prober) startTLSA(ctx context.Context, t *pinwatchd.Target) func() *pinwatchd.TLSAResult {
	if !t.DANE || t.Host == "" {
		return func() *pinwatchd.TLSAResult { return nil }
	}
	done := make(chan *pinwatchd.TLSAResult, 1)
	go func() { done <- p.LookupTLSA(ctx, t) }()
	return func() *pinwatchd.TLSAResult { return <-done }
}

// LookupTLSA looks up the TLSA RRset of t at TLSAName(t.Host, t.Port)
// through the Prober's DNSServer, with the DO bit, trusting the AD bit of
// the answer (SPEC §12). A failed lookup is a result with Error set, never
// nil.
func (p *Prober) LookupTLSA(ctx context.Context, t *pinwatchd.Target) *pinwatchd.TLSAResult {
	res := &pinwatchd.TLSAResult{Name: pinwatchd.TLSAName(t.Host, t.Port)}
	server, err := askServer(p.DNSServer)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	lctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	recs, ad, err := lookupTLSA(lctx, server, res.Name)
	switch {
	case errors.Is(err, errDNSTimeout):
		res.Error = fmt.Sprintf("no answer from %s within %s", server, roundDuration(p.timeout()))
	case err != nil:
		res.Error = fmt.Sprintf("%s answered %s", server, err)
	default:
		res.Records, res.Authenticated = recs, ad
	}
	return res
}

// finishDANE marks every observation of t with its STARTTLS protocol and
// gives each the TLSA result, its records matched against that
// observation's chain.
func finishDANE(t *pinwatchd.Target, obs []pinwatchd.Observation, tlsa *pinwatchd.TLSAResult) {
	for i := range obs {
		obs[i].STARTTLS = t.STARTTLS
		obs[i].TLSA = MatchTLSA(tlsa, &obs[i], t.STARTTLS == pinwatchd.ProtocolSMTP)
	}
}

// starttlsError turns an error of the STARTTLS dialogue into a ProbeError:
// starttls_failed when the server did not offer STARTTLS, refused it,
// answered past the bounds of SPEC §16 or hung up; timeout when the
// deadline passed first.
func (s *session) starttlsError(err error) *pinwatchd.ProbeError {
	if !errors.Is(err, errRefused) && s.timedOut(err) {
		return s.timeout("STARTTLS dialogue with")
	}
	why := err.Error()
	if !errors.Is(err, errRefused) {
		why = "the server closed the connection (" + reason(err) + ")"
	}
	return &pinwatchd.ProbeError{Kind: pinwatchd.KindSTARTTLSFailed,
		Message: fmt.Sprintf("STARTTLS with %s: %s", s.addr, why)}
}
