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
	{"NameStatePerVantage", checkNameStatePerVantage},
}

func checkNameState(t *testing.T, newDB Factory) {
	db := newDB(t)
	ctx := t.Context()
	s := db.Store
	if got, err := s.NameState(ctx, "api", "eu"); err != nil || got.Unresolved != 0 || len(got.Absent) != 0 {
		t.Fatalf("NameState of a new target = %+v, %v; want the zero state", got, err)
	}

	want := pinwatchd.NameState{Unresolved: 3, Absent: map[string]int{"127.0.0.2:443": 1, "[::1]:443": 2}}
	if err := s.SaveNameState(ctx, "api", "eu", want); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveNameState(ctx, "web", "eu", pinwatchd.NameState{Unresolved: 1}); err != nil {
		t.Fatal(err)
	}
	// Replaced, not merged: what is not in the new state is forgotten.
	want = pinwatchd.NameState{Absent: map[string]int{"127.0.0.2:443": 2, "127.0.0.3:443": 0}}
	if err := s.SaveNameState(ctx, "api", "eu", want); err != nil {
		t.Fatal(err)
	}
	got, err := s.NameState(ctx, "api", "eu")
	if err != nil {
		t.Fatal(err)
	}
	if got.Unresolved != 0 || !maps.Equal(got.Absent, map[string]int{"127.0.0.2:443": 2}) {
		t.Errorf("NameState(api) = %+v, want only 127.0.0.2:443 absent twice (zero counts are not kept)", got)
	}
	if got, _ := s.NameState(ctx, "web", "eu"); got.Unresolved != 1 || got.Absent != nil {
		t.Errorf("NameState(web) = %+v, want unresolved once: another target's state is its own", got)
	}

	// It survives a reopen; the zero state deletes the rows.
	s.Close()
	ro := openReadOnly(t, db)
	if got, _ := ro.NameState(ctx, "api", "eu"); !maps.Equal(got.Absent, map[string]int{"127.0.0.2:443": 2}) {
		t.Errorf("after a reopen NameState(api) = %+v", got)
	}
	if err := ro.SaveNameState(ctx, "api", "eu", pinwatchd.NameState{}); !errors.Is(err, storage.ErrReadOnly) {
		t.Errorf("SaveNameState on a read-only database: %v, want ErrReadOnly", err)
	}
	rw := reopen(t, db)
	if err := rw.SaveNameState(ctx, "api", "eu", pinwatchd.NameState{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := rw.NameState(ctx, "api", "eu"); got.Unresolved != 0 || got.Absent != nil {
		t.Errorf("after saving the zero state NameState(api) = %+v, want nothing", got)
	}
	if got, _ := rw.NameState(ctx, "web", "eu"); got.Unresolved != 1 {
		t.Errorf("after api's state was forgotten NameState(web) = %+v, want unresolved once still", got)
	}
}

// Each vantage resolves names from where it is (split horizon), so each
// keeps its own name state of one target; the state stored before vantages
// existed (the empty vantage) is what a vantage with none of its own starts from,
// until its first save takes it over.
func checkNameStatePerVantage(t *testing.T, newDB Factory) {
	db := newDB(t)
	ctx := t.Context()
	s := db.Store
	save := func(target, vantage string, st pinwatchd.NameState) {
		t.Helper()
		if err := s.SaveNameState(ctx, target, vantage, st); err != nil {
			t.Fatalf("SaveNameState(%s, %q): %v", target, vantage, err)
		}
	}
	state := func(target, vantage string) pinwatchd.NameState {
		t.Helper()
		got, err := s.NameState(ctx, target, vantage)
		if err != nil {
			t.Fatalf("NameState(%s, %q): %v", target, vantage, err)
		}
		return got
	}

	// A node from before vantages left api unresolved twice, with an
	// alerted address missing once, and web unresolved once.
	old := pinwatchd.NameState{Unresolved: 2, Absent: map[string]int{"127.0.0.2:443": 1}}
	save("api", "", old)
	save("web", "", pinwatchd.NameState{Unresolved: 1})
	for _, v := range []string{"eu", "us"} {
		if got := state("api", v); got.Unresolved != 2 || !maps.Equal(got.Absent, old.Absent) {
			t.Errorf("NameState(api, %s) before any save of its own = %+v, want the state from before vantages %+v", v, got, old)
		}
	}

	// eu's first save takes the old rows over: they are gone for everyone,
	// eu has its own, and another target's old rows stay.
	save("api", "eu", pinwatchd.NameState{Unresolved: 3})
	if got := state("api", "eu"); got.Unresolved != 3 || got.Absent != nil {
		t.Errorf("NameState(api, eu) = %+v, want unresolved 3", got)
	}
	if got := state("api", ""); got.Unresolved != 0 || got.Absent != nil {
		t.Errorf("NameState(api, '') after eu saved = %+v, want nothing: eu took the old rows over", got)
	}
	if got := state("api", "us"); got.Unresolved != 0 || got.Absent != nil {
		t.Errorf("NameState(api, us) after eu saved = %+v, want nothing", got)
	}
	if got := state("web", "eu"); got.Unresolved != 1 {
		t.Errorf("NameState(web, eu) = %+v, want the old unresolved 1: eu saved api, not web", got)
	}

	// us, whose resolver answers, keeps its own state beside eu's.
	save("api", "us", pinwatchd.NameState{Absent: map[string]int{"127.0.0.3:443": 2}})
	if got := state("api", "us"); got.Unresolved != 0 || !maps.Equal(got.Absent, map[string]int{"127.0.0.3:443": 2}) {
		t.Errorf("NameState(api, us) = %+v, want 127.0.0.3:443 absent twice", got)
	}
	if got := state("api", "eu"); got.Unresolved != 3 || got.Absent != nil {
		t.Errorf("NameState(api, eu) after us saved = %+v, want unresolved 3 still", got)
	}

	// Forgetting one vantage's state leaves the other's.
	save("api", "eu", pinwatchd.NameState{})
	if got := state("api", "us"); !maps.Equal(got.Absent, map[string]int{"127.0.0.3:443": 2}) {
		t.Errorf("NameState(api, us) after eu forgot its state = %+v, want 127.0.0.3:443 absent twice", got)
	}
	if got := state("api", "eu"); got.Unresolved != 0 || got.Absent != nil {
		t.Errorf("NameState(api, eu) after saving the zero state = %+v, want nothing", got)
	}

	// A vantage with rows of its own ignores any of vantage ''.
	save("api", "", pinwatchd.NameState{Unresolved: 9})
	if got := state("api", "us"); got.Unresolved != 0 || !maps.Equal(got.Absent, map[string]int{"127.0.0.3:443": 2}) {
		t.Errorf("NameState(api, us) with rows of '' beside = %+v, want its own 127.0.0.3:443 absent twice", got)
	}
}
