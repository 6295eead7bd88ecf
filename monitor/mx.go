package monitor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/logkey"
)

// SubjectMX is the subject of the dns_failed alert of an mx target whose
// MX lookup failed (SPEC §12).
const SubjectMX = "mx"

// AlertLister is what an mx round needs of a Store besides Store itself,
// to resolve the alerts of an exchange that left the MX set. A Store
// without it leaves those alerts alone.
type AlertLister interface {
	// OpenAlertsUnder returns the open alerts of every target whose name
	// starts with prefix; none is not an error.
	OpenAlertsUnder(ctx context.Context, prefix string) ([]pinwatchd.Alert, error)
}

// LookupMX returns the exchanges of mx target t's domain, bounded by the
// Prober's timeout. The error is one sentence naming the domain: the
// lookup failed, or it named no exchange (a null MX, no MX records, no
// such domain).
func (p *Prober) LookupMX(ctx context.Context, t *pinwatchd.Target) ([]Exchange, error) {
	server, err := askServer(p.DNSServer)
	if err != nil {
		return nil, fmt.Errorf("the MX lookup of %s failed: %w", t.MX, err)
	}
	lctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	ex, err := lookupMX(lctx, server, t.MX)
	switch {
	case errors.Is(err, errNullMX), errors.Is(err, errNoMX), errors.Is(err, errNoDomain):
		return nil, fmt.Errorf("%s has %w", t.MX, err)
	case errors.Is(err, errDNSTimeout):
		return nil, fmt.Errorf("the MX lookup of %s failed: no answer from %s within %s", t.MX, server, roundDuration(p.timeout()))
	case err != nil:
		return nil, fmt.Errorf("the MX lookup of %s failed: %s answered %w", t.MX, server, err)
	}
	return ex, nil
}

// MXFinding is the finding of an mx target whose MX lookup gave no
// exchange: dns_failed about the subject "mx".
func MXFinding(t *pinwatchd.Target, err error) pinwatchd.Finding {
	return pinwatchd.Finding{Kind: pinwatchd.KindDNSFailed, Severity: pinwatchd.SeverityWarning,
		Subject: SubjectMX, Message: err.Error()}
}

// runMX is a round of mx target t (SPEC §12): it resolves the MX records
// of t.MX, runs a round of every exchange as a sub-target (MXTarget),
// resolves the alerts of exchanges that left the MX set, and keeps t's own
// dns_failed alert about the lookup. A lookup that fails leaves every
// exchange's alerts as they are.
func (r *Runner) runMX(ctx context.Context, t *pinwatchd.Target) error {
	exchanges, lookupErr := r.Prober.LookupMX(ctx, t)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if lookupErr != nil {
		r.Log.Warn("MX lookup failed", logkey.Target, t.Name, logkey.Err, lookupErr)
	}
	if err := r.mxAlerts(ctx, t, lookupErr); err != nil {
		return err
	}
	if lookupErr != nil {
		return nil
	}
	names := make([]string, len(exchanges))
	errs := make([]error, len(exchanges))
	var wg sync.WaitGroup
	for i, ex := range exchanges {
		sub := t.MXTarget(ex.Host)
		names[i] = sub.Name
		wg.Go(func() { errs[i] = r.Run(ctx, &sub) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Join(append(errs, r.resolveLeft(ctx, t, names))...)
}

// mxAlerts moves t's own alerts through a round whose MX lookup failed
// with lookupErr, or answered (nil): a failure counts towards
// failure_threshold like any dns_failed; an answer resolves it.
func (r *Runner) mxAlerts(ctx context.Context, t *pinwatchd.Target, lookupErr error) error {
	now := r.Now().UTC()
	before, err := r.Store.NameState(ctx, t.Name, r.Vantage)
	if err != nil {
		return fmt.Errorf("load the name state of %s: %w", t.Name, err)
	}
	after := pinwatchd.NameState{}
	round := Round{Resolved: lookupErr == nil, Seen: map[string]Seen{}, Vantage: r.Vantage}
	if lookupErr != nil {
		after.Unresolved = before.Unresolved + 1
		round.Failures = map[string]int{"": after.Unresolved}
		round.Findings = []pinwatchd.Finding{MXFinding(t, lookupErr)}
	}
	if !sameNameState(before, after) {
		if err := r.Store.SaveNameState(ctx, t.Name, r.Vantage, after); err != nil {
			return fmt.Errorf("save the name state of %s: %w", t.Name, err)
		}
	}
	n, err := r.update(ctx, t, func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.AlertChange) {
		return UpdateAlerts(t.Name, open, round, r.Policy, now)
	})
	r.enqueued(n)
	return err
}

// resolveLeft withdraws this vantage from the open alerts of t's exchanges
// that are not in current (sub-target names), resolving those no other
// vantage lists, saying "no longer an MX of DOMAIN".
func (r *Runner) resolveLeft(ctx context.Context, t *pinwatchd.Target, current []string) error {
	lister, ok := r.Store.(AlertLister)
	if !ok {
		return nil
	}
	open, err := lister.OpenAlertsUnder(ctx, t.Name+"/")
	if err != nil {
		return fmt.Errorf("load alerts of the exchanges of %s: %w", t.Name, err)
	}
	var left []string
	for _, a := range open {
		if !slices.Contains(current, a.Target) && !slices.Contains(left, a.Target) {
			left = append(left, a.Target)
		}
	}
	var errs []error
	for _, name := range left {
		r.mu.Lock()
		delete(r.memory, name)
		r.mu.Unlock()
		sub := *t
		sub.Name = name
		n, err := r.update(ctx, &sub, func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.AlertChange) {
			return Withdraw(open, r.Vantage, "no longer an MX of "+t.MX, r.Policy, r.Now())
		})
		r.enqueued(n)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// enqueued wakes the sender when n notifications were enqueued.
func (r *Runner) enqueued(n int) {
	if r.Hooks.Enqueued != nil && n > 0 {
		r.Hooks.Enqueued(n)
	}
}
