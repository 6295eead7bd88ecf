package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

var updateWant = flag.Bool("update", false, "rewrite the # want: lines of testdata/config/*.toml")

const (
	pinA = "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	pinB = "sha256/Gl2gOJ0iNeE+bXKGn1w1k2fBzIcN7c5pAa6ZGo4BSZs="
)

// splitWant separates the leading "# want: " lines of a testdata config
// from the rest of the file.
func splitWant(b []byte) (want []string, body string) {
	rest := string(b)
	for {
		line, after, _ := strings.Cut(rest, "\n")
		w, ok := strings.CutPrefix(line, "# want: ")
		if !ok {
			return want, rest
		}
		want = append(want, w)
		rest = after
	}
}

// TestLoadBadConfigs loads every broken config of testdata/config with the
// daemon's options and compares the error with the file's "# want: "
// lines, one per problem. cmd/pinwatchd runs the same files through
// `config check` and `run`.
func TestLoadBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/config/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata configs: %v", err)
	}
	// The options `run` and `config check` load a config with (the
	// notifier check lives in internal/daemon), as systemd starts the
	// daemon: a config that names no database gets one in the state
	// directory, so the check never needs the source tree writable.
	env := map[string]string{"INVOCATION_ID": "test", "STATE_DIRECTORY": t.TempDir()}
	runOptions := DaemonOptions(func(k string) string { return env[k] })
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, body := splitWant(raw)
			_, err = Load(path, runOptions)
			if err == nil {
				t.Fatalf("Load(%s) with the daemon's options succeeded, want an error", path)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			got := strings.Split(err.Error(), "\n")
			if *updateWant {
				var b strings.Builder
				for _, g := range got {
					b.WriteString("# want: " + g + "\n")
				}
				if err := os.WriteFile(path, []byte(b.String()+body), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if len(want) == 0 {
				t.Fatalf("%s has no '# want: ' lines; got:\n%s", path, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load(%s) error:\n%s\nwant:\n%s", path, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if len(ce.Problems) != len(want) {
				t.Errorf("%d problems, want %d", len(ce.Problems), len(want))
			}
			for _, p := range ce.Problems {
				if p.Line == 0 && p.Path != "" {
					t.Errorf("problem %q has no line", p.Message)
				}
			}
		})
	}
}

// writeConfig writes a config file into a temporary directory.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExampleConfig(t *testing.T) {
	c, err := Load("../config.example.toml", Options{})
	if err != nil {
		t.Fatalf("config.example.toml does not load: %v", err)
	}
	if got := c.Notifier(); got != "log only" {
		t.Errorf("notifier = %q, want log only (webhook_url_file is commented out)", got)
	}
	if c.Schedule.String() != "*/15 * * * *" || c.Concurrency != 16 || c.Timeout.Duration != 10*time.Second ||
		c.Retention.Duration != 400*24*time.Hour {
		t.Errorf("globals = %v %d %v %v, want the SPEC defaults", c.Schedule, c.Concurrency, c.Timeout, c.Retention)
	}
	if c.Alerts != Default().Alerts {
		t.Errorf("[alerts] = %+v, want the defaults %+v", c.Alerts, Default().Alerts)
	}
	targets := c.Targets()
	if len(targets) != 2 {
		t.Fatalf("%d targets, want 2", len(targets))
	}
	api, login := targets[0], targets[1]
	if api.Name != "api" || api.Host != "api.example.com" || api.Port != 443 || !api.HTTP || api.Path != "/" ||
		len(api.Addresses) != 0 || api.Schedule != "" {
		t.Errorf("target api = %+v", api)
	}
	if got := pinSetNames(api); got != "ios-app-5,android-app-3" {
		t.Errorf("api pin-sets = %s, want ios-app-5,android-app-3", got)
	}
	ios := api.PinSets[0]
	if len(ios.Pins) != 2 || ios.Pins[0].String() != strings.TrimPrefix(pinA, "sha256/") || ios.Pins[1].String() != strings.TrimPrefix(pinB, "sha256/") {
		t.Errorf("ios-app-5 pins = %v, want the two example pins in order", ios.Pins)
	}
	if want := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC); !ios.Expires.Equal(want) {
		t.Errorf("ios-app-5 expires = %v, want %v", ios.Expires, want)
	}
	if !api.PinSets[1].Expires.IsZero() {
		t.Errorf("android-app-3 expires = %v, want none", api.PinSets[1].Expires)
	}
	wantAddrs := []string{"192.0.2.10:8443", "192.0.2.11:8443", "[2001:db8::10]:8443"}
	if login.Name != "login-origin" || login.Port != 8443 || !reflect.DeepEqual(login.Addresses, wantAddrs) ||
		!login.RequireHSTS || login.Schedule != "@every 5m" {
		t.Errorf("target login-origin = %+v, want addresses %v", login, wantAddrs)
	}
	if got := pinSetNames(login); got != "inline" || len(login.PinSets[0].Pins) != 2 {
		t.Errorf("login-origin pin-sets = %s, want one inline set of 2 pins", got)
	}
}

