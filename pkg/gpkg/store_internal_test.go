package gpkg

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	_ "modernc.org/sqlite" // the plain "sqlite" driver, to make files the store must refuse

	"riskmap/pkg/riskmap"
)

func openTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func testUnit(code string, g orb.Geometry) *riskmap.Unit {
	return &riskmap.Unit{
		Code: code, Name: "单元 " + code, Category: "hazardous_chemicals", RegionCode: "530481001001",
		Assessment: riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: 2, Severity: 3},
		RiskValue:  6, Grade: riskmap.GradeYellow, Status: riskmap.StatusApproved, Geometry: g,
	}
}

func mustT(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	t.Run("OKCreatesDirectoryAndGeoPackageHeader", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "新建 目录", "a?b#c%20.gpkg")
		s, err := Open(ctx, path)
		mustT(t, err)
		mustT(t, s.Migrate(ctx))
		mustT(t, s.Close())
		head := make([]byte, 72)
		f, err := os.Open(path)
		mustT(t, err)
		defer f.Close()
		if _, err := f.ReadAt(head, 0); err != nil {
			t.Fatal(err)
		}
		if got := string(head[68:72]); got != "GPKG" {
			t.Errorf("application_id: want GPKG, got %q", got)
		}
		if got := binary.BigEndian.Uint32(head[60:64]); got != 10200 {
			t.Errorf("user_version: want 10200, got %d", got)
		}
		if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Close must fold the WAL into the file and remove it (stat: %v)", err)
		}
	})
	t.Run("OKReopenKeepsData", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "r.gpkg")
		s, err := Open(ctx, path)
		mustT(t, err)
		mustT(t, s.Migrate(ctx))
		mustT(t, s.CreateUnit(ctx, testUnit("KEEP", orb.Point{1, 2})))
		mustT(t, s.Close())
		s, err = Open(ctx, path)
		mustT(t, err)
		defer s.Close()
		mustT(t, s.Migrate(ctx))
		if n, err := s.CountUnits(ctx); err != nil || n != 1 {
			t.Fatalf("want 1 unit after reopening, got %d (%v)", n, err)
		}
	})
	t.Run("ErrOtherApplicationsFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "other.db")
		db, err := sql.Open("sqlite", path)
		mustT(t, err)
		_, err = db.Exec("PRAGMA application_id = 1234; CREATE TABLE x (a)")
		mustT(t, err)
		mustT(t, db.Close())
		s, err := Open(ctx, path)
		if err == nil {
			s.Close()
		}
		if riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatalf("want EINVALID for another application's SQLite file, got %v", err)
		}
	})
	t.Run("ErrNotSQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "notes.gpkg")
		mustT(t, os.WriteFile(path, []byte("this is a text file, long enough to have a header of 100 bytes.......................................\n"), 0o644))
		s, err := Open(ctx, path)
		if err == nil {
			s.Close()
		}
		if riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatalf("want EINVALID for a file that is not SQLite, got %v", err)
		}
	})
	t.Run("ErrEmptyPath", func(t *testing.T) {
		_, err := Open(ctx, "")
		if riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatalf("want EINVALID, got %v", err)
		}
	})
}

func TestMigrateRecordsVersions(t *testing.T) {
	s := openTestStore(t)
	mustT(t, s.Migrate(context.Background()))
	rows, err := s.r.Query("SELECT version FROM schema_migrations ORDER BY version")
	mustT(t, err)
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v string
		mustT(t, rows.Scan(&v))
		got = append(got, v)
	}
	if !slices.Equal(got, []string{"001_geopackage", "002_init", "003_access", "004_edge", "005_write_records", "006_public_label", "007_review", "008_user_profile", "009_dynamic_grades", "010_hazards", "011_sites", "012_monitoring", "013_device_tokens", "014_hazard_alarm", "015_incremental_publications", "016_approved_changes"}) {
		t.Fatalf("schema_migrations: %v", got)
	}
}

