// Command benchserve measures the in-memory serving path side by side with PostGIS on the
// same data, the way make bench reports it: index load time and memory, uncached tiles
// against ST_AsMVT, low-zoom tile sizes, cached tile throughput against a bare net/http handler
// (with wrk), and bbox queries against ST_Intersects. It needs a PostGIS database already
// seeded (make bench does that).
//
//	go run ./scripts/benchserve --db postgres://…
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"google.golang.org/protobuf/encoding/protowire"

	"riskmap/pkg/config"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/httpapi"
	"riskmap/pkg/postgis"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/register"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/tiles"
	"riskmap/scripts/benchkit"
)

var out = os.Stdout

func row(cols ...any) {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprint(c)
	}
	fmt.Fprintf(out, "| %s |\n", strings.Join(parts, " | "))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func p95(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)*95)/100]
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchserve:", err)
		os.Exit(1)
	}
}

const pgTileSQL = `WITH b AS (SELECT ST_TileEnvelope($1, $2, $3) AS env, ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096) AS buffered)
SELECT ST_AsMVT(q, 'units', 4096, 'geom', 'id') FROM (
  SELECT id, name, code, category, grade, region_code,
         ST_AsMVTGeom(ST_Transform(r.geom, 3857), b.env, 4096, 64, true) AS geom
  FROM risk_units r, b
  WHERE r.geom && ST_Transform(b.buffered, 4326) AND r.status <> 'retired') q
WHERE q.geom IS NOT NULL`

// bboxProperties are the properties pgBBoxSQL writes, which the API is asked for.
const bboxProperties = "code,name,category,grade,region_code"

const pgBBoxSQL = `WITH m AS (
  SELECT id, code, name, category, grade, region_code, geom FROM risk_units
  WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 4326) AND ST_Intersects(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))
    AND status <> 'retired'
), page AS (SELECT * FROM m ORDER BY id LIMIT 1000)
SELECT (SELECT count(*) FROM m), json_build_object('type', 'FeatureCollection', 'features',
  coalesce(json_agg(json_build_object('type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom)::json,
    'properties', json_build_object('code', code, 'name', name, 'category', category, 'grade', grade, 'region_code', region_code))), '[]'))
FROM page`

