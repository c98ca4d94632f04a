package postgis

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// The approved register (approved_units) is kept by the statements that write risk_units,
// so that it never disagrees with the register: CreateUnit and UpdateUnit add the CTE
// upsertApproved to their data-modifying CTE w, RetireUnit adds deleteApproved, and
// BulkInsertUnits calls bulkApproved after its COPY, all in the write's own statement or
// transaction.

// writtenApproved is what the CTE w of a unit write returns besides id and version for
// upsertApproved.
var writtenApproved = `status, code, name, category, region_code, grade, risk_value, geom, updated_at, inherent_grade` + unitcodec.PublicColumns("")

// upsertApproved puts the revision written by the CTE w into the approved register when it
// is approved, replacing the unit's earlier approved revision. A draft or submitted
// revision leaves the earlier one alone. Who approved it is not known here: SetUnitAuthor
// records it.
var upsertApproved = `, approved AS (
	INSERT INTO approved_units (unit_id, version, code, name, category, region_code, grade, risk_value, geom, approved_by, approved_at, inherent_grade` + unitcodec.PublicColumns("") + `)
	SELECT id, version, code, name, category, region_code, grade, risk_value, geom, '', updated_at, inherent_grade` + unitcodec.PublicColumns("") + ` FROM w WHERE status = 'approved'
	ON CONFLICT (unit_id) DO UPDATE SET version = EXCLUDED.version, code = EXCLUDED.code, name = EXCLUDED.name,
		category = EXCLUDED.category, region_code = EXCLUDED.region_code, grade = EXCLUDED.grade,
		inherent_grade = EXCLUDED.inherent_grade,
		risk_value = EXCLUDED.risk_value, geom = EXCLUDED.geom, approved_by = EXCLUDED.approved_by,
		approved_at = EXCLUDED.approved_at` + unitcodec.PublicCopies("EXCLUDED") + `)`

// deleteApproved takes the units retired by the CTE w out of the approved register.
const deleteApproved = `, unapproved AS (DELETE FROM approved_units USING w WHERE approved_units.unit_id = w.id)`

// bulkApprovedSQL copies the approved units of a bulk load, the rows this transaction
// inserted (change_xid defaults to the writing transaction, and is indexed), into the
// approved register. $1 is the load's timestamp. Its ON CONFLICT needs the primary key.
var bulkApprovedSQL = `INSERT INTO approved_units (unit_id, version, code, name, category, region_code, grade, risk_value, geom, approved_by, approved_at, inherent_grade` + unitcodec.PublicColumns("") + `)
SELECT id, version, code, name, category, region_code, grade, risk_value, geom, '', $1, inherent_grade` + unitcodec.PublicColumns("") + `
FROM risk_units WHERE change_xid = pg_current_xact_id() AND status = 'approved'
ON CONFLICT (unit_id) DO NOTHING`

// bulkApprovedPlainSQL is bulkApprovedSQL for a table without its primary key.
var bulkApprovedPlainSQL = `INSERT INTO approved_units (unit_id, version, code, name, category, region_code, grade, risk_value, geom, approved_by, approved_at, inherent_grade` + unitcodec.PublicColumns("") + `)
SELECT id, version, code, name, category, region_code, grade, risk_value, geom, '', $1, inherent_grade` + unitcodec.PublicColumns("") + `
FROM risk_units WHERE change_xid = pg_current_xact_id() AND status = 'approved'`

const sqlLockNotAvailable = "55P03"

