package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd/config"
)

// TestLoadConfigTokenWithTargetChannels loads a bot-token config with no
// default channel where every target names its slack_channel (SPEC §8):
// the notifier the daemon builds accepts it, so `config check` and `run`
// both do.
func TestLoadConfigTokenWithTargetChannels(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("xoxb-test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := "[slack]\ntoken_file = \"token\"\n" +
		"[[target]]\nname = \"a\"\nhost = \"a.example.com\"\nslack_channel = \"#a\"\n" +
		"[[target]]\nname = \"b\"\nhost = \"b.example.com\"\nslack_channel = \"#b\"\n"
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path, func(string) string { return "" })
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if s, err := buildSlack(cfg, nil); err != nil || s == nil {
		t.Errorf("buildSlack = %v, %v; want a Slack notifier", s, err)
	}
}

// TestLoadOptionsBuildNotifier checks that the notifier check of
// LoadOptions is the daemon's own builder: a config it cannot build from
// is refused with NewSlack's reason, never the secret.
func TestLoadOptionsBuildNotifier(t *testing.T) {
	o := LoadOptions(func(string) string { return "" })
	if o.Notifier == nil || !o.CheckDatabase {
		t.Fatalf("LoadOptions = %+v, want the notifier and database checks", o)
	}
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("xoxb-SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Validation refuses a webhook and a token together; a config built
	// in code reaches the builder.
	c := config.Default()
	if err := c.Slack.WebhookURL.UnmarshalText([]byte("https://hooks.slack.com/services/T0/B0/SECRET")); err != nil {
		t.Fatal(err)
	}
	c.Slack.TokenFile = token
	err := o.Notifier(c)
	if err == nil || !strings.Contains(err.Error(), "both a webhook URL and a bot token") || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Notifier = %v, want NewSlack's refusal without the secret", err)
	}
	c.Slack.TokenFile = filepath.Join(dir, "absent")
	c.Slack.WebhookURL = config.Secret{}
	if err := o.Notifier(c); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("Notifier with an unreadable token file = %v, want an error naming it", err)
	}
}
