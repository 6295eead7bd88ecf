package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/querydoc"
	"github.com/pinwatchd/pinwatchd/internal/terminal"
	"github.com/pinwatchd/pinwatchd/internal/textreport"
	"github.com/pinwatchd/pinwatchd/monitor"
	"github.com/pinwatchd/pinwatchd/storage"
	"github.com/pinwatchd/pinwatchd/storage/backend"
)

// recordStore is what `check --record` needs of the database, SQLite or
// PostgreSQL: Record stores one round of observations in one transaction
// and returns the events it derived (chain changes left for the daemon to
// announce); VerifiedLinks the signatures verified chains recorded before
// vouch for; Close releases the database.
type recordStore interface {
	Record(ctx context.Context, obs []pinwatchd.Observation) ([]pinwatchd.Event, error)
	VerifiedLinks(ctx context.Context) ([]storage.VerifiedLink, error)
	Close() error
}

// checkGCPercent is the GOGC of a check run (see runCheck).
const checkGCPercent = 400

const checkUsage = "check [--config F] [--target NAME]… [--json] [--record]"

func runCheck(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "check", checkUsage)
	configFlag := addConfigFlag(fs)
	var only stringList
	fs.Var(&only, "target", "check only the target with this `name` (repeatable)")
	jsonOut := fs.Bool("json", false, "print JSON")
	record := fs.Bool("record", false, "store the observations and history in the database")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) > 0 {
		return fail(e.stderr, "check takes no arguments, got %q; usage: pinwatchd %s", pos[0], checkUsage)
	}
	path := configPath(e, *configFlag)
	cfg, err := config.Load(path, config.Options{SkipSecretFiles: true})
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return exitError
	}
	targets, err := config.SelectTargets(cfg.Targets(), only)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	var (
		db    recordStore
		known map[monitor.SignatureLink]struct{}
	)
	if *record {
		if db, err = backend.Open(ctx, cfg.DatabasePath(e.getenv), backend.Options{PasswordFile: cfg.DatabasePasswordFile}); err != nil {
			return fail(e.stderr, "%v", err)
		}
		defer db.Close()
		// The leaf signatures of chains this database recorded as verified
		// are not checked again: a periodic check of an unchanged fleet
		// spent a third of its CPU on them (SPEC §11).
		if known, err = knownSignatures(ctx, db); err != nil {
			return fail(e.stderr, "%v", err)
		}
	}

	// A check is a short batch whose garbage is mostly TLS handshakes: with
	// the default GOGC its small heap is collected every few megabytes, and
	// collection was an eighth of its CPU (SPEC §11). Collecting at five
	// times the live heap instead costs a few KiB per target of extra peak
	// memory. GOGC in the environment still wins.
	if e.getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(checkGCPercent))
	}
	p := &monitor.Prober{Timeout: cfg.Timeout.Duration, Concurrency: cfg.Concurrency, UserAgent: userAgent(), Now: e.now,
		Resolver: monitor.NewResolver(cfg.Resolver.AddrPort), DNSServer: cfg.Resolver.AddrPort, Vantage: cfg.VantageName(), KnownSignatures: known}
	var progress func(done, total int)
	if isTerminal(e.stderr) && len(targets) > 5 && !*jsonOut {
		progress = func(done, total int) { fmt.Fprintf(e.stderr, "\rprobing: %d/%d targets", done, total) }
		defer fmt.Fprint(e.stderr, "\r\033[K")
	}
	reports := monitor.Check(ctx, p, targets, cfg.Concurrency, cfg.Thresholds(), e.now, progress)
	if ctx.Err() != nil {
		return fail(e.stderr, "check interrupted")
	}
	var changes []pinwatchd.Event // with --record, the chain changes it recorded
	if db != nil {
		var obs []pinwatchd.Observation
		for _, r := range reports {
			obs = append(obs, r.Addresses...)
		}
		events, err := db.Record(ctx, obs)
		if err != nil {
			return fail(e.stderr, "%v", err)
		}
		changes = chainChanges(events)
	}
	var all []pinwatchd.Finding
	for _, r := range reports {
		all = append(all, r.Findings...)
	}
	if *jsonOut {
		if err := writeJSON(e.stdout, checkJSON(reports, *record, changes)); err != nil {
			return fail(e.stderr, "write output: %v", err)
		}
	} else {
		writeText(e.stdout, func(w io.Writer) { textreport.Check(w, reports, *record, changes) })
	}
	return pinwatchd.Worst(all).ExitCode()
}

// knownSignatures returns the links of the verified chains db recorded, for
// Prober.KnownSignatures.
func knownSignatures(ctx context.Context, db recordStore) (map[monitor.SignatureLink]struct{}, error) {
	links, err := db.VerifiedLinks(ctx)
	if err != nil {
		return nil, err
	}
	known := make(map[monitor.SignatureLink]struct{}, len(links))
	for _, l := range links {
		known[monitor.SignatureLink{Cert: l.Cert, Issuer: l.Issuer}] = struct{}{}
	}
	return known, nil
}

// chainChanges keeps the chain_changed events of events, in order.
func chainChanges(events []pinwatchd.Event) []pinwatchd.Event {
	var out []pinwatchd.Event
	for _, ev := range events {
		if ev.Event == pinwatchd.EventChainChanged {
			out = append(out, ev)
		}
	}
	return out
}

// checkTargetJSON is one target of `check --json`: its report and, with
// --record, the chain_changed events recording it found, in the shape of
// `history --json` (absent without --record: nothing was recorded).
type checkTargetJSON struct {
	pinwatchd.Report
	Events *[]querydoc.Event `json:"events,omitempty"`
}

// checkDocJSON is the document `check --json` prints (SPEC §5).
type checkDocJSON struct {
	Targets []checkTargetJSON `json:"targets"`
}

// checkJSON returns the reports, with the chain changes recorded when
// recorded is set, as `check --json` prints them.
func checkJSON(reports []pinwatchd.Report, recorded bool, changes []pinwatchd.Event) checkDocJSON {
	byTarget := map[string][]pinwatchd.Event{}
	for _, ev := range changes {
		byTarget[ev.Target] = append(byTarget[ev.Target], ev)
	}
	targets := make([]checkTargetJSON, 0, len(reports))
	for _, r := range normalizeReports(reports) {
		t := checkTargetJSON{Report: r}
		if recorded {
			events := querydoc.Events(byTarget[r.Name])
			t.Events = &events
		}
		targets = append(targets, t)
	}
	return checkDocJSON{Targets: targets}
}

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && terminal.IsTerminal(f)
}
