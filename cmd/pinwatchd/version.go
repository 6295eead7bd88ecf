package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = ""
)

// buildCommit returns the stamped commit, else the VCS revision the Go
// toolchain recorded, else "unknown".
func buildCommit() string {
	if commit != "" {
		return commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}

func runVersion(_ context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "version", "version")
	if _, err := parseInterleaved(fs, args); err != nil {
		return flagError(err)
	}
	fmt.Fprintf(e.stdout, "pinwatchd %s (commit %s, %s %s/%s)\n", version, buildCommit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
