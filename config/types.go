package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd/monitor"
)

// The value types of the configuration parse themselves in UnmarshalText, so
// go-toml reports a bad value with its line. Each is a struct on purpose:
// go-toml assigns TOML strings to string-kinded types and TOML integers to
// integer-kinded types directly, without calling UnmarshalText, which would
// let `timeout = 10` through as ten nanoseconds.

// Duration is a length of time written as a Go duration ("90s", "1h30m")
// optionally led by a number of days ("400d", "1d12h").
type Duration struct{ time.Duration }

// ParseDuration parses a duration in the config syntax: an optional sign, an
// optional number of days with the unit d, then a Go duration (units ns, us,
// ms, s, m, h). "0" is zero. The error names the value.
func ParseDuration(s string) (time.Duration, error) {
	v := strings.TrimSpace(s)
	hint := `write e.g. "90s", "15m", "1h30m", "36h" or "30d"`
	if v == "" {
		return 0, fmt.Errorf("duration is empty; %s", hint)
	}
	neg := false
	if v[0] == '-' || v[0] == '+' {
		neg = v[0] == '-'
		v = v[1:]
	}
	var total time.Duration
	i := 0
	for i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] == '.') {
		i++
	}
	if i == len(v) && i > 0 {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f == 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("duration %q has no unit; %s", s, hint)
	}
	if i > 0 && i < len(v) && v[i] == 'd' {
		days, err := strconv.ParseFloat(v[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q is not valid; %s", s, hint)
		}
		if days > float64(maxDays) {
			return 0, fmt.Errorf("duration %q is too long (at most %d days)", s, maxDays)
		}
		total = time.Duration(days * float64(24*time.Hour))
		v = v[i+1:]
	}
	if v != "" {
		if v[0] == '-' || v[0] == '+' {
			return 0, fmt.Errorf("duration %q is not valid: a sign may only lead the value; %s", s, hint)
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("duration %q is not valid (units: s, m, h, d); %s", s, hint)
		}
		if total+d < total {
			return 0, fmt.Errorf("duration %q is too long (at most %d days)", s, maxDays)
		}
		total += d
	}
	if neg {
		total = -total
	}
	return total, nil
}

// maxDays is the longest duration time.Duration holds, in whole days.
const maxDays = int64(1<<63-1) / int64(24*time.Hour)

// UnmarshalText parses the config syntax (see ParseDuration).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// String returns whole days as "Nd" and anything else in Go's form.
func (d Duration) String() string {
	const day = 24 * time.Hour
	if d.Duration != 0 && d.Duration%day == 0 {
		return strconv.FormatInt(int64(d.Duration/day), 10) + "d"
	}
	return d.Duration.String()
}

// MarshalText returns String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Schedule is a validated cron spec: five fields (minute hour day-of-month
// month day-of-week) or a descriptor such as "@hourly" or "@every 5m",
// optionally led by "CRON_TZ=Zone ". The zero value means "not set".
type Schedule struct{ spec string }

// ParseSchedule validates a cron spec with the scheduler's own parser
// (monitor.CheckSchedule), so a spec that passes here runs. The error names
// the value and says how to write one.
func ParseSchedule(s string) (Schedule, error) {
	if err := monitor.CheckSchedule(s); err != nil {
		return Schedule{}, err
	}
	return Schedule{spec: strings.TrimSpace(s)}, nil
}

// MustSchedule is ParseSchedule for constants; it panics on a bad spec.
func MustSchedule(s string) Schedule {
	v, err := ParseSchedule(s)
	if err != nil {
		panic(err)
	}
	return v
}