// TestExampleConfigDocumentsEveryKey checks that config.example.toml names
// every key the decoder knows, so the two move together.
func TestExampleConfigDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	for table, typ := range tableTypes {
		for f := range typ.Fields() {
			key, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if key == "" || key == "-" {
				continue
			}
			if !strings.Contains(string(b), "\n"+key+" =") && !strings.Contains(string(b), "\n# "+key+" =") &&
				!strings.Contains(string(b), "["+key+"]") {
				t.Errorf("config.example.toml does not document %s key %q", table, key)
			}
		}
	}
}

func pinSetNames(t pinwatchd.Target) string {
	var names []string
	for _, ps := range t.PinSets {
		names = append(names, ps.Name)
	}
	return strings.Join(names, ",")
}

func TestDefaults(t *testing.T) {
	c, err := Parse(strings.NewReader("[[target]]\nname = \"api\"\nhost = \"api.example.com\"\n"), "minimal.toml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name      string
		got, want any
	}{
		{"schedule", c.Schedule.String(), "*/15 * * * *"},
		{"concurrency", c.Concurrency, 16},
		{"timeout", c.Timeout.Duration, 10 * time.Second},
		{"retention", c.Retention.Duration, 400 * 24 * time.Hour},
		{"expiry_warning", c.Alerts.ExpiryWarning.Duration, 30 * 24 * time.Hour},
		{"expiry_critical", c.Alerts.ExpiryCritical.Duration, 7 * 24 * time.Hour},
		{"failure_threshold", c.Alerts.FailureThreshold, 2},
		{"renotify_after", c.Alerts.RenotifyAfter.Duration, 24 * time.Hour},
		{"notify_resolved", c.Alerts.NotifyResolved, true},
		{"notify_changes", c.Alerts.NotifyChanges, true},
		{"digest_window", c.Alerts.DigestWindow.Duration, 10 * time.Second},
		{"metrics.listen", c.Metrics.Listen, ""},
		{"database", c.Database, ""},
		{"notifier", c.Notifier(), "log only"},
		{"thresholds", c.Thresholds(), pinwatchd.DefaultThresholds},
	}
	for _, w := range want {
		if w.got != w.want {
			t.Errorf("%s = %v, want %v", w.name, w.got, w.want)
		}
	}
	got := c.Targets()[0]
	wantT := pinwatchd.Target{Name: "api", Host: "api.example.com", Port: 443, HTTP: true, Path: "/"}
	if !reflect.DeepEqual(got, wantT) {
		t.Errorf("target = %+v, want %+v", got, wantT)
	}
}

