package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/storetest"
)

// syncDeadline is how long a replica may take to show another's write before the test
// fails. The goal is well under a second (the observed latency is logged); the bound is
// generous so that a loaded CI machine does not fail a correct build. After a reconnection
// the listener's pause (up to 2 s) comes on top.
const syncDeadline = 5 * time.Second

// Two servers on one database: what is written through A shows in B's tiles, also after
// B's listening connection is killed and while it cannot reconnect.
func TestReplicasStayInSync(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	mustRun(t, "seed", "--db", dsn, "--synthetic", "50", "--seed", "5")
	store := openPG(t, dsn)
	// B reaches the database through a proxy, so that the test can keep it from reconnecting.
	px := newProxy(t, dsn)
	addToken(t, store, "sync-expert", riskmap.RoleExpert)
	addToken(t, store, "sync-admin", riskmap.RoleAdmin)
	a, _ := serve(t, "--db", dsnWith(t, dsn, "", "riskmap-a"))
	b, _ := serve(t, "--db", dsnWith(t, dsn, px.addr(), "riskmap-b"))
	p := orb.Point{102.9312, 24.6888}
	var id int64

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"OKCreateShowsInB", func(t *testing.T) {
			var etag string
			id, etag = write(t, "POST", a+"/api/v1/units", "", unitFeature("SYNC-1", "同步测试 一", p, "submitted"))
			if etag != `"1"` {
				t.Fatalf("ETag %s, want \"1\"", etag)
			}
			d := waitFor(t, "B's tiles to show the new unit", func() bool {
				f := tileFeature(t, b+"/tiles", p, id)
				return f != nil && f.Properties["name"] == "同步测试 一"
			})
			t.Logf("create through A showed in B's tiles after %v", d)
			// Approved and published through A: B serves the publication too.
			writeAs(t, "sync-admin", "POST", a+"/api/v1/units/"+strconv.FormatInt(id, 10)+"/approve", `"1"`, "")
			writeAs(t, "sync-admin", "POST", a+"/api/v1/publications", "", `{"note":"同步"}`)
			d = waitFor(t, "B's public tiles to show the published unit", func() bool {
				return tileFeature(t, b+"/public/tiles", p, id) != nil
			})
			t.Logf("a publication through A showed in B's public tiles after %v", d)
		}},
		{"OKUpdateShowsInB", func(t *testing.T) {
			// A new revision, submitted for review: the published one stays public.
			write(t, "PUT", a+"/api/v1/units/"+strconv.FormatInt(id, 10), `"2"`, unitFeature("SYNC-1", "同步测试 二", p, "submitted"))
			d := waitFor(t, "B's tiles to show the update and its public tiles to keep the unit", func() bool {
				f := tileFeature(t, b+"/tiles", p, id)
				return f != nil && f.Properties["name"] == "同步测试 二" && tileFeature(t, b+"/public/tiles", p, id) != nil
			})
			t.Logf("update through A showed in B's tiles after %v", d)
		}},
		{"OKSteadyWritesNeverReload", func(t *testing.T) {
			// The writes so far reached B one by one: neither replica loaded its index
			// again (issue 18: a reload is for a bulk load only).
			for name, base := range map[string]string{"A": a, "B": b} {
				if n := indexLoads(t, base); n != 1 {
					t.Fatalf("%s loaded its index %d times, want 1 (the start)", name, n)
				}
			}
		}},
		{"OKRetireLeavesB", func(t *testing.T) {
			// Retiring an approved unit is a request another reviewer approves.
			write(t, "DELETE", a+"/api/v1/units/"+strconv.FormatInt(id, 10), `"3"`, `{"reason":"同步测试注销"}`)
			writeAs(t, "sync-admin", "POST", a+"/api/v1/units/"+strconv.FormatInt(id, 10)+"/approve", `"4"`, "")
			d := waitFor(t, "the retired unit to leave B's tiles", func() bool {
				return tileFeature(t, b+"/tiles", p, id) == nil
			})
			t.Logf("retirement through A left B's tiles after %v", d)
			// Published again: the public indexes follow by the change, on A (which
			// published) and on B (which hears of it).
			writeAs(t, "sync-admin", "POST", a+"/api/v1/publications", "", `{"note":"注销之后"}`)
			d = waitFor(t, "the retired unit to leave A's and B's public tiles", func() bool {
				return tileFeature(t, a+"/public/tiles", p, id) == nil && tileFeature(t, b+"/public/tiles", p, id) == nil
			})
			t.Logf("the next publication took the retired unit off B's public tiles after %v", d)
		}},
		{"OKBulkLoadShowsInB", func(t *testing.T) {
			mustRun(t, "seed", "--db", dsn, "--synthetic", "30", "--seed", "6")
			want, err := store.CountUnits(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			d := waitFor(t, fmt.Sprintf("both replicas to count %d units", want), func() bool {
				return count(t, a) == want && count(t, b) == want
			})
			t.Logf("a bulk load showed in both replicas after %v", d)
		}},
		{"OKWriteAfterListenerKilledShowsInB", func(t *testing.T) {
			old := killListener(t, store, "riskmap-b")
			waitFor(t, "B to listen again", func() bool {
				pid := listenerPID(t, store, "riskmap-b")
				return pid != 0 && pid != old
			})
			id2, _ := write(t, "POST", a+"/api/v1/units", "", unitFeature("SYNC-2", "同步测试 三", p, "submitted"))
			d := waitFor(t, "B's tiles to show a unit written after B reconnected", func() bool {
				return tileFeature(t, b+"/tiles", p, id2) != nil
			})
			t.Logf("after B's listener was killed and came back, a create through A showed in B's tiles after %v", d)
		}},
		{"OKWriteWhileBDisconnectedShowsInB", func(t *testing.T) {
			px.hold(true)
			killListener(t, store, "riskmap-b")
			id3, _ := write(t, "POST", a+"/api/v1/units", "", unitFeature("SYNC-3", "断线期间写入", p, "submitted"))
			// B cannot hear of it: it has no listening connection and cannot make one.
			time.Sleep(200 * time.Millisecond)
			if tileFeature(t, b+"/tiles", p, id3) != nil {
				t.Fatal("B showed a write while it could not listen: the test no longer tests catching up")
			}
			released := time.Now()
			px.hold(false)
			waitFor(t, "B to catch up with the write made while it was disconnected", func() bool {
				return tileFeature(t, b+"/tiles", p, id3) != nil
			})
			t.Logf("a write made while B was disconnected showed in B's tiles %v after B could reconnect", time.Since(released))
		}},
		{"OKTenSecondsCutOffConverge", func(t *testing.T) {
			// Issue 18: B cannot listen (nor open a connection) for 10 s while A takes
			// writes; once it listens again it catches up, and no unit is missing from its
			// tiles.
			px.hold(true)
			old := killListener(t, store, "riskmap-b")
			var (
				ids []int64
				pts []orb.Point
			)
			for start := time.Now(); time.Since(start) < 10*time.Second; {
				i := len(ids)
				q := orb.Point{p[0] + float64(i%20)*0.0001, p[1] - float64(i/20)*0.0001}
				id, _ := write(t, "POST", a+"/api/v1/units", "", unitFeature(fmt.Sprintf("CUT-%03d", i), fmt.Sprintf("断线十秒 %d", i), q, "submitted"))
				ids, pts = append(ids, id), append(pts, q)
				time.Sleep(50 * time.Millisecond)
			}
			if tileFeature(t, b+"/tiles", pts[0], ids[0]) != nil {
				t.Fatal("B showed a write while it could not listen: the test no longer tests catching up")
			}
			want, err := store.CountUnits(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			released := time.Now()
			px.hold(false)
			waitFor(t, "B to listen again", func() bool {
				pid := listenerPID(t, store, "riskmap-b")
				return pid != 0 && pid != old
			})
			listening := time.Now()
			waitFor(t, fmt.Sprintf("B to count %d units", want), func() bool { return count(t, b) == want })
			converged := time.Now()
			for i, id := range ids {
				if tileFeature(t, b+"/tiles", pts[i], id) == nil {
					t.Fatalf("unit %d (CUT-%03d), written while B was cut off, is missing from B's tiles", id, i)
				}
			}
			t.Logf("%d units written through A during B's 10 s cut-off: B listened again %v after the cut ended (its reconnect pause) and had every one in its tiles %v after that",
				len(ids), listening.Sub(released).Round(time.Millisecond), converged.Sub(listening).Round(time.Millisecond))
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			return // later steps build on earlier ones
		}
	}
}

// unitFeature is a unit's GeoJSON Feature as a client sends it.
func unitFeature(code, name string, p orb.Point, status string) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%g,%g]},"properties":{
		"code":%q,"name":%q,"category":"hazardous_chemicals","region_code":"530481001001","status":%q,
		"assessment":{"method":"LS","likelihood":4,"severity":5},"accident_types":["fire"],
		"controls":{"engineering":["可燃气体报警"],"management":["安全操作规程"],"training":["岗前培训"],"ppe":["防护服"],"emergency":["应急预案"]},
		"responsible_unit":"同步测试有限公司","contact_person":"联系人甲","contact_phone":"0877-1234567","assessed_at":"2026-03-01T00:00:00Z"}}`,
		p[0], p[1], code, name, status)
}

// addToken adds a user with an API token ("rmk_" + its name) to the store.
func addToken(t *testing.T, s riskmap.Store, name, role string) {
	t.Helper()
	ctx := context.Background()
	u := &riskmap.User{Name: name, Role: role, PasswordHash: "$argon2id$unused", CreatedAt: time.Now()}
	if err := s.CreateUserRecorded(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("rmk_" + name))
	if err := s.CreateAPIToken(ctx, &riskmap.APIToken{Name: "test", UserID: u.ID, TokenHash: hex.EncodeToString(h[:]),
		CreatedBy: "test", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// write sends a write to a replica as sync-expert and returns the unit's id and ETag.
func write(t *testing.T, method, url, ifMatch, body string) (int64, string) {
	t.Helper()
	return writeAs(t, "sync-expert", method, url, ifMatch, body)
}

// writeAs sends a write as user (who has a token from addToken).
func writeAs(t *testing.T, user, method, url, ifMatch, body string) (int64, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer rmk_"+user)
	if body != "" {
		req.Header.Set("Content-Type", "application/geo+json")
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, url, res.StatusCode, b)
	}
	var f struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return f.ID, res.Header.Get("ETag")
}

// tileFeature returns unit id's feature in the zoom-16 units tile at p under root (a
// replica's /tiles or /public/tiles), or nil.
func tileFeature(t *testing.T, root string, p orb.Point, id int64) *geojson.Feature {
	t.Helper()
	tl := maptile.At(p, 16)
	// The transport asks for gzip and inflates the answer.
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/units/%d/%d/%d.pbf", root, tl.Z, tl.X, tl.Y), nil)
	req.Header.Set("Authorization", "Bearer rmk_sync-admin")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	switch res.StatusCode {
	case http.StatusNoContent:
		return nil
	case http.StatusOK:
	default:
		t.Fatalf("tile %s: %d %s", res.Request.URL, res.StatusCode, raw)
	}
	layers, err := mvt.Unmarshal(raw)
	if err != nil {
		t.Fatalf("tile %s is not an MVT: %v", res.Request.URL, err)
	}
	for _, l := range layers {
		for _, f := range l.Features {
			if l.Name == "units" && f.Properties["id"] == float64(id) {
				return f
			}
		}
	}
	return nil
}

// count is the number of active units a replica lists.
func count(t *testing.T, base string) int {
	t.Helper()
	code, b := adminGet(t, base+"/api/v1/units?limit=1")
	body := string(b)
	var r struct {
		NumberMatched int `json:"numberMatched"`
	}
	if err := json.Unmarshal([]byte(body), &r); code != 200 || err != nil {
		t.Fatalf("list units: %d %v %s", code, err, body)
	}
	return r.NumberMatched
}

// adminGet GETs url with the sync-admin token and returns the status and body.
func adminGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer rmk_sync-admin")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// indexLoads is riskmap_index_loads_total at base's /metrics.
func indexLoads(t *testing.T, base string) int {
	t.Helper()
	code, b := adminGet(t, base+"/metrics")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "riskmap_index_loads_total "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("riskmap_index_loads_total %q", v)
			}
			return n
		}
	}
	t.Fatalf("/metrics: %d, no riskmap_index_loads_total", code)
	return 0
}

// waitFor polls ok until it holds and returns how long that took; past syncDeadline the
// test fails.
func waitFor(t *testing.T, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > syncDeadline {
			t.Fatalf("waited %v for %s", syncDeadline, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// listenerPID is the backend pid of replica app's listening connection, or 0.
func listenerPID(t *testing.T, s *postgis.Store, app string) int {
	t.Helper()
	var pid int
	err := s.Pool().QueryRow(context.Background(), `SELECT coalesce(max(pid), 0) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, app+postgis.ListenerSuffix).Scan(&pid)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// killListener terminates replica app's listening connection, as an administrator or a