// UnmarshalText validates the spec (see ParseSchedule).
func (s *Schedule) UnmarshalText(b []byte) error {
	v, err := ParseSchedule(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// String returns the spec as written (trimmed), "" when not set.
func (s Schedule) String() string { return s.spec }

// IsZero reports whether no schedule is set.
func (s Schedule) IsZero() bool { return s.spec == "" }

// MarshalText returns the spec.
func (s Schedule) MarshalText() ([]byte, error) { return []byte(s.spec), nil }

// Date is a calendar date, held as midnight UTC. The config takes it as a
// TOML local date (expires = 2027-06-01) or as a string ("2027-06-01").
type Date struct {
	time.Time
	invalid string // a date-like value that is not a date, reported by Validate with its line
}

// UnmarshalTOML takes the value as written: a TOML local date or a quoted
// string holding one. A value of another type is an error; a string or
// date that is not a valid calendar date is kept for Validate, which
// reports it with its line.
func (d *Date) UnmarshalTOML(raw []byte) error {
	v := strings.TrimSpace(string(raw))
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	} else if len(v) != len(time.DateOnly) {
		return fmt.Errorf("date %s is not a date", v)
	}
	if err := d.UnmarshalText([]byte(v)); err != nil {
		*d = Date{invalid: v}
	}
	return nil
}

// UnmarshalText parses YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("date %q is not valid; write YYYY-MM-DD, e.g. \"2027-06-01\"", b)
	}
	d.Time = t
	return nil
}

// problem says why the date as written is not one; "" for a valid date.
func (d Date) problem() string {
	if d.invalid == "" {
		return ""
	}
	return fmt.Sprintf("date %q is not valid; write YYYY-MM-DD, e.g. \"2027-06-01\"", d.invalid)
}

// String returns YYYY-MM-DD, or "" for the zero date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

// MarshalText returns String.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// HostPort is one explicit address of a target: an IP with an optional port.
// Port 0 means "the target's port".
type HostPort struct {
	Addr netip.Addr
	Port uint16
}

// ParseHostPort accepts "192.0.2.10:443", "192.0.2.10", "[2001:db8::1]:443",
// "[2001:db8::1]" and "2001:db8::1". Host names are refused: addresses
// replace DNS. The error names the value.
func ParseHostPort(s string) (HostPort, error) {
	v := strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(v); err == nil {
		if ap.Port() == 0 {
			return HostPort{}, fmt.Errorf("address %q has port 0; give a port from 1 to 65535 or leave it out to use the target's port", s)
		}
		return HostPort{Addr: ap.Addr(), Port: ap.Port()}, nil
	}
	bare := v
	if len(bare) > 2 && bare[0] == '[' && bare[len(bare)-1] == ']' {
		bare = bare[1 : len(bare)-1]
	}
	if a, err := netip.ParseAddr(bare); err == nil {
		return HostPort{Addr: a}, nil
	}
	return HostPort{}, fmt.Errorf("address %q is not an IP or ip:port; write e.g. \"192.0.2.10:443\", \"192.0.2.10\", \"[2001:db8::1]:443\" or \"2001:db8::1\" (addresses replace DNS, so host names are not accepted)", s)
}

// UnmarshalText parses an address (see ParseHostPort).
func (h *HostPort) UnmarshalText(b []byte) error {
	v, err := ParseHostPort(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// Resolve returns "ip:port", taking defaultPort when the address has none;
// IPv6 literals are bracketed.
func (h HostPort) Resolve(defaultPort int) string {
	p := h.Port
	if p == 0 {
		p = uint16(defaultPort)
	}
	return netip.AddrPortFrom(h.Addr, p).String()
}

// String returns the address as written in canonical form.
func (h HostPort) String() string {
	if h.Port == 0 {
		return h.Addr.String()
	}
	return netip.AddrPortFrom(h.Addr, h.Port).String()
}

// MarshalText returns String.
func (h HostPort) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// Secret is a value that must never be printed: String, GoString and
// MarshalText say only whether it is set. Value returns the text.
type Secret struct{ value string }

// UnmarshalText stores the value.
func (s *Secret) UnmarshalText(b []byte) error { s.value = string(b); return nil }

// Value returns the secret itself, for the one place that uses it.
func (s Secret) Value() string { return s.value }

// IsSet reports whether a value was given.
func (s Secret) IsSet() bool { return s.value != "" }

// String returns "[redacted]" when set, "" otherwise.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return "[redacted]"
}

// GoString is String, so %#v does not print the value either.
func (s Secret) GoString() string { return s.String() }

// MarshalText returns String.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
