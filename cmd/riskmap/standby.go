package main

import (
	"context"
	"iter"
	"sync/atomic"
	"time"

	"riskmap/pkg/postgis"
	"riskmap/pkg/publishing"
	"riskmap/pkg/riskmap"
)

// standbyWait is how long a read waits for the standby to replay what the primary had
// written when it was asked, before it reads from the primary instead.
const standbyWait = 500 * time.Millisecond

// standbyPassOver is how long, after the standby lagged past standbyWait (or did not
// answer), reads look at it once without waiting: a standby that stays behind costs the
// follower no wait per read, and it is used again as soon as it has caught up.
const standbyPassOver = 5 * time.Second

// standbyReads is the store a replica follows with when serve has --read-db: it listens,
// takes change marks and writes on the primary (NOTIFY is not replayed on a standby), and
// reads the units it loads and catches up with from the hot standby — once the standby has
// replayed the primary's write-ahead log as far as the primary had written it when the read
// began, so that a write the replica heard of is there (read your writes). A standby that
// lags more than standbyWait is passed over for that read: the primary answers it; for
// standbyPassOver after that, reads look at the standby once and do not wait for it.
type standbyReads struct {
	*postgis.Store // the primary
	standby        *postgis.Store
	wait           time.Duration
	// behindUntil (unix nanoseconds) is the end of a pass-over: till then reads do not
	// wait for the standby. waits counts the reads that waited (tests).
	behindUntil atomic.Int64
	waits       atomic.Int64
}

// reader is the standby once it has replayed what the primary has written now, else the
// primary.
func (r *standbyReads) reader(ctx context.Context) *postgis.Store {
	want, err := r.Store.WALPosition(ctx)
	if err != nil {
		return r.Store
	}
	passOver := time.Now().UnixNano() < r.behindUntil.Load()
	deadline := time.Now().Add(r.wait)
	for first := true; ; first = false {
		got, err := r.standby.ReplayedPosition(ctx)
		if err == nil && got >= want {
			r.behindUntil.Store(0)
			return r.standby
		}
		if err != nil || passOver || time.Now().After(deadline) {
			if !passOver {
				r.behindUntil.Store(time.Now().Add(standbyPassOver).UnixNano())
			}
			return r.Store
		}
		if first {
			r.waits.Add(1)
		}
		select {
		case <-ctx.Done():
			return r.Store
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (r *standbyReads) GetUnit(ctx context.Context, id int64) (*riskmap.Unit, error) {
	return r.reader(ctx).GetUnit(ctx, id)
}

func (r *standbyReads) ChangedSince(ctx context.Context, mark int64) ([]postgis.UnitVersion, int64, error) {
	return r.reader(ctx).ChangedSince(ctx, mark)
}

func (r *standbyReads) UnitsByID(ctx context.Context, ids []int64) ([]*riskmap.Unit, error) {
	return r.reader(ctx).UnitsByID(ctx, ids)
}

func (r *standbyReads) Units(ctx context.Context) iter.Seq2[*riskmap.Unit, error] {
	return r.reader(ctx).Units(ctx)
}

// lag is how many bytes of the primary's write-ahead log the standby has yet to replay
// (0 when it is caught up), for /readyz.
func (r *standbyReads) lag(ctx context.Context) (int64, error) {
	want, err := r.Store.WALPosition(ctx)
	if err != nil {
		return 0, err
	}
	got, err := r.standby.ReplayedPosition(ctx)
	if err != nil {
		return 0, err
	}
	return max(0, want-got), nil
}

// standbyPublications is the publishing store of a replica with --read-db: it publishes and
// reads which publication is the latest on the primary, and reads a publication's units
// and changes (a million rows at the start) from the hot standby once the standby holds
// that publication, else from the primary. A publication is written in one transaction
// and never changes after, so a standby that has its row has all of it: there is nothing
// to wait for, and a standby that lags only sends the read to the primary.
type standbyPublications struct {
	publishing.Store // the primary
	standby          publishing.Store
}

// holding is the standby if it has replayed publication n, else the primary; the primary
// too when the standby does not say within standbyWait.
func (s standbyPublications) holding(ctx context.Context, n int64) publishing.Store {
	ctx, cancel := context.WithTimeout(ctx, standbyWait)
	defer cancel()
	if p, err := s.standby.LatestPublication(ctx); err == nil && p.Number >= n {
		return s.standby
	}
	return s.Store
}

// PublicationUnits reads publication n's units from the standby when it holds them. Should
// the standby fail meanwhile (a query cancelled by recovery, a standby gone), the primary
// goes on from the unit after the last one read: both list them in unit id order.
func (s standbyPublications) PublicationUnits(ctx context.Context, n int64) iter.Seq2[*riskmap.ApprovedUnit, error] {
	return func(yield func(*riskmap.ApprovedUnit, error) bool) {
		from := s.holding(ctx, n)
		var last int64
		failed := false
		for a, err := range from.PublicationUnits(ctx, n) {
			if err != nil {
				if from == s.Store || ctx.Err() != nil {
					yield(nil, err)
					return
				}
				failed = true // the standby failed: the primary goes on
				break
			}
			last = a.UnitID
			if !yield(a, nil) {
				return
			}
		}
		if !failed {
			return
		}
		for a, err := range s.Store.PublicationUnits(ctx, n) {
			if err == nil && a.UnitID <= last {
				continue
			}
			if !yield(a, err) || err != nil {
				return
			}
		}
	}
}

// PublicationChanges reads the change from the standby when it holds publication to (and so
// every one before it), else, or should the standby fail, from the primary.
func (s standbyPublications) PublicationChanges(ctx context.Context, from, to int64) (*riskmap.PublicationChange, error) {
	if st := s.holding(ctx, to); st != s.Store {
		if ch, err := st.PublicationChanges(ctx, from, to); err == nil || ctx.Err() != nil {
			return ch, err
		}
	}
	return s.Store.PublicationChanges(ctx, from, to)
}