func TestOverridesAndTargets(t *testing.T) {
	doc := `
database = "state/pw.db"
schedule = "@hourly"
concurrency = 4
timeout = "1m30s"
retention = "90d"

[alerts]
expiry_warning = "60d"
expiry_critical = "1d12h"
failure_threshold = 5
renotify_after = "2h"
notify_resolved = false
notify_changes = false
digest_window = "0s"

[metrics]
listen = "127.0.0.1:9794"

[[pinset]]
name = "a"
pins = ["` + pinA + `", 'pin-sha256="Gl2gOJ0iNeE+bXKGn1w1k2fBzIcN7c5pAa6ZGo4BSZs="']

[[pinset]]
name = "b"
pins = ["pin-sha256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]

[[target]]
name = "t"
host = "2001:db8::1"
port = 8443
sni = "origin.example.com"
addresses = ["::1", "[::1]:9443", "127.0.0.1"]
pinsets = ["b", "a"]
pins = ["Gl2gOJ0iNeE+bXKGn1w1k2fBzIcN7c5pAa6ZGo4BSZs="]
http = false
schedule = "CRON_TZ=Europe/Berlin 0 9 * * 1-5"
`
	path := writeConfig(t, doc)
	c, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(path), "state/pw.db"); c.DatabasePath(func(string) string { return "/x" }) != want {
		t.Errorf("database = %q, want it relative to the config file: %q", c.Database, want)
	}
	if c.Schedule.String() != "@hourly" || c.Concurrency != 4 || c.Timeout.Duration != 90*time.Second || c.Retention.String() != "90d" {
		t.Errorf("globals = %v %d %v %v", c.Schedule, c.Concurrency, c.Timeout, c.Retention)
	}
	wantAlerts := AlertsConfig{Duration{60 * 24 * time.Hour}, Duration{36 * time.Hour}, 5, Duration{2 * time.Hour}, false, false, Duration{0}, nil}
	if c.Alerts != wantAlerts {
		t.Errorf("[alerts] = %+v, want %+v", c.Alerts, wantAlerts)
	}
	if th := c.Thresholds(); th.ExpiryWarning != 60*24*time.Hour || th.ExpiryCritical != 36*time.Hour {
		t.Errorf("thresholds = %+v", th)
	}
	pa, _ := pinwatchd.ParsePin(pinA)
	pb, _ := pinwatchd.ParsePin(pinB)
	want := pinwatchd.Target{
		Name: "t", Host: "2001:db8::1", Port: 8443, SNI: "origin.example.com",
		Addresses: []string{"[::1]:8443", "[::1]:9443", "127.0.0.1:8443"},
		PinSets: []pinwatchd.PinSet{
			{Name: "b", Pins: []pinwatchd.Pin{pa}},
			{Name: "a", Pins: []pinwatchd.Pin{pa, pb}},
			{Name: pinwatchd.PinSetInline, Pins: []pinwatchd.Pin{pb}},
		},
		HTTP: false, Path: "/", Schedule: "CRON_TZ=Europe/Berlin 0 9 * * 1-5",
	}
	if got := c.Targets(); !reflect.DeepEqual(got, []pinwatchd.Target{want}) {
		t.Errorf("Targets() =\n%+v\nwant\n%+v", got, []pinwatchd.Target{want})
	}
}

func TestDatabasePath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	service := filepath.Join(t.TempDir(), "pinwatchd.db")
	defer func(old string) { ServiceDatabase = old }(ServiceDatabase)
	ServiceDatabase = service
	c := &Config{}
	if got := c.DatabasePath(env(nil)); got != "pinwatchd.db" {
		t.Errorf("no STATE_DIRECTORY: %q, want pinwatchd.db", got)
	}
	if got := c.DatabasePath(env(map[string]string{"STATE_DIRECTORY": "/var/lib/pinwatchd"})); got != "pinwatchd.db" {
		t.Errorf("STATE_DIRECTORY outside systemd: %q, want pinwatchd.db", got)
	}
	if got := c.DatabasePath(env(map[string]string{"INVOCATION_ID": "ab12", "STATE_DIRECTORY": "/var/lib/pinwatchd:/var/lib/other"})); got != "/var/lib/pinwatchd/pinwatchd.db" {
		t.Errorf("under systemd: %q", got)
	}
	// The service's database, once it exists, is what a command run by
	// hand (sudo pinwatchd history) finds; systemd's own directory wins.
	if err := os.WriteFile(service, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := c.DatabasePath(env(nil)); got != service {
		t.Errorf("service database exists: %q, want %q", got, service)
	}
	if got := c.DatabasePath(env(map[string]string{"INVOCATION_ID": "ab12", "STATE_DIRECTORY": "/srv/state"})); got != "/srv/state/pinwatchd.db" {
		t.Errorf("under systemd with the service database present: %q", got)
	}
	c.Database = "/srv/pw.db"
	if got := c.DatabasePath(env(map[string]string{"STATE_DIRECTORY": "/var/lib/pinwatchd"})); got != "/srv/pw.db" {
		t.Errorf("database set: %q", got)
	}
}

