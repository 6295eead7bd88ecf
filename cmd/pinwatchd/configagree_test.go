package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConfigCheckAgreesWithRun runs every broken config of the config
// package's golden table through `pinwatchd config check` and `pinwatchd
// run` as processes (SPEC §16): both refuse it with exit 3 and list the
// same problems, exactly the file's "# want: " lines. Then configs that
// `config check` passes, including a bot token with no default channel
// where every target names its own: `run` starts with each.
func TestConfigCheckAgreesWithRun(t *testing.T) {
	pinwatchdBinary(t)
	dir := t.TempDir()
	golden := filepath.Join(dir, "testdata", "config")
	copyDir(t, filepath.Join("..", "..", "config", "testdata", "config"), golden)
	files, err := filepath.Glob(filepath.Join(golden, "*.toml"))
	if err != nil || len(files) < 20 {
		t.Fatalf("golden configs: %v, %v", files, err)
	}
	secrets := []string{"SECRET", "hunter2"} // in webhook_http.toml, slack-webhook-http, database_url.toml
	for _, path := range files {
		rel := filepath.Join("testdata", "config", filepath.Base(path))
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(string(raw), "\n") {
				if w, ok := strings.CutPrefix(line, "# want: "); ok {
					want = append(want, w)
				}
			}
			stdout, stderr, code := runIn(t, dir, 10*time.Second, "config", "check", "--config", rel)
			if code != exitError || stdout != "" {
				t.Errorf("config check: exit %d, stdout %q; want exit 3 and nothing on stdout", code, stdout)
			}
			if got := lines(stderr); !equal(got, want) {
				t.Errorf("config check lists:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			rstdout, rstderr, rcode := runIn(t, dir, 10*time.Second, "run", "--config", rel)
			if rcode != exitError {
				t.Errorf("run: exit %d, want 3 (config check refused this config)\n%s", rcode, rstderr)
			}
			var problems []string
			for _, l := range lines(rstderr) {
				if !strings.HasPrefix(l, "time=") {
					problems = append(problems, l)
				}
			}
			if !equal(problems, want) {
				t.Errorf("run lists:\n%s\nwant what config check lists:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
			}
			for _, s := range secrets {
				if strings.Contains(stdout+stderr+rstdout+rstderr, s) {
					t.Errorf("a secret (%q) reached the output:\n%s%s%s%s", s, stdout, stderr, rstdout, rstderr)
				}
			}
		})
	}

	token := filepath.Join(dir, "token")
	writeFile(t, token, "xoxb-test-token\n")
	webhook := filepath.Join(dir, "webhook")
	writeFile(t, webhook, "http://127.0.0.1:9/services/T0/B0/x\n")
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	target := func(name, extra string) string {
		return fmt.Sprintf("[[target]]\nname = %q\nhost = \"localhost\"\naddresses = [%q]\n%s", name, closedPort(t), extra)
	}
	good := []struct{ name, doc, notifier string }{
		{"token, a channel per target", "database = \"state/token.db\"\n[slack]\ntoken_file = \"token\"\napi_url = \"http://127.0.0.1:9/api/\"\n" +
			target("a", "slack_channel = \"#a\"\n") + target("b", "slack_channel = \"#b\"\n"), "slack bot token"},
		{"loopback webhook", "database = \"state/webhook.db\"\n[slack]\nwebhook_url_file = \"webhook\"\n" + target("a", ""), "slack webhook"},
		{"[http] listen", "database = \"state/http.db\"\n[http]\nlisten = \"" + closedPort(t) + "\"\n" + target("a", ""), "log only"},
		{"[metrics] listen, the old name", "database = \"state/metrics.db\"\n[http]\nallow_remote = true\n[metrics]\nlisten = \"" + closedPort(t) + "\"\n" + target("a", ""), "log only"},
		{"leap-day schedule, sni", "database = \"state/leap.db\"\nschedule = \"0 0 29 2 *\"\n" + target("a", "sni = \"origin.example.com\"\n"), "log only"},
	}
	for i, g := range good {
		t.Run(g.name, func(t *testing.T) {
			cfg := filepath.Join(dir, fmt.Sprintf("good-%d.toml", i))
			writeFile(t, cfg, g.doc)
			stdout, stderr, code := runIn(t, dir, 10*time.Second, "config", "check", "--config", cfg)
			if code != exitOK || !strings.HasPrefix(stdout, "ok: ") || !strings.HasSuffix(stdout, "notifier: "+g.notifier+"\n") || stderr != "" {
				t.Fatalf("config check: exit %d, stdout %q, stderr %q; want ok with notifier %s", code, stdout, stderr, g.notifier)
			}
			d := startDaemon(t, cfg)
			d.stop(t)
		})
	}
}

// runIn runs the binary with args in dir, with the child environment, for
// at most limit, and returns its output and exit code (-1 when it had to
// be killed).
func runIn(t *testing.T, dir string, limit time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, pinwatchdBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = childEnv()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
		t.Fatalf("run pinwatchd %v: %v", args, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// copyDir copies the files of src (not its subdirectories) into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dst, e.Name()), string(b))
	}
}

// lines splits output into its lines, without the final newline.
func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n") && len(a) == len(b)
}