func main() {
	db := flag.String("db", "", "postgres:// DSN of a seeded database")
	ntiles := flag.Int("tiles", 300, "tiles per zoom in the uncached comparison")
	nbbox := flag.Int("bbox", 200, "bbox queries")
	wrkSecs := flag.Int("wrk", 10, "seconds of each wrk run (0 skips)")
	sidesFlag := flag.String("sides", "0.005,0.02,0.05", "bbox sides in degrees, comma-separated")
	only := flag.String("only", "", "run only this part after the load: tiles or bbox (default: all)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of every part after the load to this file (go tool pprof; with --only, of that part)")
	flag.Parse()
	if *only != "" && *only != "tiles" && *only != "bbox" {
		must(fmt.Errorf("--only: tiles or bbox, not %q", *only))
	}
	var sides []float64
	for _, f := range strings.Split(*sidesFlag, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 {
			must(fmt.Errorf("--sides: degrees such as 0.005,0.02, not %q", f))
		}
		sides = append(sides, v)
	}
	ctx := context.Background()
	store, err := postgis.Open(ctx, *db)
	must(err)
	defer store.Close()
	cfg := config.Default()
	regions, err := store.Regions(ctx, "")
	must(err)

	// 1. Index load.
	runtime.GC()
	base := benchkit.StatusMB(0, "VmRSS")
	locate := regiongrade.Locator(regions)
	ix := spatialindex.New(featurejson.Encoder(), locate)
	ix.SetHead(spatialindex.Head{Write: featurejson.AppendFeatureHead, Len: featurejson.FeatureHeadLen})
	srv := httpapi.New(httpapi.Config{Store: store, Units: register.New(store, cfg.Grader, cfg.Catalog), Index: ix,
		Catalog: cfg.Catalog, Grader: cfg.Grader, RegionRule: cfg.RegionRule, Regions: regions})
	// The register is for logged-in users: the benchmark is an expert with an API token,
	// so that every request below pays for authentication as a real client does.
	auth, err := benchkit.Token(ctx, store, "bench")
	must(err)
	start := time.Now()
	n, err := ix.Load(ctx, store.Units(ctx))
	must(err)
	loadTime := time.Since(start)
	runtime.GC()
	debug.FreeOSMemory()
	after, peak := benchkit.StatusMB(0, "VmRSS"), benchkit.StatusMB(0, "VmHWM")
	fmt.Fprintf(out, "\n### Index load (%d units from PostGIS)\n\n", n)
	row("what", "value", "target")
	row("---", "---", "---")
	// Issue 18's targets. This load is the register's index alone, in this process: not
	// serve's start (both indexes, ≤ 10 s to /readyz), which benchload measures ("server
	// ready in").
	row("load into the R-tree", fmt.Sprintf("%.1f s", loadTime.Seconds()), "none: serve's start (≤ 10 s) is benchload's \"server ready in\"")
	row("RSS after load (process)", fmt.Sprintf("%.0f MB (index ≈ %.0f MB)", after, after-base), "≤ 1 GB for 1M units (issue 18, register index)")
	row("peak RSS while loading", fmt.Sprintf("%.0f MB", peak), "")

	snap := ix.Snapshot()
	r := rand.New(rand.NewPCG(42, 7))
	var pts []orb.Point
	snap.Ascend(0, func(f *spatialindex.Feature) bool {
		if r.IntN(max(1, n/2000)) == 0 {
			pts = append(pts, spatialindex.Representative(f))
		}
		return true
	})

	connCfg, err := pgx.ParseConfig(*db)
	must(err)
	maps.Copy(connCfg.RuntimeParams, tunedPostGIS)
	conn, err := pgx.ConnectConfig(ctx, connCfg)
	must(err)
	defer conn.Close(ctx)

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		must(err)
		must(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile() // every part after the load
	}
	if *only != "bbox" {
		compareTiles(ctx, conn, snap, pts, r, *ntiles)
	}
	if *only == "tiles" {
		return
	}

	// 4. bbox queries with limit 1000: ours over HTTP vs PostGIS SQL (no HTTP).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	defer hs.Close()
	baseURL := "http://" + ln.Addr().String()
	// The client asks for gzip itself and decodes it with klauspost/compress's decoder, about
	// twice the standard library's speed: a browser decodes with zlib's, and Go's own
	// decoder was a fifth of a small box's time on the client's side of the measurement
	// (both sides' HTTP figures read alike).
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	// Equal output: ours selects the five properties the SQL builds (properties=).
	fmt.Fprintf(out, "\n### bbox queries, limit 1000 (GeoJSON, the same five properties on both sides): ours over HTTP with properties=%s vs PostGIS ST_Intersects + json_agg in SQL\n\n", bboxProperties)
	fmt.Fprintf(out, "PostGIS over HTTP: the same SQL behind a bare net/http handler that writes its JSON gzipped (the compressor riskmap uses), as pg_featureserv serves a table.\n\n")
	fmt.Fprintf(out, "zstd: the client asks for zstd (as browsers do since 2024) and decodes it; PostGIS over HTTP then answers with zstd too (the same encoder settings as riskmap's).\n\n")
	row("box side", "queries", "ours median", "PostGIS median", "ratio", "PostGIS over HTTP, median", "ratio",
		"ours, zstd", "ratio to the SQL", "PostGIS over HTTP, zstd", "ratio", "ours, every property", "mean matched")
	row("---", "---", "---", "---", "---", "---", "---", "---", "---", "---", "---", "---", "---")
	pgURL := pgOverHTTP(ctx, *db)
	// The answers are read into one reused buffer: the client runs in this process, and
	// garbage of its own would make the collector scan the index's heap on the server's
	// time (both sides' HTTP figures read alike).
	var answer bytes.Buffer
	zd, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	must(err)
	var gd kgzip.Reader
	// getAs fetches url asking for encoding (gzip or zstd) and returns the decoded answer.
	getAs := func(url, encoding string) []byte {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", auth)
		req.Header.Set("Accept-Encoding", encoding)
		res, err := client.Do(req)
		must(err)
		answer.Reset()
		var body io.Reader = res.Body
		// An answer under 1 KB comes as it is (riskmap's compressMin).
		switch got := res.Header.Get("Content-Encoding"); {
		case got == "":
		case got != encoding:
			must(fmt.Errorf("%s: asked for %s, got %q", url, encoding, got))
		case encoding == "zstd":
			must(zd.Reset(res.Body))
			body = zd
		default:
			must(gd.Reset(res.Body))
			body = &gd
		}
		_, err = answer.ReadFrom(body)
		must(err)
		res.Body.Close()
		return answer.Bytes()
	}
	get := func(url string) []byte { return getAs(url, "gzip") }
	for _, side := range sides {
		var ours, oursZ, full, pg, pgHTTP, pgHTTPZ []time.Duration
		matched := 0
		for i := 0; i < *nbbox; i++ {
			c := pts[r.IntN(len(pts))]
			b := [4]float64{c[0] - side/2, c[1] - side/2, c[0] + side/2, c[1] + side/2}
			url := fmt.Sprintf("%s/api/v1/units?limit=1000&bbox=%f,%f,%f,%f", baseURL, b[0], b[1], b[2], b[3])
			t0 := time.Now()
			body := get(url + "&properties=" + bboxProperties)
			ours = append(ours, time.Since(t0))
			var m struct {
				NumberMatched int `json:"numberMatched"`
			}
			json.Unmarshal(body, &m) // before the next get reuses the buffer
			matched += m.NumberMatched
			t0 = time.Now()
			getAs(url+"&properties="+bboxProperties, "zstd")
			oursZ = append(oursZ, time.Since(t0))
			t0 = time.Now()
			get(url)
			full = append(full, time.Since(t0))
			var count int
			var js []byte
			t0 = time.Now()
			must(conn.QueryRow(ctx, pgBBoxSQL, b[0], b[1], b[2], b[3]).Scan(&count, &js))
			pg = append(pg, time.Since(t0))
			t0 = time.Now()
			get(fmt.Sprintf("%s?bbox=%f,%f,%f,%f", pgURL, b[0], b[1], b[2], b[3]))
			pgHTTP = append(pgHTTP, time.Since(t0))
			t0 = time.Now()
			getAs(fmt.Sprintf("%s?bbox=%f,%f,%f,%f", pgURL, b[0], b[1], b[2], b[3]), "zstd")
			pgHTTPZ = append(pgHTTPZ, time.Since(t0))
		}
		mo, mp, mh := median(ours), median(pg), median(pgHTTP)
		moz, mhz := median(oursZ), median(pgHTTPZ)
		ratio := func(a, b time.Duration) string { return fmt.Sprintf("%.1f×", float64(a)/float64(b)) }
		row(fmt.Sprintf("%.3f°", side), *nbbox, ms(mo), ms(mp), ratio(mp, mo), ms(mh), ratio(mh, mo),
			ms(moz), ratio(mp, moz), ms(mhz), ratio(mhz, moz), ms(median(full)), matched / *nbbox)
	}

	// 5. Cached tiles vs a bare net/http handler, with wrk on loopback.
	if *wrkSecs > 0 {
		if _, err := exec.LookPath("wrk"); err != nil {
			fmt.Fprintln(out, "\n(wrk is not installed: `make deps` installs it; skipped the throughput comparison)")
			return
		}
		t := maptile.At(pts[0], 14)
		tileURL := fmt.Sprintf("%s/tiles/units/%d/%d/%d.pbf", baseURL, t.Z, t.X, t.Y)
		req, _ := http.NewRequest("GET", tileURL, nil)
		req.Header.Set("Authorization", auth)
		res, err := http.DefaultClient.Do(req)
		must(err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		// The bare handler is net/http's own: the same bytes with nothing around them.
		bare := http.NewServeMux()
		bare.HandleFunc("/tile", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.mapbox-vector-tile")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(body)
		})
		bln, err := net.Listen("tcp", "127.0.0.1:0")
		must(err)
		bs := &http.Server{Handler: bare}
		go bs.Serve(bln)
		defer bs.Close()
		ourRPS := wrk(tileURL, *wrkSecs, "Authorization: "+auth)
		bareRPS := wrk("http://"+bln.Addr().String()+"/tile", *wrkSecs, "Authorization: "+auth)
		fmt.Fprintf(out, "\n### Cached tile throughput (wrk -t2 -c32, %d s each, %d-byte gzipped tile)\n\n", *wrkSecs, len(body))
		row("handler", "requests/s")
		row("---", "---")
		row("riskmap /tiles/units (cached)", fmt.Sprintf("%.0f", ourRPS))
		row("bare net/http handler, same bytes", fmt.Sprintf("%.0f", bareRPS))
		row("ratio (issue 18: ≥ 0.9)", fmt.Sprintf("%.2f", ourRPS/bareRPS))
	}
}

