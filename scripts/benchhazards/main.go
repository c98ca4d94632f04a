// Command benchhazards measures hidden dangers at the scale of make bench: with the 1M
// units of a seeded PostGIS database and 200k hidden dangers (added here by SQL, most of
// them closed, as a ledger of a few years is), it times how long opening and closing a major
// hidden danger takes to change its unit's tile (the write's answer: the unit reaches the
// index, and its tiles change, before it), against a tile fetch, and how long the
// supervision view (督办) takes for the whole city.
//
//	go run ./scripts/benchhazards --db postgres://…
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/config"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/hazards"
	"riskmap/pkg/httpapi"
	"riskmap/pkg/postgis"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/scripts/benchkit"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchhazards:", err)
		os.Exit(1)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// seedSQL adds n hidden dangers to active units, found evenly over the last three years (in
// the order of their ids, as they were registered): those found more than 60 days ago are
// closed, as are two in three of the later ones; the open ones are general (so that no
// unit's grade depends on them), with a deadline 30 days after they were found, so that
// about half are overdue, and one in 50 is under supervision.
const seedSQL = `INSERT INTO hazards (code, unit_id, unit_code, unit_name, category, region_code, department, level,
  description, location, geom, found_at, found_by, source, responsible_unit, responsible_person, measures, deadline,
  supervision, supervised, status, closed_by, closed_at, version, created_by, created_at, updated_at)
SELECT 'YH-B-' || lpad(g::text, 7, '0'), u.id, u.code, u.name, u.category, u.region_code, u.responsible_department,
  'general', '台账隐患 ' || g, '现场', ST_PointOnSurface(u.geom), f.at, 'bench',
  'inspection', '责任单位', '责任人', '整改措施', (f.at + interval '30 days')::date,
  CASE WHEN f.open AND g % 50 = 0 THEN '{"by":"district","at":"2026-01-01T00:00:00Z","user":"bench"}'::jsonb END, f.open AND g % 50 = 0,
  CASE WHEN f.open THEN CASE WHEN g % 9 = 0 THEN 'registered' ELSE 'rectifying' END ELSE 'closed' END,
  CASE WHEN f.open THEN '' ELSE 'bench' END, CASE WHEN f.open THEN NULL ELSE now() END, 1, 'bench', f.at, f.at
FROM generate_series(1, $1) g
CROSS JOIN LATERAL (SELECT now() - ($1 - g) * (interval '1095 days' / $1) AS at) t
CROSS JOIN LATERAL (SELECT t.at, t.at > now() - interval '60 days' AND g % 3 = 0 AS open) f
JOIN LATERAL (SELECT * FROM risk_units WHERE status <> 'retired' AND id = 1 + (g * 4999) % (SELECT max(id) FROM risk_units)) u ON true`

