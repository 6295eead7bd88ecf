package storage

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// alertsYear is the database BenchmarkAlertsYear builds once per process: a
// copy of the year of history of BenchmarkHistoryYear with the alerts that
// year raised.
var alertsYear struct {
	once   sync.Once
	path   string
	alerts int // every alert stored
	open   int // of which open
	err    error
}

// buildAlertsYear copies the history database and adds a year of alerts for
// its 1,000 targets: every outage of BenchmarkHistoryYear opened a timeout
// alert that resolved three hours later, one target in ten has a
// missing_backup_pin warning open since the start and one in a hundred a
// cert_expiring warning open for the last week.
func buildAlertsYear(ctx context.Context) error {
	historyYear.once.Do(func() { historyYear.err = buildHistoryYear(ctx) })
	if historyYear.err != nil {
		return historyYear.err
	}
	alertsYear.path = filepath.Join(historyYear.dir, "alerts-year.db")
	if err := copyFile(historyYear.path, alertsYear.path); err != nil {
		return err
	}
	db, err := Open(ctx, alertsYear.path)
	if err != nil {
		return err
	}
	defer db.Close()
	const targets, hours = 1000, 365 * 24
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	for j := range targets {
		name := fmt.Sprintf("target-%04d", j)
		var as []pinwatchd.Alert
		for _, h := range []int{(j*131)%(hours-10) + 1, (j*977)%(hours-10) + 1} {
			as = append(as, pinwatchd.Alert{Target: name, Kind: pinwatchd.KindTimeout, Severity: pinwatchd.SeverityCritical,
				Subject: "192.0.2.1:443", Addresses: []string{"192.0.2.1:443"}, State: pinwatchd.AlertResolved,
				Message: "TLS handshake with 192.0.2.1:443 timed out after 10s", ResolveReason: "the address answered again",
				OpenedAt: at(h + 1), ResolvedAt: at(h + 3), LastNotifiedAt: at(h + 3)})
		}
		if j%10 == 0 {
			as = append(as, pinwatchd.Alert{Target: name, Kind: pinwatchd.KindMissingBackupPin, Severity: pinwatchd.SeverityWarning,
				Subject: "ios-app", State: pinwatchd.AlertOpen, Message: "pin-set ios-app holds no backup pin",
				OpenedAt: at(0), LastNotifiedAt: at(hours - 24)})
		}
		if j%100 == 0 {
			as = append(as, pinwatchd.Alert{Target: name, Kind: pinwatchd.KindCertExpiring, Severity: pinwatchd.SeverityWarning,
				Subject: fmt.Sprintf("%064x", j), Addresses: []string{"192.0.2.1:443"}, State: pinwatchd.AlertOpen,
				Message: "the leaf certificate expires in 29 days", OpenedAt: at(hours - 7*24), LastNotifiedAt: at(hours - 7*24)})
		}
		for _, a := range as {
			alertsYear.alerts++
			if a.State == pinwatchd.AlertOpen {
				alertsYear.open++
			}
		}
		if err := db.SaveAlerts(ctx, as, nil); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// BenchmarkAlertsYear measures Alerts, as `pinwatchd alerts` and `alerts
// --all` call it, on a year of history and alerts of 1,000 targets (SPEC
// §11: under 50 ms).
func BenchmarkAlertsYear(b *testing.B) {
	alertsYear.once.Do(func() { alertsYear.err = buildAlertsYear(b.Context()) })
	if alertsYear.err != nil {
		b.Fatal(alertsYear.err)
	}
	db, err := OpenReadOnly(b.Context(), alertsYear.path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		name string
		all  bool
		want int
	}{
		{"open", false, alertsYear.open},
		{"all", true, alertsYear.alerts},
	} {
		b.Run(c.name, func(b *testing.B) {
			n := 0
			cpu0 := cpuTime()
			for b.Loop() {
				as, err := db.Alerts(b.Context(), c.all)
				if err != nil {
					b.Fatal(err)
				}
				n = len(as)
			}
			if n != c.want {
				b.Fatalf("Alerts(all=%v) returned %d alerts, stored %d", c.all, n, c.want)
			}
			b.ReportMetric(float64(n), "alerts")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
