package postgres

import (
	"strings"
	"testing"
)

func TestIsURL(t *testing.T) {
	for s, want := range map[string]bool{
		"postgres://u@db.example.com:5432/pinwatchd?sslmode=verify-full": true,
		"postgresql://u@/pinwatchd?host=/run/postgresql":                 true,
		"/var/lib/pinwatchd/pinwatchd.db":                                false,
		"pinwatchd.db":                                                   false,
		"mysql://u@db/pinwatchd":                                         false,
		"POSTGRES://u@db/x":                                              false, // libpq accepts the lower-case schemes only
	} {
		if got := IsURL(s); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://pinwatchd:hunter2@db.example.com:5432/pw?sslmode=verify-full": "postgres://pinwatchd@db.example.com:5432/pw?sslmode=verify-full",
		"postgres://pinwatchd@db.example.com/pw":                                  "postgres://pinwatchd@db.example.com/pw",
		"postgresql://u@/pw?host=%2Frun%2Fpostgresql&password=hunter2":            "postgresql://u@/pw?host=%2Frun%2Fpostgresql",
		"postgres://u:hunter2@db:bad port/x":                                      "postgres://(a URL that cannot be parsed)",
	} {
		got := Redact(in)
		if got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "hunter2") {
			t.Errorf("Redact(%q) kept the password", in)
		}
	}
}
