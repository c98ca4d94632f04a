package postgis

import (
	"context"
	"fmt"
	"sync"

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
const readbackSQL = selectUnit + " WHERE status <> 'retired' AND id >= $1 AND id < $2 ORDER BY id LIMIT $3"

// readbackPage is a page of units of one range; last marks the range's last page.
type readbackPage struct {
	units []*riskmap.Unit
	err   error
	last  bool
}

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

	// stop, not a cancelled context, ends the workers when the consumer breaks early: a
	// query in flight then finishes normally and its connection stays usable.
	stop := make(chan struct{})
	pages := make([]chan readbackPage, readbackWorkers)
	var wg sync.WaitGroup
	for w := range pages {
		pages[w] = make(chan readbackPage, readbackAhead)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(pages[w])
			s.readRanges(ctx, stop, plan, w, pages[w])
		}()
	}
	defer func() {
		close(stop)
		wg.Wait() // no query outlives the iteration
	}()
	done := ctx.Done()
	for k := range plan {
		for {
			p, ok := <-pages[k%readbackWorkers]
			if !ok {
				// The worker stopped before the range's last page: the caller's context ended.
				err := ctx.Err()
				if err == nil {
					err = context.Canceled
				}
				yield(nil, fmt.Errorf("postgis: read units: %w", err))
				return
			}
			if p.err != nil {
				yield(nil, p.err)
				return
			}
			for _, u := range p.units {
				// A page is thousands of units: a caller that cancels stops within it.
				select {
				case <-done:
					yield(nil, fmt.Errorf("postgis: read units: %w", ctx.Err()))
					return
				default:
				}
				if !yield(u, nil) {
					return
				}
			}
			if p.last {
				break
			}
		}
	}
}

// readRanges reads ranges w, w+readbackWorkers, … of plan and sends their pages to out,
// until the last range, an error, stop or ctx's end.
func (s *Store) readRanges(ctx context.Context, stop <-chan struct{}, plan []unitcodec.IDRange, w int, out chan<- readbackPage) {
	sc := newUnitScan()
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
			case out <- readbackPage{units: units, err: err, last: last}:
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
			u, err = decodeRow(rows.RawValues(), utf8Server)
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
