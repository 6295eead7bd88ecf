package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/storage"
)

// sharedChecks are the promises that let several nodes share one database
// (SPEC §14): alerts and their sites, moved one node at a time.
var sharedChecks = []check{
	{"AlertSitesKept", checkAlertSites},
	{"AlertSitesOfCodeWithoutVantage", checkAlertSitesWithoutVantage},
	{"UpdateAlertsSerialisesNodes", checkUpdateAlertsSerialises},
	{"UpdateAlertsErrorStoresNothing", checkUpdateAlertsError},
	{"ReleaseOwnersUnderFreesAPreviousLife", checkReleaseOwnersUnder},
}

// A node restarted after a crash frees the claims of its previous life
// (owners named after its vantage) and only those: another node's lease,
// even one whose vantage starts with the same letters, keeps running.
func checkReleaseOwnersUnder(t *testing.T, newDB Factory) {
	db := newDB(t)
	ctx := t.Context()
	for i, channel := range []string{"#a", "#ab"} {
		a := newAlert(fmt.Sprintf("t%d", i), pinwatchd.KindPinMismatch, "ios")
		n := pinwatchd.Notification{Channel: channel, Type: pinwatchd.ChangeOpened, Alert: &a, CreatedAt: t0}
		if err := db.Store.SaveAlerts(ctx, []pinwatchd.Alert{a}, []pinwatchd.Notification{n}); err != nil {
			t.Fatal(err)
		}
	}
	now, lease := t0.Add(2*time.Second), t0.Add(30*time.Second)
	claim := func(owner string, at time.Time) []string {
		t.Helper()
		ns, err := db.Store.Claim(ctx, owner, at, lease, 10)
		if err != nil {
			t.Fatalf("Claim(%s) = %v", owner, err)
		}
		var channels []string
		for _, n := range ns {
			channels = append(channels, n.Channel)
		}
		slices.Sort(channels)
		return channels
	}
	// The crashed life of node "a" holds #a (claimed while #ab was
	// paused); node "ab" then holds #ab.
	if err := db.Store.Pause(ctx, "#ab", t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := claim("a/41/old", t0); !slices.Equal(got, []string{"#a"}) {
		t.Fatalf("a's old life claims %v, want #a (#ab is paused)", got)
	}
	if got := claim("ab/7/x", now); !slices.Equal(got, []string{"#ab"}) {
		t.Fatalf("node ab claims %v, want #ab (a holds #a)", got)
	}
	if got := claim("a/42/new", now); len(got) != 0 {
		t.Fatalf("before the release, the new life of a claims %v, want nothing", got)
	}
	if err := db.Store.ReleaseOwnersUnder(ctx, ""); err == nil {
		t.Error("ReleaseOwnersUnder(\"\") = nil, want an error: it would free every node's claims")
	}
	if err := db.Store.ReleaseOwnersUnder(ctx, "a/"); err != nil {
		t.Fatalf("ReleaseOwnersUnder = %v", err)
	}
	if got := claim("a/42/new", now); !slices.Equal(got, []string{"#a"}) {
		t.Errorf("after the release, the new life of a claims %v, want #a only (ab's lease runs)", got)
	}
}

// The (vantage, address) sites of an alert are stored and read back, with
// its distinct addresses, by every query of alerts.
func checkAlertSites(t *testing.T, newDB Factory) {
	db := newDB(t)
	ctx := t.Context()
	a := newAlert("api", pinwatchd.KindPinMismatch, "ios")
	a.Sites = []pinwatchd.Site{{Vantage: "a", Address: "10.0.0.1:443"}, {Vantage: "b", Address: "10.0.0.1:443"}, {Vantage: "b", Address: "10.0.0.2:443"}}
	a.Addresses = pinwatchd.SiteAddresses(a.Sites)
	err := db.Store.UpdateAlerts(ctx, "api", func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.Notification, error) {
		if len(open) != 0 {
			t.Errorf("open alerts of a new database: %+v", open)
		}
		return []pinwatchd.Alert{a}, []pinwatchd.Notification{{Type: pinwatchd.ChangeOpened, Alert: &a, CreatedAt: t0}}, nil
	})
	if err != nil {
		t.Fatalf("UpdateAlerts: %v", err)
	}
	ro := openReadOnly(t, db)
	for name, read := range map[string]func() ([]pinwatchd.Alert, error){
		"OpenAlerts": func() ([]pinwatchd.Alert, error) { return ro.OpenAlerts(ctx, "api") },
		"Alerts":     func() ([]pinwatchd.Alert, error) { return ro.Alerts(ctx, true) },
	} {
		got, err := read()
		if err != nil || len(got) != 1 {
			t.Fatalf("%s = %+v, %v; want one alert", name, got, err)
		}
		if !slices.Equal(got[0].Sites, a.Sites) || !slices.Equal(got[0].Addresses, []string{"10.0.0.1:443", "10.0.0.2:443"}) {
			t.Errorf("%s: sites %v, addresses %v; want %v and the two distinct addresses", name, got[0].Sites, got[0].Addresses, a.Sites)
		}
	}
	pending, err := db.Store.Pending(ctx, t0, 10)
	if err != nil || len(pending) != 1 || pending[0].Alert == nil || !slices.Equal(pending[0].Alert.Sites, a.Sites) {
		t.Errorf("Pending = %+v, %v; want the opening notification with the alert's sites", pending, err)
	}
}

