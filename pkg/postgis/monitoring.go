package postgis

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/paulmach/orb"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// Monitoring points, readings (partitioned by month, rolled up by minute and hour as they
// are inserted) and alarms: monitoring.Store.

var _ monitoring.Store = (*Store)(nil)

const selectPoint = `SELECT id, code, unit_id, kind, unit_of_measure, ST_X(geom), ST_Y(geom), interval_s, thresholds,
    version, updated_at FROM monitoring_points`

func scanPoint(row pgx.Row) (*monitoring.Point, error) {
	p := new(monitoring.Point)
	var x, y float64
	var th []byte
	if err := row.Scan(&p.ID, &p.Code, &p.UnitID, &p.Kind, &p.UnitOfMeasure, &x, &y, &p.IntervalS, &th, &p.Version, &p.UpdatedAt); err != nil {
		return nil, err
	}
	p.Location = orb.Point{x, y}
	p.UpdatedAt = p.UpdatedAt.UTC()
	if err := json.Unmarshal(th, &p.Thresholds); err != nil {
		return nil, fmt.Errorf("monitoring point %d: thresholds: %w", p.ID, err)
	}
	return p, nil
}

// pointWriteError tells why the write of point p failed.
func pointWriteError(op string, p *monitoring.Point, err error) error {
	switch {
	case isUniqueViolation(err):
		return monitoring.PointCodeTaken(p.Code)
	case isForeignKeyViolation(err):
		return riskmap.UnitNotFound(p.UnitID)
	}
	return dbError(op, err)
}

// CreatePointRecorded stores a new point; see monitoring.Store.
func (s *Store) CreatePointRecorded(ctx context.Context, p *monitoring.Point, rec riskmap.AccessRecordFunc) error {
	th, err := json.Marshal(p.Thresholds)
	if err != nil {
		return err
	}
	return riskmap.WriteOrRestore(p, func() error {
		return s.recordedTx(ctx, "create monitoring point", rec, func(tx pgx.Tx) error {
			p.Version, p.UpdatedAt = 1, s.timestamp()
			err := tx.QueryRow(ctx, `INSERT INTO monitoring_points (code, unit_id, kind, unit_of_measure, geom, interval_s,
    thresholds, version, updated_at) VALUES ($1, $2, $3, $4, ST_SetSRID(ST_MakePoint($5, $6), 4326), $7, $8, 1, $9) RETURNING id`,
				p.Code, p.UnitID, p.Kind, p.UnitOfMeasure, p.Location[0], p.Location[1], p.IntervalS, string(th), p.UpdatedAt).Scan(&p.ID)
			return pointWriteError("create monitoring point", p, err)
		})
	})
}

// UpdatePointRecorded replaces a point at its version; see monitoring.Store.
func (s *Store) UpdatePointRecorded(ctx context.Context, p *monitoring.Point, rec riskmap.AccessRecordFunc) error {
	th, err := json.Marshal(p.Thresholds)
	if err != nil {
		return err
	}
	return riskmap.WriteOrRestore(p, func() error {
		return s.recordedTx(ctx, "update monitoring point", rec, func(tx pgx.Tx) error {
			at := s.timestamp()
			tag, err := tx.Exec(ctx, `UPDATE monitoring_points SET code = $1, unit_id = $2, kind = $3, unit_of_measure = $4,
    geom = ST_SetSRID(ST_MakePoint($5, $6), 4326), interval_s = $7, thresholds = $8, version = version + 1, updated_at = $9
    WHERE id = $10 AND version = $11`,
				p.Code, p.UnitID, p.Kind, p.UnitOfMeasure, p.Location[0], p.Location[1], p.IntervalS, string(th), at, p.ID, p.Version)
			if err != nil {
				return pointWriteError("update monitoring point", p, err)
			}
			if tag.RowsAffected() == 0 {
				return s.stalePoint(ctx, tx, p.ID)
			}
			p.Version, p.UpdatedAt = p.Version+1, at
			return nil
		})
	})
}

