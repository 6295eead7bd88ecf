package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Webhook returns the incoming-webhook URL, from webhook_url_file (trimmed)
// or webhook_url, or "" when neither is set. Errors name the file, never the
// content.
func (s *SlackConfig) Webhook() (string, error) {
	if s.WebhookURLFile != "" {
		v, err := readSecretFile(s.WebhookURLFile)
		if err != nil {
			return "", fmt.Errorf("slack webhook_url_file: %w", err)
		}
		return v, nil
	}
	return s.WebhookURL.Value(), nil
}

// Token returns the bot token from token_file (trimmed), or "" when not set.
// Errors name the file, never the content.
func (s *SlackConfig) Token() (string, error) {
	if s.TokenFile == "" {
		return "", nil
	}
	v, err := readSecretFile(s.TokenFile)
	if err != nil {
		return "", fmt.Errorf("slack token_file: %w", err)
	}
	return v, nil
}

// readSecretFile reads a one-line secret; an empty file is an error. The
// error names the file, never its content.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("file %s cannot be read: %w", path, pathErr(err))
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("file %s is empty", path)
	}
	return v, nil
}

// pathErr strips the "open PATH: " of an *fs.PathError, for messages that
// already name the path.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// systemdStarted reports whether systemd started this process: it sets
// $INVOCATION_ID for every service it runs and $NOTIFY_SOCKET for
// Type=notify services. Only then are $STATE_DIRECTORY and
// $CREDENTIALS_DIRECTORY taken from the environment.
func systemdStarted(getenv func(string) string) bool {
	return getenv("INVOCATION_ID") != "" || getenv("NOTIFY_SOCKET") != ""
}

// stateDirectory returns the service's state directory, the first entry of
// $STATE_DIRECTORY, when systemd started this process and set it.
func stateDirectory(getenv func(string) string) (string, bool) {
	if !systemdStarted(getenv) {
		return "", false
	}
	dir, _, _ := strings.Cut(getenv("STATE_DIRECTORY"), ":")
	return dir, dir != ""
}

// CredentialPath returns the file holding the credential called name
// (LoadCredential=name:…) when systemd started this process with a
// credentials directory. It does not check that the file exists; a name
// that is not a plain file name is never found.
func CredentialPath(getenv func(string) string, name string) (string, bool) {
	if !systemdStarted(getenv) {
		return "", false
	}
	dir := getenv("CREDENTIALS_DIRECTORY")
	if dir == "" || name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return "", false
	}
	return filepath.Join(dir, name), true
}
