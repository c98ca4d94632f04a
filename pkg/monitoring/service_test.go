package monitoring_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// The service's tests run on both real stores: the external test package may import the
// adapters (the import rules concern the packages' own files).

// world is a store with units, and what a service needs of them.
type world struct {
	st interface {
		riskmap.Store
		monitoring.Store
	}
	units map[int64]monitoring.UnitRef
	mu    sync.Mutex
	conds map[int64][][]riskmap.Condition // every Conditions call, by unit
	now   time.Time
}

type opener func(t *testing.T) *world

func openPG(t *testing.T) *world {
	dsn := pgtest.NewDatabase(t)
	s, err := postgis.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return newWorld(s)
}

func openGPKG(t *testing.T) *world {
	s, err := gpkg.Open(context.Background(), filepath.Join(t.TempDir(), "监测.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return newWorld(s)
}

func newWorld(s interface {
	riskmap.Store
	monitoring.Store
}) *world {
	return &world{st: s, units: map[int64]monitoring.UnitRef{}, conds: map[int64][][]riskmap.Condition{},
		now: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
}

// stores runs f on each store.
func stores(t *testing.T, f func(t *testing.T, open opener)) {
	t.Run("postgis", func(t *testing.T) { f(t, openPG) })
	t.Run("gpkg", func(t *testing.T) { f(t, openGPKG) })
}

// unit stores a unit and returns its id.
func (w *world) unit(t *testing.T, code string) int64 {
	t.Helper()
	u := storetest.NewUnit(code, orb.Point{102.91, 24.67})
	if err := w.st.CreateUnit(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.units[u.ID] = monitoring.UnitRef{ID: u.ID, Code: u.Code, Name: u.Name, Category: u.Category, RegionCode: u.RegionCode,
		Department: u.ResponsibleDepartment, Grade: u.Grade}
	w.mu.Unlock()
	return u.ID
}

// service is a loaded service over the world's store.
func (w *world) service(t *testing.T) *monitoring.Service {
	t.Helper()
	cfg := monitoring.Default()
	s := monitoring.NewService(w.st, &cfg, func(id int64) (monitoring.UnitRef, bool) {
		w.mu.Lock()
		defer w.mu.Unlock()
		u, ok := w.units[id]
		return u, ok
	})
	s.Now = func() time.Time { return w.now }
	s.Conditions = func(ctx context.Context, id int64, c []riskmap.Condition) error {
		w.mu.Lock()
		w.conds[id] = append(w.conds[id], c)
		w.mu.Unlock()
		return nil
	}
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func (w *world) lastConds(id int64) ([]riskmap.Condition, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.conds[id]
	if len(c) == 0 {
		return nil, 0
	}
	return c[len(c)-1], len(c)
}

// gasPoint creates a gas point (kind defaults: yellow 25, red 50 %LEL) of unit.
func gasPoint(t *testing.T, s *monitoring.Service, by *riskmap.User, unit int64, code string) *monitoring.Point {
	t.Helper()
	p := &monitoring.Point{Code: code, UnitID: unit, Kind: "gas", Location: orb.Point{102.911, 24.671}}
	if err := s.CreatePoint(context.Background(), by, p, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

func batch(code string, at time.Time, values ...float64) []byte {
	var items []string
	for i, v := range values {
		items = append(items, fmt.Sprintf(`{"point":%q,"time":%q,"value":%g}`, code, at.Add(time.Duration(i)*time.Second).Format(time.RFC3339), v))
	}
	return []byte("[" + strings.Join(items, ",") + "]")
}

func ingest(t *testing.T, s *monitoring.Service, by *riskmap.User, body []byte) *monitoring.IngestResult {
	t.Helper()
	res, err := s.Ingest(context.Background(), by, monitoring.FormBatch, body)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func openAlarms(t *testing.T, st monitoring.Store, point int64) []*monitoring.Alarm {
	t.Helper()
	as, err := st.FindAlarms(context.Background(), monitoring.AlarmFilter{PointID: point, Open: true})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// A reading over red opens one alarm, raises a red condition and is heard by subscribers;
// back to normal and disposed, the alarm closes and the unit's conditions are emptied.
func TestServiceAlarmLife(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		w := open(t)
		ctx := context.Background()
		unit := w.unit(t, "U-LIFE")
		s := w.service(t)
		events, cancel := s.Subscribe()
		defer cancel()
		p := gasPoint(t, s, nil, unit, "JC-1")
		at := w.now.Add(-time.Hour)
		res := ingest(t, s, nil, batch("JC-1", at, 10, 62))
		if res.Accepted != 2 || len(res.Refused) != 0 {
			t.Fatalf("ingest: %+v", res)
		}
		as := openAlarms(t, w.st, p.ID)
		if len(as) != 1 || as[0].Level != monitoring.LevelRed || as[0].Status != monitoring.StatusActive {
			t.Fatalf("want one active red alarm, got %+v", as)
		}
		c, _ := w.lastConds(unit)
		if len(c) != 1 || c[0].Level != "red" || c[0].Source != riskmap.ConditionAlarm || c[0].Ref != as[0].Code {
			t.Fatalf("conditions: %+v", c)
		}
		if ev := <-events; ev.Kind != monitoring.EventOpen || ev.Alarm.ID != as[0].ID {
			t.Fatalf("first event: %+v", ev)
		}
		if got := s.UnitAlarms(nil); got[unit] != monitoring.LevelRed {
			t.Errorf("UnitAlarms: %v", got)
		}
		pv, err := s.Point(ctx, nil, p.ID)
		if err != nil || pv.Level != monitoring.LevelRed || pv.Latest == nil || pv.Latest.Value != 62 || !pv.Online || pv.KindLabel != "可燃气体浓度" {
			t.Fatalf("point view: %+v %v", pv, err)
		}
		// Back to normal: the alarm waits for its disposal.
		ingest(t, s, nil, batch("JC-1", at.Add(time.Minute), 3))
		if ev := <-events; ev.Kind != monitoring.EventNormal {
			t.Fatalf("want normal, got %+v", ev)
		}
		if _, err := s.Transition(ctx, nil, as[0].ID, 0, "dispose", "", nil); riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatalf("dispose without a note: %v", err)
		}
		v, err := s.Transition(ctx, nil, as[0].ID, 0, "dispose", "关闭阀门，通风排查", nil)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != monitoring.StatusClosed || v.PointCode != "JC-1" || v.UnitCode != "U-LIFE" || v.StatusLabel != "已关闭" {
			t.Fatalf("after dispose: %+v", v)
		}
		for _, want := range []monitoring.EventKind{monitoring.EventDispose, monitoring.EventClose} {
			if ev := <-events; ev.Kind != want {
				t.Fatalf("want %s, got %+v", want, ev)
			}
		}
		if c, n := w.lastConds(unit); len(c) != 0 || n != 2 {
			t.Fatalf("conditions after close: %+v (%d calls)", c, n)
		}
		if as := openAlarms(t, w.st, p.ID); len(as) != 0 {
			t.Fatalf("open alarms after close: %+v", as)
		}
		st, err := s.Stats(ctx, nil, monitoring.AlarmQuery{})
		if err != nil || st.Total != 1 || st.Disposed != 1 || st.DisposalRate != 1 || len(st.ByKind) != 1 || st.ByKind[0].Label != "可燃气体浓度" {
			t.Fatalf("stats: %+v %v", st, err)
		}
		// By department (the unit's 监管部门) and by region: the unit's 乡镇/街道 (the first 9
		// digits of 530481001001, as the hidden dangers' statistics), named by the HTTP API.
		if len(st.ByDepartment) != 1 || st.ByDepartment[0].Label != "应急局" || st.ByDepartment[0].Disposed != 1 {
			t.Fatalf("stats by department: %+v", st.ByDepartment)
		}
		if len(st.ByRegion) != 1 || st.ByRegion[0].Key != "530481001" || st.ByRegion[0].Total != 1 {
			t.Fatalf("stats by region: %+v", st.ByRegion)
		}
		// A restarted service finds no open alarm and a normal point.
		s2 := w.service(t)
		if pv, err := s2.Point(ctx, nil, p.ID); err != nil || pv.Level != "" || pv.Latest == nil || pv.Latest.Value != 3 {
			t.Fatalf("after restart: %+v %v", pv, err)
		}
	})
}

// A reading stored already is a duplicate, one older than the newest is late: each stored
// once.
func TestServiceDuplicatesAndLate(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		w := open(t)
		unit := w.unit(t, "U-DUP")
		s := w.service(t)
		p := gasPoint(t, s, nil, unit, "JC-2")
		at := w.now.Add(-time.Hour)
		if res := ingest(t, s, nil, batch("JC-2", at, 1, 2, 3)); res.Accepted != 3 || res.Duplicates != 0 {
			t.Fatalf("first: %+v", res)
		}
		if res := ingest(t, s, nil, batch("JC-2", at, 1, 2, 3)); res.Accepted != 0 || res.Duplicates != 3 {
			t.Fatalf("again: %+v", res)
		}
		if res := ingest(t, s, nil, batch("JC-2", at.Add(-time.Minute), 4)); res.Accepted != 1 || res.Late != 1 {
			t.Fatalf("late: %+v", res)
		}
		// Repeated inside one body.
		body := []byte(`[{"point":"JC-2","time":"` + at.Add(time.Minute).Format(time.RFC3339) + `","value":5},{"point":` +
			fmt.Sprint(p.ID) + `,"time":"` + at.Add(time.Minute).Format(time.RFC3339) + `","value":5}]`)
		if res := ingest(t, s, nil, body); res.Accepted != 1 || res.Duplicates != 1 {
			t.Fatalf("repeated: %+v", res)
		}
		// A new late reading before a repeat of the point's newest: each counted as what it
		// is, whatever their order in the body.
		item := func(t time.Time, v int) string {
			return fmt.Sprintf(`{"point":"JC-2","time":"%s","value":%d}`, t.Format(time.RFC3339), v)
		}
		body = []byte("[" + item(at.Add(-2*time.Minute), 6) + "," + item(at.Add(time.Minute), 5) + "]")
		if res := ingest(t, s, nil, body); res.Accepted != 1 || res.Late != 1 || res.Duplicates != 1 {
			t.Fatalf("late then repeated: %+v", res)
		}
		body = []byte("[" + item(at.Add(time.Minute), 5) + "," + item(at.Add(-3*time.Minute), 7) + "]")
		if res := ingest(t, s, nil, body); res.Accepted != 1 || res.Late != 1 || res.Duplicates != 1 {
			t.Fatalf("repeated then late: %+v", res)
		}
		// Half a millisecond apart: one reading on both stores (they keep milliseconds), the
		// one evaluated the one stored.
		t1 := at.Add(2 * time.Minute)
		half := []byte(fmt.Sprintf(`[{"point":"JC-2","time":%q,"value":8},{"point":"JC-2","time":%q,"value":9}]`,
			t1.Add(200*time.Microsecond).Format(time.RFC3339Nano), t1.Add(700*time.Microsecond).Format(time.RFC3339Nano)))
		if res := ingest(t, s, nil, half); res.Accepted != 1 || res.Duplicates != 1 {
			t.Fatalf("half a millisecond apart: %+v", res)
		}
		rs, err := s.Readings(context.Background(), nil, p.ID, at.Add(-time.Hour), w.now, monitoring.StepRaw)
		if err != nil || len(rs) != 8 || rs[7].Avg != 8 || !rs[7].Time.Equal(t1) {
			t.Fatalf("readings: %d %v", len(rs), err)
		}
	})
}

// Bad items are refused one by one, the rest kept; a body that is not an array is EINVALID.
func TestServiceRefusals(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		w := open(t)
		unit := w.unit(t, "U-REF")
		s := w.service(t)
		gasPoint(t, s, nil, unit, "JC-3")
		at := w.now.Add(-time.Hour).Format(time.RFC3339)
		future := w.now.Add(time.Hour).Format(time.RFC3339)
		body := `[{"point":"JC-3","time":"` + at + `","value":7},
{"point":"JC-404","time":"` + at + `","value":7},
{"point":"JC-3","time":"` + at + `","value":NaN},
{"point":"JC-3","time":"` + at + `","value":150},
{"point":"JC-3","time":"` + future + `","value":7},
{"point":"JC-3","time":"` + w.now.AddDate(0, 0, -401).Format(time.RFC3339) + `","value":7}]`
		s.Retention = 400 * 24 * time.Hour // readings older than the retention period are refused
		res := ingest(t, s, nil, []byte(body))
		if res.Accepted != 1 || len(res.Refused) != 5 {
			t.Fatalf("%+v", res)
		}
		if msg := res.Refused[4].Message; !strings.Contains(msg, "保留期限") {
			t.Errorf("a reading older than the retention period: %q", msg)
		}
		for i, want := range []string{"[1].point", "[2].value", "[3].value", "[4].time", "[5].time"} {
			if res.Refused[i].Index != i+1 || res.Refused[i].Field != want {
				t.Errorf("refusal %d: %+v, want field %s", i, res.Refused[i], want)
			}
		}
		if _, err := s.Ingest(context.Background(), nil, monitoring.FormBatch, []byte(`{"point":1}`)); riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Errorf("not an array: %v", err)
		}
		r2, err := s.IngestReadings(context.Background(), []monitoring.Reading{{PointID: 999999, Time: w.now, Value: 1}})
		if err != nil || len(r2.Refused) != 1 || r2.Refused[0].Field != "[0].point" {
			t.Errorf("IngestReadings unknown point: %+v %v", r2, err)
		}
		// The way MQTT and the simulator come in: an old time (a gateway's clock back at
		// 2000) is refused there too.
		p3, err := s.Resolve(nil, monitoring.PointRef{Code: "JC-3"})
		if err != nil {
			t.Fatal(err)
		}
		r2, err = s.IngestReadings(context.Background(), []monitoring.Reading{{PointID: p3.ID, Time: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), Value: 1}})
		if err != nil || len(r2.Refused) != 1 || r2.Refused[0].Field != "[0].time" || r2.Accepted != 0 {
			t.Errorf("IngestReadings of 2001: %+v %v", r2, err)
		}
	})
}

