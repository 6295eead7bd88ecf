package pinwatchd

import "fmt"

// Severity ranks findings. The zero value is SeverityInfo.
type Severity int

// Severities in increasing order.
const (
	SeverityInfo Severity = iota
	SeverityWarning
	SeverityCritical
)

// String returns "info", "warning" or "critical".
func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityCritical:
		return "critical"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity is the inverse of String.
func ParseSeverity(s string) (Severity, error) {
	switch s {
	case "info":
		return SeverityInfo, nil
	case "warning":
		return SeverityWarning, nil
	case "critical":
		return SeverityCritical, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning or critical)", s)
}

// MarshalText encodes the severity as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ExitCode maps the worst severity of a run to the Nagios convention used by
// `check` and `probe`: 0 for none above info, 1 for warning, 2 for critical.
func (s Severity) ExitCode() int {
	switch s {
	case SeverityWarning:
		return 1
	case SeverityCritical:
		return 2
	}
	return 0
}

// Label is the severity as human reports show it: CRITICAL in capitals so
// it stands out, the others as String.
func (s Severity) Label() string {
	if s == SeverityCritical {
		return "CRITICAL"
	}
	return s.String()
}
