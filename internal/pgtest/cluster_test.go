package pgtest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// A database of the shared cluster is empty, answers over the unix socket
// in the schema its URL names, and is gone once its test ended.
func TestDatabase(t *testing.T) {
	c := Shared(t)
	var schema string
	t.Run("use", func(t *testing.T) {
		u := Database(t)
		schema = u[strings.Index(u, "search_path=")+len("search_path="):]
		if got := Exec(t, u, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"); got != "0" {
			t.Errorf("a new database has %s tables, want 0", got)
		}
		if !strings.Contains(u, "host="+strings.ReplaceAll(c.Dir, "/", "%2F")) {
			t.Errorf("URL %s does not name the socket directory %s", u, c.Dir)
		}
		Exec(t, u, "CREATE TABLE x (n integer); INSERT INTO x VALUES (7)")
		if got := c.MustPSQL(t, sharedDatabase, "SELECT n FROM "+schema+".x"); got != "7" {
			t.Errorf("Exec wrote %q in the schema of its URL, want 7", got)
		}
		if other := Database(t); other == u {
			t.Errorf("two databases of one test share the URL %s", u)
		}
	})
	if got := c.MustPSQL(t, sharedDatabase, "SELECT count(*) FROM pg_namespace WHERE nspname = '"+schema+"'"); got != "0" {
		t.Errorf("schema %s still exists after its test", schema)
	}
}

// Over TCP the server asks for the password: the right one logs in, a
// wrong one is refused.
func TestTCPNeedsPassword(t *testing.T) {
	c := Shared(t)
	role, pw := c.CreateRole(t)
	db := c.CreateDatabase(t, role)
	psql := func(password string) error {
		cmd := exec.Command(filepath.Join(c.bin, "psql"), "-X", "-q", "-A", "-t", "-h", "127.0.0.1",
			"-p", strconv.Itoa(c.Port), "-U", role, "-d", db, "-c", "SELECT current_user")
		cmd.Env = []string{"PGPASSWORD=" + password, "PGCONNECT_TIMEOUT=5"}
		out, err := cmd.CombinedOutput()
		if err == nil && strings.TrimSpace(string(out)) != role {
			return errors.New("logged in as " + string(out))
		}
		return err
	}
	if err := psql(pw); err != nil {
		t.Errorf("login with the role's password: %v", err)
	}
	if err := psql("wrong"); err == nil {
		t.Error("login with a wrong password succeeded")
	}
}

// A cluster of its own stops and leaves nothing behind.
func TestStartStop(t *testing.T) {
	Shared(t) // skips, or fails under CI, when PostgreSQL is missing
	c, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PSQL("postgres", "SELECT 1"); err != nil {
		t.Fatalf("the new cluster does not answer: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the cluster directory %s is still there (%v)", c.Dir, err)
	}
}

func TestFindBinOverride(t *testing.T) {
	t.Setenv("PINWATCHD_PG_BIN", t.TempDir())
	_, err := findBin()
	var missing *MissingError
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "$PINWATCHD_PG_BIN") {
		t.Errorf("findBin with an empty $PINWATCHD_PG_BIN: %v, want a MissingError naming it", err)
	}
}