func main() {
	db := flag.String("db", "", "postgres:// DSN of a seeded database")
	n := flag.Int("hazards", 200000, "hidden dangers to add")
	rounds := flag.Int("rounds", 50, "hidden dangers opened and closed")
	flag.Parse()
	ctx := context.Background()
	store, err := postgis.Open(ctx, *db)
	must(err)
	defer store.Close()
	cfg := config.Default()
	regions, err := store.Regions(ctx, "")
	must(err)
	conn, err := pgx.Connect(ctx, *db)
	must(err)
	defer conn.Close(ctx)

	if *n > 0 {
		t0 := time.Now()
		tag, err := conn.Exec(ctx, seedSQL, *n)
		must(err)
		_, err = conn.Exec(ctx, "ANALYZE hazards")
		must(err)
		fmt.Printf("\n### Hidden dangers (%d added by SQL in %.1f s)\n\n", tag.RowsAffected(), time.Since(t0).Seconds())
	}

	ix := spatialindex.New(featurejson.Encoder(), regiongrade.Locator(regions))
	units := register.New(store, cfg.Grader, cfg.Catalog)
	hz := &hazards.Service{Store: store, Dynamics: cfg.Grader.Dynamics, Units: store, Catalog: cfg.Catalog, Locate: regiongrade.Containing(regions)}
	srv := httpapi.New(httpapi.Config{Store: store, Units: units, Index: ix, Hazards: hz, Catalog: cfg.Catalog, Grader: cfg.Grader,
		RegionRule: cfg.RegionRule, Regions: regions})
	a, err := benchkit.Token(ctx, store, "bench")
	must(err)
	b, err := benchkit.Token(ctx, store, "bench")
	must(err)
	_, err = ix.Load(ctx, store.Units(ctx))
	must(err)
	ts := httptest.NewServer(srv)
	defer ts.Close()

	// Yellow and blue units to open a major hidden danger on.
	r := rand.New(rand.NewPCG(14, 14))
	var picks []*spatialindex.Feature
	ix.Snapshot().Ascend(0, func(f *spatialindex.Feature) bool {
		if (f.Grade == riskmap.GradeYellow || f.Grade == riskmap.GradeBlue) && f.OpenHazards == 0 && r.IntN(2000) == 0 {
			picks = append(picks, f)
		}
		return len(picks) < *rounds
	})
	var tile, open, closing []time.Duration
	changed := 0
	for _, f := range picks {
		t := maptile.At(spatialindex.Representative(f), 15)
		path := fmt.Sprintf("/tiles/units/%d/%d/%d.pbf", t.Z, t.X, t.Y)
		before, d := get(ts.URL+path, a)
		tile = append(tile, d)
		body := fmt.Sprintf(`{"unit_id":%d,"level":"major","description":"基准测试重大隐患","location":"现场","found_at":"2026-12-01",
			"source":"inspection","responsible_unit":"责任单位","responsible_person":"责任人","measures":"整改措施","deadline":"2099-12-31",
			"five":{"responsibility":"甲","measures":"乙","funds":"丙","time_limit":"丁","plan":"戊"}}`, f.ID)
		st := time.Now()
		h := post(ts.URL+"/api/v1/hazards", a, body, 201)
		open = append(open, time.Since(st))
		red, _ := get(ts.URL+path, a)
		if !bytes.Equal(before, red) {
			changed++
		}
		id := int64(h["id"].(float64))
		for _, to := range []string{"reported", "rectifying", "accepted"} {
			post(fmt.Sprintf("%s/api/v1/hazards/%d/transitions", ts.URL, id), a, `{"to":"`+to+`"}`, 200)
		}
		st = time.Now()
		post(fmt.Sprintf("%s/api/v1/hazards/%d/transitions", ts.URL, id), b, `{"to":"closed","note":"复查合格"}`, 200)
		closing = append(closing, time.Since(st))
		after, _ := get(ts.URL+path, a)
		if bytes.Equal(after, red) {
			changed--
		}
	}
	var sup []time.Duration
	if f := os.Getenv("BENCH_PROFILE"); f != "" {
		w, _ := os.Create(f)
		_ = pprof.StartCPUProfile(w)
		defer pprof.StopCPUProfile()
	}
	for i := 0; i < 20; i++ {
		_, d := get(ts.URL+"/api/v1/supervision", a)
		sup = append(sup, d)
	}
	if os.Getenv("BENCH_PARTS") != "" {
		for _, p := range []string{"/api/v1/hazards?overdue=true&limit=200", "/api/v1/hazards?due_within=7&limit=200", "/api/v1/hazards?supervised=true&level=major&status=registered,reported,rectifying,accepted&limit=200",
			"/api/v1/hazards/stats?by=department", "/api/v1/hazards/stats?by=region",
			"/api/v1/hazards/stats?by=department&status=registered,reported,rectifying,accepted", "/api/v1/units?overdue=true&limit=1"} {
			var ds []time.Duration
			for i := 0; i < 10; i++ {
				_, d := get(ts.URL+p, a)
				ds = append(ds, d)
			}
			fmt.Println(p, ms(median(ds)))
		}
	}
	fmt.Println("| what | median | ratio to a tile fetch | target |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| fetch the unit's z15 tile (cached) | %s | 1× | |\n", ms(median(tile)))
	fmt.Printf("| open a major hidden danger (POST, tile changed when it answers) | %s | %.1f× | ≤ 10 ms |\n", ms(median(open)), float64(median(open))/float64(median(tile)))
	fmt.Printf("| close it (销号, tile back) | %s | %.1f× | ≤ 10 ms |\n", ms(median(closing)), float64(median(closing))/float64(median(tile)))
	fmt.Printf("| supervision view, whole city | %s | | ≤ 100 ms |\n", ms(median(sup)))
	fmt.Printf("\n%d of %d units' tiles changed on opening and back on closing.\n", changed, len(picks))
}

func get(url, auth string) ([]byte, time.Duration) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", auth)
	st := time.Now()
	res, err := http.DefaultClient.Do(req)
	must(err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	d := time.Since(st)
	if res.StatusCode != 200 && res.StatusCode != 204 {
		must(fmt.Errorf("GET %s: %d %s", url, res.StatusCode, b))
	}
	return b, d
}

func post(url, auth, body string, want int) map[string]any {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	must(err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		must(fmt.Errorf("POST %s: %d %s", url, res.StatusCode, b))
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}