// TestTimestampsAreGeoPackageDatetimes checks the stored text, which GDAL and the validator
// read.
func TestTimestampsAreGeoPackageDatetimes(t *testing.T) {
	s := openTestStore(t)
	u := testUnit("T1", orb.Point{1, 2})
	at := time.Date(2026, 3, 1, 8, 30, 0, 123456789, time.FixedZone("CST", 8*3600))
	due := time.Date(2026, 9, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	u.AssessedAt, u.NextReviewDue = &at, &due
	mustT(t, s.CreateUnit(context.Background(), u))
	var created, assessed, next string
	mustT(t, s.r.QueryRow("SELECT CAST(created_at AS TEXT), CAST(assessed_at AS TEXT), CAST(next_review_due AS TEXT) FROM risk_units").
		Scan(&created, &assessed, &next))
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(created) {
		t.Errorf("created_at %q is not YYYY-MM-DDTHH:MM:SS.SSSZ", created)
	}
	if assessed != "2026-03-01T00:30:00.123Z" {
		t.Errorf("assessed_at: want UTC with milliseconds, got %q", assessed)
	}
	if next != "2026-09-01" {
		t.Errorf("next_review_due: want the calendar date as given, got %q", next)
	}
}

// rtreeRows returns the R-tree of risk_units as id → box.
func rtreeRows(t *testing.T, s *Store) map[int64][4]float64 {
	t.Helper()
	rows, err := s.r.Query("SELECT id, minx, maxx, miny, maxy FROM rtree_risk_units_geom")
	mustT(t, err)
	defer rows.Close()
	out := map[int64][4]float64{}
	for rows.Next() {
		var id int64
		var b [4]float64
		mustT(t, rows.Scan(&id, &b[0], &b[1], &b[2], &b[3]))
		out[id] = b
	}
	mustT(t, rows.Err())
	return out
}

// checkIndexMatchesTable is the spatial index invariant: one R-tree box per unit, holding
// the unit's envelope (the R-tree keeps float32, rounded outwards).
func checkIndexMatchesTable(t *testing.T, s *Store) {
	t.Helper()
	idx := rtreeRows(t, s)
	rows, err := s.r.Query("SELECT id, geom FROM risk_units")
	mustT(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var blob []byte
		mustT(t, rows.Scan(&id, &blob))
		g, _, err := DecodeGeometry(blob)
		mustT(t, err)
		b := g.Bound()
		box, ok := idx[id]
		if !ok {
			t.Fatalf("unit %d has no R-tree entry", id)
		}
		if box[0] > b.Min[0] || box[1] < b.Max[0] || box[2] > b.Min[1] || box[3] < b.Max[1] ||
			b.Min[0]-box[0] > 1e-4 || box[1]-b.Max[0] > 1e-4 {
			t.Fatalf("unit %d: R-tree box %v does not hold its envelope %v", id, box, b)
		}
		n++
	}
	if n != len(idx) {
		t.Fatalf("%d units but %d R-tree entries", n, len(idx))
	}
}

func TestSpatialIndexFollowsWrites(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	a := testUnit("A", orb.Point{102.9, 24.6})
	mustT(t, s.CreateUnit(ctx, a))
	b := testUnit("B", orb.LineString{{102, 24}, {103, 25}})
	mustT(t, s.CreateUnit(ctx, b))
	checkIndexMatchesTable(t, s)
	a.Geometry = orb.Polygon{{{100, 20}, {101, 20}, {101, 21}, {100, 20}}}
	mustT(t, s.UpdateUnit(ctx, a))
	checkIndexMatchesTable(t, s)
	_, err := s.RetireUnit(ctx, b.ID, b.Version)
	mustT(t, err)
	_, err = s.BulkInsertUnits(ctx, func(yield func(*riskmap.Unit) bool) {
		for i := range 300 {
			if !yield(testUnit(fmt.Sprintf("BULK-%d", i), orb.Point{102 + float64(i)/300, 24})) {
				return
			}
		}
	}, nil)
	mustT(t, err)
	checkIndexMatchesTable(t, s)
	var triggers int
	mustT(t, s.r.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ?", rtreeInsertTrigger).Scan(&triggers))
	if triggers != 1 {
		t.Fatal("a bulk load must restore the R-tree insert trigger")
	}
	mustT(t, s.CreateUnit(ctx, testUnit("AFTER", orb.Point{50, 50})))
	checkIndexMatchesTable(t, s)
	var ok string
	mustT(t, s.r.QueryRow("SELECT rtreecheck('rtree_risk_units_geom')").Scan(&ok))
	if ok != "ok" {
		t.Fatalf("rtreecheck: %s", ok)
	}
}

func TestBulkInsertFailsAtomically(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		bad  *riskmap.Unit
		code string
	}{
		{"ErrNoGeometry", testUnit("NOGEOM", nil), riskmap.EINVALID},
		{"ErrUngraded", func() *riskmap.Unit { u := testUnit("NOGRADE", orb.Point{1, 1}); u.Grade = ""; return u }(), riskmap.EINVALID},
		{"ErrDuplicateInLoad", testUnit("GOOD-1", orb.Point{1, 1}), riskmap.ECONFLICT},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTestStore(t)
			seq := func(yield func(*riskmap.Unit) bool) {
				for i := range 1000 {
					if !yield(testUnit(fmt.Sprintf("GOOD-%d", i), orb.Point{1, 1})) {
						return
					}
				}
				yield(tc.bad)
			}
			_, err := s.BulkInsertUnits(ctx, seq, nil)
			if riskmap.ErrorCode(err) != tc.code {
				t.Fatalf("want %s, got %v", tc.code, err)
			}
			if n, _ := s.CountUnits(ctx); n != 0 {
				t.Fatalf("a failed load must store nothing, found %d units", n)
			}
			if len(rtreeRows(t, s)) != 0 {
				t.Fatal("a failed load must leave the R-tree empty")
			}
			mustT(t, s.CreateUnit(ctx, testUnit("AFTER", orb.Point{2, 2})))
			checkIndexMatchesTable(t, s)
		})
	}
	t.Run("ErrSequencePanicReachesCaller", func(t *testing.T) {
		s := openTestStore(t)
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("want the sequence's panic re-raised, got %v", p)
			}
			if n, _ := s.CountUnits(ctx); n != 0 {
				t.Fatalf("nothing may be stored, found %d", n)
			}
		}()
		s.BulkInsertUnits(ctx, func(yield func(*riskmap.Unit) bool) {
			yield(testUnit("P", orb.Point{1, 1}))
			panic("boom")
		}, nil)
	})
	t.Run("OKProgress", func(t *testing.T) {
		s := openTestStore(t)
		var calls []int
		n, err := s.BulkInsertUnits(ctx, func(yield func(*riskmap.Unit) bool) {
			for i := range 10001 {
				if !yield(testUnit(fmt.Sprintf("P-%d", i), orb.Point{1, 1})) {
					return
				}
			}
		}, func(n int) { calls = append(calls, n) })
		mustT(t, err)
		if n != 10001 || !slices.Equal(calls, []int{10000, 10001}) {
			t.Fatalf("want 10001 units and progress 10000, 10001, got %d and %v", n, calls)
		}
	})
}