// stalePoint is EPRECONDITION when point id exists, ENOTFOUND when it does not.
func (s *Store) stalePoint(ctx context.Context, q querier, id int64) error {
	var one int
	err := q.QueryRow(ctx, "SELECT 1 FROM monitoring_points WHERE id = $1", id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return monitoring.PointNotFound(id)
	}
	if err != nil {
		return dbError("read monitoring point", err)
	}
	return monitoring.StalePoint(id)
}

// DeletePointRecorded deletes a point with its readings; see monitoring.Store.
func (s *Store) DeletePointRecorded(ctx context.Context, id, version int64, rec riskmap.AccessRecordFunc) error {
	return s.recordedTx(ctx, "delete monitoring point", rec, func(tx pgx.Tx) error {
		var alarms bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM alarms WHERE point_id = $1)", id).Scan(&alarms); err != nil {
			return dbError("delete monitoring point", err)
		}
		if alarms {
			return monitoring.PointHasAlarms(id)
		}
		tag, err := tx.Exec(ctx, "DELETE FROM monitoring_points WHERE id = $1 AND version = $2", id, version)
		if err != nil {
			return dbError("delete monitoring point", err)
		}
		if tag.RowsAffected() == 0 {
			return s.stalePoint(ctx, tx, id)
		}
		for _, q := range []string{"DELETE FROM readings WHERE point_id = $1", "DELETE FROM readings_1m WHERE point_id = $1",
			"DELETE FROM readings_1h WHERE point_id = $1"} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return dbError("delete monitoring point", err)
			}
		}
		return nil
	})
}

// GetPoint returns one point.
func (s *Store) GetPoint(ctx context.Context, id int64) (*monitoring.Point, error) {
	return readOne("get monitoring point", monitoring.PointNotFound(id), scanPoint,
		s.pool.QueryRow(ctx, selectPoint+" WHERE id = $1", id))
}

// Points returns the points of a unit (0: all), ordered by id.
func (s *Store) Points(ctx context.Context, unitID int64) ([]*monitoring.Point, error) {
	return queryAll(ctx, s, "list monitoring points", func(r pgx.Rows) (*monitoring.Point, error) { return scanPoint(r) },
		selectPoint+" WHERE $1 = 0 OR unit_id = $1 ORDER BY id", unitID)
}

// EnsurePartitions creates the monthly readings partitions from from's month to to's.
func (s *Store) EnsurePartitions(ctx context.Context, from, to time.Time) error {
	if _, err := s.pool.Exec(ctx, "SELECT monitoring_ensure_partitions($1, $2)", from.UTC(), to.UTC()); err != nil {
		return dbError("create readings partitions", err)
	}
	known := &s.months
	for m := monitoring.MonthStart(from); !m.After(to); m = m.AddDate(0, 1, 0) {
		known.Store(m, struct{}{})
	}
	return nil
}

// ensureMonths creates the partitions of the months of rs not known to exist.
func (s *Store) ensureMonths(ctx context.Context, rs []monitoring.Reading) error {
	known := &s.months
	var lo, hi time.Time
	for _, r := range rs {
		m := monitoring.MonthStart(r.Time)
		if _, ok := known.Load(m); ok {
			continue
		}
		if lo.IsZero() || m.Before(lo) {
			lo = m
		}
		if m.After(hi) {
			hi = m
		}
	}
	if lo.IsZero() {
		return nil
	}
	return s.EnsurePartitions(ctx, lo, hi)
}