// A department user out of the point's scope cannot write its readings (refused per item)
// nor read it, its readings or its alarms (not found).
func TestServiceScope(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		w := open(t)
		ctx := context.Background()
		unit := w.unit(t, "U-SCOPE")
		s := w.service(t)
		p := gasPoint(t, s, nil, unit, "JC-4")
		ingest(t, s, nil, batch("JC-4", w.now.Add(-time.Hour), 80))
		as := openAlarms(t, w.st, p.ID)
		if len(as) != 1 {
			t.Fatalf("alarms: %+v", as)
		}
		other := &riskmap.User{ID: 7, Name: "zhang", Role: riskmap.RoleDepartment, Categories: []string{"hazardous_chemicals"}, Regions: []string{"530402"}}
		res := ingest(t, s, other, batch("JC-4", w.now.Add(-time.Minute), 1))
		if res.Accepted != 0 || len(res.Refused) != 1 || res.Refused[0].Field != "[0].point" {
			t.Fatalf("out of scope ingest: %+v", res)
		}
		if _, err := s.Point(ctx, other, p.ID); riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
			t.Errorf("Point: %v", err)
		}
		if _, err := s.Readings(ctx, other, p.ID, w.now.Add(-time.Hour), w.now, monitoring.StepRaw); riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
			t.Errorf("Readings: %v", err)
		}
		if _, err := s.Alarm(ctx, other, as[0].ID); riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
			t.Errorf("Alarm: %v", err)
		}
		if _, err := s.Transition(ctx, other, as[0].ID, 0, "acknowledge", "", nil); riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
			t.Errorf("Transition: %v", err)
		}
		if ps, _ := s.Points(ctx, other, monitoring.PointFilter{}); len(ps) != 0 {
			t.Errorf("Points: %d", len(ps))
		}
		if vs, _ := s.Alarms(ctx, other, monitoring.AlarmQuery{}); len(vs) != 0 {
			t.Errorf("Alarms: %d", len(vs))
		}
		if len(s.UnitAlarms(other)) != 0 {
			t.Errorf("UnitAlarms out of scope")
		}
		if err := s.CreatePoint(ctx, other, &monitoring.Point{Code: "JC-5", UnitID: unit, Kind: "gas", Location: orb.Point{102.9, 24.6}}, nil); riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
			t.Errorf("CreatePoint out of scope: %v", err)
		}
		// In scope: the same department user of the unit's region.
		mine := &riskmap.User{ID: 8, Name: "li", Role: riskmap.RoleDepartment, Categories: []string{"hazardous_chemicals"}, Regions: []string{"530481"}}
		if res := ingest(t, s, mine, batch("JC-4", w.now.Add(-time.Minute), 1)); res.Accepted != 1 {
			t.Errorf("in scope ingest: %+v", res)
		}
		if v, err := s.Transition(ctx, mine, as[0].ID, 0, "acknowledge", "", nil); err != nil || v.AcknowledgedBy != "li" {
			t.Errorf("in scope acknowledge: %+v %v", v, err)
		}
	})
}

