package web

import (
	"bufio"
	"context"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// ReportSummary says what WriteReport wrote.
type ReportSummary struct {
	Targets    int // configured targets, one section each
	OpenAlerts int
	Bytes      int64
}

// WriteReport writes the dashboard's pages as one self-contained HTML
// document to w: the fleet, the alerts, the expiry timeline and a section
// per configured target in fleet order, linked by in-page anchors, with the
// stylesheet inline and nothing to load from anywhere. Target histories and
// the resolved alerts start at since; a zero since gives the whole retained
// history and the alerts resolved in the last seven days. It reads the
// store in a fixed number of queries whatever the size of the fleet.
func WriteReport(ctx context.Context, w io.Writer, o Options, since time.Time) (ReportSummary, error) {
	r, err := buildReport(ctx, &o, since)
	if err != nil {
		return ReportSummary{}, fmt.Errorf("build report: %w", err)
	}
	cw := &countingWriter{w: bufio.NewWriterSize(w, 64<<10)}
	if err := render(cw, "report", r); err != nil {
		return ReportSummary{}, err
	}
	if err := cw.w.(*bufio.Writer).Flush(); err != nil {
		return ReportSummary{}, fmt.Errorf("write report: %w", err)
	}
	return ReportSummary{Targets: len(r.Targets), OpenAlerts: len(r.Alerts.Body.(*AlertsPage).Open), Bytes: cw.n}, nil
}

// WriteReportFile writes the report (see WriteReport) to a new file beside
// path, mode 0644, and renames it over path, so a failed run never leaves
// half a report behind. Errors name path.
func WriteReportFile(ctx context.Context, path string, o Options, since time.Time) (ReportSummary, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return ReportSummary{}, fmt.Errorf("write report %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // after the rename, there is nothing left to remove
	sum, err := WriteReport(ctx, f, o, since)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return ReportSummary{}, fmt.Errorf("write report %s: %w", path, err)
	}
	return sum, nil
}

// report is the data of the "report" template: each page as a section.
type report struct {
	CSS       template.CSS
	Generated time.Time
	L         links
	Since     *time.Time
	Fleet     page
	Alerts    page
	Expiry    page
	Targets   []page
}

func buildReport(ctx context.Context, o *Options, since time.Time) (*report, error) {
	f := o.Fleet()
	now := o.now()
	obs, err := o.Store.RecentObservations(ctx, "")
	if err != nil {
		return nil, err
	}
	all, err := o.Store.Alerts(ctx, true)
	if err != nil {
		return nil, err
	}
	pending, attempts, err := o.Store.PendingCount(ctx)
	if err != nil {
		return nil, err
	}
	undeliverable, err := o.Store.Undeliverable(ctx)
	if err != nil {
		return nil, err
	}
	events, err := o.Store.History(ctx, "", since)
	if err != nil {
		return nil, err
	}
	recent := groupRecent(obs)
	var open []pinwatchd.Alert
	for _, a := range all {
		if a.State == pinwatchd.AlertOpen {
			open = append(open, a)
		}
	}
	byTarget := map[string][]pinwatchd.Event{}
	for _, e := range events {
		byTarget[e.Target] = append(byTarget[e.Target], e)
	}
	l := links{report: true}
	section := func(title, nav string, body any) page {
		return page{Title: title, Nav: nav, L: l, Report: true, Generated: now, Body: body}
	}
	fleet := buildFleetPage(f, recent, open, now, "", "")
	alerts := buildAlertsPage(f, all, pending, attempts, since, now)
	alerts.markUndeliverable(undeliverable)
	fleet.fillCells(l)
	r := &report{
		CSS: pageCSS(), Generated: now, L: l, Since: pinwatchd.NullTime(since),
		Fleet:  section("Fleet", "fleet", fleet),
		Alerts: section("Alerts", "alerts", alerts),
		Expiry: section("Expiry", "expiry", buildExpiryPage(f, recent, now)),
	}
	for _, row := range fleet.Targets {
		t := findTarget(f.Targets, row.Name)
		p := buildTargetPage(f, t, recent[t.Name], open, byTarget[t.Name], since, now)
		markUndeliverable(p.Alerts, undeliverable)
		r.Targets = append(r.Targets, section(t.Name, "target", p))
	}
	return r, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