// compareTiles prints the uncached tiles z14–16 against ST_AsMVT and the sizes and render
// times of every tile over the data at z ≤ 12.
func compareTiles(ctx context.Context, conn *pgx.Conn, snap *spatialindex.Snapshot, pts []orb.Point, r *rand.Rand, ntiles int) {
	fmt.Fprintf(out, "\n### Uncached unit tiles, ours (R-tree, orb MVT) vs PostGIS ST_AsMVT (max_parallel_workers_per_gather=0, jit=off)\n\n")
	fmt.Fprintf(out, "Medians over the tiles where both drew the same features, the same unit ids (equal output; ours draws clusters where a tile\n"+
		"would hold more than 3,000 units or 300 KB). Floor: the tile's features × %.1f µs, the cost of encoding one (issue 18).\n\n", floorPerFeature.Seconds()*1e6)
	row("zoom", "tiles (equal output)", "features a tile, median", "ours median", "PostGIS median", "ratio", "floor median", "ours / floor", "ours p95", "PostGIS p95")
	row("---", "---", "---", "---", "---", "---", "---", "---", "---", "---")
	opt := tiles.Options{}
	var oursIDs, pgIDs []uint64
	for _, z := range []maptile.Zoom{14, 15, 16} {
		var ours, pg, floor []time.Duration
		var features []int
		for i := 0; i < ntiles; i++ {
			t := maptile.At(pts[r.IntN(len(pts))], z)
			t0 := time.Now()
			tile, n, err := tiles.RenderUnits(snap, t, opt)
			must(err)
			d := time.Since(t0)
			var b []byte
			t0 = time.Now()
			must(conn.QueryRow(ctx, pgTileSQL, int(t.Z), int(t.X), int(t.Y)).Scan(&b))
			dp := time.Since(t0)
			oursIDs, pgIDs = mvtIDs(oursIDs, tile), mvtIDs(pgIDs, b)
			if len(oursIDs) != n || !slices.Equal(oursIDs, pgIDs) {
				continue // clusters on our side, or other features: not the same output
			}
			ours, pg = append(ours, d), append(pg, dp)
			floor = append(floor, time.Duration(n)*floorPerFeature)
			features = append(features, n)
		}
		if len(ours) == 0 {
			row(z, "0 of "+strconv.Itoa(ntiles), "", "", "", "", "", "", "", "")
			continue
		}
		slices.Sort(features)
		mo, mp, mf := median(ours), median(pg), median(floor)
		row(z, fmt.Sprintf("%d of %d", len(ours), ntiles), features[len(features)/2], ms(mo), ms(mp), fmt.Sprintf("%.1f×", float64(mp)/float64(mo)),
			ms(mf), fmt.Sprintf("%.1f×", float64(mo)/float64(max(mf, 1))), ms(p95(ours)), ms(p95(pg)))
	}

	// 3. Low zooms: every tile over the units' extent at z ≤ 12.
	fmt.Fprintf(out, "\n### Unit tiles at z ≤ 12 (every tile over the data; uncached render)\n\n")
	row("zoom", "tiles", "largest raw", "largest gzipped", "most features", "p95 render", "max render")
	row("---", "---", "---", "---", "---", "---", "---")
	min, max := snap.Bounds()
	for z := maptile.Zoom(6); z <= 12; z++ {
		t0, t1 := maptile.At(orb.Point{min[0], max[1]}, z), maptile.At(orb.Point{max[0], min[1]}, z)
		var times []time.Duration
		var biggest, biggestGz, most int
		for x := t0.X; x <= t1.X; x++ {
			for y := t0.Y; y <= t1.Y; y++ {
				st := time.Now()
				raw, nf, err := tiles.RenderUnits(snap, maptile.New(x, y, z), opt)
				must(err)
				times = append(times, time.Since(st))
				biggest, most = maxInt(biggest, len(raw)), maxInt(most, nf)
				biggestGz = maxInt(biggestGz, gzLen(raw))
			}
		}
		row(z, len(times), kb(biggest), kb(biggestGz), most, ms(p95(times)), ms(slices.Max(times)))
	}

}