// failover would, waits until it is gone and returns its pid.
func killListener(t *testing.T, s *postgis.Store, app string) int {
	t.Helper()
	pid := listenerPID(t, s, app)
	if pid == 0 {
		t.Fatalf("%s has no listening connection", app)
	}
	var ok bool
	if err := s.Pool().QueryRow(context.Background(), "SELECT pg_terminate_backend($1, 5000)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminate %s's listener: %v %v", app, ok, err)
	}
	return pid
}

// openPG opens the PostGIS store at dsn for the test; it is closed when the test ends.
func openPG(t *testing.T, dsn string) *postgis.Store {
	t.Helper()
	s, err := postgis.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dsnWith returns dsn with another host:port (unless hostport is "") and application name.
func dsnWith(t *testing.T, dsn, hostport, app string) string {
	t.Helper()
	if !isPostgres(dsn) {
		// keyword=value: the last setting of a keyword wins.
		if hostport != "" {
			host, port, _ := net.SplitHostPort(hostport)
			dsn += " host=" + host + " port=" + port
		}
		return dsn + " application_name=" + app
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if hostport != "" {
		u.Host = hostport
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	return u.String()
}

// proxy forwards TCP connections to the database. While held it turns new connections
// away, as an unreachable database would; connections already made carry on.
type proxy struct {
	ln     net.Listener
	target string
	held   atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t *testing.T, dsn string) *proxy {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &proxy{ln: ln, target: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))}
	done := make(chan struct{})
	go func() {
		defer close(done)
		px.serve()
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		px.mu.Lock()
		defer px.mu.Unlock()
		for _, c := range px.conns {
			c.Close()
		}
	})
	return px
}

