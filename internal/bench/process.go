package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Usage is what one child process cost, from its rusage.
type Usage struct {
	Wall   time.Duration // from start to exit, as the parent saw it
	User   time.Duration
	System time.Duration
	MaxRSS int64 // peak resident set size in bytes
}

// CPU returns user plus system time.
func (u Usage) CPU() time.Duration { return u.User + u.System }

// RunChild runs name with args and extra environment variables to
// completion and returns its resource usage. A non-zero exit status is an
// error quoting the end of its standard error.
func RunChild(ctx context.Context, name string, args, env []string) (Usage, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	u := Usage{Wall: time.Since(start)}
	if cmd.ProcessState != nil {
		u.User, u.System = cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			u.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	if err != nil {
		return u, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, tail(stderr.String(), 400))
	}
	return u, nil
}

// tail returns at most the last n bytes of s, trimmed.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// Spread is the minimum, median and maximum of some measurements.
type Spread struct {
	Min, Median, Max float64
	N                int
}

// SpreadOf returns the spread of xs; the median of an even count is the
// mean of the middle two. The zero Spread for no values.
func SpreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Min: s[0], Median: m, Max: s[len(s)-1], N: len(s)}
}

// Format renders the spread with format for each value:
// "median (min … max, n=N)".
func (s Spread) Format(format string) string {
	return fmt.Sprintf(format+" (min "+format+", max "+format+", n=%d)", s.Median, s.Min, s.Max, s.N)
}
