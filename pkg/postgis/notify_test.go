package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// heard is what a Listener was told, one channel per kind.
type heard struct {
	listening chan struct{}
	events    chan Event
	lost      chan error
}

// listen runs s.Listen until the test ends and waits for its first LISTEN.
func listen(t *testing.T, s *Store) *heard {
	t.Helper()
	h := &heard{listening: make(chan struct{}, 16), events: make(chan Event, 64), lost: make(chan error, 16)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Listen(ctx, Listener{
			Listening: func() { h.listening <- struct{}{} },
			Event:     func(e Event) { h.events <- e },
			Lost:      func(err error) { h.lost <- err },
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Listen: %v", err)
		}
	})
	h.waitListening(t)
	return h
}

func (h *heard) waitListening(t *testing.T) {
	t.Helper()
	select {
	case <-h.listening:
	case err := <-h.lost:
		t.Fatalf("the listener could not listen: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the listener did not listen within 10s")
	}
}

// next returns the next event; notifications arrive in commit order.
func (h *heard) next(t *testing.T) Event {
	t.Helper()
	select {
	case e := <-h.events:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10s")
		return Event{}
	}
}

func TestListen(t *testing.T) {
	s := openStore(t)
	h := listen(t, s)
	ctx := context.Background()
	u := storetest.NewUnit("LISTEN-1", orb.Point{102.91, 24.67})

	t.Run("OKEveryWriteIsAnnounced", func(t *testing.T) {
		if err := s.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
		if e := h.next(t); e != (Event{ID: u.ID, Version: 1}) {
			t.Fatalf("create: got %+v, want unit %d version 1", e, u.ID)
		}
		u.Name = "改名"
		if err := s.UpdateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
		if e := h.next(t); e != (Event{ID: u.ID, Version: 2}) {
			t.Fatalf("update: got %+v, want unit %d version 2", e, u.ID)
		}
		if _, err := s.RetireUnit(ctx, u.ID, 2); err != nil {
			t.Fatal(err)
		}
		if e := h.next(t); e != (Event{ID: u.ID, Version: 3}) {
			t.Fatalf("retire: got %+v, want unit %d version 3", e, u.ID)
		}
	})
	t.Run("OKFailedWritesAreNotAnnounced", func(t *testing.T) {
		stale := storetest.NewUnit("LISTEN-1", orb.Point{1, 2})
		stale.ID, stale.Version = u.ID, 1
		if err := s.UpdateUnit(ctx, stale); riskmap.ErrorCode(err) != riskmap.EPRECONDITION {
			t.Fatalf("want EPRECONDITION, got %v", err)
		}
		if _, err := s.RetireUnit(ctx, u.ID, 1); riskmap.ErrorCode(err) != riskmap.EPRECONDITION {
			t.Fatalf("want EPRECONDITION, got %v", err)
		}
		dup := storetest.NewUnit("LISTEN-DUP", orb.Point{1, 2})
		if err := s.CreateUnit(ctx, dup); err != nil {
			t.Fatal(err)
		}
		if e := h.next(t); e.ID != dup.ID {
			t.Fatalf("got %+v, want the create of unit %d", e, dup.ID)
		}
		if err := s.CreateUnit(ctx, storetest.NewUnit("LISTEN-DUP", orb.Point{1, 2})); riskmap.ErrorCode(err) != riskmap.ECONFLICT {
			t.Fatalf("want ECONFLICT, got %v", err)
		}
		// A write after the failed ones is the next thing heard.
		last := storetest.NewUnit("LISTEN-2", orb.Point{1, 2})
		if err := s.CreateUnit(ctx, last); err != nil {
			t.Fatal(err)
		}
		if e := h.next(t); e != (Event{ID: last.ID, Version: 1}) {
			t.Fatalf("got %+v, want only the create of unit %d", e, last.ID)
		}
	})
	t.Run("OKBulkInsertAsksForResync", func(t *testing.T) {
		if _, err := s.BulkInsertUnits(ctx, synthUnits(50, 77), nil); err != nil {
			t.Fatal(err)
		}
		if e := h.next(t); !e.Resync {
			t.Fatalf("got %+v, want one Resync event for the bulk insert", e)
		}
		select {
		case e := <-h.events:
			t.Fatalf("a bulk insert is one event, got another: %+v", e)
		case <-time.After(200 * time.Millisecond):
		}
	})
	t.Run("OKReconnectsAfterTermination", func(t *testing.T) {
		killListener(t, s, DefaultApplicationName+ListenerSuffix)
		select {
		case err := <-h.lost:
			t.Logf("lost: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("the listener did not notice that its connection was terminated")
		}
		h.waitListening(t)
		v := storetest.NewUnit("LISTEN-3", orb.Point{1, 2})
		if err := s.CreateUnit(ctx, v); err != nil {
			t.Fatal(err)
		}
		if e := h.next(t); e != (Event{ID: v.ID, Version: 1}) {
			t.Fatalf("after reconnecting: got %+v, want unit %d version 1", e, v.ID)
		}
	})
}

// killListener terminates the backend of the listening connection named app and waits
// until it is gone.
func killListener(t *testing.T, s *Store, app string) {
	t.Helper()
	var n int
	err := s.pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, app).Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("terminate %s: %d backends, %v", app, n, err)
	}
}