// bulkApproved puts the approved units of a bulk load into the approved register, in the
// load's transaction tx.
//
// Maintaining the primary key row by row costs more than half of the copy (about 4 of 7
// seconds for a million units), so when the load already holds risk_units exclusively
// (dropIndexesIfSmall; the register, and so the approved register, is small) and nobody is
// using approved_units, the key is dropped and built again after the copy, as the indexes
// of risk_units are. The lock is taken with NOWAIT: a writer holding approved_units may be
// waiting for risk_units, and waiting for it in turn would deadlock. When the lock is not
// free, the load keeps the key and maintains it.
func bulkApproved(ctx context.Context, tx pgx.Tx, now time.Time, holdsRegister bool) error {
	// Everything changed, for the next publication: one 0 instead of an id per unit, the
	// triggers told so for this transaction (sql/postgis/017_approved_changes.sql).
	if _, err := tx.Exec(ctx, "SELECT set_config('riskmap.bulk_load', 'on', true)"); err != nil {
		return dbError("bulk insert: approved register", err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO approved_changes (unit_id) VALUES (0)"); err != nil {
		return dbError("bulk insert: approved register", err)
	}
	if holdsRegister {
		locked, err := lockApprovedNoWait(ctx, tx)
		if err != nil {
			return err
		}
		if locked {
			if _, err := tx.Exec(ctx, "ALTER TABLE approved_units DROP CONSTRAINT approved_units_pkey"); err != nil {
				return dbError("bulk insert: approved register", err)
			}
			if _, err := tx.Exec(ctx, bulkApprovedPlainSQL, now); err != nil {
				return dbError("bulk insert: approved register", err)
			}
			// A duplicate here would be a unit id taken twice: an internal error.
			if _, err := tx.Exec(ctx, "ALTER TABLE approved_units ADD CONSTRAINT approved_units_pkey PRIMARY KEY (unit_id)"); err != nil {
				return dbError("bulk insert: approved register", err)
			}
			return nil
		}
	}
	if _, err := tx.Exec(ctx, bulkApprovedSQL, now); err != nil {
		return dbError("bulk insert: approved register", err)
	}
	return nil
}

// lockApprovedNoWait takes approved_units exclusively if no other transaction holds any
// lock on it, and reports whether it did.
func lockApprovedNoWait(ctx context.Context, tx pgx.Tx) (bool, error) {
	sp, err := tx.Begin(ctx) // a savepoint: a refused lock must not end the load
	if err != nil {
		return false, dbError("bulk insert: approved register", err)
	}
	if _, err := sp.Exec(ctx, "LOCK TABLE approved_units IN ACCESS EXCLUSIVE MODE NOWAIT"); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == sqlLockNotAvailable {
			if err := sp.Rollback(ctx); err != nil {
				return false, dbError("bulk insert: approved register", err)
			}
			return false, nil
		}
		return false, dbError("bulk insert: lock approved register", err)
	}
	// Released, the savepoint hands its lock to the load's transaction.
	if err := sp.Commit(ctx); err != nil {
		return false, dbError("bulk insert: approved register", err)
	}
	return true, nil
}

// SetUnitAuthor records who wrote and reviewed the current revision of a unit. When that
// revision is the approved one, its reviewer is also recorded as its approver in the
// approved register.
func (s *Store) SetUnitAuthor(ctx context.Context, a *riskmap.UnitAuthor) error {
	return setUnitAuthor(ctx, s.pool, a)
}

// setUnitAuthor is SetUnitAuthor on q, a pool or a transaction.
func setUnitAuthor(ctx context.Context, q querier, a *riskmap.UnitAuthor) error {
	_, err := q.Exec(ctx, `WITH a AS (
		INSERT INTO unit_authors (unit_id, created_by, updated_by, submitted_by, submitted_at, reviewed_by, reviewed_at, approved_version,
			review_comment, downgrade_reason, approved_grade, approved_feature, retire_reason, retire_requested_by, retire_requested_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (unit_id) DO UPDATE SET submitted_by = EXCLUDED.submitted_by, submitted_at = EXCLUDED.submitted_at,
			reviewed_by = EXCLUDED.reviewed_by, reviewed_at = EXCLUDED.reviewed_at,
			approved_version = EXCLUDED.approved_version, review_comment = EXCLUDED.review_comment,
			downgrade_reason = EXCLUDED.downgrade_reason, approved_grade = EXCLUDED.approved_grade,
			approved_feature = EXCLUDED.approved_feature, retire_reason = EXCLUDED.retire_reason,
			retire_requested_by = EXCLUDED.retire_requested_by, retire_requested_at = EXCLUDED.retire_requested_at)
	UPDATE approved_units p SET approved_by = $6
	FROM risk_units r
	WHERE p.unit_id = $1 AND p.version = $8 AND $6 <> ''
		AND r.id = p.unit_id AND r.version = p.version AND r.status = 'approved'`,
		a.UnitID, a.CreatedBy, a.UpdatedBy, a.SubmittedBy, optTimestamptz(a.SubmittedAt),
		a.ReviewedBy, optTimestamptz(a.ReviewedAt), a.ApprovedVersion,
		a.Comment, a.DowngradeReason, string(a.ApprovedGrade), a.Approved, a.RetireReason,
		a.RetireRequestedBy, optTimestamptz(a.RetireRequestedAt))
	if isForeignKeyViolation(err) {
		return riskmap.UnitNotFound(a.UnitID)
	}
	return dbError("set unit author", err)
}

