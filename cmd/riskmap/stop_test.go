package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/pgtest"
	"riskmap/pkg/riskmap"
)

// stopClusterName is the PostgreSQL cluster TestDatabaseStopped stops and starts: one of its
// own, since every other test uses the machine's cluster on 5432 (and the standby on 5433
// follows that one).
const stopClusterName = "riskmap_stop"

// stopCluster is the test's cluster, version ver, on 127.0.0.1:port.
type stopCluster struct{ ver, port string }

// ctl runs pg_ctlcluster on the cluster (action: start, stop, reload; args: its options).
func (c stopCluster) ctl(action string, args ...string) error {
	args = append([]string{"--skip-systemctl-redirect", c.ver, stopClusterName, action}, args...)
	if out, err := exec.Command("pg_ctlcluster", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctlcluster %s: %v %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// ready says whether the cluster accepts connections.
func (c stopCluster) ready() bool {
	return exec.Command("pg_isready", "-q", "-h", "127.0.0.1", "-p", c.port).Run() == nil
}

// waitReady waits until the cluster accepts connections.
func (c stopCluster) waitReady(t *testing.T) {
	t.Helper()
	for start := time.Now(); !c.ready(); time.Sleep(100 * time.Millisecond) {
		if time.Since(start) > time.Minute {
			t.Fatalf("cluster %s %s on 127.0.0.1:%s did not come up in a minute", c.ver, stopClusterName, c.port)
		}
	}
}

// admin is the DSN of the cluster's admin database.
func (c stopCluster) admin() string {
	return "postgres://postgres@127.0.0.1:" + c.port + "/postgres?sslmode=disable"
}

// startStopCluster makes the test's cluster if pg_lsclusters does not list it (trust on
// loopback, as scripts/start-standby.sh makes the standby), starts it if it is down and
// waits until it answers. It is left running for the next run. Where it cannot be made (not
// root, no pg_createcluster) the test skips, or fails in CI or with RISKMAP_REQUIRE_PG=1.
// A lock on a file keeps two test processes from stopping it under each other.
func startStopCluster(t *testing.T) stopCluster {
	t.Helper()
	port := os.Getenv("RISKMAP_STOP_PORT")
	if port == "" {
		port = "5434"
	}
	cannot := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf("a PostgreSQL cluster of the test's own (%s on 127.0.0.1:%s), to stop and start: ", stopClusterName, port) +
			fmt.Sprintf(format, args...)
		if pgtest.Required() {
			t.Fatal(msg + " [required because CI or RISKMAP_REQUIRE_PG=1 is set]")
		}
		t.Skip(msg)
	}
	if os.Geteuid() != 0 {
		cannot("making and stopping it needs root")
	}
	for _, tool := range []string{"pg_createcluster", "pg_ctlcluster", "pg_lsclusters", "pg_isready"} {
		if _, err := exec.LookPath(tool); err != nil {
			cannot("no %s (postgresql-common)", tool)
		}
	}
	vers, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(vers) == 0 {
		cannot("no PostgreSQL version under /etc/postgresql (%v)", err)
	}
	c := stopCluster{ver: vers[0].Name(), port: port}

	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "riskmap-stop-cluster.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() }) // closing releases the lock, after every other cleanup

	out, err := exec.Command("pg_lsclusters", "-h").Output()
	if err != nil {
		t.Fatalf("pg_lsclusters: %v", err)
	}
	status := ""
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 4 && f[1] == stopClusterName {
			c.ver, status = f[0], f[3]
			if f[2] != port {
				t.Fatalf("cluster %s %s listens on %s, not %s (RISKMAP_STOP_PORT): pg_dropcluster --stop %[1]s %[2]s makes the test make it again",
					c.ver, stopClusterName, f[2], port)
			}
		}
	}
	if status == "" {
		t.Logf("making cluster %s %s on 127.0.0.1:%s", c.ver, stopClusterName, port)
		if out, err := exec.Command("pg_createcluster", c.ver, stopClusterName, "-p", port).CombinedOutput(); err != nil {
			t.Fatalf("pg_createcluster %s %s -p %s: %v %s", c.ver, stopClusterName, port, err, out)
		}
		status = "down"
	}
	// Trust on loopback, as on the machine's cluster. The cluster is the test's: its
	// pg_hba.conf is written whole (also over one a run killed midway left unwritten).
	hba := filepath.Join("/etc/postgresql", c.ver, stopClusterName, "pg_hba.conf")
	const trust = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
	if b, err := os.ReadFile(hba); err != nil || string(b) != trust {
		if err := os.WriteFile(hba, []byte(trust), 0o640); err != nil {
			t.Fatal(err)
		}
		if status == "online" {
			if err := c.ctl("reload"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if status != "online" {
		if err := c.ctl("start"); err != nil {
			t.Fatal(err)
		}
	}
	c.waitReady(t)
	return c
}

// TestDatabaseStopped is TestDatabaseOutage with PostgreSQL really stopped (a fast
// shutdown: FATAL 57P01 on every open connection, then nothing listening) under a running
// server, and started again: reads go on from the index for a browser session, an API token
// and the public map, also under concurrent load; writes get 503 with Retry-After and a
// message in Chinese and change nothing; /readyz says 503; once the database is back the
// same write succeeds in the same session, without a restart of the server.
func TestDatabaseStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL clusters of its own")
	}
	c := startStopCluster(t)
	dsn := pgtest.NewDatabaseOn(t, c.admin())
	// A test that fails while the cluster is down leaves it running again (before the
	// database is dropped; after the server stops).
	t.Cleanup(func() {
		if !c.ready() {
			if err := c.ctl("start"); err != nil {
				t.Error(err)
			}
			c.waitReady(t)
		}
	})
	mustRun(t, "seed", "--db", dsn, "--synthetic", "200", "--seed", "5")
	mustRun(t, "publish", "--db", dsn)
	base, out := serve(t, "--db", dsnWith(t, dsn, "", "riskmap-stop"))
	pw := adminPassword(t, out) // the first start made the admin
	store := openPG(t, dsn)
	addToken(t, store, "sync-admin", riskmap.RoleAdmin) // the token tileFeature sends
	const token = "rmk_sync-admin"
	browser, csrf := browserLogin(t, base, "admin", pw)
	anon := &http.Client{Timeout: 10 * time.Second}

	// A unit of the test's own, written before the stop: read back by id and in its tile
	// during the stop, and changed (If-Match its first version) during and after it.
	p := orb.Point{102.9312, 24.6888}
	code, h, body, err := send(browser, base, "POST", "/api/v1/units", unitFeature("STOP-0", "停库前", p, "submitted"), csrf, "")
	var created struct {
		ID int64 `json:"id"`
	}
	if err != nil || code != http.StatusCreated || json.Unmarshal([]byte(body), &created) != nil || created.ID == 0 {
		t.Fatalf("a write before the stop: %d %v %s", code, err, body)
	}
	etag := h.Get("ETag")
	detail := "/api/v1/units/" + strconv.FormatInt(created.ID, 10)
	units, err := store.CountUnits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tl := maptile.At(p, 16)
	reads := []string{"/api/v1/units?limit=5", detail, fmt.Sprintf("/tiles/units/%d/%d/%d.pbf", tl.Z, tl.X, tl.Y), "/api/v1/stats"}
	publicReads, publicOK := publicMap(t, base)
	change := unitFeature("STOP-0", "停库后修改", p, "submitted")
	// Who reads: the browser's session, the token, and anyone on the public map (also the
	// browser there).
	var mix []mixedCall
	for _, r := range reads {
		mix = append(mix, mixedCall{c: browser, method: "GET", path: r, csrf: csrf}, mixedCall{c: anon, method: "GET", path: r, token: token})
	}
	for _, r := range publicReads {
		mix = append(mix, mixedCall{c: anon, method: "GET", path: r}, mixedCall{c: browser, method: "GET", path: r})
	}
	writes := []mixedCall{{c: browser, method: "PUT", path: detail, csrf: csrf, write: true},
		{c: anon, method: "POST", path: "/api/v1/units", token: token, write: true}}
	do := func(k mixedCall) (int, http.Header, string, error) {
		switch {
		case k.method == "PUT":
			return send(k.c, base, k.method, k.path, change, k.csrf, k.token, "If-Match", etag)
		case k.write:
			return send(k.c, base, k.method, k.path, unitFeature("STOP-1", "停库时新增", p, "submitted"), k.csrf, k.token)
		}
		return send(k.c, base, k.method, k.path, "", k.csrf, k.token)
	}
	// check says what is wrong with an answer, if anything: a read answers 200 (a public
	// one with the published unit), a write 503 with Retry-After and a message in Chinese
	// when the database is down.
	han := regexp.MustCompile(`\p{Han}`)
	check := func(k mixedCall, code int, h http.Header, body string) error {
		switch {
		case k.write:
			var e struct {
				Error struct {
					Message string `json:"message"`
				} `json:"error"`
			}
			_ = json.Unmarshal([]byte(body), &e)
			if secs, err := strconv.Atoi(h.Get("Retry-After")); code != http.StatusServiceUnavailable || err != nil || secs < 1 || !han.MatchString(e.Error.Message) {
				return fmt.Errorf("%s %s while the database is stopped: %d Retry-After %q %.300s; want 503 with Retry-After (seconds) and a message in Chinese",
					k.method, k.path, code, h.Get("Retry-After"), body)
			}
		case strings.HasPrefix(k.path, "/public"):
			return publicOK(k.path, code, body)
		case code != 200:
			return fmt.Errorf("GET %s (token %q): %d %.300s", k.path, k.token, code, body)
		}
		return nil
	}
	// ask sends k and says what is wrong with its answer, if anything.
	ask := func(k mixedCall) error {
		code, h, body, err := do(k)
		if err != nil {
			return err
		}
		return check(k, code, h, body)
	}
	for _, k := range mix {
		if err := ask(k); err != nil {
			t.Fatalf("before the stop: %v", err)
		}
	}
	if tileFeature(t, base+"/tiles", p, created.ID) == nil {
		t.Fatalf("unit %d is not in its tile before the stop", created.ID)
	}

	// Reads all along, from before the stop until /readyz is 200 after the start, through
	// the fast shutdown (FATAL 57P01 on open connections) and the start (57P03 while it
	// recovers): none fails.
	var loadN, loadFails atomic.Int64
	quit := make(chan struct{})
	var load sync.WaitGroup
	endLoad := sync.OnceFunc(func() { close(quit); load.Wait() })
	defer endLoad()
	for i := range 4 {
		load.Add(1)
		go func() {
			defer load.Done()
			for j := i; ; j++ {
				select {
				case <-quit:
					return
				default:
				}
				k := mix[j%len(mix)]
				err := ask(k)
				loadN.Add(1)
				if err != nil && loadFails.Add(1) <= 10 {
					t.Errorf("while PostgreSQL stops, is down or starts: %v", err)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}

	start := time.Now()
	if err := c.ctl("stop", "-m", "fast"); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL stopped (fast) in %v", time.Since(start).Round(time.Millisecond))
	if c.ready() {
		t.Fatal("the cluster still answers after its stop")
	}
	// Past the credential cache's 2 s from the last moment the database answered (the
	// reads above went on until the stop): the session and the token can only be trusted
	// from memory now.
	time.Sleep(2500 * time.Millisecond)

	t.Run("OKReadsGoOn", func(t *testing.T) {
		for _, k := range mix {
			if err := ask(k); err != nil {
				t.Error(err)
			}
		}
		if tileFeature(t, base+"/tiles", p, created.ID) == nil {
			t.Errorf("unit %d is not in its tile while the database is stopped", created.ID)
		}
	})
	t.Run("ErrWrites503WithRetryAfter", func(t *testing.T) {
		for _, k := range writes {
			if err := ask(k); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("OKConcurrentReadsGoOn", func(t *testing.T) {
		// 16 clients for a second, every kind of read and now and then a write.
		all := append(append([]mixedCall(nil), mix...), writes...)
		var n, fails atomic.Int64
		var wg sync.WaitGroup
		end := time.Now().Add(time.Second)
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := i; time.Now().Before(end); j++ {
					k := all[j%len(all)]
					err := ask(k)
					n.Add(1)
					if err != nil && fails.Add(1) <= 10 {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("%d requests, %d wrong answers", n.Load(), fails.Load())
		if fails.Load() > 0 {
			t.Errorf("%d of %d answers were wrong while the database was stopped", fails.Load(), n.Load())
		}
	})
	t.Run("ErrReadyz503", func(t *testing.T) {
		if code, body := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz while the database is stopped: %d %s", code, body)
		}
	})
	t.Run("OKNothingChanged", func(t *testing.T) {
		code, _, body, err := send(browser, base, "GET", detail, "", csrf, "")
		if err != nil || code != 200 || !strings.Contains(body, "停库前") || strings.Contains(body, "停库后修改") {
			t.Errorf("the unit while the database is stopped: %d %v %.300s", code, err, body)
		}
	})

	start = time.Now()
	if err := c.ctl("start"); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL started in %v", time.Since(start).Round(time.Millisecond))
	for {
		code, body := get(t, base+"/readyz")
		if code == 200 {
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("/readyz a minute after PostgreSQL started again: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("/readyz 200 %v after the start began", time.Since(start).Round(time.Millisecond))
	endLoad()
	t.Logf("%d reads from before the stop until /readyz was 200 again, %d wrong", loadN.Load(), loadFails.Load())
	t.Run("OKResumes", func(t *testing.T) {
		// Nothing written while the database was stopped: as many units as before, and the
		// unit still at the version its ETag names.
		if n, err := store.CountUnits(t.Context()); err != nil || n != units {
			t.Errorf("%d units after the stop (%v), want the %d before it", n, err, units)
		}
		code, h, body, err := send(browser, base, "PUT", detail, change, csrf, "", "If-Match", etag)
		if err != nil || code != 200 {
			t.Fatalf("the same write in the same session once the database is back: %d %v %.300s", code, err, body)
		}
		code, _, body, err = send(browser, base, "GET", detail, "", csrf, "")
		if err != nil || code != 200 || !strings.Contains(body, "停库后修改") {
			t.Errorf("the unit after the write: %d %v %.300s", code, err, body)
		}
		if h.Get("ETag") == etag {
			t.Errorf("the write answered ETag %s, the version before it", h.Get("ETag"))
		}
		for _, k := range mix {
			if err := ask(k); err != nil {
				t.Errorf("after the start: %v", err)
			}
		}
		// The server listens for other replicas' changes again.
		d := waitFor(t, "the server's listening connection to come back", func() bool { return listenerPID(t, store, "riskmap-stop") != 0 })
		t.Logf("listening again %v after /readyz", d.Round(time.Millisecond))
	})
}
