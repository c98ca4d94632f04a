package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// Monitoring points, readings (rolled up by minute and hour by a trigger as they are
// inserted) and alarms: monitoring.Store. Times of readings are INTEGER milliseconds.

var _ monitoring.Store = (*Store)(nil)

const selectPoint = `SELECT id, code, unit_id, kind, unit_of_measure, geom, interval_s, thresholds, version,
    CAST(updated_at AS TEXT) FROM monitoring_points`

func scanPoint(scan func(...any) error) (*monitoring.Point, error) {
	p := new(monitoring.Point)
	var geom []byte
	var th, updated string
	if err := scan(&p.ID, &p.Code, &p.UnitID, &p.Kind, &p.UnitOfMeasure, &geom, &p.IntervalS, &th, &p.Version, &updated); err != nil {
		return nil, err
	}
	var err error
	if p.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	g, err := decodeStored(geom)
	if err != nil {
		return nil, fmt.Errorf("gpkg: monitoring point %d: geom: %w", p.ID, err)
	}
	pt, ok := g.(orb.Point)
	if !ok {
		return nil, fmt.Errorf("gpkg: monitoring point %d: geom is a %T", p.ID, g)
	}
	p.Location = pt
	if err := json.Unmarshal([]byte(th), &p.Thresholds); err != nil {
		return nil, fmt.Errorf("gpkg: monitoring point %d: thresholds: %w", p.ID, err)
	}
	return p, nil
}

// pointArgs are the encoded geometry and thresholds of p.
func pointArgs(p *monitoring.Point) ([]byte, string, error) {
	geom, err := EncodeGeometry(p.Location, SRSID)
	if err != nil {
		return nil, "", riskmap.Errorf(riskmap.EINVALID, "监测点 %s 的坐标无效", p.Code)
	}
	th, err := json.Marshal(p.Thresholds)
	return geom, string(th), err
}

// pointWriteError tells why the write of point p failed.
func (s *Store) pointWriteError(op string, p *monitoring.Point, err error) error {
	switch {
	case isUnique(err):
		return monitoring.PointCodeTaken(p.Code)
	case isForeignKey(err):
		return riskmap.UnitNotFound(p.UnitID)
	}
	return s.dbErr(err, "%s", op)
}

// CreatePointRecorded stores a new point; see monitoring.Store.
func (s *Store) CreatePointRecorded(ctx context.Context, p *monitoring.Point, rec riskmap.AccessRecordFunc) error {
	geom, th, err := pointArgs(p)
	if err != nil {
		return err
	}
	return riskmap.WriteOrRestore(p, func() error {
		return s.recordedTx(ctx, rec, func(tx *sql.Tx) error {
			p.Version, p.UpdatedAt = 1, now()
			err := tx.QueryRowContext(ctx, `INSERT INTO monitoring_points (code, unit_id, kind, unit_of_measure, geom, interval_s,
    thresholds, version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?) RETURNING id`,
				p.Code, p.UnitID, p.Kind, p.UnitOfMeasure, geom, p.IntervalS, th, formatTime(p.UpdatedAt)).Scan(&p.ID)
			if err != nil {
				return s.pointWriteError("create monitoring point", p, err)
			}
			return nil
		})
	})
}

