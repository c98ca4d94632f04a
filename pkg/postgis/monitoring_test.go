package postgis

import (
	"context"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// monitoringPoint stores a unit and a gas point of it.
func monitoringPoint(t testing.TB, s *Store, code string) *monitoring.Point {
	t.Helper()
	ctx := context.Background()
	u := storetest.NewUnit("U-"+code, orb.Point{102.91, 24.67})
	if err := s.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	red := 50.0
	p := &monitoring.Point{Code: code, UnitID: u.ID, Kind: "gas", UnitOfMeasure: "%LEL", Location: orb.Point{102.91, 24.67},
		IntervalS: 60, Thresholds: monitoring.Thresholds{Upper: &monitoring.Bounds{Red: &red}}}
	if err := s.CreatePointRecorded(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOneOpenAlarmTwoConnections: while one connection's transaction holds an open alarm
// not yet committed, another's insert of an open alarm of the same (point, rule) waits, and
// fails on the partial unique index once the first commits.
func TestOneOpenAlarmTwoConnections(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	p := monitoringPoint(t, s, "QT-01")
	const insert = `INSERT INTO alarms (code, point_id, unit_id, rule, level, status, opened_at, peak, peak_at, last_value, version)
VALUES ($1, $2, $3, 'threshold', 'red', 'active', now(), 60, now(), 60, 1)`
	tx1, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx1.Rollback(ctx)
	if _, err := tx1.Exec(ctx, insert, "BJ-1", p.ID, p.UnitID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		a := &monitoring.Alarm{Code: "BJ-2", PointID: p.ID, UnitID: p.UnitID, Rule: monitoring.RuleThreshold, Side: monitoring.SideUpper,
			Level: monitoring.LevelRed, Status: monitoring.StatusActive, OpenedAt: time.Now(), PeakAt: time.Now()}
		done <- s.OpenAlarmRecorded(ctx, a, nil)
	}()
	select {
	case err := <-done:
		t.Fatalf("the second writer must wait for the first: %v", err)
	case <-time.After(300 * time.Millisecond): // waiting, as it should (not a timing assertion on success)
	}
	if err := tx1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; riskmap.ErrorCode(err) != riskmap.ECONFLICT {
		t.Fatalf("the second open alarm: want ECONFLICT, got %v", err)
	}
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM alarms WHERE point_id = $1 AND status <> 'closed'", p.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("one open alarm: %d, %v", n, err)
	}
}

// TestReadingsPartitions: readings go to monthly partitions made as needed, with a BRIN
// index; dropping old readings drops whole partitions.
func TestReadingsPartitions(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	p := monitoringPoint(t, s, "QT-01")
	var rs []monitoring.Reading
	for m := range 3 {
		rs = append(rs, monitoring.Reading{PointID: p.ID, Time: time.Date(2026, time.Month(1+m), 5, 0, 0, 0, 0, time.UTC), Value: 1})
	}
	if _, _, err := s.AppendReadings(ctx, rs); err != nil {
		t.Fatal(err)
	}
	parts := func() []string {
		rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'readings'::regclass ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	if got := parts(); len(got) != 3 || got[0] != "readings_202601" || got[2] != "readings_202603" {
		t.Fatalf("partitions: %v", got)
	}
	var brin int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = 'readings_202601' AND indexdef LIKE '%USING brin%'`).Scan(&brin); err != nil || brin != 1 {
		t.Fatalf("the partition has the BRIN index on time: %d, %v", brin, err)
	}
	gone, err := s.DropReadingsBefore(ctx, time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC))
	if err != nil || gone != 2 {
		t.Fatalf("drop: %d, %v", gone, err)
	}
	if got := parts(); len(got) != 2 || got[0] != "readings_202602" {
		t.Fatalf("January's partition is dropped, February's kept: %v", got)
	}
	// A month dropped behind the store's back (another process's retention) is made again.
	if _, err := s.pool.Exec(ctx, "DROP TABLE readings_202603"); err != nil {
		t.Fatal(err)
	}
	if added, _, err := s.AppendReadings(ctx, rs[2:]); err != nil || added != 1 {
		t.Fatalf("append to a dropped month: %d, %v", added, err)
	}
}

// TestRollupsWrittenInOrder: a batch's minute buckets are written in (point, bucket) order,
// whatever order the readings come in: so two batches lock shared buckets in one order, and
// a point's minutes sit side by side in the table (a chart reads a few pages, not one a
// minute).
func TestRollupsWrittenInOrder(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	p := monitoringPoint(t, s, "QT-ORDER")
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	rs := make([]monitoring.Reading, 600)
	for i := range rs {
		// 600 minutes, in a scrambled order (7 is prime to 600).
		rs[i] = monitoring.Reading{PointID: p.ID, Time: t0.Add(time.Duration(i*7%600) * time.Minute), Value: float64(i)}
	}
	if added, _, err := s.AppendReadings(ctx, rs); err != nil || added != 600 {
		t.Fatalf("append: %d %v", added, err)
	}
	for _, table := range []string{"readings_1m", "readings_1h"} {
		var n, back int
		if err := s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE ctid < prev) FROM (
    SELECT ctid, lag(ctid) OVER (ORDER BY bucket) AS prev FROM `+table+` WHERE point_id = $1) t`, p.ID).Scan(&n, &back); err != nil {
			t.Fatal(err)
		}
		if n == 0 || back != 0 {
			t.Errorf("%s: %d buckets, %d stored before the bucket preceding them", table, n, back)
		}
	}
}