// TestFindBBoxMatchesBruteForce checks the R-tree prefilter plus exact test against testing
// every unit, over random shapes and boxes.
func TestFindBBoxMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	r := rand.New(rand.NewPCG(7, 7))
	var units []*riskmap.Unit
	for i := range 400 {
		x, y := r.Float64()*10, r.Float64()*10
		var g orb.Geometry
		switch i % 3 {
		case 0:
			g = orb.Point{x, y}
		case 1:
			g = orb.LineString{{x, y}, {x + r.Float64()*3 - 1.5, y + r.Float64()*3 - 1.5}}
		default:
			d := r.Float64() * 2
			g = orb.Polygon{{{x, y}, {x + d, y}, {x + d/2, y + d}, {x, y}}}
		}
		u := testUnit(fmt.Sprintf("R-%d", i), g)
		mustT(t, s.CreateUnit(ctx, u))
		units = append(units, u)
	}
	for k := range 60 {
		x, y := r.Float64()*10, r.Float64()*10
		w, h := r.Float64()*2, r.Float64()*2
		if k%10 == 0 {
			w, h = 0, 0 // a point-sized box
		}
		box := orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + w, y + h}}
		var want []int64
		for _, u := range units {
			if riskmap.IntersectsBound(u.Geometry, box) {
				want = append(want, u.ID)
			}
		}
		got, n, err := s.FindUnits(ctx, riskmap.UnitFilter{BBox: &box})
		mustT(t, err)
		ids := make([]int64, len(got))
		for i, u := range got {
			ids[i] = u.ID
		}
		if !slices.Equal(ids, want) || n != len(want) {
			t.Fatalf("box %v: want %v, got %v (matched %d)", box, want, ids, n)
		}
	}
	t.Run("ErrInvertedBox", func(t *testing.T) {
		_, _, err := s.FindUnits(ctx, riskmap.UnitFilter{BBox: &orb.Bound{Min: orb.Point{5, 5}, Max: orb.Point{4, 6}}})
		if riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatalf("want EINVALID, got %v", err)
		}
	})
	t.Run("ErrNaNBox", func(t *testing.T) {
		_, _, err := s.FindUnits(ctx, riskmap.UnitFilter{BBox: &orb.Bound{Min: orb.Point{math.NaN(), 5}, Max: orb.Point{4, 6}}})
		if riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatalf("want EINVALID, got %v", err)
		}
	})
}