// floorPerFeature is what encoding one feature into a tile costs (issue 18's figure): a
// tile's floor is its features times this.
const floorPerFeature = 2400 * time.Nanosecond

// mvtIDs returns the feature ids of the units layer of a raw MVT, sorted, in dst's memory (its
// contents are overwritten), read from the protobuf fields without decoding the geometry (Tile.layers = 3;
// Layer.name = 1, Layer.features = 2; Feature.id = 1). Decoding both sides' tiles with
// mvt.Unmarshal was 38 % of this process's CPU, and its garbage made the collector scan the
// in-process index's heap while ours rendered. Both sides write the unit's id as the
// feature's: equal id sets are the same features.
func mvtIDs(dst []uint64, b []byte) []uint64 {
	dst = dst[:0]
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		must(protowire.ParseError(n))
		b = b[n:]
		if num != 3 || typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			must(protowire.ParseError(n))
			b = b[n:]
			continue
		}
		layer, n := protowire.ConsumeBytes(b)
		must(protowire.ParseError(n))
		b = b[n:]
		name, start := "", len(dst)
		for len(layer) > 0 {
			num, typ, n := protowire.ConsumeTag(layer)
			must(protowire.ParseError(n))
			layer = layer[n:]
			switch {
			case num == 1 && typ == protowire.BytesType:
				v, n := protowire.ConsumeBytes(layer)
				must(protowire.ParseError(n))
				name, layer = string(v), layer[n:]
			case num == 2 && typ == protowire.BytesType:
				f, n := protowire.ConsumeBytes(layer)
				must(protowire.ParseError(n))
				layer = layer[n:]
				id := uint64(0)
				for len(f) > 0 {
					num, typ, n := protowire.ConsumeTag(f)
					must(protowire.ParseError(n))
					f = f[n:]
					if num == 1 && typ == protowire.VarintType {
						v, n := protowire.ConsumeVarint(f)
						must(protowire.ParseError(n))
						id, f = v, f[n:]
						continue
					}
					n = protowire.ConsumeFieldValue(num, typ, f)
					must(protowire.ParseError(n))
					f = f[n:]
				}
				dst = append(dst, id)
			default:
				n := protowire.ConsumeFieldValue(num, typ, layer)
				must(protowire.ParseError(n))
				layer = layer[n:]
			}
		}
		if name == "units" {
			ids := dst[start:]
			slices.Sort(ids)
			return ids
		}
		dst = dst[:start]
	}
	return dst[:0]
}

