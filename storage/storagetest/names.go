package storagetest

import (
	"errors"
	"maps"
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/storage"
)

var nameChecks = []check{
	{"NameState", checkNameState},
}

func checkNameState(t *testing.T, newDB Factory) {
	db := newDB(t)
	ctx := t.Context()
	s := db.Store
	if got, err := s.NameState(ctx, "api"); err != nil || got.Unresolved != 0 || len(got.Absent) != 0 {
		t.Fatalf("NameState of a new target = %+v, %v; want the zero state", got, err)
	}

	want := pinwatchd.NameState{Unresolved: 3, Absent: map[string]int{"127.0.0.2:443": 1, "[::1]:443": 2}}
	if err := s.SaveNameState(ctx, "api", want); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveNameState(ctx, "web", pinwatchd.NameState{Unresolved: 1}); err != nil {
		t.Fatal(err)
	}
	// Replaced, not merged: what is not in the new state is forgotten.
	want = pinwatchd.NameState{Absent: map[string]int{"127.0.0.2:443": 2, "127.0.0.3:443": 0}}
	if err := s.SaveNameState(ctx, "api", want); err != nil {
		t.Fatal(err)
	}
	got, err := s.NameState(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	if got.Unresolved != 0 || !maps.Equal(got.Absent, map[string]int{"127.0.0.2:443": 2}) {
		t.Errorf("NameState(api) = %+v, want only 127.0.0.2:443 absent twice (zero counts are not kept)", got)
	}
	if got, _ := s.NameState(ctx, "web"); got.Unresolved != 1 || got.Absent != nil {
		t.Errorf("NameState(web) = %+v, want unresolved once: another target's state is its own", got)
	}

	// It survives a reopen; the zero state deletes the rows.
	s.Close()
	ro := openReadOnly(t, db)
	if got, _ := ro.NameState(ctx, "api"); !maps.Equal(got.Absent, map[string]int{"127.0.0.2:443": 2}) {
		t.Errorf("after a reopen NameState(api) = %+v", got)
	}
	if err := ro.SaveNameState(ctx, "api", pinwatchd.NameState{}); !errors.Is(err, storage.ErrReadOnly) {
		t.Errorf("SaveNameState on a read-only database: %v, want ErrReadOnly", err)
	}
	rw := reopen(t, db)
	if err := rw.SaveNameState(ctx, "api", pinwatchd.NameState{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := rw.NameState(ctx, "api"); got.Unresolved != 0 || got.Absent != nil {
		t.Errorf("after saving the zero state NameState(api) = %+v, want nothing", got)
	}
}
