package postgis

import (
	"context"
	"testing"
	"time"

	"riskmap/pkg/hazards"
	"riskmap/pkg/riskmap"
)

// benchHazards is the number of hidden dangers of the supervision benchmarks (issue 14:
// 200k hidden dangers in a city of 1M units).
const benchHazards = 200_000

// benchToday is the day the benchmarks count overdue and due-soon hidden dangers from.
var benchToday = time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)

// seedHazardsSQL fills hazards with $3 synthetic hidden dangers spread over the units with
// ids $1 .. $1+$2-1, deterministic for the seed set before it: 10% major (a fifth of them
// under supervision), 60% closed, 10% accepted and 30% still open, deadlines within half
// a year of $4 either way, one department per category (as units have).
const seedHazardsSQL = `INSERT INTO hazards (code, unit_id, unit_code, unit_name, category, region_code, department,
	level, description, geom, found_at, source, deadline, supervision, supervised, status, version, created_at, updated_at)
SELECT 'YH-2026-' || lpad(g::text, 6, '0'), u.id, u.code, u.name, u.category, u.region_code, 'dept-' || u.category,
	CASE WHEN r.r1 < 0.1 THEN 'major' ELSE 'general' END, '合成隐患 ' || g,
	ST_SetSRID(ST_MakePoint(102.7 + r.r4 * 0.4, 24.4 + r.r3 * 0.4), 4326),
	$4::timestamptz - make_interval(days => (r.r3 * 200)::int), 'inspection',
	$4::date + (r.r3 * 360 - 180)::int,
	CASE WHEN r.r1 < 0.02 THEN '{"by":"city","user":"bench"}'::jsonb END, r.r1 < 0.02,
	CASE WHEN r.r2 < 0.6 THEN 'closed' WHEN r.r2 < 0.7 THEN 'accepted' WHEN r.r2 < 0.8 THEN 'rectifying'
		WHEN r.r2 < 0.9 THEN 'reported' ELSE 'registered' END,
	1, now(), now()
FROM generate_series(1, $3::int) AS g
CROSS JOIN LATERAL (SELECT random() AS r1, random() AS r2, random() AS r3, random() AS r4 WHERE g > 0) AS r
JOIN risk_units u ON u.id = $1::bigint + (g % $2::int)`

// seedHazards loads n units and benchHazards hidden dangers into a fresh store.
func seedHazards(b *testing.B, units int) *Store {
	b.Helper()
	s := openStore(b)
	ctx := context.Background()
	if _, err := s.BulkInsertUnits(ctx, synthUnits(units, 14), nil); err != nil {
		b.Fatal(err)
	}
	var first int64
	if err := s.pool.QueryRow(ctx, "SELECT min(id) FROM risk_units").Scan(&first); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	// One transaction on one connection: setseed holds for the session. The counting
	// trigger is off while the rows go in and hazard_counts is built once after, as a bulk
	// import would do it.
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, q := range []string{
		"SET LOCAL statement_timeout = 0",
		"SELECT setseed(0.14)",
		"ALTER TABLE hazards DISABLE TRIGGER hazard_counts_insert_delete",
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := tx.Exec(ctx, seedHazardsSQL, first, units, benchHazards, benchToday); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		"ALTER TABLE hazards ENABLE TRIGGER hazard_counts_insert_delete",
		`INSERT INTO hazard_counts (category, region_code, department, level, status, supervised, n)
		SELECT category, region_code, department, level, status, supervised, count(*) FROM hazards
		GROUP BY category, region_code, department, level, status, supervised`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "VACUUM ANALYZE hazards"); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d hidden dangers in %v", benchHazards, time.Since(start).Round(time.Millisecond))
	return s
}

// BenchmarkHazards200k measures the reads of the supervision view (督办) with 200k hidden
// dangers: the counts of the whole city by each group, and the lists of overdue, due-soon
// and supervised ones (200 at most each), as GET /api/v1/supervision makes them.
func BenchmarkHazards200k(b *testing.B) {
	s := seedHazards(b, 20_000)
	ctx := context.Background()
	city := hazards.Filter{Today: benchToday}
	for _, by := range []string{hazards.ByCategory, hazards.ByRegion, hazards.ByDepartment} {
		b.Run("Count/"+by, func(b *testing.B) {
			for b.Loop() {
				cs, err := s.CountHazards(ctx, city, by)
				if err != nil || len(cs) == 0 {
					b.Fatal(cs, err)
				}
			}
		})
	}
	dept := &riskmap.User{Role: riskmap.RoleDepartment, Categories: []string{"hazardous_chemicals"}, Regions: []string{"530481001"}}
	for _, c := range []struct {
		name string
		f    hazards.Filter
	}{
		{"Find/overdue", hazards.Filter{Today: benchToday, Overdue: true, Limit: 200}},
		{"Find/due_soon", hazards.Filter{Today: benchToday, DueWithinDays: 7, Limit: 200}},
		{"Find/supervised", hazards.Filter{Today: benchToday, Supervised: true, Open: true, Limit: 200}},
		{"Find/overdue_scoped", hazards.Filter{Today: benchToday, Overdue: true, Limit: 200, Scope: dept}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				list, n, err := s.FindHazards(ctx, c.f)
				if err != nil || len(list) == 0 || n < len(list) {
					b.Fatal(len(list), n, err)
				}
			}
		})
	}
	b.Run("Count/region_scoped", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.CountHazards(ctx, hazards.Filter{Today: benchToday, Scope: dept}, hazards.ByRegion); err != nil {
				b.Fatal(err)
			}
		}
	})
}
