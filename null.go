package pinwatchd

import "time"

// NullString returns nil for "", so that JSON shows null where SPEC §5 has
// "or null", and a pointer to s otherwise.
func NullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// NullTime returns nil for the zero time, for JSON null, and the time in UTC
// otherwise.
func NullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