func TestCAFileAccepted(t *testing.T) {
	pki := testpki.New(t)
	ca := pki.WriteCAFile(t)
	doc := "[[target]]\nname = \"intranet\"\nhost = \"intranet.example.com\"\nca_file = \"" + ca + "\"\n"
	c, err := Parse(strings.NewReader(doc), "ca.toml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Targets()[0].CAFile; got != ca {
		t.Errorf("ca_file = %q, want %q", got, ca)
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.toml")
	_, err := Load(path, Options{})
	want := "config file " + path + " does not exist (set --config or $PINWATCHD_CONFIG)"
	if err == nil || err.Error() != want {
		t.Errorf("Load(missing, Options{}) = %v, want %q", err, want)
	}
}

// TestValidateBuiltConfig checks Validate on a Config assembled in code: no
// lines are known, every problem still names its key path.
func TestValidateBuiltConfig(t *testing.T) {
	c := Default()
	c.TargetConfigs = []TargetConfig{{Name: "api", Host: "api.example.com"}}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
	port := 0
	c.TargetConfigs[0].Port = &port
	c.TargetConfigs[0].PinSets = []string{"missing"}
	c.Alerts.FailureThreshold = 0
	err := c.Validate()
	want := "alerts.failure_threshold: failure_threshold = 0 must be at least 1\n" +
		`target "api" (target[0]).port: port = 0 is out of range; want 1 to 65535` + "\n" +
		`target "api" (target[0]).pinsets[0]: unknown pin-set "missing"; no [[pinset]] is defined`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() =\n%v\nwant\n%s", err, want)
	}
}

func TestSlackNotifier(t *testing.T) {
	dir := t.TempDir()
	webhook := filepath.Join(dir, "webhook")
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(webhook, []byte("http://127.0.0.1:9/services/T0/B0/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(token, []byte(" xoxb-test \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const target = "\n[[target]]\nname = \"api\"\nhost = \"api.example.com\"\n"
	c, err := Parse(strings.NewReader("[slack]\nwebhook_url_file = \""+webhook+"\"\n"+target), "w.toml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := c.Slack.Webhook(); c.Notifier() != "slack webhook" || u != "http://127.0.0.1:9/services/T0/B0/x" || err != nil {
		t.Errorf("webhook config: notifier %q, Webhook() = %q, %v", c.Notifier(), u, err)
	}
	c, err = Parse(strings.NewReader("[slack]\ntoken_file = \""+token+"\"\nchannel = \"#tls\"\napi_url = \"http://127.0.0.1:9/api/\"\n"+target), "t.toml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := c.Slack.Token(); c.Notifier() != "slack bot token" || tok != "xoxb-test" || err != nil {
		t.Errorf("token config: notifier %q, Token() = %q, %v", c.Notifier(), tok, err)
	}
	// A secret file that cannot be read is an error, unless the caller
	// asked not to read secret files.
	missing := "[slack]\ntoken_file = \"" + filepath.Join(dir, "absent") + "\"\nchannel = \"#tls\"\n" + target
	_, err = Parse(strings.NewReader(missing), "m.toml", Options{})
	if want := "m.toml:2: slack.token_file: file " + filepath.Join(dir, "absent") + " cannot be read: no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("missing token file: %v, want %q", err, want)
	}
	if _, err := Parse(strings.NewReader(missing), "m.toml", Options{SkipSecretFiles: true}); err != nil {
		t.Errorf("missing token file with SkipSecretFiles: %v", err)
	}
}

// TestSecretsNeverPrinted feeds configs with an inline webhook URL and a
// problem elsewhere, and checks the URL's secret part appears in no error.
func TestSecretsNeverPrinted(t *testing.T) {
	const secret = "SECRET"
	const url = `"https://hooks.slack.com/services/` + secret + `"`
	docs := map[string]string{
		"error elsewhere":   "timeout = \"0s\"\n[slack]\nwebhook_url = " + url + "\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n",
		"with a file too":   "[slack]\nwebhook_url = " + url + "\nwebhook_url_file = \"/nonexistent/webhook\"\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n",
		"with a token":      "[slack]\nwebhook_url = " + url + "\ntoken_file = \"/nonexistent/token\"\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n",
		"not a URL":         "[slack]\nwebhook_url = \"" + secret + "\"\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n",
		"misspelt key":      "[slack]\nwebhok_url = " + url + "\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n",
		"decode error next": "[slack]\nwebhook_url = " + url + "\nchannel = 5\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n",
		"syntax error":      "[slack]\nwebhook_url = \"https://hooks.slack.com/services/" + secret + "\n[[target]]\n",
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeConfig(t, doc), Options{})
			if err == nil {
				t.Fatal("Load succeeded, want problems")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the webhook secret leaked:\n%v", err)
			}
		})
	}
	c, err := Parse(strings.NewReader("[slack]\nwebhook_url = "+url+"\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n"), "s.toml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c.Slack), fmt.Sprintf("%#v", c.Slack)} {
		if strings.Contains(s, secret) {
			t.Errorf("formatting the config prints the secret: %s", s)
		}
	}
}

