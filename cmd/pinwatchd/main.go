// Command pinwatchd watches TLS endpoints for certificate-pinning mistakes.
// See README.md for the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
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

var commands = map[string]command{}

// register adds a subcommand; each command's file calls it from init.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("duplicate command " + c.name)
	}
	commands[c.name] = c
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
	c, ok := commands[args[0]]
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
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  pinwatchd %-30s %s\n", commands[n].usage, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'pinwatchd COMMAND -h' for a command's flags.")
}