// Concurrent callers are committed in groups, and every reading acknowledged is stored.
func TestServiceGroupCommit(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		w := open(t)
		unit := w.unit(t, "U-GC")
		s := w.service(t)
		var ids []int64
		for i := range 4 {
			ids = append(ids, gasPoint(t, s, nil, unit, fmt.Sprintf("JC-G%d", i)).ID)
		}
		const callers, calls, per = 16, 20, 10
		start := w.now.Add(-24 * time.Hour)
		var wg sync.WaitGroup
		var mu sync.Mutex
		accepted := 0
		errs := make(chan error, callers)
		for c := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range calls {
					var rs []monitoring.Reading
					for j := range per {
						n := (c*calls+k)*per + j
						rs = append(rs, monitoring.Reading{PointID: ids[n%len(ids)], Time: start.Add(time.Duration(n) * time.Second), Value: float64(n % 20)})
					}
					res, err := s.IngestReadings(context.Background(), rs)
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					accepted += res.Accepted
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		total := 0
		for _, id := range ids {
			rs, err := w.st.Readings(context.Background(), id, start.Add(-time.Hour), w.now, monitoring.StepRaw)
			if err != nil {
				t.Fatal(err)
			}
			total += len(rs)
		}
		if total != callers*calls*per || accepted != total {
			t.Fatalf("stored %d, accepted %d, want %d", total, accepted, callers*calls*per)
		}
	})
}