// FuzzParseConfig checks that no input makes parsing panic and that every
// failure is reported as problems with a message.
func FuzzParseConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/config/*.toml")
	files = append(files, "../config.example.toml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("schedule = \"CRON_TZ=\"\n[[target]]\nname=\"a\"\nhost=\"b\"\n")
	f.Fuzz(func(t *testing.T, doc string) {
		_, err := Parse(strings.NewReader(doc), "fuzz.toml", Options{SkipSecretFiles: true})
		var ce *Error
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				if p.Message == "" {
					t.Errorf("empty problem message in %q", err)
				}
			}
		}
	})
}

// BenchmarkParseConfig10k parses a config of 10,000 targets sharing two
// pin-sets (SPEC §11: start-up under 5 s for such a fleet).
func BenchmarkParseConfig10k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[[pinset]]\nname = \"a\"\npins = [\"" + pinA + "\", \"" + pinB + "\"]\n")
	sb.WriteString("[[pinset]]\nname = \"b\"\npins = [\"" + pinB + "\"]\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "[[target]]\nname = \"t%d\"\nhost = \"t%d.example.com\"\naddresses = [\"192.0.2.%d\"]\npinsets = [\"a\", \"b\"]\n", i, i, i%250+1)
	}
	doc := sb.String()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		c, err := Parse(strings.NewReader(doc), "bench.toml", Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(c.Targets()) != 10000 {
			b.Fatal("lost targets")
		}
	}
}

func TestVantageNameDefaultsToHostName(t *testing.T) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Skipf("no host name to compare with: %v", err)
	}
	c, err := Parse(strings.NewReader("[[target]]\nname = \"api\"\nhost = \"api.example.com\"\n"), "inline", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.VantageName(); got != host {
		t.Errorf("VantageName() without vantage = %q, want the host name %q", got, host)
	}
	c, err = Parse(strings.NewReader("vantage = \"eu-west-1\"\n[[target]]\nname = \"api\"\nhost = \"api.example.com\"\n"), "inline", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.VantageName(); got != "eu-west-1" {
		t.Errorf("VantageName() = %q, want the configured %q", got, "eu-west-1")
	}
}

// node_silent_after (SPEC §14): set, it is the value; unset, 3 × the
// default schedule's interval (a cron schedule's next gap) and at least 5
// minutes.
func TestNodeSilentAfter(t *testing.T) {
	now := time.Date(2026, 3, 6, 16, 30, 0, 0, time.UTC) // a Friday
	for _, tc := range []struct {
		toml string
		want time.Duration
	}{
		{"", 45 * time.Minute}, // */15 * * * *
		{"schedule = \"@every 1m\"\n", 5 * time.Minute},
		{"schedule = \"@hourly\"\n", 3 * time.Hour},
		{"schedule = \"0 9 * * 1-5\"\n", 3 * 24 * time.Hour}, // Monday 9:00, then Tuesday 9:00
		{"schedule = \"0 9 * * 1-5\"\n[alerts]\nnode_silent_after = \"30s\"\n", 30 * time.Second},
	} {
		c, err := Parse(strings.NewReader(tc.toml+"[[target]]\nname = \"api\"\nhost = \"api.example.com\"\n"), "inline", Options{})
		if err != nil {
			t.Fatalf("%q: %v", tc.toml, err)
		}
		if got := c.NodeSilentAfter(now); got != tc.want {
			t.Errorf("%q: NodeSilentAfter = %v, want %v", tc.toml, got, tc.want)
		}
	}
}
