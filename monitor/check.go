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
// left with an empty report.
func Check(ctx context.Context, p *Prober, targets []pinwatchd.Target, workers int, th pinwatchd.Thresholds, now func() time.Time, progress func(done, total int)) []pinwatchd.Report {
	reports := make([]pinwatchd.Report, len(targets))
	jobs := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for range max(1, min(workers, len(targets))) {
		wg.Go(func() {
			for i := range jobs {
				t := &targets[i]
				start := now().UTC()
				obs := p.Probe(ctx, t)
				reports[i] = pinwatchd.Report{
					Name: t.Name, Host: t.Host, Port: t.Port, ProbedAt: start,
					Addresses: obs, Findings: Evaluate(t, obs, th, now()),
				}
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
	return reports
}
