// Command benchload is issue 18's load test: the real server (bin/riskmap serve, a process
// of its own) on a seeded PostGIS database, and N clients on loopback for a while in a mix
// of map, list, detail, public, login and write requests, once per pool size. It reports
// requests, req/s, p50/p99 and errors per kind, then reads every acknowledged write back
// from the store and from the server's index (detail and tile) and fails if one is missing
// or any request failed.
//
//	go run ./scripts/benchload --db postgres://… --clients 64 --duration 60s --pool 4,16
//
// The mix, in thousandths of the requests (see mix below):
//
//	350 unit tile from a set of 32 (z13/z14, repeated: mostly cached)    GET /tiles/units/z/x/y.pbf
//	150 unit tile z15/z16 where units are, each once (uncached; z17 after those run out)
//	150 units in a 0.01° box, limit 50                                    GET /api/v1/units?bbox=
//	150 unit detail by id                                                 GET /api/v1/units/{id}
//	 70 public tile from the same set                                     GET /public/tiles/units/…
//	 29 public units in a 0.01° box, limit 50                             GET /public/api/v1/units?bbox=
//	  1 login with a password (argon2id, about 0.2 s of a core)           POST /api/v1/session
//	100 writes: half new units (POST), half new revisions (PUT with If-Match) of a unit
//	    the client created or of a seeded unit read just before (GET, counted as a detail)
//
// Reads and writes carry an API token, as scripts do (a browser's session costs the same:
// both are cached for 2 s); every request asks for compression as a browser does.
package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klauspost/compress/zstd"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/password"
	"riskmap/pkg/postgis"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/scripts/benchkit"
)

// Kinds of request, in the order of the report.
const (
	kTileCached = iota
	kTileUncached
	kList
	kDetail
	kPublicTile
	kPublicList
	kLogin
	kCreate
	kUpdate
	nKinds
)

var kindNames = [nKinds]string{
	"unit tile, repeated set (mostly cached)",
	"unit tile z15/z16 (then z17), each once (uncached)",
	"units in a 0.01° box, limit 50",
	"unit detail",
	"public unit tile, repeated set",
	"public units in a 0.01° box",
	"login (POST /api/v1/session)",
	"write: new unit (POST)",
	"write: new revision (PUT, If-Match)",
}

// mix is the share of each kind in thousandths (writes are split between create and update
// by the client).
var mix = []weighted{
	{kTileCached, 350}, {kTileUncached, 150}, {kList, 150}, {kDetail, 150},
	{kPublicTile, 70}, {kPublicList, 29}, {kLogin, 1}, {kCreate, 100},
}

type weighted struct{ kind, weight int }

// picker chooses a kind with the probability of its weight.
type picker struct {
	kinds []int
	cum   []int
}

func newPicker(ws []weighted) picker {
	var p picker
	total := 0
	for _, w := range ws {
		total += w.weight
		p.kinds = append(p.kinds, w.kind)
		p.cum = append(p.cum, total)
	}
	return p
}

// pick maps r in [0, total) to a kind.
func (p picker) pick(r int) int {
	i, _ := slices.BinarySearch(p.cum, r+1)
	return p.kinds[i]
}

func (p picker) total() int { return p.cum[len(p.cum)-1] }

// percentile is the nearest-rank percentile (0 < q ≤ 1) of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchload:", err)
		os.Exit(1)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// procCPU is the CPU time (user and system) process pid has used.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: the fields that follow come after its ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * time.Second / 100 // USER_HZ
}

// backendsCPU is the CPU time of each backend connected to conn's database (conn's own
// aside): the database's share of a run, without what other databases do meanwhile.
func backendsCPU(ctx context.Context, conn *pgx.Conn) map[int]time.Duration {
	rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
	must(err)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	must(err)
	out := map[int]time.Duration{}
	for _, pid := range pids {
		out[int(pid)] = procCPU(int(pid))
	}
	return out
}

// place is a unit as the load picks it: its id and a point inside it.
type place struct {
	id int64
	p  orb.Point
}

// plan is what every run requests, the same for each pool size.
type plan struct {
	places   []place
	cached   []maptile.Tile
	uncached []maptile.Tile // z15 and z16 shuffled, then z17 shuffled
	nz1516   int
}

