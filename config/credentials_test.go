package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSecretFileFromCredentials: a bare secret file name comes from systemd's
// credentials directory only when systemd started the process, and from the
// config's directory otherwise.
func TestSecretFileFromCredentials(t *testing.T) {
	dir := t.TempDir()
	creds := t.TempDir()
	cfgPath := filepath.Join(dir, "config.toml")
	body := "[slack]\nwebhook_url_file = \"slack-webhook\"\n\n[[target]]\nname = \"api\"\nhost = \"api.example.com\"\n"
	for path, content := range map[string]string{
		cfgPath:                               body,
		filepath.Join(dir, "slack-webhook"):   "https://hooks.slack.com/services/T0/B0/FROMETC\n",
		filepath.Join(creds, "slack-webhook"): "https://hooks.slack.com/services/T0/B0/FROMCREDS\n",
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"by hand", map[string]string{"CREDENTIALS_DIRECTORY": creds}, "https://hooks.slack.com/services/T0/B0/FROMETC"},
		{"under systemd", map[string]string{"INVOCATION_ID": "abc", "CREDENTIALS_DIRECTORY": creds}, "https://hooks.slack.com/services/T0/B0/FROMCREDS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(cfgPath, DaemonOptions(func(k string) string { return tt.env[k] }))
			if err != nil {
				t.Fatal(err)
			}
			got, err := cfg.Slack.Webhook()
			if err != nil || got != tt.want {
				t.Errorf("webhook = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestSystemdPaths(t *testing.T) {
	const creds = "/run/credentials/pinwatchd.service"
	for _, tc := range []struct {
		name      string
		vars      map[string]string
		started   bool
		state     string
		credFound bool
	}{
		{"plain shell", map[string]string{"STATE_DIRECTORY": "/var/lib/pinwatchd", "CREDENTIALS_DIRECTORY": creds}, false, "", false},
		{"service", map[string]string{"INVOCATION_ID": "0123abcd", "STATE_DIRECTORY": "/var/lib/pinwatchd:/var/lib/extra", "CREDENTIALS_DIRECTORY": creds}, true, "/var/lib/pinwatchd", true},
		{"notify socket only", map[string]string{"NOTIFY_SOCKET": "@x", "CREDENTIALS_DIRECTORY": creds}, true, "", true},
		{"service without directories", map[string]string{"INVOCATION_ID": "0123abcd"}, true, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := envOf(tc.vars)
			if got := systemdStarted(getenv); got != tc.started {
				t.Errorf("systemdStarted = %v, want %v", got, tc.started)
			}
			dir, ok := stateDirectory(getenv)
			if dir != tc.state || ok != (tc.state != "") {
				t.Errorf("stateDirectory = %q, %v; want %q", dir, ok, tc.state)
			}
			p, ok := CredentialPath(getenv, "slack-webhook")
			if ok != tc.credFound || (ok && p != creds+"/slack-webhook") {
				t.Errorf("CredentialPath(slack-webhook) = %q, %v; want found=%v under %s", p, ok, tc.credFound, creds)
			}
		})
	}
	getenv := envOf(map[string]string{"INVOCATION_ID": "1", "CREDENTIALS_DIRECTORY": creds})
	for _, bad := range []string{"", ".", "..", "../etc/shadow", "a/b"} {
		if p, ok := CredentialPath(getenv, bad); ok {
			t.Errorf("CredentialPath(%q) = %q, true; want it refused", bad, p)
		}
	}
}