func TestContentsBoundsCoverData(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	var before string
	mustT(t, s.r.QueryRow("SELECT last_change FROM gpkg_contents WHERE table_name = 'risk_units'").Scan(&before))
	time.Sleep(5 * time.Millisecond)
	mustT(t, s.CreateUnit(ctx, testUnit("A", orb.Point{102.5, 24.5})))
	_, err := s.BulkInsertUnits(ctx, func(yield func(*riskmap.Unit) bool) {
		yield(testUnit("B", orb.LineString{{101, 23}, {104, 26}}))
	}, nil)
	mustT(t, err)
	var minx, miny, maxx, maxy float64
	var after string
	mustT(t, s.r.QueryRow("SELECT min_x, min_y, max_x, max_y, last_change FROM gpkg_contents WHERE table_name = 'risk_units'").
		Scan(&minx, &miny, &maxx, &maxy, &after))
	if [4]float64{minx, miny, maxx, maxy} != [4]float64{101, 23, 104, 26} {
		t.Fatalf("bounds: %v %v %v %v", minx, miny, maxx, maxy)
	}
	// Compared as times: the text drops trailing zeros (….7Z is before ….731Z).
	b, err := parseTime(before)
	mustT(t, err)
	a, err := parseTime(after)
	mustT(t, err)
	if !a.After(b) {
		t.Fatalf("last_change must move on a write: %s then %s", before, after)
	}
}

