package main

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
			cfg, err := loadConfig(cfgPath, daemonLoadOptions(func(k string) string { return tt.env[k] }))
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