// appendReadings inserts the new readings and updates the rollups of their buckets in one
// statement: only rows the insert returned (the new ones) are rolled up. The buckets are
// written in (point, bucket) order: two batches lock the buckets they share in the same
// order (a hash aggregate's order would let them deadlock), and a point's minutes written
// by one batch sit side by side, which a chart reads (a 30-day chart of minutes read a page
// per minute when they were written in hash order).
const appendReadings = `WITH ins AS (
    INSERT INTO readings (point_id, at, value)
    SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::float8[])
    ON CONFLICT (point_id, at) DO NOTHING
    RETURNING point_id, at, value
), m AS (
    INSERT INTO readings_1m AS r (point_id, bucket, min, max, total, n)
    SELECT point_id, date_trunc('minute', at), min(value), max(value), sum(value), count(*) FROM ins GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (point_id, bucket) DO UPDATE SET min = least(r.min, excluded.min), max = greatest(r.max, excluded.max),
        total = r.total + excluded.total, n = r.n + excluded.n
    RETURNING 1
), h AS (
    INSERT INTO readings_1h AS r (point_id, bucket, min, max, total, n)
    SELECT point_id, date_trunc('hour', at), min(value), max(value), sum(value), count(*) FROM ins GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (point_id, bucket) DO UPDATE SET min = least(r.min, excluded.min), max = greatest(r.max, excluded.max),
        total = r.total + excluded.total, n = r.n + excluded.n
    RETURNING 1
)
SELECT (SELECT count(*) FROM ins),
    -- The rows (their ordinals in the arrays) whose (point, time) this statement did not
    -- store: stored before, or by another transaction meanwhile. Only looked for when
    -- some row was not stored.
    (SELECT array_agg(u.o ORDER BY u.o) FROM unnest($1::bigint[], $2::timestamptz[]) WITH ORDINALITY AS u(p, at, o)
     WHERE (SELECT count(*) FROM ins) < cardinality($1::bigint[])
       AND NOT EXISTS (SELECT 1 FROM ins WHERE ins.point_id = u.p AND ins.at = u.at))`

// AppendReadings stores readings, ignoring the (point, time)s stored already; see
// monitoring.Store.
func (s *Store) AppendReadings(ctx context.Context, rs []monitoring.Reading) (added int, dups []int, err error) {
	if len(rs) == 0 {
		return 0, nil, nil
	}
	if err := s.ensureMonths(ctx, rs); err != nil {
		return 0, nil, err
	}
	// Rows in a fixed order, so that two batches of the same rollup buckets lock them in
	// the same order (order[k] is the index in rs of the k-th row; a stable sort keeps
	// a repeated (point, time) in rs's order).
	order := make([]int, len(rs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(rs[a].PointID, rs[b].PointID), rs[a].Time.Compare(rs[b].Time))
	})
	ids := make([]int64, len(rs))
	ats := make([]time.Time, len(rs))
	vs := make([]float64, len(rs))
	seen := map[int64]bool{}
	var points []int64
	for k, i := range order {
		r := rs[i]
		ids[k], ats[k], vs[k] = r.PointID, micro(r.Time), r.Value
		if !seen[r.PointID] {
			seen[r.PointID] = true
			points = append(points, r.PointID)
		}
	}
	insert := func() error {
		return s.inTx(ctx, "append readings", func(tx pgx.Tx) error {
			if err := checkPoints(ctx, tx, points); err != nil {
				return err
			}
			var n int64
			var old []int64
			if err := tx.QueryRow(ctx, appendReadings, ids, ats, vs).Scan(&n, &old); err != nil {
				if noPartition(err) {
					return err
				}
				return dbError("append readings", err)
			}
			added = int(n)
			dups = dups[:0]
			for _, o := range old {
				dups = append(dups, order[o-1])
			}
			// A (point, time) repeated in rs that this statement stored: its later
			// copies were not (the sort kept rs's order among them).
			for k := 1; k < len(order); k++ {
				if ids[k] == ids[k-1] && ats[k].Equal(ats[k-1]) && !inSorted(old, int64(k+1)) {
					dups = append(dups, order[k])
				}
			}
			slices.Sort(dups)
			return nil
		})
	}
	err = insert()
	if noPartition(err) {
		// Another process dropped a month this one thought was there: make it again.
		s.months.Clear()
		if err = s.ensureMonths(ctx, rs); err == nil {
			err = insert()
		}
		if noPartition(err) {
			err = dbError("append readings", err)
		}
	}
	if err != nil {
		return 0, nil, err
	}
	return added, dups, nil
}

// inSorted says whether the sorted xs hold x.
func inSorted(xs []int64, x int64) bool {
	_, ok := slices.BinarySearch(xs, x)
	return ok
}

