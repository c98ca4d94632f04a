package postgis

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/paulmach/orb"

	"riskmap/pkg/pgtest"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

func TestEscapeLike(t *testing.T) {
	cases := []struct{ in, want string }{
		{"530481", "530481"},
		{"100%", `100\%`},
		{"a_b", `a\_b`},
		{`back\slash`, `back\\slash`},
		{"%' AND pg_sleep(5)--", `\%' AND pg\_sleep(5)--`},
		{"’‘“”", "’‘“”"},
	}
	for _, tc := range cases {
		if got := escapeLike(tc.in); got != tc.want {
			t.Errorf("escapeLike(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Every filter value reaches the database as a bound value and matches literally.
func TestFindUnitsInjectionIsLiteral(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	hostile := []string{
		`' OR 1=1--`,
		`%' AND pg_sleep(5)--`,
		`’ OR ‘1’=‘1`,
		`"; DROP TABLE risk_units; --`,
		`\`,
		`_%`,
	}
	plain := storetest.NewUnit("PLAIN-1", orb.Point{102.91, 24.67})
	plain.Name = "普通单元"
	if err := s.CreateUnit(ctx, plain); err != nil {
		t.Fatal(err)
	}
	var made []*riskmap.Unit
	for i, h := range hostile {
		u := storetest.NewUnit(fmt.Sprintf("H-%d", i), orb.Point{102.91, 24.67})
		u.Name = "单元 " + h + " 结束"
		if err := s.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
		made = append(made, u)
	}
	for i, h := range hostile {
		t.Run(fmt.Sprintf("Q%d", i), func(t *testing.T) {
			got, n, err := s.FindUnits(ctx, riskmap.UnitFilter{Q: h})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, u := range got {
				names = append(names, u.Name)
				if !strings.Contains(strings.ToLower(u.Name), strings.ToLower(h)) && !strings.Contains(u.Code, h) {
					t.Errorf("q %q matched %q, which does not contain it", h, u.Name)
				}
			}
			if !slices.Contains(names, made[i].Name) || n != len(got) {
				t.Fatalf("q %q must find its own unit, got %v (n=%d)", h, names, n)
			}
		})
		t.Run(fmt.Sprintf("OtherFields%d", i), func(t *testing.T) {
			f := riskmap.UnitFilter{RegionPrefix: h, Categories: []string{h}, Grades: []riskmap.Grade{riskmap.Grade(h)},
				Statuses: []riskmap.Status{riskmap.Status(h)}}
			got, n, err := s.FindUnits(ctx, f)
			if err != nil || len(got) != 0 || n != 0 {
				t.Fatalf("hostile values in other filters must match nothing, got %d (n=%d), %v", len(got), n, err)
			}
		})
	}
	if n, err := s.CountUnits(ctx); err != nil || n != len(hostile)+1 {
		t.Fatalf("the table must be intact: %d units, %v", n, err)
	}
}

func TestOpenSetsSessionParameters(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	// A DSN asking for the simple protocol still gets the extended one.
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	s, err := Open(ctx, dsn+sep+"default_query_exec_mode=simple_protocol")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var timeout, app string
	if err := s.pool.QueryRow(ctx, "SELECT current_setting('statement_timeout'), current_setting('application_name')").Scan(&timeout, &app); err != nil {
		t.Fatal(err)
	}
	if timeout != "30s" || app != "riskmap" {
		t.Fatalf("statement_timeout %q, application_name %q; want 30s and riskmap", timeout, app)
	}
	if mode := s.pool.Config().ConnConfig.DefaultQueryExecMode.String(); mode == "simple_protocol" {
		t.Fatalf("query mode %s: the simple protocol must never be used", mode)
	}
}

// The pool is sized for concurrent writes, not for cores; a DSN's pool_max_conns wins.
func TestOpenSizesThePool(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	for _, tc := range []struct {
		name, dsn string
		want      int32
	}{
		{"OKDefault", dsn, DefaultMaxConns},
		{"OKFromDSN", dsn + sep + "pool_max_conns=6", 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(ctx, tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.pool.Config().MaxConns; got != tc.want {
				t.Fatalf("pool of %d connections, want %d", got, tc.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	t.Run("ErrBadDSN", func(t *testing.T) {
		_, err := Open(context.Background(), "postgres://user:secret@host:notaport/db")
		if riskmap.ErrorCode(err) != riskmap.EINVALID || strings.Contains(err.Error(), "secret") {
			t.Fatalf("want EINVALID without the password, got %v", err)
		}
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := Open(ctx, "postgres://u:secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2")
		if riskmap.ErrorCode(err) != riskmap.EUNAVAILABLE || strings.Contains(err.Error(), "secret") {
			t.Fatalf("want EUNAVAILABLE without the password, got %v", err)
		}
	})
}

// Two processes starting at once must not both apply a migration.
func TestMigrateConcurrently(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	var stores []*Store
	for range 4 {
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migrate %d: %v", i, err)
		}
	}
	var n int
	if err := stores[0].pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("schema_migrations is empty")
	}
	var dup int
	if err := stores[0].pool.QueryRow(ctx, "SELECT count(*) - count(DISTINCT version) FROM schema_migrations").Scan(&dup); err != nil || dup != 0 {
		t.Fatalf("a migration was recorded twice (%d), %v", dup, err)
	}
}

func TestUnitErrors(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	u := storetest.NewUnit("ERR-1", orb.Point{102.91, 24.67})
	if err := s.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrConflictNamesCode", func(t *testing.T) {
		other := storetest.NewUnit("ERR-2", orb.Point{102.91, 24.67})
		if err := s.CreateUnit(ctx, other); err != nil {
			t.Fatal(err)
		}
		other.Code = "ERR-1"
		err := s.UpdateUnit(ctx, other)
		if riskmap.ErrorCode(err) != riskmap.ECONFLICT || !strings.Contains(riskmap.ErrorMessage(err), "ERR-1") {
			t.Fatalf("want ECONFLICT naming ERR-1, got %v", err)
		}
		if strings.Contains(err.Error(), "risk_units") || strings.Contains(err.Error(), "INSERT") {
			t.Fatalf("the message must not show SQL: %v", err)
		}
	})
	t.Run("ErrBulkConflictNamesCode", func(t *testing.T) {
		_, err := s.BulkInsertUnits(ctx, slices.Values([]*riskmap.Unit{storetest.NewUnit("ERR-1", orb.Point{1, 2})}), nil)
		if riskmap.ErrorCode(err) != riskmap.ECONFLICT || !strings.Contains(riskmap.ErrorMessage(err), "ERR-1") {
			t.Fatalf("want ECONFLICT naming ERR-1, got %v", err)
		}
	})
	t.Run("ErrBulkBadGeometry", func(t *testing.T) {
		bad := storetest.NewUnit("ERR-GEOM", nil)
		_, err := s.BulkInsertUnits(ctx, slices.Values([]*riskmap.Unit{storetest.NewUnit("OK-X", orb.Point{1, 2}), bad}), nil)
		if riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatalf("want EINVALID, got %v", err)
		}
		if _, n, _ := s.FindUnits(ctx, riskmap.UnitFilter{Q: "OK-X"}); n != 0 {
			t.Fatal("a failed bulk insert must insert nothing")
		}
	})
	t.Run("ErrInvalidGrade", func(t *testing.T) {
		bad := storetest.NewUnit("ERR-GRADE", orb.Point{1, 2})
		bad.Grade = "purple"
		if err := s.CreateUnit(ctx, bad); riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatalf("want EINVALID, got %v", err)
		}
	})
	t.Run("OKUpdateWithoutStatusKeepsIt", func(t *testing.T) {
		got, err := s.GetUnit(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		got.Status = ""
		if err := s.UpdateUnit(ctx, got); err != nil {
			t.Fatal(err)
		}
		if got.Status != riskmap.StatusApproved || got.Version != 2 {
			t.Fatalf("want status approved at version 2, got %s v%d", got.Status, got.Version)
		}
	})
}

func TestUnitsStream(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	const n = unitsPage*2 + 7 // crosses page boundaries, last page short
	if _, err := s.BulkInsertUnits(ctx, synthUnits(n, 3), nil); err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		var last int64
		count := 0
		for u, err := range s.Units(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if u.ID <= last {
				t.Fatalf("ids out of order: %d after %d", u.ID, last)
			}
			last = u.ID
			count++
		}
		if count != n {
			t.Fatalf("streamed %d, want %d", count, n)
		}
	})
	t.Run("OKStopEarly", func(t *testing.T) {
		count := 0
		for _, err := range s.Units(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if count++; count == 10 {
				break
			}
		}
		// The reader goroutine is gone and its connection back in the pool.
		if st := s.pool.Stat(); st.AcquiredConns() != 0 {
			t.Fatalf("%d connections still in use after the loop ended", st.AcquiredConns())
		}
	})
	t.Run("ErrCanceled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		count := 0
		var last error
		for _, err := range s.Units(cctx) {
			if err != nil {
				last = err
				break
			}
			if count++; count == 5 {
				cancel()
			}
		}
		cancel()
		if last == nil {
			t.Fatalf("a cancelled stream must end with an error, not look complete (%d units)", count)
		}
	})
}

// When the columns are not the types the fast decoder expects, pgx's Scan decodes the row
// instead, to the same unit.
func TestScanFallback(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	u := storetest.NewUnit("FB-1", orb.LineString{{1, 2}, {3, 4}})
	identified := time.Date(2021, 4, 1, 0, 0, 0, 0, time.UTC)
	u.InherentGrade, u.OpenHazards, u.IdentifiedAt = riskmap.GradeBlue, 2, &identified
	u.Conditions = []riskmap.Condition{{Source: riskmap.ConditionHazard, Ref: "YH-2026-000001", Level: "major",
		Since: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Raises: true}}
	if err := s.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	fast, err := s.GetUnit(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := s.pool.Query(ctx, selectUnit+" WHERE id = $1", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !plain.Next() || !rawUnitOK(plain.FieldDescriptions()) {
		t.Fatal("the fast decoder must take selectUnit's columns, the dynamic ones included")
	}
	plain.Close()
	q := strings.Replace(selectUnit, "SELECT id, code,", "SELECT id, code::varchar,", 1)
	if q == selectUnit {
		t.Fatal("the test no longer changes the query")
	}
	rows, err := s.pool.Query(ctx, q+" WHERE id = $1", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	if rawUnitOK(rows.FieldDescriptions()) {
		t.Fatal("the fast decoder must not take a varchar column")
	}
	if len(fast.Conditions) != 1 || fast.InherentGrade != riskmap.GradeBlue || fast.OpenHazards != 2 || fast.IdentifiedAt == nil {
		t.Fatalf("the dynamic fields did not come back: %+v", fast)
	}
	slow, err := newUnitScan().scan(rows)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fallback differs:\nfast %+v\nslow %+v", fast, slow)
	}
}

// A bulk load into a small table drops the secondary indexes and builds them again; they
// must all be back, and a failed load must leave them as they were.
func TestBulkKeepsIndexes(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	indexes := func() []string {
		t.Helper()
		rows, err := s.pool.Query(ctx, "SELECT indexdef FROM pg_indexes WHERE tablename = 'risk_units' ORDER BY indexname")
		if err != nil {
			t.Fatal(err)
		}
		defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return defs
	}
	before := indexes()
	if len(before) < 7 {
		t.Fatalf("the migration made only %d indexes: %v", len(before), before)
	}
	if _, err := s.BulkInsertUnits(ctx, synthUnits(500, 5), nil); err != nil {
		t.Fatal(err)
	}
	if after := indexes(); !slices.Equal(before, after) {
		t.Fatalf("indexes changed:\nbefore %v\n after %v", before, after)
	}
	_, err := s.BulkInsertUnits(ctx, synthUnits(10, 5), nil) // the same codes again
	if riskmap.ErrorCode(err) != riskmap.ECONFLICT {
		t.Fatalf("want ECONFLICT, got %v", err)
	}
	if after := indexes(); !slices.Equal(before, after) {
		t.Fatalf("a failed load changed the indexes:\nbefore %v\n after %v", before, after)
	}
	if n, _ := s.CountUnits(ctx); n != 500 {
		t.Fatalf("count %d, want 500", n)
	}
}

// The approved register keeps the approved revision's inherent grade (NULL for a unit
// stored without one), from single writes and bulk loads alike: a hidden danger's write
// raises the approved grade from it.
func TestApprovedInherentGrade(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	raised := storetest.NewUnit("AI-RAISED", orb.Point{102.9, 24.6})
	raised.InherentGrade = riskmap.GradeYellow
	plain := storetest.NewUnit("AI-PLAIN", orb.Point{102.91, 24.61})
	if err := s.CreateUnit(ctx, raised); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUnit(ctx, plain); err != nil {
		t.Fatal(err)
	}
	bulk := storetest.NewUnit("AI-BULK", orb.Point{102.92, 24.62})
	bulk.InherentGrade = riskmap.GradeBlue
	if _, err := s.BulkInsertUnits(ctx, slices.Values([]*riskmap.Unit{bulk}), nil); err != nil {
		t.Fatal(err)
	}
	raised.InherentGrade = riskmap.GradeOrange
	if err := s.UpdateUnit(ctx, raised); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"AI-RAISED": "orange", "AI-PLAIN": "", "AI-BULK": "blue"}
	for code, w := range want {
		var got pgtype.Text
		if err := s.pool.QueryRow(ctx, "SELECT inherent_grade FROM approved_units WHERE code = $1", code).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got.String != w || got.Valid != (w != "") {
			t.Errorf("%s: approved inherent grade %+v, want %q", code, got, w)
		}
	}
}

// Reading the register back (Units: what every start loads), the units share one string for
// each category, region code and department, instead of a copy each in memory.
func TestUnitsShareTheirCodes(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	for i := range 3 {
		u := storetest.NewUnit(fmt.Sprintf("IN-%d", i), orb.Point{102.9, 24.6})
		u.ResponsibleDepartment = "应急管理局"
		if err := s.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	var read []*riskmap.Unit
	for u, err := range s.Units(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(u.Code, "IN-") {
			read = append(read, u)
		}
	}
	if len(read) != 3 {
		t.Fatalf("read %d units back, want 3", len(read))
	}
	a := read[0]
	for _, b := range read[1:] {
		if b.Category != a.Category || b.RegionCode != a.RegionCode || b.ResponsibleDepartment != "应急管理局" {
			t.Fatalf("read back: %q %q %q", b.Category, b.RegionCode, b.ResponsibleDepartment)
		}
		if unsafe.StringData(b.Category) != unsafe.StringData(a.Category) || unsafe.StringData(b.RegionCode) != unsafe.StringData(a.RegionCode) ||
			unsafe.StringData(b.ResponsibleDepartment) != unsafe.StringData(a.ResponsibleDepartment) {
			t.Fatal("each unit read back keeps its own copy of its category, region code or department")
		}
	}
}

// The approved register and a publication's units read by decoding the rows' wire values
// are what pgx's Scan makes of the same rows (every geometry type, Chinese and empty
// public labels, a publication's missing approver and time).
func TestRawApprovedEqualsScan(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	geoms := []orb.Geometry{orb.Point{102.9, 24.6}, orb.LineString{{102.9, 24.6}, {102.91, 24.61}},
		orb.Polygon{{{102.9, 24.6}, {102.91, 24.6}, {102.91, 24.61}, {102.9, 24.6}}},
		orb.MultiPolygon{{{{102.9, 24.6}, {102.91, 24.6}, {102.91, 24.61}, {102.9, 24.6}}}},
		orb.MultiPoint{{102.9, 24.6}, {102.8, 24.5}}, orb.MultiLineString{{{102.9, 24.6}, {102.91, 24.61}}}}
	for i, g := range geoms {
		u := storetest.NewUnit(fmt.Sprintf("RAW-%d", i), g)
		if i%2 == 0 {
			u.PublicLabel = fmt.Sprintf("户外广告牌（抚仙路东段 %d）\"quoted\"", i)
		}
		if err := s.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	pub := &riskmap.Publication{}
	if _, err := s.Publish(ctx, pub, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		name, sql string
		more      []any
	}{
		{"approved", "SELECT " + approvedColumns + " FROM approved_units WHERE unit_id > $1 ORDER BY unit_id LIMIT $2", nil},
		{"published", `SELECT ` + publishedColumns + ` FROM published_units
WHERE published_in <= $3 AND (withdrawn_in IS NULL OR withdrawn_in > $3) AND unit_id > $1 ORDER BY unit_id LIMIT $2`, []any{pub.Number}},
	} {
		rows, err := s.pool.Query(ctx, q.sql, append([]any{int64(0), int64(1 << 62)}, q.more...)...)
		if err != nil {
			t.Fatal(err)
		}
		if !rows.Next() || !rawApprovedOK(rows.FieldDescriptions()) {
			t.Fatalf("%s: the raw decoder must take the rows' columns", q.name)
		}
		rows.Close()
		read := func(raw bool) []*riskmap.ApprovedUnit {
			var out []*riskmap.ApprovedUnit
			for a, err := range s.approvedRows(ctx, raw, "test", q.sql, q.more...) {
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, a)
			}
			return out
		}
		fast, slow := read(true), read(false)
		if len(fast) != len(geoms) || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s: raw decoding differs from Scan:\nraw  %+v\nscan %+v", q.name, fast, slow)
		}
	}
}
