package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/pinwatchd/pinwatchd/internal/logkey"
)

// pruneEvery is how often retention pruning runs.
const pruneEvery = 6 * time.Hour

// pruneLoop applies retention a minute after start and then every
// pruneEvery until ctx is done.
func (d *Daemon) pruneLoop(ctx context.Context) {
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		retention := d.config().Retention.Duration
		stats, err := d.db.Prune(ctx, d.opts.Now().Add(-retention))
		if err != nil {
			d.log.Error("prune old history", logkey.Err, err)
		} else {
			d.log.Debug("pruned old history", "stats", fmt.Sprintf("%+v", stats))
		}
		timer.Reset(pruneEvery)
	}
}

// refreshGauges updates the gauges read from the database (open alerts,
// pending and undeliverable notifications) every interval until ctx is
// done.
func (d *Daemon) refreshGauges(ctx context.Context, interval time.Duration) {
	for {
		// The metrics are created when the listener is first on, perhaps
		// by a reload.
		if m := d.meter(); m != nil {
			if as, err := d.db.Alerts(ctx, false); err == nil {
				counts := map[[2]string]int{}
				for _, a := range as {
					counts[[2]string{string(a.Kind), a.Severity.String()}]++
				}
				m.SetAlertsOpen(counts)
			}
			if n, _, err := d.db.PendingCount(ctx); err == nil {
				m.SetNotificationsPending(n)
			}
		}
		if u, err := d.db.Undeliverable(ctx); err == nil {
			d.metrics.SetNotificationsUndeliverable(u.Count)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
