// Package pgtest starts a throwaway PostgreSQL cluster for tests (SPEC
// §14): initdb into a temporary directory, the server listening on a unix
// socket in that directory and on a free port of 127.0.0.1, every test
// database created fresh and dropped afterwards, and the whole cluster
// stopped and removed when the package's tests end. It never uses a
// PostgreSQL server that happens to run on the machine.
//
// The server binaries are the Debian ones, /usr/lib/postgresql/*/bin (the
// highest version), or the directory named by $PINWATCHD_PG_BIN. When none
// is found the tests that need the cluster skip, saying how to install it,
// except under CI=true, where they fail. initdb and postgres refuse to run
// as root: as root the cluster runs as the user postgres, whom the Debian
// package creates.
//
// Only _test.go files import it. It talks to the server with psql, so that
// the driver stays imported by storage/postgres alone.
package pgtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SuperUser is the cluster's superuser; over the unix socket it logs in
// without a password.
const SuperUser = "pinwatchd"

// Cluster is a running throwaway PostgreSQL cluster.
type Cluster struct {
	// Dir holds the data directory and the unix socket.
	Dir string
	// Port is the server's port, on 127.0.0.1 and in the socket's name.
	Port int

	bin  string
	cred *syscall.Credential // nil when not root
	cmd  *exec.Cmd
	done chan struct{} // closed when the server process has exited
	seq  int
	mu   sync.Mutex // guards seq
}

var (
	startOnce sync.Once
	shared    *Cluster
	startErr  error
)

// Main runs the tests of a package and then stops the package's cluster,
// if a test started one. Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// Shared returns the package's cluster, starting it on first use. When the
// PostgreSQL binaries are missing the test is skipped (failed under
// CI=true); when the cluster cannot start it fails.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	startOnce.Do(func() { shared, startErr = Start() })
	var missing *MissingError
	switch {
	case errors.As(startErr, &missing) && os.Getenv("CI") == "true":
		t.Fatalf("%v; CI must install PostgreSQL: apt-get install postgresql", startErr)
	case errors.As(startErr, &missing):
		t.Skipf("%v; install PostgreSQL to run this test: apt-get install postgresql", startErr)
	case startErr != nil:
		t.Fatalf("start a throwaway PostgreSQL cluster: %v", startErr)
	}
	return shared
}

// Database returns the URL of an empty database on the package's cluster
// (see Shared), as the superuser over the unix socket, no password needed.
// It is a schema of its own in a database the package's tests share, named
// by the URL's search_path (a new database costs a fifth of a second, a
// schema nothing), dropped when the test ends.
func Database(t testing.TB) string {
	t.Helper()
	c := Shared(t)
	name := c.next("schema")
	c.MustPSQL(t, sharedDatabase, "CREATE SCHEMA "+name)
	t.Cleanup(func() {
		if _, err := c.PSQL(sharedDatabase, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop the test schema: %v", err)
		}
	})
	return c.SocketURL(SuperUser, sharedDatabase) + "&search_path=" + name
}

// Exec runs sql, as the superuser, in the database (and schema) of a URL
// that Database returned, and returns what psql printed; it fails the test
// on error. Tests use it to do what pinwatchd never would, such as writing
// a schema version from the future.
func Exec(t testing.TB, dbURL, sql string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if schema := u.Query().Get("search_path"); schema != "" {
		sql = "SET search_path TO " + schema + "; " + sql
	}
	return Shared(t).MustPSQL(t, strings.TrimPrefix(u.Path, "/"), sql)
}

// sharedDatabase holds the schemas Database hands out.
const sharedDatabase = "tests"

// MissingError says that the PostgreSQL server binaries were not found.
type MissingError struct{ Looked string }

func (e *MissingError) Error() string {
	return "the PostgreSQL server binaries (initdb, postgres, psql) are not installed: looked in " + e.Looked
}

// findBin returns the directory of the server binaries.
func findBin() (string, error) {
	if dir := os.Getenv("PINWATCHD_PG_BIN"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err != nil {
			return "", &MissingError{Looked: dir + " ($PINWATCHD_PG_BIN)"}
		}
		return dir, nil
	}
	const pattern = "/usr/lib/postgresql/*/bin"
	dirs, _ := filepath.Glob(pattern)
	// The highest major version: 9.6 < 15 < 16, so compare as numbers.
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(a)), 64)
		vb, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(b)), 64)
		switch {
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
		return 0
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		ok := true
		for _, prog := range []string{"initdb", "postgres", "psql"} {
			if _, err := os.Stat(filepath.Join(dirs[i], prog)); err != nil {
				ok = false
			}
		}
		if ok {
			return dirs[i], nil
		}
	}
	return "", &MissingError{Looked: pattern}
}

