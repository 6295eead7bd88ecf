package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// runCmd runs pinwatchd in-process with args and returns what it printed and
// its exit code. extraEnv holds environment variables ("K=V") the command
// sees; nothing else of the real environment is visible.
func runCmd(t *testing.T, stdin string, extraEnv []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	vars := map[string]string{}
	for _, kv := range extraEnv {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	e := &env{
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errb,
		getenv: func(k string) string { return vars[k] },
		now:    time.Now,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code = runMain(ctx, e, args)
	return out.String(), errb.String(), code
}

func TestUnknownCommand(t *testing.T) {
	_, stderr, code := runCmd(t, "", nil, "frobnicate")
	if code != exitError {
		t.Errorf("exit code = %d, want %d", code, exitError)
	}
	if !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("stderr = %q, want it to name the unknown command", stderr)
	}
}

func TestVersion(t *testing.T) {
	stdout, _, code := runCmd(t, "", nil, "version")
	if code != exitOK || !strings.HasPrefix(stdout, "pinwatchd ") || !strings.Contains(stdout, "go1.") {
		t.Errorf("version printed %q (exit %d), want 'pinwatchd VERSION (commit …, go1.x …)'", stdout, code)
	}
}

func TestParseInterleaved(t *testing.T) {
	e := &env{stderr: &bytes.Buffer{}}
	fs := newFlagSet(e, "probe", "probe HOST")
	jsonOut := fs.Bool("json", false, "")
	var pins stringList
	fs.Var(&pins, "pin", "")
	pos, err := parseInterleaved(fs, []string{"--pin", "a", "host.example", "--json", "--pin=b", "--", "-x"})
	if err != nil {
		t.Fatal(err)
	}
	if !*jsonOut || strings.Join(pins, ",") != "a,b" || strings.Join(pos, ",") != "host.example,-x" {
		t.Errorf("json=%v pins=%v pos=%v", *jsonOut, pins, pos)
	}
}

func TestHelpCertsSummary(t *testing.T) {
	stdout, stderr, code := runCmd(t, "", nil, "help")
	out := stdout + stderr
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "pinwatchd certs") {
			line = l
		}
	}
	if code != exitOK || !strings.Contains(line, "every configured target") || !strings.Contains(line, "--all") {
		t.Errorf("help (exit %d) describes certs as %q, want it to say configured targets and --all for the others:\n%s", code, line, out)
	}
}
