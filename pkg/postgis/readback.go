package postgis

import (
	"context"
	"fmt"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// Reading the whole register back (Units, at every start) must reach 100,000 units a
// second on two cores that the database shares. One query stream keeps one backend busy on
// the server and one goroutine decoding on the client, and each waits for the other much
// of the time; so Units reads on readbackWorkers connections at once. The id space is cut
// into ranges; worker w reads ranges w, w+readbackWorkers, … and decodes them, and the
// caller's goroutine takes the ranges in order, so units still arrive ordered by id.

// unitsPage is the most rows one query of Units returns. Each query is short, so a slow
// consumer holds no connection for long and meets no statement timeout.
const unitsPage = 2000

const (
	// readbackWorkers is how many connections Units reads on at once.
	readbackWorkers = 2
	// readbackAhead is how many pages each worker may have ready beyond the one the
	// consumer is on. At most readbackWorkers × (readbackAhead + 1) + 1 pages are in memory.
	readbackAhead = 2
)

// readbackSQL reads the units of a range [$1, $2) that are not retired, at most $3 of them.
var readbackSQL = selectUnit + " WHERE status <> 'retired' AND id >= $1 AND id < $2 ORDER BY id LIMIT $3"

// readBack is the body of Units.
func (s *Store) readBack(ctx context.Context, yield func(*riskmap.Unit, error) bool) {
	var lo, hi *int64
	if err := s.pool.QueryRow(ctx, "SELECT min(id), max(id) FROM risk_units").Scan(&lo, &hi); err != nil {
		yield(nil, dbError("read units", err))
		return
	}
	if lo == nil || hi == nil {
		return // no units at all
	}
	plan := unitcodec.ReadbackPlan(*lo, *hi, unitsPage)
	read := func(w int, stop <-chan struct{}, out chan<- unitcodec.Page) {
		s.readRanges(ctx, stop, plan, w, out)
	}
	fail := func(err error) error { return fmt.Errorf("postgis: read units: %w", err) }
	unitcodec.ReadInOrder(ctx, plan, readbackWorkers, readbackAhead, read, yield, fail)
}

// readRanges reads ranges w, w+readbackWorkers, … of plan and sends their pages to out,
// until the last range, an error, stop or ctx's end.
func (s *Store) readRanges(ctx context.Context, stop <-chan struct{}, plan []unitcodec.IDRange, w int, out chan<- unitcodec.Page) {
	sc := newUnitScan()
	sc.intern = newInterner()
	for k := w; k < len(plan); k += readbackWorkers {
		r := plan[k]
		for {
			units, err := s.readRange(ctx, sc, r)
			if err != nil && ctx.Err() != nil {
				return // the caller gave up; readBack reports ctx's error
			}
			// A full page may leave units of the range unread.
			last := err != nil || len(units) < unitsPage || units[len(units)-1].ID >= r.Hi-1
			select {
			case out <- unitcodec.Page{Units: units, Err: err, Last: last}:
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			if last {
				break
			}
			r.Lo = units[len(units)-1].ID + 1
		}
	}
}

// readRange reads the first page of the units of r.
func (s *Store) readRange(ctx context.Context, sc *unitScan, r unitcodec.IDRange) ([]*riskmap.Unit, error) {
	rows, err := s.pool.Query(ctx, readbackSQL, r.Lo, r.Hi, unitsPage)
	if err != nil {
		return nil, dbError("read units", err)
	}
	defer rows.Close()
	var page []*riskmap.Unit
	raw, utf8Server := false, false
	for rows.Next() {
		if page == nil {
			page = make([]*riskmap.Unit, 0, min(unitsPage, r.Hi-r.Lo))
			raw = rawUnitOK(rows.FieldDescriptions())
			utf8Server = rows.Conn().PgConn().ParameterStatus("server_encoding") == "UTF8"
		}
		var u *riskmap.Unit
		if raw {
			u, err = decodeRow(rows.RawValues(), utf8Server, sc.intern)
		} else {
			u, err = sc.scan(rows)
		}
		if err != nil {
			return nil, dbError("read units", err)
		}
		page = append(page, u)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("read units", err)
	}
	return page, nil
}