// Start initialises and starts a new cluster in a new temporary directory.
// Stop it when done.
func Start() (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	parent := ""
	if os.Geteuid() == 0 {
		// The server runs as postgres, who must reach the directory: not
		// under a $TMPDIR that only root may enter.
		parent = "/tmp"
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, the cluster runs as the user postgres, who does not exist (%w); apt-get install postgresql creates it", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if c.Dir, err = os.MkdirTemp(parent, "pinwatchd-pg-"); err != nil {
		return nil, err
	}
	if err := c.init(); err != nil {
		os.RemoveAll(c.Dir)
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		err = c.start()
		if err == nil {
			if _, err := c.PSQL("postgres", "CREATE DATABASE "+sharedDatabase); err != nil {
				c.Stop()
				return nil, err
			}
			return c, nil
		}
		// Another process may have taken the free port first.
		if attempt == 2 || !strings.Contains(err.Error(), "Address already in use") {
			os.RemoveAll(c.Dir)
			return nil, err
		}
	}
}

// init runs initdb: a superuser SuperUser trusted over the unix socket,
// passwords (SCRAM) required over TCP.
func (c *Cluster) init() error {
	if c.cred != nil {
		if err := os.Chown(c.Dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return err
		}
	}
	pw := filepath.Join(c.Dir, "superuser-password")
	if err := os.WriteFile(pw, []byte(randomHex()+"\n"), 0o600); err != nil {
		return err
	}
	if c.cred != nil {
		if err := os.Chown(pw, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return err
		}
	}
	out, err := c.server("initdb", "-D", filepath.Join(c.Dir, "data"), "-U", SuperUser, "--pwfile", pw,
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// start runs the server on a free port and waits until it answers. The
// server gets SIGQUIT (immediate shutdown) should the test process die
// without stopping it.
func (c *Cluster) start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	c.Port = port
	logPath := filepath.Join(c.Dir, "server.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// fsync is off: the cluster is thrown away, and tests create and drop
	// many databases.
	c.cmd = c.server("postgres", "-D", filepath.Join(c.Dir, "data"), "-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(port), "-c", "unix_socket_directories="+c.Dir, "-c", "fsync=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200")
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	c.cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.done = make(chan struct{})
	go func() { c.cmd.Wait(); close(c.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := c.PSQL("postgres", "SELECT 1"); err == nil {
			return nil
		}
		select {
		case <-c.done:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited at start-up: %s", log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.Stop()
			return errors.New("postgres did not answer within 60 s")
		}
	}
}

// server returns a command running a server program of the cluster, as
// postgres when the tests run as root.
func (c *Cluster) server(prog string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, prog), args...)
	cmd.Dir = c.Dir
	cmd.Env = []string{"PATH=" + c.bin + ":/usr/bin:/bin", "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Setpgid: true}
	return cmd
}

// Stop shuts the server down (fast shutdown, then a kill after 10 s) and
// removes the cluster's directory.
func (c *Cluster) Stop() error {
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
			<-c.done
		}
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		return fmt.Errorf("remove the cluster directory: %w", err)
	}
	return nil
}

// PSQL runs sql in database db as SuperUser over the unix socket and
// returns what psql printed (unaligned, tuples only).
func (c *Cluster) PSQL(db, sql string) (string, error) {
	cmd := exec.Command(filepath.Join(c.bin, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", c.Dir, "-p", strconv.Itoa(c.Port), "-U", SuperUser, "-d", db, "-c", sql)
	cmd.Env = []string{"LC_ALL=C", "PGCONNECT_TIMEOUT=5"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("psql %q: %w: %s", sql, err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// MustPSQL is PSQL failing the test on error.
func (c *Cluster) MustPSQL(t testing.TB, db, sql string) string {
	t.Helper()
	out, err := c.PSQL(db, sql)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// next returns a new name starting with prefix.
func (c *Cluster) next(prefix string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return fmt.Sprintf("%s_%d", prefix, c.seq)
}

// CreateDatabase creates an empty database owned by owner, dropped (with
// any session still connected) when the test ends, and returns its name.
func (c *Cluster) CreateDatabase(t testing.TB, owner string) string {
	t.Helper()
	name := c.next("db")
	c.MustPSQL(t, "postgres", fmt.Sprintf("CREATE DATABASE %s OWNER %s", name, owner))
	t.Cleanup(func() {
		if _, err := c.PSQL("postgres", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop the test database: %v", err)
		}
	})
	return name
}

// CreateRole creates a role that logs in with a new random password,
// dropped when the test ends (after the databases it owns, which are
// created later and so dropped first), and returns its name and password.
func (c *Cluster) CreateRole(t testing.TB) (name, password string) {
	t.Helper()
	name = c.next("role")
	password = randomHex()
	c.MustPSQL(t, "postgres", fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", name, password))
	t.Cleanup(func() {
		if _, err := c.PSQL("postgres", "DROP ROLE IF EXISTS "+name); err != nil {
			t.Errorf("drop the test role: %v", err)
		}
	})
	return name, password
}

// SocketURL is the URL of database db as user over the unix socket.
func (c *Cluster) SocketURL(user, db string) string {
	q := url.Values{"host": {c.Dir}, "port": {strconv.Itoa(c.Port)}, "sslmode": {"disable"}}
	return "postgres://" + user + "@/" + db + "?" + q.Encode()
}

// TCPURL is the URL of database db as user over TCP on 127.0.0.1, where
// the server asks for the user's password. The URL holds no password.
func (c *Cluster) TCPURL(user, db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", user, c.Port, db)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
