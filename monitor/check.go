package monitor

import (
	"context"
	"sync"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Check probes and evaluates targets once, with at most workers targets in
// flight (p bounds the addresses in flight), and returns their reports in
// the order of targets. progress, when set, is called after each target
// with the number done so far. Targets not started when ctx is done are
// left with an empty report. An mx target gives one report per exchange of
// its domain (named "NAME/EXCHANGE"), or, when its MX lookup gives none,
// one report of its own with the dns_failed finding.
func Check(ctx context.Context, p *Prober, targets []pinwatchd.Target, workers int, th pinwatchd.Thresholds, now func() time.Time, progress func(done, total int)) []pinwatchd.Report {
	reports := make([][]pinwatchd.Report, len(targets))
	jobs := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for range max(1, min(workers, len(targets))) {
		wg.Go(func() {
			for i := range jobs {
				reports[i] = checkTarget(ctx, p, &targets[i], th, now)
				if progress != nil {
					mu.Lock()
					done++
					progress(done, len(targets))
					mu.Unlock()
				}
			}
		})
	}
	for i := range targets {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	out := make([]pinwatchd.Report, 0, len(targets))
	for _, rs := range reports {
		if rs == nil {
			rs = []pinwatchd.Report{{}} // not started
		}
		out = append(out, rs...)
	}
	return out
}

// checkTarget probes and evaluates one target, or every exchange of an mx
// target.
func checkTarget(ctx context.Context, p *Prober, t *pinwatchd.Target, th pinwatchd.Thresholds, now func() time.Time) []pinwatchd.Report {
	start := now().UTC()
	if t.MX == "" {
		obs := p.Probe(ctx, t)
		return []pinwatchd.Report{{Name: t.Name, Host: t.Host, Port: t.Port, ProbedAt: start,
			Addresses: obs, Findings: Evaluate(t, obs, th, now())}}
	}
	exchanges, err := p.LookupMX(ctx, t)
	if err != nil {
		return []pinwatchd.Report{{Name: t.Name, Host: t.MX, Port: t.Port, ProbedAt: start,
			Findings: []pinwatchd.Finding{MXFinding(t, err)}}}
	}
	out := make([]pinwatchd.Report, len(exchanges))
	var wg sync.WaitGroup
	for i, ex := range exchanges {
		sub := t.MXTarget(ex.Host)
		wg.Go(func() { out[i] = checkTarget(ctx, p, &sub, th, now)[0] })
	}
	wg.Wait()
	return out
}