func optTimestamptz(t *time.Time) pgtype.Timestamptz {
	if t == nil {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: micro(*t), Valid: true}
}

// UnitAuthor returns a unit's author record, empty when none was recorded.
func (s *Store) UnitAuthor(ctx context.Context, unitID int64) (*riskmap.UnitAuthor, error) {
	a := &riskmap.UnitAuthor{UnitID: unitID}
	var submitted, reviewed, retire pgtype.Timestamptz
	var grade string
	err := s.pool.QueryRow(ctx, `SELECT created_by, updated_by, submitted_by, submitted_at, reviewed_by, reviewed_at, approved_version,
			review_comment, downgrade_reason, approved_grade, approved_feature, retire_reason, retire_requested_by, retire_requested_at
		FROM unit_authors WHERE unit_id = $1`, unitID).
		Scan(&a.CreatedBy, &a.UpdatedBy, &a.SubmittedBy, &submitted, &a.ReviewedBy, &reviewed, &a.ApprovedVersion,
			&a.Comment, &a.DowngradeReason, &grade, &a.Approved, &a.RetireReason, &a.RetireRequestedBy, &retire)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, nil
	}
	if err != nil {
		return nil, dbError("get unit author", err)
	}
	a.SubmittedAt, a.ReviewedAt, a.RetireRequestedAt = optTime(submitted), optTime(reviewed), optTime(retire)
	a.ApprovedGrade = riskmap.Grade(grade)
	return a, nil
}

// approvedColumns are what scanApproved reads, from approved_units.
var approvedColumns = `unit_id, version, code, name, category, region_code, grade, risk_value, ST_AsBinary(geom), approved_by, approved_at` + unitcodec.PublicColumns("")

func scanApproved(r pgx.Rows) (*riskmap.ApprovedUnit, error) {
	a := &riskmap.ApprovedUnit{}
	var grade string
	var geom []byte
	var at pgtype.Timestamptz
	if err := r.Scan(unitcodec.ApprovedTargets(a, &grade, &geom, &at)...); err != nil {
		return nil, err
	}
	a.Grade = riskmap.Grade(grade)
	if at.Valid {
		a.ApprovedAt = at.Time.UTC()
	}
	g, err := decodeWKB(geom)
	if err != nil {
		return nil, fmt.Errorf("unit %d: geometry: %w", a.UnitID, err)
	}
	a.Geometry = g
	return a, nil
}

// ApprovedUnits streams the approved register, ordered by unit id.
func (s *Store) ApprovedUnits(ctx context.Context) iter.Seq2[*riskmap.ApprovedUnit, error] {
	return s.approvedPages(ctx, "read approved units",
		"SELECT "+approvedColumns+" FROM approved_units WHERE unit_id > $1 ORDER BY unit_id LIMIT $2")
}

// approvedPages streams the rows of query, written with "unit_id > $1 … LIMIT $2" and more
// arguments as $3 …, in one query from the first row to the last. One query, not pages of
// a few thousand rows: right after a publication or a bulk load the table has no
// statistics yet, and the planner then answers each page with a bitmap scan and a sort of
// every row after it, which made a million rows take minutes; one query costs at worst
// one sort.
func (s *Store) approvedPages(ctx context.Context, op, query string, more ...any) iter.Seq2[*riskmap.ApprovedUnit, error] {
	return s.approvedRows(ctx, true, op, query, more...)
}

// approvedRows is approvedPages, decoding the rows' wire values when raw is set and their
// columns are the expected ones (decodeApproved), else through Scan.
func (s *Store) approvedRows(ctx context.Context, raw bool, op, query string, more ...any) iter.Seq2[*riskmap.ApprovedUnit, error] {
	return func(yield func(*riskmap.ApprovedUnit, error) bool) {
		rows, err := s.pool.Query(ctx, query, append([]any{int64(0), int64(math.MaxInt64)}, more...)...)
		if err != nil {
			yield(nil, dbError(op, err))
			return
		}
		defer rows.Close()
		in, first := newInterner(), true
		for rows.Next() {
			if first {
				raw, first = raw && rawApprovedOK(rows.FieldDescriptions()), false
			}
			var a *riskmap.ApprovedUnit
			var err error
			if raw {
				a, err = decodeApproved(rows.RawValues(), in)
			} else {
				a, err = scanApproved(rows)
			}
			if err != nil {
				yield(nil, dbError(op, err))
				return
			}
			if !yield(a, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, dbError(op, err))
		}
	}
}
