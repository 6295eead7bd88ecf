package bench

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// Target is one monitored endpoint of a Fleet.
type Target struct {
	Name string // unique target name, "t00001"
	Host string // name verified, sent as SNI and in the Host header
	Addr string // "127.0.0.1:port" of the server answering for Host
	// Pins are the leaf's pin and a spare (backup) pin, also announced in
	// the server's Public-Key-Pins header.
	Pins [2]pinwatchd.Pin
}

// Fleet is a set of HTTPS servers on 127.0.0.1 answering for many targets:
// one root → intermediate CA, one leaf per server valid for
// "*.sNNN.bench.test", each target a name under one server's domain. Every
// server answers with Public-Key-Pins (leaf and spare pin) and
// Strict-Transport-Security headers, so a probe of a target finds nothing
// wrong.
type Fleet struct {
	// CAFile is the PEM file holding the root, for the targets' ca_file.
	CAFile  string
	Targets []Target

	requests atomic.Int64
	tb       *testpki.Standalone
}

// NewFleet starts servers HTTPS servers on 127.0.0.1 and spreads targets
// target names over them (target i on server i mod servers). Files go to
// dir. Close stops the servers.
func NewFleet(dir string, targets, servers int) (f *Fleet, err error) {
	if targets < 1 || servers < 1 || servers > targets {
		return nil, fmt.Errorf("fleet of %d targets on %d servers: want 1 ≤ servers ≤ targets", targets, servers)
	}
	tb := &testpki.Standalone{Dir: dir}
	f = &Fleet{tb: tb}
	var (
		addrs = make([]string, servers)
		pins  = make([]pinwatchd.Pin, servers)
		spare pinwatchd.Pin
	)
	err = tb.Do(func() {
		root := testpki.NewRoot(tb, testpki.Options{CommonName: "pinwatchd bench root"})
		inter := root.Intermediate(tb, testpki.Options{CommonName: "pinwatchd bench intermediate"})
		spare = testpki.KeyPin(tb, testpki.NewKey(tb, testpki.P256))
		f.CAFile = filepath.Join(dir, "bench-ca.pem")
		if err := os.WriteFile(f.CAFile, root.PEM(), 0o600); err != nil {
			tb.Fatalf("write ca file: %v", err)
		}
		for i := range servers {
			leaf := inter.Leaf(tb, testpki.Options{CommonName: serverDomain(i), DNSNames: []string{"*." + serverDomain(i)}})
			pins[i] = leaf.Pin()
			h := f.handler(map[string]string{
				"Public-Key-Pins":           `pin-sha256="` + pins[i].String() + `"; pin-sha256="` + spare.String() + `"; max-age=5184000`,
				"Strict-Transport-Security": "max-age=31536000",
			})
			addrs[i] = testpki.Serve(tb, testpki.Chain(leaf, inter), h).Addr
		}
	})
	if err != nil {
		tb.Close()
		return nil, fmt.Errorf("start fleet: %w", err)
	}
	f.Targets = make([]Target, targets)
	for i := range f.Targets {
		s := i % servers
		name := fmt.Sprintf("t%05d", i+1)
		f.Targets[i] = Target{Name: name, Host: name + "." + serverDomain(s), Addr: addrs[s], Pins: [2]pinwatchd.Pin{pins[s], spare}}
	}
	return f, nil
}

func serverDomain(i int) string { return fmt.Sprintf("s%03d.bench.test", i) }

// handler answers with headers and counts the requests.
func (f *Fleet) handler(headers map[string]string) http.Handler {
	h := testpki.HeaderHandler(headers)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		h.ServeHTTP(w, r)
	})
}

// Requests returns how many HTTP requests the fleet has answered.
func (f *Fleet) Requests() int64 { return f.requests.Load() }

// Close stops every server.
func (f *Fleet) Close() { f.tb.Close() }

// ConfigOptions are the global settings of a pinwatchd config written by
// WriteConfig.
type ConfigOptions struct {
	Database    string // SQLite file
	Schedule    string // cron spec; "" leaves the default
	Concurrency int    // probes in flight; 0 leaves the default
	// MetricsListen is the [http] listen address; "" leaves metrics off.
	MetricsListen string
}

// Config returns a pinwatchd config watching every target of the fleet
// (addresses, ca_file and an inline pin-set each).
func (f *Fleet) Config(o ConfigOptions) (*config.Config, error) {
	c := config.Default()
	c.Database = o.Database
	if o.Schedule != "" {
		s, err := config.ParseSchedule(o.Schedule)
		if err != nil {
			return nil, err
		}
		c.Schedule = s
	}
	if o.Concurrency > 0 {
		c.Concurrency = o.Concurrency
	}
	c.Timeout = config.Duration{Duration: 10 * time.Second}
	c.HTTP.Listen = o.MetricsListen
	c.TargetConfigs = make([]config.TargetConfig, len(f.Targets))
	for i, t := range f.Targets {
		addr, err := config.ParseHostPort(t.Addr)
		if err != nil {
			return nil, err
		}
		c.TargetConfigs[i] = config.TargetConfig{
			Name: t.Name, Host: t.Host, Addresses: []config.HostPort{addr}, CAFile: f.CAFile,
			Pins: []pinwatchd.Pin{t.Pins[0], t.Pins[1]},
		}
	}
	return c, nil
}

// WriteConfig writes the fleet's config (see Config) to path.
func (f *Fleet) WriteConfig(path string, o ConfigOptions) error {
	c, err := f.Config(o)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := config.Encode(&b, c); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// WriteTargetList writes the bare client's input to path: one target a
// line, "address host".
func (f *Fleet) WriteTargetList(path string) error {
	var b strings.Builder
	for _, t := range f.Targets {
		fmt.Fprintf(&b, "%s %s\n", t.Addr, t.Host)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write target list: %w", err)
	}
	return nil
}