// UpdatePointRecorded replaces a point at its version; see monitoring.Store.
func (s *Store) UpdatePointRecorded(ctx context.Context, p *monitoring.Point, rec riskmap.AccessRecordFunc) error {
	geom, th, err := pointArgs(p)
	if err != nil {
		return err
	}
	return riskmap.WriteOrRestore(p, func() error {
		return s.recordedTx(ctx, rec, func(tx *sql.Tx) error {
			at := now()
			res, err := tx.ExecContext(ctx, `UPDATE monitoring_points SET code = ?, unit_id = ?, kind = ?, unit_of_measure = ?,
    geom = ?, interval_s = ?, thresholds = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
				p.Code, p.UnitID, p.Kind, p.UnitOfMeasure, geom, p.IntervalS, th, formatTime(at), p.ID, p.Version)
			if err != nil {
				return s.pointWriteError("update monitoring point", p, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return s.stalePoint(ctx, tx, p.ID)
			}
			p.Version, p.UpdatedAt = p.Version+1, at
			return nil
		})
	})
}

// stalePoint is EPRECONDITION when point id exists, ENOTFOUND when it does not.
func (s *Store) stalePoint(ctx context.Context, tx *sql.Tx, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM monitoring_points WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return monitoring.PointNotFound(id)
	}
	if err != nil {
		return s.dbErr(err, "read monitoring point")
	}
	return monitoring.StalePoint(id)
}

// DeletePointRecorded deletes a point with its readings; see monitoring.Store.
func (s *Store) DeletePointRecorded(ctx context.Context, id, version int64, rec riskmap.AccessRecordFunc) error {
	return s.recordedTx(ctx, rec, func(tx *sql.Tx) error {
		var alarms bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM alarms WHERE point_id = ?)", id).Scan(&alarms); err != nil {
			return s.dbErr(err, "delete monitoring point")
		}
		if alarms {
			return monitoring.PointHasAlarms(id)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM monitoring_points WHERE id = ? AND version = ?", id, version)
		if err != nil {
			return s.dbErr(err, "delete monitoring point")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return s.stalePoint(ctx, tx, id)
		}
		for _, q := range []string{"DELETE FROM readings WHERE point_id = ?", "DELETE FROM readings_1m WHERE point_id = ?",
			"DELETE FROM readings_1h WHERE point_id = ?"} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return s.dbErr(err, "delete monitoring point")
			}
		}
		return nil
	})
}

// GetPoint returns one point.
func (s *Store) GetPoint(ctx context.Context, id int64) (*monitoring.Point, error) {
	return readOne(s, "get monitoring point", monitoring.PointNotFound(id), scanPoint,
		s.r.QueryRowContext(ctx, selectPoint+" WHERE id = ?", id).Scan)
}

// Points returns the points of a unit (0: all), ordered by id.
func (s *Store) Points(ctx context.Context, unitID int64) ([]*monitoring.Point, error) {
	return queryAll(ctx, s, "list monitoring points", scanPoint, selectPoint+" WHERE ? = 0 OR unit_id = ? ORDER BY id", unitID, unitID)
}

// EnsurePartitions does nothing: the GeoPackage's readings are one table.
func (s *Store) EnsurePartitions(ctx context.Context, from, to time.Time) error { return nil }

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// AppendReadings stores readings, ignoring the (point, time)s stored already; see
// monitoring.Store. The trigger readings_rollup rolls up each new one.
func (s *Store) AppendReadings(ctx context.Context, rs []monitoring.Reading) (added int, dups []int, err error) {
	if len(rs) == 0 {
		return 0, nil, nil
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		added, dups = 0, dups[:0]
		check, err := tx.PrepareContext(ctx, "SELECT 1 FROM monitoring_points WHERE id = ?")
		if err != nil {
			return s.dbErr(err, "append readings")
		}
		defer check.Close()
		seen := map[int64]bool{}
		for _, r := range rs {
			if seen[r.PointID] {
				continue
			}
			seen[r.PointID] = true
			var one int
			if err := check.QueryRowContext(ctx, r.PointID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return monitoring.PointNotFound(r.PointID)
			} else if err != nil {
				return s.dbErr(err, "append readings")
			}
		}
		ins, err := tx.PrepareContext(ctx, "INSERT OR IGNORE INTO readings (point_id, at, value) VALUES (?, ?, ?)")
		if err != nil {
			return s.dbErr(err, "append readings")
		}
		defer ins.Close()
		for i, r := range rs {
			res, err := ins.ExecContext(ctx, r.PointID, ms(r.Time), r.Value)
			if err != nil {
				return s.dbErr(err, "append readings")
			}
			if n, _ := res.RowsAffected(); n > 0 {
				added++
			} else {
				dups = append(dups, i)
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return added, dups, nil
}

// Readings returns a point's readings or rollups in [from, to); see monitoring.Store.
func (s *Store) Readings(ctx context.Context, point int64, from, to time.Time, step monitoring.Step) ([]monitoring.Sample, error) {
	var q string
	switch step {
	case monitoring.StepRaw:
		q = "SELECT at, value, value, value, 1 FROM readings WHERE point_id = ? AND at >= ? AND at < ? ORDER BY at"
	case monitoring.StepMinute:
		q = "SELECT bucket, min, max, total / n, n FROM readings_1m WHERE point_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket"
	case monitoring.StepHour:
		q = "SELECT bucket, min, max, total / n, n FROM readings_1h WHERE point_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket"
	default:
		if !step.Merged() {
			return nil, monitoring.BadStep(step)
		}
		// The minute rollups merged as they are read (buckets are Unix milliseconds).
		size := step.Duration().Milliseconds()
		return queryAll(ctx, s, "read readings", scanSample, `SELECT (bucket / ?) * ? AS b, min(min), max(max), sum(total) / sum(n), sum(n)
    FROM readings_1m WHERE point_id = ? AND bucket >= ? AND bucket < ? GROUP BY b ORDER BY b`,
			size, size, point, ms(from), ms(to))
	}
	return queryAll(ctx, s, "read readings", scanSample, q, point, ms(from), ms(to))
}

// scanSample reads a row of Readings.
func scanSample(scan func(...any) error) (monitoring.Sample, error) {
	var x monitoring.Sample
	var at int64
	err := scan(&at, &x.Min, &x.Max, &x.Avg, &x.Count)
	x.Time = fromMS(at)
	return x, err
}

// LatestReadings returns the newest reading of every point that has one.
func (s *Store) LatestReadings(ctx context.Context) ([]monitoring.Reading, error) {
	return queryAll(ctx, s, "read latest readings", func(scan func(...any) error) (monitoring.Reading, error) {
		var x monitoring.Reading
		var at int64
		err := scan(&x.PointID, &at, &x.Value)
		x.Time = fromMS(at)
		return x, err
	}, `SELECT p.id, r.at, r.value FROM monitoring_points p JOIN readings r ON r.point_id = p.id
    AND r.at = (SELECT max(at) FROM readings WHERE point_id = p.id) ORDER BY p.id`)
}

// DropReadingsBefore deletes the readings older than t; see monitoring.Store.
func (s *Store) DropReadingsBefore(ctx context.Context, t time.Time) (int64, error) {
	var gone int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM readings WHERE at < ?", ms(t))
		if err != nil {
			return s.dbErr(err, "drop readings")
		}
		gone, _ = res.RowsAffected()
		for _, q := range []string{"DELETE FROM readings_1m WHERE bucket + 60000 <= ?", "DELETE FROM readings_1h WHERE bucket + 3600000 <= ?"} {
			if _, err := tx.ExecContext(ctx, q, ms(t)); err != nil {
				return s.dbErr(err, "drop rollups")
			}
		}
		return nil
	})
	return gone, err
}

const alarmColumns = `id, code, point_id, unit_id, rule, level, status, side, normal, CAST(opened_at AS TEXT),
    CAST(escalated_at AS TEXT), CAST(acknowledged_at AS TEXT), acknowledged_by, CAST(disposed_at AS TEXT), disposed_by, action,
    CAST(normal_at AS TEXT), CAST(closed_at AS TEXT), peak, CAST(peak_at AS TEXT), last_value, version`

func scanAlarm(scan func(...any) error) (*monitoring.Alarm, error) {
	a := new(monitoring.Alarm)
	var rule, level, status, side, opened, peakAt string
	var esc, ack, disp, norm, closed sql.NullString
	if err := scan(&a.ID, &a.Code, &a.PointID, &a.UnitID, &rule, &level, &status, &side, &a.Normal, &opened, &esc,
		&ack, &a.AcknowledgedBy, &disp, &a.DisposedBy, &a.Action, &norm, &closed, &a.Peak, &peakAt, &a.LastValue, &a.Version); err != nil {
		return nil, err
	}
	a.Rule, a.Level, a.Status, a.Side = monitoring.Rule(rule), monitoring.Level(level), monitoring.Status(status), monitoring.Side(side)
	if err := parseTimes([]string{opened, peakAt}, &a.OpenedAt, &a.PeakAt); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		src sql.NullString
		dst **time.Time
	}{{esc, &a.EscalatedAt}, {ack, &a.AcknowledgedAt}, {disp, &a.DisposedAt}, {norm, &a.NormalAt}, {closed, &a.ClosedAt}} {
		t, err := parseOptTime(f.src)
		if err != nil {
			return nil, err
		}
		*f.dst = t
	}
	return a, nil
}

// OpenAlarmRecorded stores a new open alarm; see monitoring.Store.
func (s *Store) OpenAlarmRecorded(ctx context.Context, a *monitoring.Alarm, rec riskmap.AccessRecordFunc) error {
	if err := monitoring.CheckNewAlarm(a); err != nil {
		return err
	}
	return riskmap.WriteOrRestore(a, func() error {
		return s.recordedTx(ctx, rec, func(tx *sql.Tx) error {
			a.Version = 1
			err := tx.QueryRowContext(ctx, `INSERT INTO alarms (code, point_id, unit_id, rule, level, status, side, normal, opened_at,
    escalated_at, acknowledged_at, acknowledged_by, disposed_at, disposed_by, action, normal_at, closed_at, peak, peak_at,
    last_value, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id`,
				a.Code, a.PointID, a.UnitID, string(a.Rule), string(a.Level), string(a.Status), string(a.Side), a.Normal,
				formatTime(a.OpenedAt), optTimeArg(a.EscalatedAt), optTimeArg(a.AcknowledgedAt), a.AcknowledgedBy,
				optTimeArg(a.DisposedAt), a.DisposedBy, a.Action, optTimeArg(a.NormalAt), optTimeArg(a.ClosedAt), a.Peak,
				formatTime(a.PeakAt), a.LastValue).Scan(&a.ID)
			switch {
			case err == nil:
				return nil
			case isUnique(err) && strings.Contains(err.Error(), "alarms.code"):
				return monitoring.AlarmCodeTaken(a.Code)
			case isUnique(err):
				return monitoring.AlarmAlreadyOpen(a.PointID, a.Rule)
			case isForeignKey(err):
				return monitoring.PointNotFound(a.PointID)
			}
			return s.dbErr(err, "open alarm")
		})
	})
}

// UpdateAlarmRecorded replaces an alarm's state at its version; see monitoring.Store.
func (s *Store) UpdateAlarmRecorded(ctx context.Context, a *monitoring.Alarm, rec riskmap.AccessRecordFunc) error {
	return riskmap.WriteOrRestore(a, func() error {
		return s.recordedTx(ctx, rec, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE alarms SET level = ?, status = ?, side = ?, normal = ?, escalated_at = ?,
    acknowledged_at = ?, acknowledged_by = ?, disposed_at = ?, disposed_by = ?, action = ?, normal_at = ?, closed_at = ?,
    peak = ?, peak_at = ?, last_value = ?, version = version + 1 WHERE id = ? AND version = ?`,
				string(a.Level), string(a.Status), string(a.Side), a.Normal, optTimeArg(a.EscalatedAt), optTimeArg(a.AcknowledgedAt),
				a.AcknowledgedBy, optTimeArg(a.DisposedAt), a.DisposedBy, a.Action, optTimeArg(a.NormalAt), optTimeArg(a.ClosedAt),
				a.Peak, formatTime(a.PeakAt), a.LastValue, a.ID, a.Version)
			if isUnique(err) {
				return monitoring.AlarmAlreadyOpen(a.PointID, a.Rule)
			}
			if err != nil {
				return s.dbErr(err, "update alarm")
			}
			if n, _ := res.RowsAffected(); n == 0 {
				var one int
				err := tx.QueryRowContext(ctx, "SELECT 1 FROM alarms WHERE id = ?", a.ID).Scan(&one)
				if errors.Is(err, sql.ErrNoRows) {
					return monitoring.AlarmNotFound(a.ID)
				}
				if err != nil {
					return s.dbErr(err, "update alarm")
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
	return readOne(s, "get alarm", monitoring.AlarmNotFound(id), scanAlarm,
		s.r.QueryRowContext(ctx, "SELECT "+alarmColumns+" FROM alarms WHERE id = ?", id).Scan)
}

// FindAlarms returns the alarms the filter selects, newest first.
func (s *Store) FindAlarms(ctx context.Context, f monitoring.AlarmFilter) ([]*monitoring.Alarm, error) {
	limit := f.Limit
	if limit <= 0 || limit > monitoring.MaxAlarms {
		limit = monitoring.MaxAlarms
	}
	return queryAll(ctx, s, "find alarms", scanAlarm, "SELECT "+alarmColumns+` FROM alarms
    WHERE (? = '' OR status = ?) AND (NOT ? OR status <> 'closed') AND (? = '' OR level = ?) AND (? = 0 OR unit_id = ?)
    AND (? = 0 OR point_id = ?) AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`,
		string(f.Status), string(f.Status), f.Open, string(f.Level), string(f.Level), f.UnitID, f.UnitID, f.PointID, f.PointID,
		f.Before, f.Before, limit)
}
