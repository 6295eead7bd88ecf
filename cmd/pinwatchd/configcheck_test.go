package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigCheckOK(t *testing.T) {
	dir := t.TempDir()
	webhook := filepath.Join(dir, "webhook")
	if err := os.WriteFile(webhook, []byte("http://127.0.0.1:9/hook\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withWebhook := writeConfig(t, "[slack]\nwebhook_url_file = \""+webhook+"\"\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n")
	withToken := writeConfig(t, "[slack]\ntoken_file = \""+webhook+"\"\nchannel = \"#tls\"\n"+
		"[[pinset]]\nname = \"p\"\npins = [\"sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"]\n"+
		"[[target]]\nname = \"a\"\nhost = \"a.example.com\"\npinsets = [\"p\"]\n"+
		"[[target]]\nname = \"b\"\nhost = \"b.example.com\"\n")
	cases := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"example", []string{"--config", "../../config.example.toml"}, nil,
			"ok: ../../config.example.toml: 2 targets, 2 pin-sets, notifier: log only\n"},
		{"webhook from $PINWATCHD_CONFIG", nil, []string{"PINWATCHD_CONFIG=" + withWebhook},
			"ok: " + withWebhook + ": 1 target, 0 pin-sets, notifier: slack webhook\n"},
		{"flag wins over env", []string{"--config=" + withToken}, []string{"PINWATCHD_CONFIG=" + withWebhook},
			"ok: " + withToken + ": 2 targets, 1 pin-set, notifier: slack bot token\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := runCmd(t, "", c.env, append([]string{"config", "check"}, c.args...)...)
			if code != exitOK || stdout != c.want || stderr != "" {
				t.Errorf("config check: exit %d, stdout %q, stderr %q; want exit 0 and %q", code, stdout, stderr, c.want)
			}
		})
	}
}

// TestConfigCheckProblems runs config check on a broken config of the
// config package's golden table: every problem, one per line, as the
// file's "# want: " lines list them.
func TestConfigCheckProblems(t *testing.T) {
	const golden = "testdata/config/multiple.toml"
	path := filepath.Join("..", "..", "config", golden)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, line := range strings.Split(string(raw), "\n") {
		if w, ok := strings.CutPrefix(line, "# want: "+golden); ok {
			want = append(want, path+w)
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s has no '# want: ' lines", path)
	}
	stdout, stderr, code := runCmd(t, "", nil, "config", "check", "--config", path)
	if code != exitError || stdout != "" {
		t.Errorf("exit %d, stdout %q; want exit 3 and nothing on stdout", code, stdout)
	}
	if got := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stderr:\n%s\nwant one problem per line:\n%s", stderr, strings.Join(want, "\n"))
	}
}

func TestConfigCheckUsage(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent.toml")
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no verb", []string{"config"}, exitError, "pinwatchd: config needs a verb; usage: pinwatchd config check [--config F]\n"},
		{"unknown verb", []string{"config", "lint"}, exitError, "pinwatchd: unknown config verb \"lint\"; usage: pinwatchd config check [--config F]\n"},
		{"extra argument", []string{"config", "check", "x.toml"}, exitError, "pinwatchd: config check takes no arguments, got \"x.toml\"; name the file with --config\n"},
		{"missing file", []string{"config", "check", "--config", missing}, exitError,
			"pinwatchd: config file " + missing + " does not exist (set --config or $PINWATCHD_CONFIG)\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := runCmd(t, "", nil, c.args...)
			if code != c.code || stderr != c.stderr || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stderr %q", code, stdout, stderr, c.code, c.stderr)
			}
		})
	}
	_, stderr, code := runCmd(t, "", nil, "config", "check", "--bogus")
	if code != exitError || !strings.Contains(stderr, "-bogus") {
		t.Errorf("unknown flag: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runCmd(t, "", nil, "config", "check", "-h")
	if code != exitOK || !strings.Contains(stderr, "$PINWATCHD_CONFIG") || !strings.Contains(stderr, "/etc/pinwatchd/config.toml") {
		t.Errorf("config check -h: exit %d, stderr %q; want the --config help", code, stderr)
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

// TestConfigCheckNeverPrintsSecrets feeds configs with an inline webhook
// URL and a problem elsewhere: config check fails, and the URL's secret part
// appears nowhere in its output.
func TestConfigCheckNeverPrintsSecrets(t *testing.T) {
	const secret = "SECRET"
	const url = `"https://hooks.slack.com/services/` + secret + `"`
	const target = "\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n"
	docs := map[string]string{
		"error elsewhere":   "timeout = \"0s\"\n[slack]\nwebhook_url = " + url + target,
		"with a file too":   "[slack]\nwebhook_url = " + url + "\nwebhook_url_file = \"/nonexistent/webhook\"" + target,
		"with a token":      "[slack]\nwebhook_url = " + url + "\ntoken_file = \"/nonexistent/token\"" + target,
		"not a URL":         "[slack]\nwebhook_url = \"" + secret + "\"" + target,
		"misspelt key":      "[slack]\nwebhok_url = " + url + target,
		"decode error next": "[slack]\nwebhook_url = " + url + "\nchannel = 5" + target,
		"syntax error":      "[slack]\nwebhook_url = \"https://hooks.slack.com/services/" + secret + "\n[[target]]\n",
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			path := writeConfig(t, doc)
			stdout, stderr, code := runCmd(t, "", nil, "config", "check", "--config", path)
			if code != exitError || stderr == "" {
				t.Fatalf("config check exit %d, stderr %q; want exit 3 with problems", code, stderr)
			}
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("the webhook secret leaked:\n%s%s", stdout, stderr)
			}
		})
	}
}

func TestConfigPath(t *testing.T) {
	env := func(v string) *env {
		return &env{getenv: func(k string) string {
			if k == "PINWATCHD_CONFIG" {
				return v
			}
			return ""
		}}
	}
	cases := []struct{ flag, envVar, want string }{
		{"/from/flag.toml", "/from/env.toml", "/from/flag.toml"},
		{"", "/from/env.toml", "/from/env.toml"},
		{"", "", "/etc/pinwatchd/config.toml"},
	}
	for _, c := range cases {
		if got := configPath(env(c.envVar), c.flag); got != c.want {
			t.Errorf("configPath(flag %q, $PINWATCHD_CONFIG %q) = %q, want %q", c.flag, c.envVar, got, c.want)
		}
	}
}