// The payload names the unit and its version and nothing else: never the geometry.
func TestNotificationPayload(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		t.Fatal(err)
	}
	u := storetest.NewUnit("PAYLOAD-1", orb.Polygon{{{1, 2}, {3, 2}, {3, 4}, {1, 2}}})
	if err := s.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := conn.WaitForNotification(wctx)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(n.Payload), &p); err != nil {
		t.Fatalf("payload %q: %v", n.Payload, err)
	}
	want := map[string]any{"id": float64(u.ID), "version": float64(1)}
	if fmt.Sprint(p) != fmt.Sprint(want) {
		t.Fatalf("payload %s, want exactly the id and version %v", n.Payload, want)
	}
}

func TestParseEvent(t *testing.T) {
	cases := []struct {
		name, payload string
		want          Event
	}{
		{"OK", `{"id" : 7, "version" : 3}`, Event{ID: 7, Version: 3}},
		{"OKResync", resyncPayload, Event{Resync: true}},
		{"OKAuth", authPayload, Event{Auth: true}},
		{"ErrNotJSONAsksForResync", `7:3`, Event{Resync: true}},
		{"ErrNoVersionAsksForResync", `{"id":7}`, Event{Resync: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseEvent(tc.payload); got != tc.want {
				t.Fatalf("parseEvent(%q) = %+v, want %+v", tc.payload, got, tc.want)
			}
		})
	}
}

func TestChangesSince(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	ids := func(units []*riskmap.Unit) []int64 {
		var out []int64
		for _, u := range units {
			out = append(out, u.ID)
		}
		slices.Sort(out)
		return out
	}
	old := storetest.NewUnit("CS-OLD", orb.Point{1, 2})
	if err := s.CreateUnit(ctx, old); err != nil {
		t.Fatal(err)
	}
	mark, err := s.ChangeMark(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("OKRetiredUnitsIncluded", func(t *testing.T) {
		kept := storetest.NewUnit("CS-KEPT", orb.Point{1, 2})
		gone := storetest.NewUnit("CS-GONE", orb.Point{1, 2})
		for _, u := range []*riskmap.Unit{kept, gone} {
			if err := s.CreateUnit(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.RetireUnit(ctx, gone.ID, 1); err != nil {
			t.Fatal(err)
		}
		units, next, err := s.ChangesSince(ctx, mark, 100)
		if err != nil {
			t.Fatal(err)
		}
		var retired *riskmap.Unit
		for _, u := range units {
			if u.ID == gone.ID {
				retired = u
			}
		}
		if !slices.Contains(ids(units), kept.ID) || retired == nil {
			t.Fatalf("changes since the mark: units %v, want %d and the retired %d", ids(units), kept.ID, gone.ID)
		}
		if retired.Status != riskmap.StatusRetired || retired.Version != 2 || retired.Geometry == nil {
			t.Fatalf("the retired unit must come back whole at version 2, got %s v%d", retired.Status, retired.Version)
		}
		if next < mark {
			t.Fatalf("the next mark %d is before the mark %d", next, mark)
		}
	})

	// Transaction ids, not a sequence: a write that began before another and commits after
	// the mark taken between them is still found.
	t.Run("OKWriteCommittedAfterALaterOne", func(t *testing.T) {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		slow := storetest.NewUnit("CS-SLOW", orb.Point{1, 2})
		vals, err := insertValues(slow, s.timestamp())
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRow(ctx, insertUnitSQL, vals...).Scan(&slow.ID); err != nil {
			t.Fatal(err)
		}
		fast := storetest.NewUnit("CS-FAST", orb.Point{1, 2})
		if err := s.CreateUnit(ctx, fast); err != nil {
			t.Fatal(err)
		}
		m, err := s.ChangeMark(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		units, _, err := s.ChangesSince(ctx, m, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(ids(units), slow.ID) {
			t.Fatalf("changes since %d: %v; the unit %d committed after the mark is missing", m, ids(units), slow.ID)
		}
	})

	t.Run("OKLimit", func(t *testing.T) {
		units, _, err := s.ChangesSince(ctx, mark, 2)
		if err != nil || len(units) != 2 {
			t.Fatalf("limit 2: %d units, %v", len(units), err)
		}
	})

	// A mark leaves behind what committed before it, once every transaction older than
	// the write has ended (other tests' transactions on the server may hold it back).
	t.Run("OKOlderWritesLeftBehind", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			m, err := s.ChangeMark(ctx)
			if err != nil {
				t.Fatal(err)
			}
			units, _, err := s.ChangesSince(ctx, m, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(units) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("a fresh mark still returns %v", ids(units))
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

}

func TestChangeXIDTrigger(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	u := storetest.NewUnit("TRG-1", orb.Point{1, 2})
	if err := s.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	m, err := s.ChangeMark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// An edit made outside riskmap (QGIS, psql) is found by the next catch-up too.
	if _, err := s.pool.Exec(ctx, "UPDATE risk_units SET name = 'QGIS 编辑', version = version + 1 WHERE id = $1", u.ID); err != nil {
		t.Fatal(err)
	}
	units, _, err := s.ChangesSince(ctx, m, 10)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(units, func(v *riskmap.Unit) bool { return v.ID == u.ID })
	if i < 0 || units[i].Name != "QGIS 编辑" || units[i].Version != 2 {
		t.Fatalf("an outside update must be found by ChangesSince, got %d units", len(units))
	}
}