func makePlan(ctx context.Context, conn *pgx.Conn, seed uint64) plan {
	rows, err := conn.Query(ctx, `SELECT id, ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointOnSurface(geom) p FROM risk_units WHERE status <> 'retired') s`)
	must(err)
	var pl plan
	for rows.Next() {
		var pc place
		must(rows.Scan(&pc.id, &pc.p[0], &pc.p[1]))
		pl.places = append(pl.places, pc)
	}
	must(rows.Err())
	if len(pl.places) == 0 {
		must(errors.New("数据库中没有风险单元：先用 riskmap seed --synthetic N 填充"))
	}
	r := rand.New(rand.NewPCG(seed, 18))
	distinct := func(z maptile.Zoom) []maptile.Tile {
		seen := map[maptile.Tile]bool{}
		var ts []maptile.Tile
		for _, pc := range pl.places {
			t := maptile.At(pc.p, z)
			if !seen[t] {
				seen[t] = true
				ts = append(ts, t)
			}
		}
		slices.SortFunc(ts, func(a, b maptile.Tile) int { return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.Y, b.Y)) })
		r.Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
		return ts
	}
	first := append(distinct(15), distinct(16)...)
	r.Shuffle(len(first), func(i, j int) { first[i], first[j] = first[j], first[i] })
	pl.nz1516 = len(first)
	pl.uncached = append(first, distinct(17)...)
	// The repeated set: the z13 and z14 tiles of 32 units drawn at random, as a few users
	// looking at the busy parts of the map ask for the same tiles again and again.
	// (Few units may cover fewer than 32 such tiles: the draws are bounded.)
	for tries := 0; len(pl.cached) < 32 && tries < 10*len(pl.places); tries++ {
		pc := pl.places[r.IntN(len(pl.places))]
		t := maptile.At(pc.p, maptile.Zoom(13+r.IntN(2)))
		if !slices.Contains(pl.cached, t) {
			pl.cached = append(pl.cached, t)
		}
	}
	return pl
}

// written is an acknowledged write: the unit's id, the name and version the answer gave,
// and a point inside it.
type written struct {
	id      int64
	code    string
	name    string
	version int64
	p       orb.Point
	etag    string
}

type failure struct {
	kind   int
	status int
	detail string
}

// client is one simulated user, run on its own goroutine.
type client struct {
	n        int
	base     string
	auth     string
	login    string // {"username","password"} body
	hc       *http.Client
	r        *rand.Rand
	pl       *plan
	next     *atomic.Int64 // the next uncached tile
	lat      [nKinds][]time.Duration
	fails    []failure
	mine     []written // units this client created, with their latest ETag
	writes   map[int64]written
	seeded   []place // seeded units this client revises (no other client touches them)
	runTag   string
	counter  int
	zoomSeen map[maptile.Zoom]int
}

const acceptEncoding = "gzip, deflate, br, zstd" // what browsers send

var zstdDecoder, _ = zstd.NewReader(nil)

// do sends one request and returns the status, body (read only when keep) and ETag. A
// transport error is status 0.
func (c *client) do(method, path, auth, body string, hdr map[string]string, keep bool) (int, []byte, string, time.Duration, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, "", 0, err
	}
	req.Header.Set("Accept-Encoding", acceptEncoding)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	t0 := time.Now()
	res, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, "", time.Since(t0), err
	}
	var b []byte
	if keep || res.StatusCode >= 400 {
		b, err = io.ReadAll(res.Body)
	} else {
		_, err = io.Copy(io.Discard, res.Body)
	}
	res.Body.Close()
	d := time.Since(t0)
	if err != nil {
		return 0, nil, "", d, err
	}
	if b != nil { // kept, or an error's body to show: decoded either way
		switch res.Header.Get("Content-Encoding") {
		case "gzip":
			var zr *gzip.Reader
			if zr, err = gzip.NewReader(bytes.NewReader(b)); err == nil {
				b, err = io.ReadAll(zr)
			}
		case "zstd":
			b, err = zstdDecoder.DecodeAll(b, nil)
		}
	}
	return res.StatusCode, b, res.Header.Get("ETag"), d, err
}

