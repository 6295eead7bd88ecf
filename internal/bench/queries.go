package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// BudgetQuery is SPEC §11's budget for the whole history, alerts and certs
// commands, process start to exit, on a year of history of 1,000 targets.
const BudgetQuery = 100 * time.Millisecond

// queryTargets is the size of the config the query commands load: the
// year database's 1,000 targets (target-0000 …), as an operator's
// /etc/pinwatchd/config.toml would list them.
const queryTargets = 1000

// measureQueries runs `pinwatchd history`, `alerts`, `alerts --all` and
// `certs` as whole processes on a copy of db (a year of history, written
// by `go test ./storage -bench AlertsYear -args -year-db PATH`), runs
// times each after one unmeasured run, and reports their wall time (the
// budget) and CPU. Their output goes to /dev/null.
func measureQueries(ctx context.Context, w io.Writer, dir, bin, db string, runs int) error {
	qdir := filepath.Join(dir, "queries")
	if err := os.MkdirAll(qdir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", qdir, err)
	}
	b, err := os.ReadFile(db)
	if err != nil {
		return fmt.Errorf("read the year database: %w", err)
	}
	path := filepath.Join(qdir, "year.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	cfg := filepath.Join(qdir, "year.toml")
	if err := os.WriteFile(cfg, []byte(queryConfig(path)), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n== Query commands: whole processes on a year of history (%s), config of %d targets ==\n", db, queryTargets)
	fmt.Fprintf(w, "%-16s %26s %26s  %s\n", "command", "wall ms", "CPU ms", "budget")
	for _, args := range [][]string{{"history"}, {"alerts"}, {"alerts", "--all"}, {"certs"}} {
		argv := slices.Concat(args, []string{"--config", cfg})
		if _, err := RunChild(ctx, bin, argv, nil); err != nil {
			return err
		}
		var wall, cpu []float64
		for range runs {
			u, err := RunChild(ctx, bin, argv, nil)
			if err != nil {
				return err
			}
			wall, cpu = append(wall, ms(u.Wall)), append(cpu, ms(u.CPU()))
		}
		ws := SpreadOf(wall)
		fmt.Fprintf(w, "%-16s %26s %26s  < %s: %s\n", strings.Join(args, " "), ws.Format("%.1f"), SpreadOf(cpu).Format("%.1f"),
			BudgetQuery, verdict(ws.Median < ms(BudgetQuery)))
	}
	return nil
}

// queryConfig is a config of queryTargets targets on the database at path.
func queryConfig(path string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "database = %q\n", path)
	for i := range queryTargets {
		fmt.Fprintf(&b, "\n[[target]]\nname = \"target-%04d\"\nhost = \"target-%04d.example.com\"\n", i, i)
	}
	return b.String()
}
