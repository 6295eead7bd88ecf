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
		"[[pinset]]\nname = \"p\"\npins = [\""+pinA+"\"]\n"+
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

func TestConfigCheckProblems(t *testing.T) {
	path := "testdata/config/multiple.toml"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := splitWant(raw)
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