func (c *client) record(kind int, d time.Duration, status int, err error, body []byte, ok ...int) bool {
	if err == nil && slices.Contains(ok, status) {
		c.lat[kind] = append(c.lat[kind], d)
		return true
	}
	detail := ""
	if err != nil {
		detail = err.Error()
	} else {
		detail = string(body[:min(len(body), 300)])
	}
	c.fails = append(c.fails, failure{kind, status, detail})
	return false
}

func bbox(p orb.Point, side float64) string {
	return fmt.Sprintf("%.6f,%.6f,%.6f,%.6f", p[0]-side/2, p[1]-side/2, p[0]+side/2, p[1]+side/2)
}

func tilePath(root string, t maptile.Tile) string {
	return fmt.Sprintf("%s/units/%d/%d/%d.pbf", root, t.Z, t.X, t.Y)
}

// unitFeature is a new unit as the entry form sends it (draft, complete).
func unitFeature(code, name string, p orb.Point) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%.6f,%.6f]},"properties":{
		"code":%q,"name":%q,"category":"hazardous_chemicals","region_code":"530481001001","status":"draft",
		"address":"负载测试地址","assessment":{"method":"LS","likelihood":3,"severity":4},"accident_types":["fire"],
		"controls":{"engineering":["可燃气体报警"],"management":["安全操作规程"],"training":["岗前培训"],"ppe":["防护服"],"emergency":["应急预案"]},
		"responsible_unit":"负载测试有限公司","contact_person":"联系人甲","contact_phone":"0877-1234567","assessed_at":"2026-03-01T00:00:00Z"}}`,
		p[0], p[1], code, name)
}

func parseVersion(etag string) int64 {
	v, _ := strconv.ParseInt(strings.Trim(strings.TrimPrefix(etag, "W/"), `"`), 10, 64)
	return v
}

func (c *client) step() {
	c.counter++
	kind := mixPicker.pick(c.r.IntN(mixPicker.total()))
	var (
		status int
		body   []byte
		d      time.Duration
		err    error
	)
	switch kind {
	case kTileCached, kPublicTile:
		root := "/tiles"
		if kind == kPublicTile {
			root = "/public/tiles"
		}
		status, body, _, d, err = c.do("GET", tilePath(root, c.pl.cached[c.r.IntN(len(c.pl.cached))]), c.auth, "", nil, false)
		c.record(kind, d, status, err, body, 200, 204)
	case kTileUncached:
		i := int(c.next.Add(1) - 1)
		t := c.pl.uncached[i%len(c.pl.uncached)]
		c.zoomSeen[t.Z]++
		status, body, _, d, err = c.do("GET", tilePath("/tiles", t), c.auth, "", nil, false)
		c.record(kind, d, status, err, body, 200, 204)
	case kList, kPublicList:
		path := "/api/v1/units?limit=50&bbox="
		if kind == kPublicList {
			path = "/public" + path
		}
		status, body, _, d, err = c.do("GET", path+bbox(c.pl.places[c.r.IntN(len(c.pl.places))].p, 0.01), c.auth, "", nil, false)
		c.record(kind, d, status, err, body, 200)
	case kDetail:
		status, body, _, d, err = c.do("GET", fmt.Sprintf("/api/v1/units/%d", c.pl.places[c.r.IntN(len(c.pl.places))].id), c.auth, "", nil, false)
		c.record(kind, d, status, err, body, 200)
	case kLogin:
		status, body, _, d, err = c.do("POST", "/api/v1/session", "", c.login, map[string]string{"Content-Type": "application/json"}, false)
		c.record(kind, d, status, err, body, 200)
	case kCreate:
		if c.r.IntN(2) == 0 {
			c.create()
		} else {
			c.update()
		}
	}
}

func (c *client) create() {
	pc := c.pl.places[c.r.IntN(len(c.pl.places))]
	p := orb.Point{pc.p[0] + (c.r.Float64()-0.5)*0.002, pc.p[1] + (c.r.Float64()-0.5)*0.002}
	code := fmt.Sprintf("LOAD-%s-%d-%d", c.runTag, c.n, c.counter)
	name := "负载测试单元 " + code
	status, body, etag, d, err := c.do("POST", "/api/v1/units", c.auth, unitFeature(code, name, p),
		map[string]string{"Content-Type": "application/geo+json"}, true)
	var f struct {
		ID int64 `json:"id"`
	}
	if err == nil && status == 201 && (json.Unmarshal(body, &f) != nil || f.ID == 0) {
		err = fmt.Errorf("201 without a unit id: %.200s", body)
	}
	if !c.record(kCreate, d, status, err, body, 201) {
		return
	}
	w := written{id: f.ID, code: code, name: name, version: parseVersion(etag), p: p, etag: etag}
	c.mine = append(c.mine, w)
	c.writes[w.id] = w
}