// Two services (replicas) on one PostGIS database ingesting the same point at once end with
// exactly one open alarm, which both then hold.
func TestServiceReplicasOneAlarm(t *testing.T) {
	w := openPG(t)
	ctx := context.Background()
	unit := w.unit(t, "U-REP")
	a := w.service(t)
	p := gasPoint(t, a, nil, unit, "JC-R")
	b := w.service(t)
	at := w.now.Add(-time.Hour)
	for round := range 5 {
		body := batch("JC-R", at.Add(time.Duration(round)*10*time.Minute), 70, 75, 3)
		var wg sync.WaitGroup
		for _, s := range []*monitoring.Service{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Ingest(ctx, nil, monitoring.FormBatch, body); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if as := openAlarms(t, w.st, p.ID); len(as) != 1 {
			t.Fatalf("round %d: %d open alarms", round, len(as))
		}
	}
	for _, s := range []*monitoring.Service{a, b} {
		if err := s.SyncAlarms(ctx); err != nil {
			t.Fatal(err)
		}
	}
	as := openAlarms(t, w.st, p.ID)
	va, _ := a.Alarms(ctx, nil, monitoring.AlarmQuery{Open: true})
	if len(va) != 1 || va[0].ID != as[0].ID {
		t.Fatalf("replica a: %+v", va)
	}
	// Disposed on one replica, the other hears it at its next sync.
	if _, err := b.Transition(ctx, nil, as[0].ID, 0, "dispose", "已处置", nil); err != nil {
		t.Fatal(err)
	}
	if err := a.SyncAlarms(ctx); err != nil {
		t.Fatal(err)
	}
	if got := a.UnitAlarms(nil); len(got) != 0 {
		t.Fatalf("replica a still holds %v", got)
	}
}

// A replica that updates an alarm another replica changed meanwhile reloads it and applies
// its change on top: the acknowledgement of one and the new peak of the other both stay.
func TestServiceStaleUpdateReapplied(t *testing.T) {
	w := openPG(t)
	ctx := context.Background()
	unit := w.unit(t, "U-STALE")
	a := w.service(t)
	p := gasPoint(t, a, nil, unit, "JC-S")
	b := w.service(t)
	at := w.now.Add(-time.Hour)
	ingest(t, a, nil, batch("JC-S", at, 70))
	if err := b.SyncAlarms(ctx); err != nil {
		t.Fatal(err)
	}
	as := openAlarms(t, w.st, p.ID)
	if len(as) != 1 {
		t.Fatalf("%+v", as)
	}
	if _, err := b.Transition(ctx, nil, as[0].ID, as[0].Version, "acknowledge", "", nil); err != nil {
		t.Fatal(err)
	}
	ingest(t, a, nil, batch("JC-S", at.Add(time.Minute), 85))
	got, err := w.st.GetAlarm(ctx, as[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != monitoring.StatusAcknowledged || got.Peak != 85 {
		t.Fatalf("after the stale update: status %s, peak %g", got.Status, got.Peak)
	}
	// A stale If-Match is refused.
	if _, err := a.Transition(ctx, nil, got.ID, got.Version-1, "dispose", "处置", nil); riskmap.ErrorCode(err) != riskmap.EPRECONDITION {
		t.Fatalf("stale If-Match: %v", err)
	}
}

// racingStore is a real store where another writer changes an alarm between each of the
// first `times` reloads of it and the write that follows (as a second replica ingesting the
// same point does).
type racingStore struct {
	monitoring.Store
	times int
}

func (r *racingStore) GetAlarm(ctx context.Context, id int64) (*monitoring.Alarm, error) {
	a, err := r.Store.GetAlarm(ctx, id)
	if err != nil || r.times == 0 {
		return a, err
	}
	r.times--
	other := *a
	other.LastValue++
	if err := r.Store.UpdateAlarmRecorded(ctx, &other, nil); err != nil {
		return nil, err
	}
	return a, nil
}

// A write that goes stale again after its reload is reloaded and reapplied again: the
// peak of the reading is kept and its events published.
func TestServiceStaleUpdateReappliedAgain(t *testing.T) {
	w := openPG(t)
	ctx := context.Background()
	unit := w.unit(t, "U-STALE2")
	a := w.service(t)
	p := gasPoint(t, a, nil, unit, "JC-S2")
	at := w.now.Add(-time.Hour)
	ingest(t, a, nil, batch("JC-S2", at, 70))
	as := openAlarms(t, w.st, p.ID)
	if len(as) != 1 {
		t.Fatalf("%+v", as)
	}
	// Another writer changes it, so a's next write is stale; then twice more while a
	// reloads it.
	other := *as[0]
	other.LastValue = 71
	if err := w.st.UpdateAlarmRecorded(ctx, &other, nil); err != nil {
		t.Fatal(err)
	}
	a.Store = &racingStore{Store: a.Store, times: 2}
	evs, cancel := a.Subscribe()
	defer cancel()
	ingest(t, a, nil, batch("JC-S2", at.Add(time.Minute), 85))
	got, err := w.st.GetAlarm(ctx, as[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Peak != 85 || got.LastValue != 85 {
		t.Fatalf("after writes stale three times: peak %g, last value %g", got.Peak, got.LastValue)
	}
	select {
	case ev := <-evs:
		if ev.Alarm.Peak != 85 {
			t.Fatalf("event %s with peak %g", ev.Kind, ev.Alarm.Peak)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event published for the reading")
	}
}

// A subscriber that does not read is dropped (its channel closed) once it is 1024 events
// behind; the others still hear everything.
func TestServiceSlowSubscriberDropped(t *testing.T) {
	w := openGPKG(t)
	unit := w.unit(t, "U-SUB")
	s := w.service(t)
	slow, cancelSlow := s.Subscribe()
	defer cancelSlow()
	fast, cancelFast := s.Subscribe()
	defer cancelFast()
	gasPoint(t, s, nil, unit, "JC-SUB")
	heard := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range fast {
			heard++
		}
	}()
	// Each reading above the last one is a new peak: one event per reading.
	var values []float64
	for i := range 1100 {
		values = append(values, 51+float64(i)*0.04)
	}
	ingest(t, s, nil, batch("JC-SUB", w.now.Add(-2*time.Hour), values...))
	n := 0
	for range slow {
		n++
	}
	if n != 1024 {
		t.Errorf("the slow subscriber got %d events before it was dropped", n)
	}
	cancelFast()
	<-done
	if heard != 1100 {
		t.Errorf("the fast subscriber heard %d events, want 1100", heard)
	}
}

// countingStore counts AppendReadings calls of a real store.
type countingStore struct {
	monitoring.Store
	mu    sync.Mutex
	calls int
}

func (c *countingStore) AppendReadings(ctx context.Context, rs []monitoring.Reading) (int, []int, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Store.AppendReadings(ctx, rs)
}

// Concurrent calls share commits.
func TestServiceCommitsInGroups(t *testing.T) {
	w := openGPKG(t)
	unit := w.unit(t, "U-GRP")
	s := w.service(t)
	p := gasPoint(t, s, nil, unit, "JC-GRP")
	cs := &countingStore{Store: w.st}
	s.Store = cs
	const callers = 200
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := monitoring.Reading{PointID: p.ID, Time: w.now.Add(-time.Duration(i+1) * time.Second), Value: 1}
			if _, err := s.IngestReadings(context.Background(), []monitoring.Reading{r}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if cs.calls >= callers {
		t.Errorf("%d commits for %d concurrent calls", cs.calls, callers)
	}
	t.Logf("%d commits for %d calls", cs.calls, callers)
}

// A point silent for three intervals raises an offline alarm (blue: no condition); its
// next reading marks it back to normal and the point online again.
func TestServiceOffline(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		w := open(t)
		ctx := context.Background()
		unit := w.unit(t, "U-OFF")
		s := w.service(t)
		p := gasPoint(t, s, nil, unit, "JC-OFF")
		events, cancel := s.Subscribe()
		defer cancel()
		w.now = w.now.Add(10 * time.Minute) // three 60 s intervals have passed
		s.CheckOffline(ctx)
		if ev := <-events; ev.Kind != monitoring.EventOffline || ev.Alarm.Level != monitoring.LevelBlue || ev.Alarm.ID == 0 {
			t.Fatalf("%+v", ev)
		}
		if pv, _ := s.Point(ctx, nil, p.ID); pv.Online {
			t.Fatal("the point must be offline")
		}
		if c, _ := w.lastConds(unit); len(c) != 0 {
			t.Fatalf("a blue alarm is no condition: %+v", c)
		}
		ingest(t, s, nil, batch("JC-OFF", w.now.Add(-time.Second), 2))
		if ev := <-events; ev.Kind != monitoring.EventNormal || ev.Alarm.Rule != monitoring.RuleOffline {
			t.Fatalf("%+v", ev)
		}
		if pv, _ := s.Point(ctx, nil, p.ID); !pv.Online {
			t.Fatal("the point must be online again")
		}
	})
}

// Maintain drops the readings older than the retention period.
func TestServiceRetention(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		w := open(t)
		ctx := context.Background()
		unit := w.unit(t, "U-RET")
		s := w.service(t)
		p := gasPoint(t, s, nil, unit, "JC-RET")
		old := w.now.AddDate(0, 0, -500)
		if res, err := s.IngestReadings(ctx, []monitoring.Reading{{PointID: p.ID, Time: old, Value: 1},
			{PointID: p.ID, Time: w.now.Add(-time.Hour), Value: 2}}); err != nil || res.Accepted != 2 {
			t.Fatalf("%+v %v", res, err)
		}
		s.Retention = 400 * 24 * time.Hour
		s.Maintain(ctx)
		rs, err := w.st.Readings(ctx, p.ID, old.Add(-time.Hour), w.now, monitoring.StepRaw)
		if err != nil || len(rs) != 1 || rs[0].Avg != 2 {
			t.Fatalf("after retention: %+v %v", rs, err)
		}
	})
}

// A replica hears, at its sync, the alarms another replica opened, and their events reach
// its subscribers.
func TestServiceReplicaSyncEvents(t *testing.T) {
	w := openPG(t)
	ctx := context.Background()
	unit := w.unit(t, "U-SYNC")
	a := w.service(t)
	p := gasPoint(t, a, nil, unit, "JC-SYNC")
	b := w.service(t)
	events, cancel := b.Subscribe()
	defer cancel()
	ingest(t, a, nil, batch("JC-SYNC", w.now.Add(-time.Hour), 90))
	if err := b.SyncAlarms(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := <-events; ev.Kind != monitoring.EventOpen || ev.Alarm.PointID != p.ID {
		t.Fatalf("%+v", ev)
	}
	if got := b.UnitAlarms(nil); got[unit] != monitoring.LevelRed {
		t.Fatalf("%v", got)
	}
	if c, _ := w.lastConds(unit); len(c) != 1 {
		t.Fatalf("conditions: %+v", c)
	}
}
