package gpkg

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
	schema "riskmap/sql"
)

// The audit log and the publications refuse every change through SQL, not only through the
// store: QGIS or the sqlite3 shell meet the same triggers.
func TestAppendOnlyTables(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	mustT(t, s.AppendAudit(ctx, &riskmap.AuditEntry{Actor: "admin", Action: "unit.update", Outcome: riskmap.OutcomeOK}))
	mustT(t, s.CreateUnit(ctx, testUnit("TRG-1", orb.Point{102.9, 24.6})))
	// Three publications of one unit, so that publication 2 is history.
	for range 3 {
		_, err := s.Publish(ctx, &riskmap.Publication{}, nil)
		mustT(t, err)
	}
	for _, stmt := range []string{
		"UPDATE audit_log SET actor = 'mallory'",
		"DELETE FROM audit_log",
		"UPDATE publications SET note = 'changed'",
		"DELETE FROM publications",
		"UPDATE published_units SET grade = 'blue'",
		"UPDATE published_units SET withdrawn_in = NULL",
		"DELETE FROM published_units",
		"UPDATE published_units SET withdrawn_in = 2 WHERE withdrawn_in IS NULL",
		"INSERT INTO published_units (unit_id, published_in, version, code, name, category, region_code, grade, risk_value, geom) SELECT unit_id + 1000, 2, version, code, name, category, region_code, grade, risk_value, geom FROM published_units",
	} {
		t.Run("Err"+strings.ReplaceAll(stmt, " ", "_"), func(t *testing.T) {
			_, err := s.w.ExecContext(ctx, stmt)
			if err == nil {
				t.Fatalf("%s must fail", stmt)
			}
			if !strings.Contains(err.Error(), "append-only") && !strings.Contains(err.Error(), "immutable") {
				t.Fatalf("%s: want the trigger's refusal, got %v", stmt, err)
			}
		})
	}
	var audit, pubs, units int
	mustT(t, s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM audit_log WHERE actor = 'admin'),
    (SELECT count(*) FROM publications WHERE note = ''), (SELECT count(*) FROM publication_units WHERE grade = 'yellow')`).
		Scan(&audit, &pubs, &units))
	if audit != 1 || pubs != 3 || units != 3 {
		t.Fatalf("rows must be unchanged: audit %d, publications %d, units %d", audit, pubs, units)
	}
}

// The migration puts the units approved before it into the approved register, and records
// the register's bounds.
func TestMigrationFillsApprovedRegister(t *testing.T) {
	ctx := context.Background()
	s := openMigratedBefore(t, "003")
	// Units written under the old schema, two of them approved.
	for i := range 3 {
		u := testUnit(fmt.Sprintf("OLD-%d", i), orb.Point{102.9 + float64(i)*0.01, 24.6 + float64(i)*0.01})
		a, err := encodeUnit(u)
		mustT(t, err)
		geom, err := EncodeGeometry(u.Geometry, SRSID)
		mustT(t, err)
		status := "approved"
		if i == 1 {
			status = "draft"
		}
		ts := formatTime(now())
		_, err = s.w.ExecContext(ctx, insertUnitV2,
			u.Code, u.Name, u.Category, u.SubCategory, u.RegionCode, u.Address,
			a.accidentTypes, a.hazard, u.MajorRiskFactors, u.Assessment.Method, a.assessment,
			u.DirectMajorReason, u.RiskValue, string(u.Grade), u.Grade.Label(), a.explanation, a.controls,
			u.ResponsibleDepartment, u.ResponsibleUnit, u.ContactPerson, u.ContactPhone, u.InfluenceRadiusM,
			status, int64(1), ts, ts, u.AssessedBy, a.assessedAt, a.nextReview, geom)
		mustT(t, err)
	}
	mustT(t, s.Migrate(ctx))
	var codes []string
	for a, err := range s.ApprovedUnits(ctx) {
		mustT(t, err)
		codes = append(codes, a.Code)
		if a.Version != 1 || a.Grade != riskmap.GradeYellow || a.ApprovedAt.IsZero() {
			t.Errorf("migrated approved unit: %+v", a)
		}
	}
	if !slices.Equal(codes, []string{"OLD-0", "OLD-2"}) {
		t.Fatalf("approved register after the migration: %v", codes)
	}
	var minX, minY, maxX, maxY float64
	mustT(t, s.r.QueryRowContext(ctx, "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'approved_units'").
		Scan(&minX, &minY, &maxX, &maxY))
	if minX != 102.9 || minY != 24.6 || maxX != 102.92 || maxY != 24.62 {
		t.Fatalf("approved_units bounds: (%v %v, %v %v)", minX, minY, maxX, maxY)
	}
}

// Every approval widens the bounds of approved_units, a features table, so that QGIS zooms
// to all of it.
func TestApprovedUnitsBounds(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	draft := testUnit("B-DRAFT", orb.Point{100, 20})
	draft.Status = riskmap.StatusDraft
	mustT(t, s.CreateUnit(ctx, draft))
	mustT(t, s.CreateUnit(ctx, testUnit("B-1", orb.Point{102.9, 24.6})))
	bulk := []*riskmap.Unit{testUnit("B-2", orb.Point{103.1, 24.8})}
	_, err := s.BulkInsertUnits(ctx, slices.Values(bulk), nil)
	mustT(t, err)
	var minX, minY, maxX, maxY float64
	mustT(t, s.r.QueryRowContext(ctx, "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'approved_units'").
		Scan(&minX, &minY, &maxX, &maxY))
	if minX != 102.9 || minY != 24.6 || maxX != 103.1 || maxY != 24.8 {
		t.Fatalf("approved_units bounds must take in the approved units only: (%v %v, %v %v)", minX, minY, maxX, maxY)
	}
}

// insertUnitV2 is insertUnit as the schema of 002_init had it.
const insertUnitV2 = `INSERT INTO risk_units (code, name, category, sub_category, region_code, address,
    accident_types, major_hazard_level, major_risk_factors, assessment_method, assessment,
    direct_major_reason, risk_value, grade, grade_label, grade_explanation, controls,
    responsible_department, responsible_unit, contact_person, contact_phone, influence_radius_m,
    status, version, created_at, updated_at, assessed_by, assessed_at, next_review_due, geom)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Publications made as copies of the register read the same after 015 turns them into
// published_units.
func TestMigratedPublications(t *testing.T) {
	ctx := context.Background()
	s := openMigratedBefore(t, "015")
	exec := func(q string, args ...any) error {
		_, err := s.w.ExecContext(ctx, q, args...)
		return err
	}
	mustT(t, exec("CREATE TABLE set_aside AS SELECT * FROM approved_units WHERE 0"))
	storetest.MigratedPublications(t, s, storetest.OldPublications{
		Publish: func(n int64) error {
			if err := exec(`INSERT INTO publications (number, created_at, unit_count, regions)
VALUES (?1, ?2, (SELECT count(*) FROM approved_units), '[]')`, n, formatTime(now())); err != nil {
				return err
			}
			return exec(`INSERT INTO publication_units (publication, unit_id, version, code, name, category, region_code, grade, risk_value, geom, public_label)
SELECT ?, unit_id, version, code, name, category, region_code, grade, risk_value, geom, public_label FROM approved_units`, n)
		},
		Withdraw: func(id int64) error {
			if err := exec("INSERT INTO set_aside SELECT * FROM approved_units WHERE unit_id = ?", id); err != nil {
				return err
			}
			return exec("DELETE FROM approved_units WHERE unit_id = ?", id)
		},
		Restore: func(id int64) error {
			return exec("INSERT INTO approved_units SELECT * FROM set_aside WHERE unit_id = ?", id)
		},
		Regrade: func(id int64, g riskmap.Grade) error {
			return exec("UPDATE approved_units SET grade = ? WHERE unit_id = ?", string(g), id)
		},
		Migrate: func() error { return s.Migrate(ctx) },
	})
}

// TestPublishComparesByIndex: publishing finds the change with each side looked up by its
// index (the latest publication's rows by published_units_current, not by the primary key,
// which would read every past row of a unit), one scan per query — not a scan of one side for every row of the other, which
// took minutes for 200,000 units. Comparing only the logged changes scans approved_changes
// alone and looks both sides up by their indexes.
func TestPublishComparesByIndex(t *testing.T) {
	s := openTestStore(t)
	for _, q := range []string{addedSQL, removedSQL, addedAmongSQL, removedAmongSQL} {
		among := q == addedAmongSQL || q == removedAmongSQL
		rows, err := s.r.Query("EXPLAIN QUERY PLAN " + q)
		mustT(t, err)
		scans, searches := 0, 0
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			mustT(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
			switch {
			case strings.HasPrefix(detail, "SCAN"):
				scans++
			case strings.HasPrefix(detail, "SEARCH"):
				searches++
			}
		}
		mustT(t, rows.Err())
		rows.Close()
		joined := strings.Join(plan, "\n")
		if among && (scans != 1 || searches != 2 || !strings.Contains(joined, "SCAN approved_changes")) {
			t.Fatalf("want approved_changes scanned and both sides searched, got %q for\n%s", plan, q)
		}
		if !among && (scans != 1 || searches != 1) || !strings.Contains(joined, "USING INDEX published_units_current") {
			t.Fatalf("want one scan and one indexed search, got %q for\n%s", plan, q)
		}
	}
}

// openMigratedBefore opens a new GeoPackage with the migrations applied up to the one whose
// file name starts with before, which is not.
func openMigratedBefore(t *testing.T, before string) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "old.gpkg"))
	mustT(t, err)
	t.Cleanup(func() { s.Close() })
	_, err = s.w.ExecContext(ctx, "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at DATETIME NOT NULL)")
	mustT(t, err)
	names, err := fs.Glob(schema.GeoPackage, "gpkg/*.sql")
	mustT(t, err)
	sort.Strings(names)
	for _, name := range names {
		if strings.HasPrefix(filepath.Base(name), before+"_") {
			break
		}
		mustT(t, s.migrate(ctx, name, strings.TrimSuffix(filepath.Base(name), ".sql")))
	}
	return s
}