// An alert saved with addresses and no sites, by code that knows no
// vantage, lists each address under no vantage.
func checkAlertSitesWithoutVantage(t *testing.T, newDB Factory) {
	db := newDB(t)
	a := newAlert("api", pinwatchd.KindPinMismatch, "ios", "10.0.0.1:443", "10.0.0.2:443")
	if err := db.Store.SaveAlerts(t.Context(), []pinwatchd.Alert{a}, nil); err != nil {
		t.Fatal(err)
	}
	open, err := db.Store.OpenAlerts(t.Context(), "api")
	want := []pinwatchd.Site{{Address: "10.0.0.1:443"}, {Address: "10.0.0.2:443"}}
	if err != nil || len(open) != 1 || !slices.Equal(open[0].Sites, want) {
		t.Fatalf("OpenAlerts = %+v, %v; want sites %v", open, err, want)
	}
}

// Nodes moving one target's alerts at the same time, through handles of
// their own, serialise: each sees what the one before left, so the alert
// is opened once (one notification) and lists every node's site, and no
// write fails on the one-open-alert constraint.
func checkUpdateAlertsSerialises(t *testing.T, newDB Factory) {
	db := newDB(t)
	handles := []storage.Store{db.Store, reopen(t, db)}
	const perHandle = 6
	var wg sync.WaitGroup
	errs := make(chan error, 2*perHandle)
	for h, s := range handles {
		for i := range perHandle {
			site := pinwatchd.Site{Vantage: fmt.Sprintf("v%d-%d", h, i), Address: "10.0.0.1:443"}
			wg.Go(func() {
				errs <- s.UpdateAlerts(t.Context(), "api", func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.Notification, error) {
					if len(open) == 0 {
						a := newAlert("api", pinwatchd.KindPinMismatch, "ios")
						a.Sites = []pinwatchd.Site{site}
						return []pinwatchd.Alert{a}, []pinwatchd.Notification{{Type: pinwatchd.ChangeOpened, Alert: &a, CreatedAt: t0}}, nil
					}
					a := open[0]
					a.Sites = pinwatchd.SortSites(append(a.Sites, site))
					return []pinwatchd.Alert{a}, nil, nil
				})
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("UpdateAlerts: %v", err)
		}
	}
	open, err := db.Store.OpenAlerts(t.Context(), "api")
	if err != nil || len(open) != 1 {
		t.Fatalf("OpenAlerts = %+v, %v; want one", open, err)
	}
	if len(open[0].Sites) != 2*perHandle {
		t.Errorf("sites = %v, want the %d of every update (one overwrote another's)", open[0].Sites, 2*perHandle)
	}
	if n, _, _ := db.Store.PendingCount(t.Context()); n != 1 {
		t.Errorf("%d notifications enqueued, want the one opening", n)
	}
}

// An error of the update function stores nothing and is returned.
func checkUpdateAlertsError(t *testing.T, newDB Factory) {
	db := newDB(t)
	boom := errors.New("boom")
	err := db.Store.UpdateAlerts(t.Context(), "api", func([]pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.Notification, error) {
		return nil, nil, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("UpdateAlerts = %v, want the function's error", err)
	}
	if n := countRows(t, db, "alerts"); n != 0 {
		t.Errorf("%d alerts stored", n)
	}
}