// update writes a new revision with a new name: of a unit this client created (it knows
// the ETag), or of a seeded unit of its own share, read first as the edit form does.
func (c *client) update() {
	name := fmt.Sprintf("负载测试修订 %s-%d-%d", c.runTag, c.n, c.counter)
	if len(c.mine) > 0 && c.r.IntN(2) == 0 {
		i := c.r.IntN(len(c.mine))
		w := c.mine[i]
		status, body, etag, d, err := c.do("PUT", fmt.Sprintf("/api/v1/units/%d", w.id), c.auth, unitFeature(w.code, name, w.p),
			map[string]string{"Content-Type": "application/geo+json", "If-Match": w.etag}, true)
		if !c.record(kUpdate, d, status, err, body, 200) {
			return
		}
		w.name, w.etag, w.version = name, etag, parseVersion(etag)
		c.mine[i] = w
		c.writes[w.id] = w
		return
	}
	if len(c.seeded) == 0 {
		c.create()
		return
	}
	pc := c.seeded[c.r.IntN(len(c.seeded))]
	path := fmt.Sprintf("/api/v1/units/%d", pc.id)
	status, body, etag, d, err := c.do("GET", path, c.auth, "", nil, true)
	if !c.record(kDetail, d, status, err, body, 200) {
		return
	}
	var f map[string]any
	if err := json.Unmarshal(body, &f); err != nil {
		c.fails = append(c.fails, failure{kDetail, status, "the unit is not JSON: " + err.Error()})
		return
	}
	props, _ := f["properties"].(map[string]any)
	if props == nil {
		c.fails = append(c.fails, failure{kDetail, status, "the unit has no properties"})
		return
	}
	props["name"] = name
	props["status"] = "draft" // a revision of an approved unit is a draft until approved
	nb, _ := json.Marshal(f)
	status, body, etag2, d, err := c.do("PUT", path, c.auth, string(nb),
		map[string]string{"Content-Type": "application/geo+json", "If-Match": etag}, true)
	if !c.record(kUpdate, d, status, err, body, 200) {
		return
	}
	c.writes[pc.id] = written{id: pc.id, name: name, version: parseVersion(etag2), p: pc.p, etag: etag2}
}

var mixPicker = newPicker(mix)

func main() {
	db := flag.String("db", "", "postgres:// DSN of a seeded database (riskmap seed --synthetic N)")
	bin := flag.String("bin", "bin/riskmap", "the riskmap binary to serve with (make build)")
	clients := flag.Int("clients", 64, "concurrent clients")
	duration := flag.Duration("duration", 60*time.Second, "how long each run lasts")
	pools := flag.String("pool", "16", "comma-separated pool sizes (pool_max_conns); one run each")
	publish := flag.Bool("publish", true, "publish the approved units first if the database has no publication (the public requests read it)")
	seed := flag.Uint64("seed", 1, "random seed of the plan and the clients")
	pubs := flag.Int("publications", 4, "after the runs, publications made through the API by a fresh server, its RSS read after each (0: none)")
	flag.Parse()
	if *db == "" {
		must(errors.New("需要 --db postgres://…（已填充的数据库）"))
	}
	ctx := context.Background()
	store, err := postgis.Open(ctx, *db)
	must(err)
	defer store.Close()
	conn, err := pgx.Connect(ctx, *db)
	must(err)
	defer conn.Close(ctx)

	if *publish {
		var n int
		must(conn.QueryRow(ctx, "SELECT count(*) FROM publications").Scan(&n))
		if n == 0 {
			t0 := time.Now()
			out, err := exec.Command(*bin, "publish", "--db", *db, "--note", "benchload").CombinedOutput()
			if err != nil {
				must(fmt.Errorf("riskmap publish: %v\n%s", err, out))
			}
			fmt.Printf("(no publication yet: riskmap publish took %.1f s)\n", time.Since(t0).Seconds())
		}
	}

	t0 := time.Now()
	pl := makePlan(ctx, conn, *seed)
	fmt.Printf("\n### Load test: %d units, %d clients, %v a run (plan: %d z15/z16 tiles to request once, then %d z17; %d repeated tiles; made in %.1f s)\n",
		len(pl.places), *clients, *duration, pl.nz1516, len(pl.uncached)-pl.nz1516, len(pl.cached), time.Since(t0).Seconds())

	auth, err := benchkit.Token(ctx, store, "load")
	must(err)
	// A scrape token reads /metrics: how often the server loaded its index whole.
	scrape, err := benchkit.Tokens(ctx, store, "scrape", riskmap.RoleAdmin, riskmap.TokenScopeMetrics)
	must(err)
	loginBody := benchLogin(ctx, store)

	failed := false
	for _, s := range strings.Split(*pools, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			must(fmt.Errorf("--pool：%q 不是正整数", s))
		}
		if !runOnce(ctx, store, conn, *bin, *db, n, *clients, *duration, *seed, &pl, auth, scrape[0], loginBody) {
			failed = true
		}
	}
	if *pubs > 0 {
		admin, err := benchkit.Tokens(ctx, store, "publisher", riskmap.RoleAdmin, riskmap.TokenScopeFull)
		must(err)
		publications(ctx, conn, *bin, *db, *pubs, admin[0], scrape[0])
	}
	if failed {
		os.Exit(1)
	}
}

