package main

import (
	"context"
	"iter"
	"time"

	"riskmap/pkg/postgis"
	"riskmap/pkg/riskmap"
)

// standbyWait is how long a read waits for the standby to replay what the primary had
// written when it was asked, before it reads from the primary instead.
const standbyWait = 500 * time.Millisecond

// standbyReads is the store a replica follows with when serve has --read-db: it listens,
// takes change marks and writes on the primary (NOTIFY is not replayed on a standby), and
// reads the units it loads and catches up with from the hot standby — once the standby has
// replayed the primary's write-ahead log as far as the primary had written it when the read
// began, so that a write the replica heard of is there (read your writes). A standby that
// lags more than standbyWait is passed over for that read: the primary answers it.
type standbyReads struct {
	*postgis.Store // the primary
	standby        *postgis.Store
	wait           time.Duration
}

// reader is the standby once it has replayed what the primary has written now, else the
// primary.
func (r *standbyReads) reader(ctx context.Context) *postgis.Store {
	want, err := r.Store.WALPosition(ctx)
	if err != nil {
		return r.Store
	}
	deadline := time.Now().Add(r.wait)
	for {
		got, err := r.standby.ReplayedPosition(ctx)
		if err == nil && got >= want {
			return r.standby
		}
		if err != nil || time.Now().After(deadline) {
			return r.Store
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
