package pinwatchd_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

func TestSeverityText(t *testing.T) {
	tests := []struct {
		sev  pinwatchd.Severity
		text string
	}{
		{pinwatchd.SeverityInfo, "info"},
		{pinwatchd.SeverityWarning, "warning"},
		{pinwatchd.SeverityCritical, "critical"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := tt.sev.String(); got != tt.text {
				t.Errorf("String() = %q, want %q", got, tt.text)
			}
			if got, err := pinwatchd.ParseSeverity(tt.text); err != nil || got != tt.sev {
				t.Errorf("ParseSeverity(%q) = %v, %v; want %v", tt.text, got, err, tt.sev)
			}
			b, err := json.Marshal(tt.sev)
			if want := strconv.Quote(tt.text); err != nil || string(b) != want {
				t.Errorf("json.Marshal = %s, %v; want %s", b, err, want)
			}
			var back pinwatchd.Severity = -1
			if err := json.Unmarshal(b, &back); err != nil || back != tt.sev {
				t.Errorf("json.Unmarshal(%s) = %v, %v; want %v", b, back, err, tt.sev)
			}
		})
	}
}

func TestParseSeverityErrors(t *testing.T) {
	for _, in := range []string{"", "warn", "error", "fatal", "2"} {
		t.Run(in, func(t *testing.T) {
			s, err := pinwatchd.ParseSeverity(in)
			if err == nil {
				t.Fatalf("ParseSeverity(%q) = %v, want an error", in, s)
			}
			if !strings.Contains(err.Error(), strconv.Quote(in)) {
				t.Errorf("error %q does not name the value %q", err, in)
			}
			var u pinwatchd.Severity
			if err := u.UnmarshalText([]byte(in)); err == nil {
				t.Errorf("UnmarshalText(%q) = %v, want an error", in, u)
			}
		})
	}
}

// The zero value is info, so a finding built without a severity never
// counts as a warning.
func TestSeverityZeroAndOrder(t *testing.T) {
	var zero pinwatchd.Severity
	if zero != pinwatchd.SeverityInfo {
		t.Errorf("zero Severity = %v, want info", zero)
	}
	if !(pinwatchd.SeverityInfo < pinwatchd.SeverityWarning && pinwatchd.SeverityWarning < pinwatchd.SeverityCritical) {
		t.Error("severities are not ordered info < warning < critical")
	}
}

// ExitCode follows the Nagios convention of `check` and `probe` (SPEC §5).
func TestSeverityExitCode(t *testing.T) {
	tests := []struct {
		sev  pinwatchd.Severity
		want int
	}{
		{pinwatchd.SeverityInfo, 0},
		{pinwatchd.SeverityWarning, 1},
		{pinwatchd.SeverityCritical, 2},
	}
	for _, tt := range tests {
		t.Run(tt.sev.String(), func(t *testing.T) {
			if got := tt.sev.ExitCode(); got != tt.want {
				t.Errorf("ExitCode() = %d, want %d", got, tt.want)
			}
		})
	}
}