// publications measures issue 18's "RSS flat across publications": a fresh server, its
// VmRSS 15 s after /readyz (the load's heap given back by then), then n publications
// through the API, each with 0.5 % of the approved units given a new version first (below
// the follower's catch-up limit, so the register follows them one by one as it would
// steady writes; see below), the RSS read 10 s after each (the replaced public index is collected 5 s
// after it is replaced).
func publications(ctx context.Context, conn *pgx.Conn, bin, db string, n int, admin, scrape string) {
	srv, err := benchkit.Serve(bin, db)
	must(err)
	defer os.Remove(srv.Log.Name())
	defer srv.Stop()
	pid := srv.Cmd.Process.Pid
	hc := &http.Client{Timeout: 10 * time.Minute}
	loads0 := indexLoads(hc, srv.Base, scrape)
	time.Sleep(15 * time.Second)
	rss := []float64{benchkit.StatusMB(pid, "VmRSS")}
	var took []float64
	for i := range n {
		// 0.5 % of the approved units (ids 200·k + 50 + i), a new version and another grade,
		// announced as a bulk write is (a resync notice): the server catches up with them at
		// once, one by one, as it would with another replica's writes, instead of finding
		// them all at its once-a-minute catch-up (four publications' worth, past its limit:
		// a reload no steady writer causes).
		tx, err := conn.Begin(ctx)
		must(err)
		_, err = tx.Exec(ctx, `UPDATE risk_units SET version = version + 1, grade = CASE grade WHEN 'red' THEN 'orange' ELSE 'red' END
			WHERE id % 200 = $1 AND status = 'approved'`, 50+i)
		must(err)
		_, err = tx.Exec(ctx, `UPDATE approved_units a SET version = r.version, grade = r.grade FROM risk_units r
			WHERE r.id = a.unit_id AND r.id % 200 = $1 AND r.status = 'approved'`, 50+i)
		must(err)
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, '{"resync":true}')`, postgis.Channel)
		must(err)
		must(tx.Commit(ctx))
		req, err := http.NewRequest("POST", srv.Base+"/api/v1/publications", strings.NewReader(`{"note":"benchload"}`))
		must(err)
		req.Header.Set("Authorization", admin)
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		res, err := hc.Do(req)
		must(err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 201 {
			must(fmt.Errorf("POST /api/v1/publications：%d %s", res.StatusCode, body))
		}
		took = append(took, time.Since(t0).Seconds())
		time.Sleep(10 * time.Second)
		rss = append(rss, benchkit.StatusMB(pid, "VmRSS"))
	}
	reloads := indexLoads(hc, srv.Base, scrape) - loads0
	fmt.Printf("\n#### RSS across publications (issue 18: ≤ 1.5 GB with the register and a publication, flat)\n\n")
	fmt.Println("| | VmRSS | publication (POST, answered) |")
	fmt.Println("|---|---|---|")
	fmt.Printf("| 15 s after /readyz | %.0f MB | |\n", rss[0])
	for i := range took {
		fmt.Printf("| 10 s after publication %d of %d (0.5 %% of the approved units changed) | %.0f MB | %.2f s |\n", i+1, n, rss[i+1], took[i])
	}
	lo, hi := slices.Min(rss[1:]), slices.Max(rss[1:])
	fmt.Printf("\nAfter the publications: %.0f–%.0f MB (%+d MB from the first to the last); full reloads of the register index meanwhile: %d.\n",
		lo, hi, int(math.Round(rss[len(rss)-1]-rss[1])), reloads)
}

// withPool returns dsn with pool_max_conns=n.
func withPool(dsn string, n int) string {
	u, err := url.Parse(dsn)
	must(err)
	q := u.Query()
	q.Set("pool_max_conns", strconv.Itoa(n))
	u.RawQuery = q.Encode()
	return u.String()
}

func runOnce(ctx context.Context, store *postgis.Store, conn *pgx.Conn, bin, db string, pool, nclients int, dur time.Duration, seed uint64,
	pl *plan, auth, scrape, loginBody string) bool {
	srv, err := benchkit.Serve(bin, withPool(db, pool))
	must(err)
	defer os.Remove(srv.Log.Name())
	pid := srv.Cmd.Process.Pid
	rssStart := benchkit.StatusMB(pid, "VmRSS")
	tr := &http.Transport{MaxIdleConns: 2 * nclients, MaxIdleConnsPerHost: 2 * nclients, IdleConnTimeout: time.Minute}
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	runTag := fmt.Sprintf("p%d-%d", pool, time.Now().Unix()%100000)
	var next atomic.Int64
	cs := make([]*client, nclients)
	// Each client revises its own share of the seeded units: no two clients write the same
	// unit, so a 412 would be a defect, not a race between clients.
	for i := range cs {
		r := rand.New(rand.NewPCG(seed+uint64(pool)*1000, uint64(i)))
		c := &client{n: i, base: srv.Base, auth: auth, login: loginBody, hc: hc, r: r, pl: pl, next: &next,
			writes: map[int64]written{}, runTag: runTag, zoomSeen: map[maptile.Zoom]int{}}
		for j := 0; j < 100000 && len(c.seeded) < 20; j++ {
			if pc := pl.places[r.IntN(len(pl.places))]; int(pc.id%int64(nclients)) == i {
				c.seeded = append(c.seeded, pc)
			}
		}
		cs[i] = c
	}
	loads0 := indexLoads(hc, srv.Base, scrape)
	load0 := loadavg()
	cpuServer, cpuSelf, cpuDB := procCPU(pid), procCPU(os.Getpid()), backendsCPU(ctx, conn)
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				c.step()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	load1 := loadavg()
	rss, hwm := benchkit.StatusMB(pid, "VmRSS"), benchkit.StatusMB(pid, "VmHWM")
	cpuServer, cpuSelf = procCPU(pid)-cpuServer, procCPU(os.Getpid())-cpuSelf
	var cpuPG time.Duration
	for bpid, t := range backendsCPU(ctx, conn) {
		cpuPG += t - cpuDB[bpid]
	}

	// The report.
	fmt.Printf("\n#### pool_max_conns=%d: %d clients for %.0f s, server ready in %.1f s (RSS %.0f MB before the load, %.0f MB after, peak %.0f MB); load average %s at the start, %s at the end; %s UTC\n\n",
		pool, nclients, elapsed.Seconds(), srv.Started.Seconds(), rssStart, rss, hwm, load0, load1, start.UTC().Format("2006-01-02 15:04"))
	fmt.Println("| kind | requests | req/s | p50 | p99 | errors |")
	fmt.Println("|---|---|---|---|---|---|")
	var all []time.Duration
	errs := [nKinds]int{}
	byStatus := map[string]int{}
	var samples []string
	for _, c := range cs {
		for _, f := range c.fails {
			errs[f.kind]++
			key := fmt.Sprintf("%s %d", kindNames[f.kind], f.status)
			byStatus[key]++
			if byStatus[key] <= 2 {
				samples = append(samples, fmt.Sprintf("%s → %d: %s", kindNames[f.kind], f.status, f.detail))
			}
		}
	}
	totalErr := 0
	for k := range nKinds {
		var ds []time.Duration
		for _, c := range cs {
			ds = append(ds, c.lat[k]...)
		}
		all = append(all, ds...)
		slices.Sort(ds)
		totalErr += errs[k]
		fmt.Printf("| %s | %d | %.0f | %s | %s | %d |\n", kindNames[k], len(ds)+errs[k], float64(len(ds)+errs[k])/elapsed.Seconds(),
			ms(percentile(ds, 0.5)), ms(percentile(ds, 0.99)), errs[k])
	}
	slices.Sort(all)
	fmt.Printf("| **all** | %d | **%.0f** | %s | %s | %d |\n", len(all)+totalErr, float64(len(all)+totalErr)/elapsed.Seconds(),
		ms(percentile(all, 0.5)), ms(percentile(all, 0.99)), totalErr)
	nreq := float64(len(all) + totalErr)
	fmt.Printf("\nCPU time during the run (%.0f s of wall clock, %d cores): the server %.1f s (%.0f µs a request), PostgreSQL's backends of this database %.1f s (%.0f µs a request), the load generator %.1f s.\n",
		elapsed.Seconds(), runtime.NumCPU(), cpuServer.Seconds(), cpuServer.Seconds()*1e6/nreq, cpuPG.Seconds(), cpuPG.Seconds()*1e6/nreq, cpuSelf.Seconds())
	zooms := map[maptile.Zoom]int{}
	for _, c := range cs {
		for z, n := range c.zoomSeen {
			zooms[z] += n
		}
	}
	fmt.Printf("\nUncached tiles requested: z15/z16 %d, z17 %d", zooms[15]+zooms[16], zooms[17])
	if int(next.Load()) > len(pl.uncached) {
		fmt.Printf(" (the plan's %d tiles ran out: %d were requested a second time)", len(pl.uncached), int(next.Load())-len(pl.uncached))
	}
	fmt.Println(".")
	if totalErr > 0 {
		fmt.Printf("\nErrors (%d), by kind and status (0: transport error):\n\n", totalErr)
		keys := make([]string, 0, len(byStatus))
		for k := range byStatus {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Printf("- %s: %d\n", k, byStatus[k])
		}
		for _, s := range samples {
			fmt.Printf("  - %s\n", s)
		}
	}
	if lines, n := srv.ErrorLines(5); n > 0 {
		fmt.Printf("\nThe server logged %d ERROR lines, the first:\n\n", n)
		for _, l := range lines {
			fmt.Println("    " + l)
		}
	}

	// Steady writes reach the index one by one: a full reload under load (the catch-up
	// counting the server's own writes, issue 18) would be a defect.
	reloads := indexLoads(hc, srv.Base, scrape) - loads0
	fmt.Printf("\nFull reloads of the index during the run: %d (riskmap_index_loads_total; steady writes must cause none).\n", reloads)

	// Every acknowledged write, read back from the store and from the index.
	missing := verify(ctx, store, srv.Base, auth, cs)
	srv.Stop()
	return totalErr == 0 && !missing && reloads == 0
}

// indexLoads is the server's riskmap_index_loads_total, read at /metrics with a scrape
// token; it stops the benchmark if the server does not say.
func indexLoads(hc *http.Client, base, scrape string) int {
	req, err := http.NewRequest("GET", base+"/metrics", nil)
	must(err)
	req.Header.Set("Authorization", scrape)
	res, err := hc.Do(req)
	must(err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	must(err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "riskmap_index_loads_total "); ok {
			n, err := strconv.Atoi(v)
			must(err)
			return n
		}
	}
	must(fmt.Errorf("/metrics：%d，没有 riskmap_index_loads_total", res.StatusCode))
	return 0
}

// verify reads back the last acknowledged write of every unit written: from the store
// (name and version) and from the server's index (the detail's name and ETag, and the
// unit's id in its z16 tile).
func verify(ctx context.Context, store *postgis.Store, base, auth string, cs []*client) bool {
	var ws []written
	for _, c := range cs {
		for _, w := range c.writes {
			ws = append(ws, w)
		}
	}
	slices.SortFunc(ws, func(a, b written) int { return cmp.Compare(a.id, b.id) })
	hc := &http.Client{Timeout: time.Minute} // Go's transport asks for gzip and inflates
	var found, deeper atomic.Int64
	var mu sync.Mutex
	var problems []string
	note := func(s string) {
		mu.Lock()
		if len(problems) < 10 {
			problems = append(problems, s)
		}
		mu.Unlock()
	}
	get := func(path string) (int, []byte, string, error) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", auth)
		res, err := hc.Do(req)
		if err != nil {
			return 0, nil, "", err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res.StatusCode, b, res.Header.Get("ETag"), err
	}
	t0 := time.Now()
	work := make(chan written)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range work {
				u, err := store.GetUnit(ctx, w.id)
				if err != nil {
					note(fmt.Sprintf("unit %d: not in the store: %v", w.id, err))
					continue
				}
				if u.Name != w.name || u.Version != w.version {
					note(fmt.Sprintf("unit %d: the store has %q v%d, the write's answer said %q v%d", w.id, u.Name, u.Version, w.name, w.version))
					continue
				}
				status, b, etag, err := get(fmt.Sprintf("/api/v1/units/%d", w.id))
				var f struct {
					Properties struct {
						Name string `json:"name"`
					} `json:"properties"`
				}
				if err != nil || status != 200 || json.Unmarshal(b, &f) != nil || f.Properties.Name != w.name || parseVersion(etag) != w.version {
					note(fmt.Sprintf("unit %d: the index's detail is %d %s %q (err %v), want %q v%d", w.id, status, etag, f.Properties.Name, err, w.name, w.version))
					continue
				}
				// A z16 tile holding too many units is drawn as clusters; from
				// spatialindex.CellZoom on, every tile draws its units one by one.
				var in, clusters bool
				var t maptile.Tile
				for z := maptile.Zoom(16); z <= spatialindex.CellZoom && !in; z++ {
					t = maptile.At(w.p, z)
					status, b, _, err = get(tilePath("/tiles", t))
					if err != nil || status != 200 {
						break
					}
					in, clusters = tileHas(b, w.id)
					if !clusters {
						break
					}
				}
				if err != nil || status != 200 {
					note(fmt.Sprintf("unit %d: its tile %d/%d/%d answered %d (%v)", w.id, t.Z, t.X, t.Y, status, err))
					continue
				}
				if !in {
					note(fmt.Sprintf("unit %d: not in its tile %d/%d/%d", w.id, t.Z, t.X, t.Y))
					continue
				}
				if t.Z > 16 {
					deeper.Add(1)
				}
				found.Add(1)
			}
		}()
	}
	for _, w := range ws {
		work <- w
	}
	close(work)
	wg.Wait()
	n := int(found.Load())
	fmt.Printf("\n%d of %d acknowledged writes found in the store and in the index (the last write of each unit: name and version in the store and the detail, id in its z16 tile, or z%d where that is drawn as clusters: %d; checked in %.1f s).\n",
		n, len(ws), spatialindex.CellZoom, deeper.Load(), time.Since(t0).Seconds())
	for _, p := range problems {
		fmt.Println("  - " + p)
	}
	return n != len(ws)
}

// tileHas reports whether the units layer of a tile holds unit id, and whether it holds
// cluster points.
func tileHas(raw []byte, id int64) (has, clusters bool) {
	layers, err := mvt.Unmarshal(raw)
	if err != nil {
		if layers, err = mvt.UnmarshalGzipped(raw); err != nil {
			return false, false
		}
	}
	for _, l := range layers {
		if l.Name != "units" {
			continue
		}
		for _, f := range l.Features {
			if _, ok := f.Properties["cluster"]; ok {
				clusters = true
			}
			if v, ok := f.Properties["id"].(float64); ok && int64(v) == id {
				has = true
			}
		}
	}
	return has, clusters
}

// benchLogin adds a user with a password and returns the login request's body.
func benchLogin(ctx context.Context, store *postgis.Store) string {
	b := make([]byte, 12)
	_, _ = crand.Read(b)
	pw := "pw-" + hex.EncodeToString(b)
	hash, err := password.Hash(pw)
	must(err)
	u := &riskmap.User{Name: "login-" + hex.EncodeToString(b[:4]), Role: riskmap.RoleExpert, PasswordHash: hash, CreatedAt: time.Now()}
	must(store.CreateUserRecorded(ctx, u, nil))
	body, _ := json.Marshal(map[string]string{"username": u.Name, "password": pw})
	return string(body)
}