// pgZstd holds zstd encoders made as riskmap's compressing middleware makes them.
var pgZstd = sync.Pool{New: func() any {
	w, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(1<<22), zstd.WithLowerEncoderMem(true))
	return w
}}

// pgOverHTTP serves pgBBoxSQL over HTTP, gzipped (or zstd when asked), and returns its URL: PostGIS answering
// the bbox query the way a feature server in front of it does.
// tunedPostGIS are the settings of the PostGIS side, as a tuned tile server runs it: no
// parallel plans (they slow tile queries on two cores) and no JIT, which compiles a dense
// tile's or a large box's query each time it runs (up to a quarter of a second for a z14
// tile of a million units here).
var tunedPostGIS = map[string]string{"max_parallel_workers_per_gather": "0", "jit": "off"}

func pgOverHTTP(ctx context.Context, dsn string) string {
	cfg, err := pgxpool.ParseConfig(dsn)
	must(err)
	maps.Copy(cfg.ConnConfig.RuntimeParams, tunedPostGIS)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	must(err)
	mux := http.NewServeMux()
	mux.HandleFunc("/units", func(w http.ResponseWriter, r *http.Request) {
		var b [4]float64
		parts := strings.Split(r.URL.Query().Get("bbox"), ",")
		if len(parts) != 4 {
			http.Error(w, "bbox", http.StatusBadRequest)
			return
		}
		for i, p := range parts {
			b[i], _ = strconv.ParseFloat(p, 64)
		}
		var count int
		var js []byte
		if err := pool.QueryRow(r.Context(), pgBBoxSQL, b[0], b[1], b[2], b[3]).Scan(&count, &js); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/geo+json")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "zstd") {
			w.Header().Set("Content-Encoding", "zstd")
			zw := pgZstd.Get().(*zstd.Encoder)
			zw.Reset(w)
			zw.Write(js)
			zw.Close()
			pgZstd.Put(zw)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw, _ := kgzip.NewWriterLevel(w, kgzip.BestSpeed)
		zw.Write(js)
		zw.Close()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	go http.Serve(ln, mux)
	return "http://" + ln.Addr().String() + "/units"
}

var rpsRE = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

func wrk(url string, secs int, header string) float64 {
	cmd := exec.Command("wrk", "-t2", "-c32", fmt.Sprintf("-d%ds", secs), "-H", "Accept-Encoding: gzip", "-H", header, url)
	b, err := cmd.CombinedOutput()
	must(err)
	m := rpsRE.FindSubmatch(b)
	if m == nil {
		must(fmt.Errorf("wrk printed no rate: %s", b))
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

func gzLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Len()
}

func kb(n int) string { return fmt.Sprintf("%.1f KB", float64(n)/1000) }

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
