// Command pinwatchd watches TLS endpoints for certificate-pinning mistakes.
// See README.md for the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Exit codes shared by every command (the Nagios convention for check and
// probe).
const (
	exitOK       = 0
	exitWarning  = 1
	exitCritical = 2
	exitError    = 3 // could not run: bad usage, bad config, database error
)

// env is what a command may touch of the outside world, so tests can run
// commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
}

// command is one subcommand. run returns the process exit code.
type command struct {
	name    string
	usage   string // one line: "probe HOST[:PORT] [flags]"
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

// commands lists every subcommand, in the order `pinwatchd help` shows them.
var commands = []command{
	{"alerts", "alerts [flags]", "open alerts (with --all, resolved ones too)", runAlerts},
	{"certs", "certs [flags]", "what every configured target serves now, per address (--all: the others too)", runCerts},
	{"check", "check [flags]", "probe the configured targets once and print findings", runCheck},
	{"config", "config check [--config F]", "validate the config file, listing every problem with its line", runConfig},
	{"demo", "demo [--keep]", "offline tour: loopback endpoints, live alerts, a key rotation", runDemo},
	{"history", "history [TARGET] [flags]", "when keys, certificates and issuers changed, per address", runHistory},
	{"nodes", "nodes [flags]", "the nodes sharing the database and when each last reported", runNodes},
	{"pin", "pin [flags] FILE…", "print the pins of certificates, keys and CSRs", runPin},
	{"preflight", "preflight [flags] FILE…", "before a rotation: would this certificate, chain, key or CSR break pinned clients?", runPreflight},
	{"probe", "probe HOST[:PORT] [flags]", "probe one endpoint now, no config needed", runProbe},
	{"report", "report --html FILE [flags]", "the dashboard's pages as one self-contained HTML file", runReport},
	{"run", "run [flags]", "run the daemon: probe on schedule, alert, record history", runRun},
	{"version", "version", "print version, commit and Go version", runVersion},
}

// lookup returns the command called name.
func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now}
	os.Exit(runMain(ctx, e, os.Args[1:]))
}

// runMain dispatches args to a subcommand and returns the exit code.
func runMain(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(e.stdout)
		if len(args) == 0 {
			return exitError
		}
		return exitOK
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(e.stderr, "pinwatchd: unknown command %q; run 'pinwatchd help' for the list\n", args[0])
		return exitError
	}
	return c.run(ctx, e, args[1:])
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "pinwatchd watches TLS endpoints for certificate-pinning mistakes.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage:")
	for _, c := range commands {
		fmt.Fprintf(w, "  pinwatchd %-30s %s\n", c.usage, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'pinwatchd COMMAND -h' for a command's flags.")
}
