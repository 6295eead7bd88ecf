package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/pinwatchd/pinwatchd/config"
)

// newFlagSet returns a flag set for a subcommand that reports errors to the
// caller instead of exiting.
func newFlagSet(e *env, c string, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(c, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: pinwatchd %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterleaved parses flags that may appear before, between or after the
// positional arguments (`probe example.com --json`), which the standard
// library alone does not allow. It returns the positional arguments. A lone
// "--" ends flag parsing. flag.ErrHelp is returned for -h.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse consumed a "--" terminator if the previous arg was one.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagError prints a flag parsing error's outcome and returns the exit code:
// 0 for -h, 3 otherwise (the flag package has already printed the message
// and usage).
func flagError(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitError
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// fail prints one sentence to stderr and returns exitError.
func fail(w io.Writer, format string, a ...any) int {
	fmt.Fprintf(w, "pinwatchd: "+format+"\n", a...)
	return exitError
}

// configPath returns the config file to use: the --config flag, else
// $PINWATCHD_CONFIG, else /etc/pinwatchd/config.toml.
func configPath(e *env, flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := e.getenv("PINWATCHD_CONFIG"); v != "" {
		return v
	}
	return config.DefaultFile
}

// addConfigFlag registers --config on fs; pass its value to configPath.
func addConfigFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "config `file` (default $PINWATCHD_CONFIG, else "+config.DefaultFile+")")
}
