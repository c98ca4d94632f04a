package gpkg

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/hazards"
	"riskmap/pkg/riskmap"
)

// benchHazards is the number of hidden dangers of the supervision benchmarks (issue 14:
// 200k hidden dangers in a city of 1M units).
const benchHazards = 200_000

// benchToday is the day the benchmarks count overdue and due-soon hidden dangers from.
var benchToday = time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)

// seedHazards loads units and benchHazards synthetic hidden dangers into a fresh store,
// deterministically: 10% major (a fifth of them under supervision), 60% closed, 10%
// accepted and 30% still open, deadlines within half a year of benchToday either way,
// one department per category (as units have). The rows go in through the store's writer in one transaction, as a bulk
// import would, so that the triggers (R-tree, hazard_counts) keep what they keep.
func seedHazards(b *testing.B, units int) *Store {
	b.Helper()
	s := openTestStore(b)
	ctx := context.Background()
	cats := []string{"hazardous_chemicals", "crowded_places", "lifeline_gas", "roads", "waterlogging", "construction"}
	r := rand.New(rand.NewPCG(14, 1))
	type unit struct{ code, name, cat, region string }
	us := make([]unit, units)
	if _, err := s.BulkInsertUnits(ctx, func(yield func(*riskmap.Unit) bool) {
		for i := range units {
			u := testUnit(fmt.Sprintf("HZB-%06d", i), orb.Point{102.7 + r.Float64()*0.4, 24.4 + r.Float64()*0.4})
			u.Category = cats[r.IntN(len(cats))]
			u.RegionCode = fmt.Sprintf("530481%03d%03d", 1+r.IntN(8), 1+r.IntN(20))
			us[i] = unit{u.Code, u.Name, u.Category, u.RegionCode}
			if !yield(u) {
				return
			}
		}
	}, nil); err != nil {
		b.Fatal(err)
	}
	var first int64
	if err := s.w.QueryRowContext(ctx, "SELECT min(id) FROM risk_units").Scan(&first); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO hazards (code, unit_id, unit_code, unit_name, category, region_code,
    department, level, description, geom, found_at, source, deadline, supervision, supervised, status, version,
    created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'inspection', ?, ?, ?, ?, 1, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		now := formatTime(time.Now())
		for g := 1; g <= benchHazards; g++ {
			i := g % units
			r1, r2, r3 := r.Float64(), r.Float64(), r.Float64()
			level := "general"
			if r1 < 0.1 {
				level = "major"
			}
			var sup any
			if r1 < 0.02 {
				sup = `{"by":"city","user":"bench"}`
			}
			status := "registered"
			switch {
			case r2 < 0.6:
				status = "closed"
			case r2 < 0.7:
				status = "accepted"
			case r2 < 0.8:
				status = "rectifying"
			case r2 < 0.9:
				status = "reported"
			}
			geom, err := EncodeGeometry(orb.Point{102.7 + r.Float64()*0.4, 24.4 + r3*0.4}, SRSID)
			if err != nil {
				return err
			}
			_, err = st.ExecContext(ctx, fmt.Sprintf("YH-2026-%06d", g), first+int64(i), us[i].code, us[i].name, us[i].cat,
				us[i].region, "dept-"+us[i].cat, level, fmt.Sprintf("合成隐患 %d", g), geom,
				formatTime(benchToday.AddDate(0, 0, -int(r3*200))), benchToday.AddDate(0, 0, int(r3*360)-180).Format(dateLayout),
				sup, r1 < 0.02, status, now, now)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, "ANALYZE"); err != nil {
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
