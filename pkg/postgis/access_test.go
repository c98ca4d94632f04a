package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/pgtest"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
	schema "riskmap/sql"
)

// The audit log and the publications refuse every change through SQL, not only through the
// store.
func TestAppendOnlyTables(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	if err := s.AppendAudit(ctx, &riskmap.AuditEntry{Actor: "admin", Action: "unit.update", Outcome: riskmap.OutcomeOK}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUnit(ctx, storetest.NewUnit("TRG-1", orb.Point{102.9, 24.6})); err != nil {
		t.Fatal(err)
	}
	// Three publications of one unit, so that publication 2 is history.
	for range 3 {
		if _, err := s.Publish(ctx, &riskmap.Publication{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, stmt := range []string{
		"UPDATE audit_log SET actor = 'mallory'",
		"DELETE FROM audit_log",
		"TRUNCATE audit_log",
		"UPDATE publications SET note = 'changed'",
		"DELETE FROM publications",
		"TRUNCATE publications CASCADE",
		"UPDATE published_units SET grade = 'blue'",
		"UPDATE published_units SET withdrawn_in = NULL",
		"DELETE FROM published_units",
		"TRUNCATE published_units",
		"UPDATE published_units SET withdrawn_in = 2 WHERE withdrawn_in IS NULL",
		"INSERT INTO published_units (unit_id, published_in, version, code, name, category, region_code, grade, risk_value, geom) SELECT unit_id + 1000, 2, version, code, name, category, region_code, grade, risk_value, geom FROM published_units",
	} {
		t.Run("Err"+strings.ReplaceAll(stmt, " ", "_"), func(t *testing.T) {
			_, err := s.pool.Exec(ctx, stmt)
			if err == nil {
				t.Fatalf("%s must fail", stmt)
			}
			if !strings.Contains(err.Error(), "append-only") && !strings.Contains(err.Error(), "immutable") {
				t.Fatalf("%s: want the trigger's refusal, got %v", stmt, err)
			}
		})
	}
	var audit, pubs, units int
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_log WHERE actor = 'admin'),
		(SELECT count(*) FROM publications WHERE note = ''), (SELECT count(*) FROM publication_units WHERE grade = 'red')`).
		Scan(&audit, &pubs, &units); err != nil {
		t.Fatal(err)
	}
	if audit != 1 || pubs != 3 || units != 3 {
		t.Fatalf("rows must be unchanged: audit %d, publications %d, units %d", audit, pubs, units)
	}
}

// The migration puts the units approved before it into the approved register.
func TestMigrationFillsApprovedRegister(t *testing.T) {
	s := openFresh(t)
	ctx := context.Background()
	if err := migrateBefore(ctx, s, "004"); err != nil {
		t.Fatal(err)
	}
	// Units written under the old schema, two of them approved.
	if _, err := s.pool.Exec(ctx, `INSERT INTO risk_units (code, name, category, region_code, assessment_method, assessment,
		risk_value, grade, grade_label, grade_explanation, controls, status, version, created_at, updated_at, geom)
		SELECT 'OLD-' || i, '旧单元 ' || i, 'hazardous_chemicals', '530481001001', 'LS', '{"method":"LS","likelihood":4,"severity":5}',
			20, 'red', '重大风险', '{}', '{}', CASE WHEN i = 1 THEN 'draft' ELSE 'approved' END, 1, now(), now(),
			ST_SetSRID(ST_MakePoint(102.9 + i * 0.01, 24.6), 4326)
		FROM generate_series(0, 2) AS i`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for a, err := range s.ApprovedUnits(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, a.Code)
		if a.Version != 1 || a.Grade != riskmap.GradeRed || a.ApprovedAt.IsZero() {
			t.Errorf("migrated approved unit: %+v", a)
		}
	}
	if !slices.Equal(codes, []string{"OLD-0", "OLD-2"}) {
		t.Fatalf("approved register after the migration: %v", codes)
	}
}

// openFresh returns a store on a fresh database that is not migrated.
func openFresh(tb testing.TB) *Store {
	tb.Helper()
	dsn := pgtest.NewDatabase(tb)
	s, err := Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Publications made at the same time get distinct numbers; one that loses the race twice
// is refused as a conflict, never half made.
func TestPublishConcurrent(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	for i := range 20 {
		if err := s.CreateUnit(ctx, storetest.NewUnit(fmt.Sprintf("CP-%d", i), orb.Point{102.9, 24.6 + float64(i)*0.001})); err != nil {
			t.Fatal(err)
		}
	}
	const n = 6
	var wg sync.WaitGroup
	nums := make([]int64, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &riskmap.Publication{Note: fmt.Sprint(i)}
			_, errs[i] = s.Publish(ctx, p, func(ch *riskmap.PublicationChange) (*riskmap.PublicationSummary, error) {
				all, err := ch.Register()
				return &riskmap.PublicationSummary{Regions: json.RawMessage(fmt.Sprintf(`{"units":%d}`, len(all)))}, err
			})
			nums[i] = p.Number
		}()
	}
	wg.Wait()
	var made []int64
	for i, err := range errs {
		switch {
		case err == nil:
			made = append(made, nums[i])
		case riskmap.ErrorCode(err) == riskmap.ECONFLICT:
		default:
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	slices.Sort(made)
	if len(made) == 0 || made[0] != 1 || made[len(made)-1] != int64(len(made)) {
		t.Fatalf("numbers must run 1, 2, … without gaps: %v", made)
	}
	ps, err := s.Publications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != len(made) {
		t.Fatalf("%d publications stored, %d reported made", len(ps), len(made))
	}
	for _, p := range ps {
		if p.UnitCount != 20 || string(p.Regions) != `{"units":20}` {
			t.Fatalf("publication %d: %+v", p.Number, p)
		}
		var k int
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM publication_units WHERE publication = $1", p.Number).Scan(&k); err != nil || k != 20 {
			t.Fatalf("publication %d holds %d units (%v)", p.Number, k, err)
		}
	}
}

// A bulk load into a small register rebuilds the approved register's primary key only when
// no one else is using the table; otherwise it keeps the key and maintains it. Either way
// the approved units arrive and the key is there afterwards.
func TestBulkApprovedRegisterPaths(t *testing.T) {
	for _, busy := range []bool{false, true} {
		t.Run(map[bool]string{false: "OKRebuildsKey", true: "OKTableInUse"}[busy], func(t *testing.T) {
			s := openStore(t)
			ctx := context.Background()
			if busy {
				// A reader in the middle of a transaction holds a lock on approved_units.
				other, err := s.pool.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer other.Rollback(ctx)
				if _, err := other.Exec(ctx, "SELECT count(*) FROM approved_units"); err != nil {
					t.Fatal(err)
				}
			}
			var in []*riskmap.Unit
			for i := range 5 {
				u := storetest.NewUnit(fmt.Sprintf("BP-%d", i), orb.Point{102.9, 24.6 + float64(i)*0.01})
				if i == 2 {
					u.Status = riskmap.StatusDraft
				}
				in = append(in, u)
			}
			if _, err := s.BulkInsertUnits(ctx, slices.Values(in), nil); err != nil {
				t.Fatal(err)
			}
			var codes []string
			for a, err := range s.ApprovedUnits(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				codes = append(codes, a.Code)
			}
			if !slices.Equal(codes, []string{"BP-0", "BP-1", "BP-3", "BP-4"}) {
				t.Fatalf("approved register: %v", codes)
			}
			var pk bool
			if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_constraint
				WHERE conrelid = 'approved_units'::regclass AND contype = 'p' AND conname = 'approved_units_pkey')`).Scan(&pk); err != nil || !pk {
				t.Fatalf("approved_units must keep its primary key (%v)", err)
			}
			// The next approval upserts through the key.
			u := in[0]
			got, _, err := s.FindUnits(ctx, riskmap.UnitFilter{Q: u.Code})
			if err != nil || len(got) != 1 {
				t.Fatalf("find %s: %v %v", u.Code, got, err)
			}
			got[0].Grade = riskmap.GradeBlue
			if err := s.UpdateUnit(ctx, got[0]); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Publications made as copies of the register read the same after 016 turns them into
// published_units.
func TestMigratedPublications(t *testing.T) {
	s := openFresh(t)
	ctx := context.Background()
	if err := migrateBefore(ctx, s, "016"); err != nil {
		t.Fatal(err)
	}
	exec := func(sql string, args ...any) error {
		_, err := s.pool.Exec(ctx, sql, args...)
		return err
	}
	if err := exec("CREATE TABLE set_aside (LIKE approved_units)"); err != nil {
		t.Fatal(err)
	}
	storetest.MigratedPublications(t, s, storetest.OldPublications{
		Publish: func(n int64) error {
			if err := exec(`INSERT INTO publications (number, created_at, unit_count, regions)
				VALUES ($1, now(), (SELECT count(*) FROM approved_units), '[]')`, n); err != nil {
				return err
			}
			return exec(`INSERT INTO publication_units (publication, unit_id, version, code, name, category, region_code, grade, risk_value, geom, public_label)
				SELECT $1, unit_id, version, code, name, category, region_code, grade, risk_value, geom, public_label FROM approved_units`, n)
		},
		Withdraw: func(id int64) error {
			if err := exec("INSERT INTO set_aside SELECT * FROM approved_units WHERE unit_id = $1", id); err != nil {
				return err
			}
			return exec("DELETE FROM approved_units WHERE unit_id = $1", id)
		},
		Restore: func(id int64) error {
			return exec("INSERT INTO approved_units SELECT * FROM set_aside WHERE unit_id = $1", id)
		},
		Regrade: func(id int64, g riskmap.Grade) error {
			return exec("UPDATE approved_units SET grade = $2 WHERE unit_id = $1", id, string(g))
		},
		Migrate: func() error { return s.Migrate(ctx) },
	})
}

// migrateBefore applies the migrations up to the one whose file name starts with before,
// which it does not apply.
func migrateBefore(ctx context.Context, s *Store, before string) error {
	files, err := fs.Glob(schema.PostGIS, "postgis/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		if strings.HasPrefix(path.Base(f), before+"_") {
			break
		}
		body, err := fs.ReadFile(schema.PostGIS, f)
		if err != nil {
			return err
		}
		if err := s.migrate(ctx, strings.TrimSuffix(path.Base(f), ".sql"), string(body)); err != nil {
			return err
		}
	}
	return nil
}