func TestUnitsStream(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	_, err := s.BulkInsertUnits(ctx, func(yield func(*riskmap.Unit) bool) {
		for i := range 2000 {
			if !yield(testUnit(fmt.Sprintf("S-%d", i), orb.Point{1, 1})) {
				return
			}
		}
	}, nil)
	mustT(t, err)
	t.Run("OKBreakReleasesConnection", func(t *testing.T) {
		// More early breaks than the read pool has connections: a leak would hang here.
		for range 3 * 4 {
			n := 0
			for _, err := range s.Units(ctx) {
				mustT(t, err)
				if n++; n == 300 {
					break
				}
			}
		}
		if _, err := s.CountUnits(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrCancelled", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx)
		n := 0
		var last error
		for _, err := range s.Units(c) {
			if err != nil {
				last = err
				break
			}
			if n++; n == 10 {
				cancel()
			}
		}
		cancel()
		if last == nil || n >= 2000 {
			t.Fatalf("a cancelled stream must end with an error, read %d, err %v", n, last)
		}
	})
	t.Run("ErrCorruptRowStopsStream", func(t *testing.T) {
		s := openTestStore(t)
		mustT(t, s.CreateUnit(ctx, testUnit("OK", orb.Point{1, 1})))
		mustT(t, s.CreateUnit(ctx, testUnit("BAD", orb.Point{1, 1})))
		// Another program wrote garbage into a geometry; the stream must say which unit.
		_, err := s.w.Exec("UPDATE risk_units SET geom = X'00' WHERE code = 'BAD'")
		mustT(t, err)
		var got []string
		var last error
		for u, err := range s.Units(ctx) {
			if err != nil {
				last = err
				break
			}
			got = append(got, u.Code)
		}
		if !slices.Equal(got, []string{"OK"}) || last == nil {
			t.Fatalf("want OK then an error, got %v, %v", got, last)
		}
	})
}

// TestReadersBesideWriter runs reads while a bulk load writes: WAL must let them proceed on
// their snapshot, without busy errors.
func TestReadersBesideWriter(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	mustT(t, s.CreateUnit(ctx, testUnit("FIRST", orb.Point{1, 1})))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := s.FindUnits(ctx, riskmap.UnitFilter{Limit: 10}); err != nil {
					errs <- err
					return
				}
				for _, err := range s.Units(ctx) {
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		}()
	}
	for round := range 3 {
		_, err := s.BulkInsertUnits(ctx, func(yield func(*riskmap.Unit) bool) {
			for i := range 1000 {
				if !yield(testUnit(fmt.Sprintf("W%d-%d", round, i), orb.Point{1, 1})) {
					return
				}
			}
		}, nil)
		mustT(t, err)
		mustT(t, s.CreateUnit(ctx, testUnit(fmt.Sprintf("ONE-%d", round), orb.Point{2, 2})))
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, _ := s.CountUnits(ctx); n != 1+3*1001 {
		t.Fatalf("count %d", n)
	}
}

// TestReadsOtherWritersValues reads a row as QGIS or a script might have written it: times
// without milliseconds, an integer where a real goes, a big-endian geometry.
func TestReadsOtherWritersValues(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	u := testUnit("QGIS", orb.Point{1, 2})
	mustT(t, s.CreateUnit(ctx, u))
	be := []byte{'G', 'P', 0, 0, 0, 0, 0x10, 0xe6, 0, 0, 0, 0, 1,
		0x40, 0x59, 0, 0, 0, 0, 0, 0, 0x40, 0x38, 0, 0, 0, 0, 0, 0}
	_, err := s.w.Exec(`UPDATE risk_units SET created_at = '2026-01-02T03:04:05Z', updated_at = '2026-01-02T03:04:05+08:00',
risk_value = 6, geom = ? WHERE id = ?`, be, u.ID)
	mustT(t, err)
	got, err := s.GetUnit(ctx, u.ID)
	mustT(t, err)
	if !got.CreatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || !got.UpdatedAt.Equal(time.Date(2026, 1, 1, 19, 4, 5, 0, time.UTC)) {
		t.Errorf("times: %v %v", got.CreatedAt, got.UpdatedAt)
	}
	if got.RiskValue != 6 || !orb.Equal(got.Geometry, orb.Point{100, 24}) {
		t.Errorf("risk value %v, geometry %v", got.RiskValue, got.Geometry)
	}
}

// TestSQLFunctions checks the functions the R-tree triggers call, as another writer's
// rows reach them: NULL, garbage, empty and envelope-less geometries.
func TestSQLFunctions(t *testing.T) {
	s := openTestStore(t)
	line, _ := EncodeGeometry(orb.LineString{{1, 2}, {3, 4}}, SRSID)
	pt, _ := EncodeGeometry(orb.Point{5, 6}, SRSID)
	empty, _ := EncodeGeometry(orb.LineString{}, SRSID)
	// An envelope-less line, as some writers produce.
	bare := append([]byte{'G', 'P', 0, 1, 0xe6, 0x10, 0, 0}, line[8+32:]...)
	cases := []struct {
		name string
		arg  any
		want [5]any // ST_IsEmpty, ST_MinX, ST_MaxX, ST_MinY, ST_MaxY
	}{
		{"OKLine", line, [5]any{int64(0), 1.0, 3.0, 2.0, 4.0}},
		{"OKPoint", pt, [5]any{int64(0), 5.0, 5.0, 6.0, 6.0}},
		{"OKNoEnvelope", bare, [5]any{int64(0), 1.0, 3.0, 2.0, 4.0}},
		{"OKEmpty", empty, [5]any{int64(1), nil, nil, nil, nil}},
		{"OKNull", nil, [5]any{nil, nil, nil, nil, nil}},
		{"OKGarbageIsNull", []byte("not a geometry"), [5]any{nil, nil, nil, nil, nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [5]any
			err := s.r.QueryRow("SELECT ST_IsEmpty(?1), ST_MinX(?1), ST_MaxX(?1), ST_MinY(?1), ST_MaxY(?1)", tc.arg).
				Scan(&got[0], &got[1], &got[2], &got[3], &got[4])
			mustT(t, err)
			if got != tc.want {
				t.Fatalf("want %v, got %v", tc.want, got)
			}
		})
	}
}

// TestWriteRejects checks that what the schema would refuse with an opaque constraint error
// is refused first with a message a user can act on, and changes nothing.
func TestWriteRejects(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	cases := []struct {
		name string
		edit func(u *riskmap.Unit)
	}{
		{"ErrNoGeometry", func(u *riskmap.Unit) { u.Geometry = nil }},
		{"ErrNoGrade", func(u *riskmap.Unit) { u.Grade = "purple" }},
		{"ErrStatus", func(u *riskmap.Unit) { u.Status = "deleted" }},
		{"ErrMethod", func(u *riskmap.Unit) { u.Assessment.Method = "XYZ" }},
		{"ErrHazardLevel", func(u *riskmap.Unit) { u.MajorHazardSource = &riskmap.MajorHazardSource{Level: 5} }},
	}
	existing := testUnit("EXISTING", orb.Point{1, 1})
	mustT(t, s.CreateUnit(ctx, existing))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := testUnit("NEW", orb.Point{1, 1})
			tc.edit(u)
			if err := s.CreateUnit(ctx, u); riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("create: want EINVALID, got %v", err)
			}
			upd := *existing
			tc.edit(&upd)
			if err := s.UpdateUnit(ctx, &upd); riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("update: want EINVALID, got %v", err)
			}
			if n, _ := s.CountUnits(ctx); n != 1 {
				t.Fatalf("count %d", n)
			}
			got, err := s.GetUnit(ctx, existing.ID)
			mustT(t, err)
			if got.Version != 1 {
				t.Fatalf("a refused update changed the unit: version %d", got.Version)
			}
		})
	}
	t.Run("ErrUpdateToTakenCode", func(t *testing.T) {
		other := testUnit("OTHER", orb.Point{1, 1})
		mustT(t, s.CreateUnit(ctx, other))
		other.Code = "EXISTING"
		if err := s.UpdateUnit(ctx, other); riskmap.ErrorCode(err) != riskmap.ECONFLICT {
			t.Fatalf("want ECONFLICT, got %v", err)
		}
	})
}