func (px *proxy) addr() string { return px.ln.Addr().String() }

func (px *proxy) hold(on bool) { px.held.Store(on) }

func (px *proxy) serve() {
	for {
		c, err := px.ln.Accept()
		if err != nil {
			return
		}
		if px.held.Load() {
			c.Close()
			continue
		}
		d, err := net.Dial("tcp", px.target)
		if err != nil {
			c.Close()
			continue
		}
		px.mu.Lock()
		px.conns = append(px.conns, c, d)
		px.mu.Unlock()
		go pipe(c, d)
		go pipe(d, c)
	}
}

// pipe copies until either side ends, then ends both.
func pipe(dst, src net.Conn) {
	io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// countingStore is the real store, counting the units follow reads one by one and the
// full loads.
type countingStore struct {
	*postgis.Store
	gets, loads int
}

func (s *countingStore) Units(ctx context.Context) iter.Seq2[*riskmap.Unit, error] {
	s.loads++
	return s.Store.Units(ctx)
}

func (s *countingStore) GetUnit(ctx context.Context, id int64) (*riskmap.Unit, error) {
	s.gets++
	return s.Store.GetUnit(ctx, id)
}

func TestFollowerAppliesOnlyNewerVersions(t *testing.T) {
	ctx := context.Background()
	s := openPG(t, pgtest.NewDatabase(t))
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: s}
	ix := spatialindex.New(featurejson.Encoder(), nil)
	f := &follower{store: cs, ix: ix, units: &register.Service{Index: ix}, logger: slog.New(slog.DiscardHandler)}
	event := func(id, version int64) []followMsg {
		return []followMsg{{event: postgis.Event{ID: id, Version: version}}}
	}

	u := storetest.NewUnit("FOLLOW-1", orb.Point{102.93, 24.69})
	if err := s.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	f.catchUp(ctx, "start") // the mark is unknown: a full load
	if ix.Version(u.ID) != 1 || f.mark == 0 {
		t.Fatalf("the first catch-up must load the index and take a mark: version %d, mark %d", ix.Version(u.ID), f.mark)
	}
	u.Name = "第二版"
	if err := s.UpdateUnit(ctx, u); err != nil { // version 2, not yet heard
		t.Fatal(err)
	}

	t.Run("OKStaleEventIgnored", func(t *testing.T) {
		f.handle(ctx, event(u.ID, 1))
		if cs.gets != 0 || ix.Version(u.ID) != 1 {
			t.Fatalf("an event no newer than the index must cost no read and change nothing: %d reads, version %d",
				cs.gets, ix.Version(u.ID))
		}
	})
	t.Run("OKNewerEventApplied", func(t *testing.T) {
		f.handle(ctx, append(event(u.ID, 2), event(u.ID, 2)...))
		if cs.gets != 1 || ix.Version(u.ID) != 2 {
			t.Fatalf("one read for the same unit heard twice, then version 2: %d reads, %d", cs.gets, ix.Version(u.ID))
		}
	})
	t.Run("OKSubmittedStaysInternal", func(t *testing.T) {
		u.Status = riskmap.StatusSubmitted
		if err := s.UpdateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
		f.handle(ctx, event(u.ID, 3))
		if ix.Version(u.ID) != 3 {
			t.Fatalf("a submitted unit is indexed: version %d", ix.Version(u.ID))
		}
	})
	t.Run("OKManyEventsReadInOneCatchUp", func(t *testing.T) {
		var batch []followMsg
		var last int64
		for i := range readLimit + 1 {
			v := storetest.NewUnit(fmt.Sprintf("FOLLOW-MANY-%d", i), orb.Point{102.93, 24.69})
			if err := s.CreateUnit(ctx, v); err != nil {
				t.Fatal(err)
			}
			batch = append(batch, event(v.ID, 1)...)
			last = v.ID
		}
		before := cs.gets
		f.handle(ctx, batch)
		if cs.gets != before || ix.Version(last) != 1 {
			t.Fatalf("%d events must be caught up in one query: %d reads one by one, version %d",
				len(batch), cs.gets-before, ix.Version(last))
		}
	})
	t.Run("OKOwnWritesNeverReload", func(t *testing.T) {
		// Steady writes through this replica: indexed before they were answered, so a
		// catch-up past the limit of changes reads none of them and reloads nothing.
		f.handle(ctx, []followMsg{{listening: true}})
		f.limit = 5
		defer func() { f.limit = 0 }()
		for i := range 8 {
			v := storetest.NewUnit(fmt.Sprintf("FOLLOW-OWN-%d", i), orb.Point{102.93, 24.69})
			if err := s.CreateUnit(ctx, v); err != nil {
				t.Fatal(err)
			}
			if _, err := f.units.ApplyStored(v); err != nil {
				t.Fatal(err)
			}
		}
		loads := cs.loads
		f.catchUp(ctx, "")
		if cs.loads != loads {
			t.Fatal("a catch-up of this replica's own writes reloaded the index")
		}
		var last int64
		for i := range 8 { // written by another replica: past the limit, a reload
			v := storetest.NewUnit(fmt.Sprintf("FOLLOW-OTHER-%d", i), orb.Point{102.93, 24.69})
			if err := s.CreateUnit(ctx, v); err != nil {
				t.Fatal(err)
			}
			last = v.ID
		}
		f.catchUp(ctx, "")
		if cs.loads != loads+1 || ix.Version(last) != 1 {
			t.Fatalf("more unknown changes than the limit must reload once: %d loads, version %d", cs.loads-loads, ix.Version(last))
		}
	})
	t.Run("OKCatchUpRemovesRetired", func(t *testing.T) {
		v := storetest.NewUnit("FOLLOW-2", orb.Point{102.94, 24.70})
		if err := s.CreateUnit(ctx, v); err != nil {
			t.Fatal(err)
		}
		f.handle(ctx, event(v.ID, 1))
		if _, err := s.RetireUnit(ctx, v.ID, 1); err != nil { // nobody hears of it
			t.Fatal(err)
		}
		mark := f.mark
		f.handle(ctx, []followMsg{{listening: true}}) // as after a reconnection
		if ix.Version(v.ID) != 0 {
			t.Fatalf("catching up must take the retired unit out: version %d", ix.Version(v.ID))
		}
		if f.mark < mark || f.behind {
			t.Fatalf("the mark must move on: %d → %d (behind %v)", mark, f.mark, f.behind)
		}
	})
}