// checkPoints is ENOTFOUND, naming the first, when a point of ids does not exist.
func checkPoints(ctx context.Context, q querier, ids []int64) error {
	rows, err := q.Query(ctx, "SELECT id FROM unnest($1::bigint[]) AS t(id) WHERE NOT EXISTS (SELECT 1 FROM monitoring_points p WHERE p.id = t.id) LIMIT 1", ids)
	if err != nil {
		return dbError("check monitoring points", err)
	}
	missing, err := collect(rows, func(r pgx.Rows) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
	if err != nil {
		return dbError("check monitoring points", err)
	}
	if len(missing) > 0 {
		return monitoring.PointNotFound(missing[0])
	}
	return nil
}

// Readings returns a point's readings or rollups in [from, to); see monitoring.Store.
func (s *Store) Readings(ctx context.Context, point int64, from, to time.Time, step monitoring.Step) ([]monitoring.Sample, error) {
	var q string
	switch step {
	case monitoring.StepRaw:
		q = "SELECT at, value, value, value, 1::bigint FROM readings WHERE point_id = $1 AND at >= $2 AND at < $3 ORDER BY at"
	case monitoring.StepMinute:
		q = "SELECT bucket, min, max, total / n, n FROM readings_1m WHERE point_id = $1 AND bucket >= $2 AND bucket < $3 ORDER BY bucket"
	case monitoring.StepHour:
		q = "SELECT bucket, min, max, total / n, n FROM readings_1h WHERE point_id = $1 AND bucket >= $2 AND bucket < $3 ORDER BY bucket"
	default:
		if !step.Merged() {
			return nil, monitoring.BadStep(step)
		}
		// The minute rollups merged as they are read: a month's chart sends 1,440 rows.
		return s.samples(ctx, `SELECT date_bin($4::interval, bucket, TIMESTAMPTZ 'epoch') AS b,
    min(min), max(max), sum(total) / sum(n), sum(n)::bigint
    FROM readings_1m WHERE point_id = $1 AND bucket >= $2 AND bucket < $3 GROUP BY b ORDER BY b`,
			point, from.UTC(), to.UTC(), step.Duration())
	}
	return s.samples(ctx, q, point, from.UTC(), to.UTC())
}

// sampleWire is the wire format of a row of Readings: bucket, min, max, avg, count.
var sampleWire = []wireCol{{pgtype.TimestamptzOID, pgtype.BinaryFormatCode}, {pgtype.Float8OID, pgtype.BinaryFormatCode},
	{pgtype.Float8OID, pgtype.BinaryFormatCode}, {pgtype.Float8OID, pgtype.BinaryFormatCode}, {pgtype.Int8OID, pgtype.BinaryFormatCode}}

// samples reads the rows of a Readings query. A month's chart of minutes is 43,200 rows:
// their binary values are decoded directly (a tenth of Scan's time), through Scan when the
// columns are not the expected ones.
func (s *Store) samples(ctx context.Context, query string, args ...any) ([]monitoring.Sample, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, dbError("read readings", err)
	}
	defer rows.Close()
	var out []monitoring.Sample
	raw, first := false, true
	for rows.Next() {
		if first {
			raw, first = columnsAre(rows.FieldDescriptions(), sampleWire), false
		}
		var x monitoring.Sample
		if raw {
			x, err = decodeSample(rows.RawValues())
		} else {
			x, err = scanSample(rows)
		}
		if err != nil {
			return nil, dbError("read readings", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("read readings", err)
	}
	return out, nil
}

// decodeSample decodes the binary values of a row of Readings.
func decodeSample(vals [][]byte) (monitoring.Sample, error) {
	var x monitoring.Sample
	if len(vals) != len(sampleWire) {
		return x, errWire
	}
	var err error
	if x.Time, err = timestamptzAt(vals[0]); err != nil {
		return x, err
	}
	for i, dst := range []*float64{&x.Min, &x.Max, &x.Avg} {
		if *dst, err = float8At(vals[1+i]); err != nil {
			return x, err
		}
	}
	x.Count, err = int8At(vals[4])
	return x, err
}

// scanSample reads a row of Readings.
func scanSample(r pgx.Rows) (monitoring.Sample, error) {
	var x monitoring.Sample
	err := r.Scan(&x.Time, &x.Min, &x.Max, &x.Avg, &x.Count)
	x.Time = x.Time.UTC()
	return x, err
}

// LatestReadings returns the newest reading of every point that has one.
func (s *Store) LatestReadings(ctx context.Context) ([]monitoring.Reading, error) {
	return queryAll(ctx, s, "read latest readings", func(r pgx.Rows) (monitoring.Reading, error) {
		var x monitoring.Reading
		err := r.Scan(&x.PointID, &x.Time, &x.Value)
		x.Time = x.Time.UTC()
		return x, err
	}, `SELECT p.id, l.at, l.value FROM monitoring_points p
    CROSS JOIN LATERAL (SELECT at, value FROM readings WHERE point_id = p.id ORDER BY at DESC LIMIT 1) l ORDER BY p.id`)
}

// DropReadingsBefore drops the partitions that end by t and deletes older readings in the
// rest; see monitoring.Store.
func (s *Store) DropReadingsBefore(ctx context.Context, t time.Time) (int64, error) {
	var gone int64
	err := s.inTx(ctx, "drop readings", func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT monitoring_drop_partitions($1)", t.UTC()).Scan(&gone); err != nil {
			return dbError("drop readings partitions", err)
		}
		tag, err := tx.Exec(ctx, "DELETE FROM readings WHERE at < $1", t.UTC())
		if err != nil {
			return dbError("drop readings", err)
		}
		gone += tag.RowsAffected()
		for _, q := range []string{"DELETE FROM readings_1m WHERE bucket + interval '1 minute' <= $1",
			"DELETE FROM readings_1h WHERE bucket + interval '1 hour' <= $1"} {
			if _, err := tx.Exec(ctx, q, t.UTC()); err != nil {
				return dbError("drop rollups", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Forget the months: a dropped one is created again when a reading needs it.
	s.months.Clear()
	return gone, nil
}

const alarmColumns = `id, code, point_id, unit_id, rule, level, status, side, normal, opened_at, escalated_at,
    acknowledged_at, acknowledged_by, disposed_at, disposed_by, action, normal_at, closed_at, peak, peak_at, last_value, version`

func scanAlarm(row pgx.Row) (*monitoring.Alarm, error) {
	a := new(monitoring.Alarm)
	var rule, level, status, side string
	var esc, ack, disp, norm, closed pgtype.Timestamptz
	if err := row.Scan(&a.ID, &a.Code, &a.PointID, &a.UnitID, &rule, &level, &status, &side, &a.Normal, &a.OpenedAt, &esc,
		&ack, &a.AcknowledgedBy, &disp, &a.DisposedBy, &a.Action, &norm, &closed, &a.Peak, &a.PeakAt, &a.LastValue, &a.Version); err != nil {
		return nil, err
	}
	a.Rule, a.Level, a.Status, a.Side = monitoring.Rule(rule), monitoring.Level(level), monitoring.Status(status), monitoring.Side(side)
	a.OpenedAt, a.PeakAt = a.OpenedAt.UTC(), a.PeakAt.UTC()
	a.EscalatedAt, a.AcknowledgedAt, a.DisposedAt, a.NormalAt, a.ClosedAt = optTime(esc), optTime(ack), optTime(disp), optTime(norm), optTime(closed)
	return a, nil
}

// OpenAlarmRecorded stores a new open alarm; see monitoring.Store.
func (s *Store) OpenAlarmRecorded(ctx context.Context, a *monitoring.Alarm, rec riskmap.AccessRecordFunc) error {
	if err := monitoring.CheckNewAlarm(a); err != nil {
		return err
	}
	return riskmap.WriteOrRestore(a, func() error {
		return s.recordedTx(ctx, "open alarm", rec, func(tx pgx.Tx) error {
			a.Version = 1
			err := tx.QueryRow(ctx, `INSERT INTO alarms (code, point_id, unit_id, rule, level, status, side, normal, opened_at,
    escalated_at, acknowledged_at, acknowledged_by, disposed_at, disposed_by, action, normal_at, closed_at, peak, peak_at,
    last_value, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, 1)
    RETURNING id`,
				a.Code, a.PointID, a.UnitID, string(a.Rule), string(a.Level), string(a.Status), string(a.Side), a.Normal, micro(a.OpenedAt),
				optMicro(a.EscalatedAt), optMicro(a.AcknowledgedAt), a.AcknowledgedBy, optMicro(a.DisposedAt), a.DisposedBy, a.Action,
				optMicro(a.NormalAt), optMicro(a.ClosedAt), a.Peak, micro(a.PeakAt), a.LastValue).Scan(&a.ID)
			switch {
			case isUniqueViolation(err) && violated(err) == "alarms_code_key":
				return monitoring.AlarmCodeTaken(a.Code)
			case isUniqueViolation(err):
				return monitoring.AlarmAlreadyOpen(a.PointID, a.Rule)
			case isForeignKeyViolation(err):
				return monitoring.PointNotFound(a.PointID)
			}
			return dbError("open alarm", err)
		})
	})
}

// UpdateAlarmRecorded replaces an alarm's state at its version; see monitoring.Store.
func (s *Store) UpdateAlarmRecorded(ctx context.Context, a *monitoring.Alarm, rec riskmap.AccessRecordFunc) error {
	return riskmap.WriteOrRestore(a, func() error {
		return s.recordedTx(ctx, "update alarm", rec, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `UPDATE alarms SET level = $1, status = $2, side = $3, normal = $4, escalated_at = $5,
    acknowledged_at = $6, acknowledged_by = $7, disposed_at = $8, disposed_by = $9, action = $10, normal_at = $11,
    closed_at = $12, peak = $13, peak_at = $14, last_value = $15, version = version + 1 WHERE id = $16 AND version = $17`,
				string(a.Level), string(a.Status), string(a.Side), a.Normal, optMicro(a.EscalatedAt), optMicro(a.AcknowledgedAt),
				a.AcknowledgedBy, optMicro(a.DisposedAt), a.DisposedBy, a.Action, optMicro(a.NormalAt), optMicro(a.ClosedAt),
				a.Peak, micro(a.PeakAt), a.LastValue, a.ID, a.Version)
			if isUniqueViolation(err) {
				return monitoring.AlarmAlreadyOpen(a.PointID, a.Rule)
			}
			if err != nil {
				return dbError("update alarm", err)
			}
			if tag.RowsAffected() == 0 {
				var one int
				err := tx.QueryRow(ctx, "SELECT 1 FROM alarms WHERE id = $1", a.ID).Scan(&one)
				if errors.Is(err, pgx.ErrNoRows) {
					return monitoring.AlarmNotFound(a.ID)
				}
				if err != nil {
					return dbError("update alarm", err)
				}
				return monitoring.StaleAlarm(a.ID)
			}
			a.Version++
			return nil
		})
	})
}

// GetAlarm returns one alarm.
func (s *Store) GetAlarm(ctx context.Context, id int64) (*monitoring.Alarm, error) {
	return readOne("get alarm", monitoring.AlarmNotFound(id), scanAlarm,
		s.pool.QueryRow(ctx, "SELECT "+alarmColumns+" FROM alarms WHERE id = $1", id))
}

// FindAlarms returns the alarms the filter selects, newest first.
func (s *Store) FindAlarms(ctx context.Context, f monitoring.AlarmFilter) ([]*monitoring.Alarm, error) {
	limit := f.Limit
	if limit <= 0 || limit > monitoring.MaxAlarms {
		limit = monitoring.MaxAlarms
	}
	return queryAll(ctx, s, "find alarms", func(r pgx.Rows) (*monitoring.Alarm, error) { return scanAlarm(r) },
		"SELECT "+alarmColumns+` FROM alarms WHERE ($1 = '' OR status = $1) AND (NOT $2 OR status <> 'closed')
    AND ($3 = '' OR level = $3) AND ($4 = 0 OR unit_id = $4) AND ($5 = 0 OR point_id = $5) AND ($7 = 0 OR id < $7)
    ORDER BY id DESC LIMIT $6`,
		string(f.Status), f.Open, string(f.Level), f.UnitID, f.PointID, limit, f.Before)
}

// violated names the constraint a database error violated.
func violated(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName
	}
	return ""
}

// noPartition reports whether err says a row has no partition to go to.
func noPartition(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == sqlCheckViolation && strings.Contains(pe.Message, "no partition")
}