// TestPackedIndex loads units in bulk, which packs the R-tree when the load is at least as
// large as the index, and checks the tree with SQLite's rtreecheck, against the table, and
// by queries; then it keeps writing through the triggers into the packed tree.
func TestPackedIndex(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		before, n  int
		wantPacked bool
	}{
		{"OKOneEntry", 0, 1, true},
		{"OKOneFullNode", 0, 51, true},
		{"OKTwoLevels", 0, 52, true},
		{"OKThreeLevels", 0, 3000, true},
		{"OKRepacksExisting", 40, 500, true},
		{"OKSmallLoadInsertsIncrementally", 500, 40, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTestStore(t)
			r := rand.New(rand.NewPCG(uint64(tc.n), 3))
			shape := func(i int) orb.Geometry {
				x, y := 102+r.Float64(), 24+r.Float64()
				if i%4 == 0 {
					return orb.LineString{{x, y}, {x + 0.01, y + 0.02}}
				}
				return orb.Point{x, y}
			}
			load := func(prefix string, n int) {
				_, err := s.BulkInsertUnits(ctx, func(yield func(*riskmap.Unit) bool) {
					for i := range n {
						if !yield(testUnit(fmt.Sprintf("%s-%d", prefix, i), shape(i))) {
							return
						}
					}
				}, nil)
				mustT(t, err)
			}
			if tc.before > 0 {
				load("OLD", tc.before)
			}
			load("NEW", tc.n)
			check := func() {
				t.Helper()
				var ok string
				mustT(t, s.r.QueryRow("SELECT rtreecheck('rtree_risk_units_geom')").Scan(&ok))
				if ok != "ok" {
					t.Fatalf("rtreecheck: %s", ok)
				}
				checkIndexMatchesTable(t, s)
			}
			check()
			var nodes int
			mustT(t, s.r.QueryRow("SELECT count(*) FROM rtree_risk_units_geom_node").Scan(&nodes))
			total := tc.before + tc.n
			if packed := nodes <= (total+50)/51+(total+50)/51/51+2; tc.wantPacked && !packed {
				t.Errorf("%d entries in %d nodes: the tree was not packed", total, nodes)
			}
			// Writes through the triggers keep working on the packed tree.
			u := testUnit("LATER", orb.Point{102.5, 24.5})
			mustT(t, s.CreateUnit(ctx, u))
			u.Geometry = orb.LineString{{102.1, 24.1}, {102.9, 24.9}}
			mustT(t, s.UpdateUnit(ctx, u))
			_, err := s.w.Exec("DELETE FROM risk_units WHERE code IN ('NEW-0', 'NEW-7')")
			mustT(t, err)
			check()
			// Queries through the index find what a scan of every unit finds.
			var all []*riskmap.Unit
			for u, err := range s.Units(ctx) {
				mustT(t, err)
				all = append(all, u)
			}
			for range 20 {
				x, y := 102+r.Float64(), 24+r.Float64()
				box := orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + 0.1, y + 0.1}}
				var want []int64
				for _, u := range all {
					if riskmap.IntersectsBound(u.Geometry, box) {
						want = append(want, u.ID)
					}
				}
				got, _, err := s.FindUnits(ctx, riskmap.UnitFilter{BBox: &box})
				mustT(t, err)
				ids := make([]int64, len(got))
				for i, u := range got {
					ids[i] = u.ID
				}
				if !slices.Equal(ids, want) {
					t.Fatalf("box %v: want %v, got %v", box, want, ids)
				}
			}
		})
	}
}

func TestFloat32Rounding(t *testing.T) {
	for _, v := range []float64{0, 1, -1, 102.91, -102.91, 24.6700001, math.MaxFloat32, 1e-40} {
		lo, hi := down32(v), up32(v)
		if float64(lo) > v || float64(hi) < v || hi-lo > float32(math.Abs(v))*1e-6+1e-38 {
			t.Errorf("%v: rounded to [%v, %v]", v, lo, hi)
		}
	}
}
