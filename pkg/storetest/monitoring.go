package storetest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// The contract of monitoring.Store: points, readings with their rollups and retention,
// alarms with one open alarm per (point, rule).

func monitoringStore(t *testing.T, s riskmap.Store) monitoring.Store {
	t.Helper()
	ms, ok := s.(monitoring.Store)
	if !ok {
		t.Fatalf("%T does not implement monitoring.Store", s)
	}
	return ms
}

func fp(v float64) *float64 { return &v }

// newPoint returns a valid gas point of unit u.
func newPoint(u *riskmap.Unit, code string) *monitoring.Point {
	return &monitoring.Point{Code: code, UnitID: u.ID, Kind: "gas", UnitOfMeasure: "%LEL", Location: orb.Point{102.912, 24.671},
		IntervalS: 60, Thresholds: monitoring.Thresholds{Upper: &monitoring.Bounds{Yellow: fp(25), Red: fp(50)}}}
}

var monRefused = errors.New("the audit log refuses the row")

func monFail() (*riskmap.WriteRecords, error) { return nil, monRefused }

func monUnit(t *testing.T, s riskmap.Store, code string) *riskmap.Unit {
	t.Helper()
	return hazardUnit(t, s, code, "530481001001", "hazardous_chemicals")
}

func mustPoint(t *testing.T, ms monitoring.Store, p *monitoring.Point) *monitoring.Point {
	t.Helper()
	must(t, ms.CreatePointRecorded(ctx(), p, nil))
	return p
}

var monT0 = time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)

// newAlarm returns an active threshold alarm of point p.
func newAlarm(p *monitoring.Point, code string, rule monitoring.Rule) *monitoring.Alarm {
	a := &monitoring.Alarm{Code: code, PointID: p.ID, UnitID: p.UnitID, Rule: rule, Level: monitoring.LevelYellow,
		Status: monitoring.StatusActive, OpenedAt: monT0, Peak: 30, PeakAt: monT0, LastValue: 30}
	if rule == monitoring.RuleThreshold {
		a.Side = monitoring.SideUpper
	}
	return a
}

func testMonitoring(t *testing.T, open Opener) {
	t.Run("PointsRoundTrip", func(t *testing.T) {
		s := open(t)
		ms := monitoringStore(t, s)
		u := monUnit(t, s, "MON-1")
		p := newPoint(u, "QT-01")
		p.Thresholds.Lower = &monitoring.Bounds{Blue: fp(1)}
		must(t, ms.CreatePointRecorded(ctx(), p, nil))
		if p.ID == 0 || p.Version != 1 || p.UpdatedAt.IsZero() {
			t.Fatalf("create must set id, version 1 and time: %+v", p)
		}
		got, err := ms.GetPoint(ctx(), p.ID)
		must(t, err)
		if !reflect.DeepEqual(p, got) {
			t.Fatalf("round trip:\nwant %+v\ngot  %+v", p, got)
		}
		wantCode(t, ms.CreatePointRecorded(ctx(), newPoint(u, "QT-01"), nil), riskmap.ECONFLICT)
		other := newPoint(u, "QT-02")
		other.UnitID = u.ID + 1000
		wantCode(t, ms.CreatePointRecorded(ctx(), other, nil), riskmap.ENOTFOUND)
		if other.ID != 0 {
			t.Fatalf("a refused create leaves no id: %d", other.ID)
		}
		_, err = ms.GetPoint(ctx(), p.ID+1000)
		wantCode(t, err, riskmap.ENOTFOUND)

		u2 := monUnit(t, s, "MON-2")
		q := mustPoint(t, ms, newPoint(u2, "QT-03"))
		all, err := ms.Points(ctx(), 0)
		must(t, err)
		if len(all) != 2 || all[0].ID != p.ID || all[1].ID != q.ID {
			t.Fatalf("Points(0): %+v", all)
		}
		of2, err := ms.Points(ctx(), u2.ID)
		must(t, err)
		if len(of2) != 1 || of2[0].ID != q.ID {
			t.Fatalf("Points(unit 2): %+v", of2)
		}

		// Update at the version; a stale one is refused.
		stale := *p
		p.IntervalS, p.Location = 300, orb.Point{103, 25}
		must(t, ms.UpdatePointRecorded(ctx(), p, nil))
		if p.Version != 2 {
			t.Fatalf("update must increment the version: %d", p.Version)
		}
		got, err = ms.GetPoint(ctx(), p.ID)
		must(t, err)
		if !reflect.DeepEqual(p, got) {
			t.Fatalf("after update:\nwant %+v\ngot  %+v", p, got)
		}
		wantCode(t, ms.UpdatePointRecorded(ctx(), &stale, nil), riskmap.EPRECONDITION)
		if stale.Version != 1 {
			t.Fatal("a refused update leaves the caller's point as it was")
		}
		gone := *p
		gone.ID = p.ID + 1000
		wantCode(t, ms.UpdatePointRecorded(ctx(), &gone, nil), riskmap.ENOTFOUND)
		taken := *p
		taken.Code = "QT-03"
		wantCode(t, ms.UpdatePointRecorded(ctx(), &taken, nil), riskmap.ECONFLICT)

		// Delete at the version, with its readings.
		_, _, err = ms.AppendReadings(ctx(), []monitoring.Reading{{PointID: q.ID, Time: monT0, Value: 1}})
		must(t, err)
		wantCode(t, ms.DeletePointRecorded(ctx(), q.ID, 7, nil), riskmap.EPRECONDITION)
		wantCode(t, ms.DeletePointRecorded(ctx(), q.ID+1000, 1, nil), riskmap.ENOTFOUND)
		must(t, ms.DeletePointRecorded(ctx(), q.ID, q.Version, nil))
		_, err = ms.GetPoint(ctx(), q.ID)
		wantCode(t, err, riskmap.ENOTFOUND)
		rs, err := ms.Readings(ctx(), q.ID, monT0.Add(-time.Hour), monT0.Add(time.Hour), monitoring.StepRaw)
		must(t, err)
		if len(rs) != 0 {
			t.Fatalf("a deleted point's readings go with it: %+v", rs)
		}
		// A point with alarms stays.
		must(t, ms.OpenAlarmRecorded(ctx(), newAlarm(p, "BJ-1", monitoring.RuleThreshold), nil))
		wantCode(t, ms.DeletePointRecorded(ctx(), p.ID, p.Version, nil), riskmap.ECONFLICT)
	})

	t.Run("PointsRecorded", func(t *testing.T) {
		s := open(t)
		ms := monitoringStore(t, s)
		u := monUnit(t, s, "MON-1")
		audited := func(id string) int {
			es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Action: "monitoring_point.write", TargetID: id, Limit: 10})
			must(t, err)
			return len(es)
		}
		rec := func(p *monitoring.Point) riskmap.AccessRecordFunc {
			return func() (*riskmap.WriteRecords, error) {
				return &riskmap.WriteRecords{Audit: &riskmap.AuditEntry{Actor: "admin", Role: riskmap.RoleAdmin,
					Action: "monitoring_point.write", Outcome: riskmap.OutcomeOK, Status: 200, Method: "POST",
					Path: "/api/v1/monitoring/points", TargetType: "monitoring_point", TargetID: fmt.Sprint(p.ID)}}, nil
			}
		}
		p := newPoint(u, "QT-01")
		if err := ms.CreatePointRecorded(ctx(), p, monFail); !errors.Is(err, monRefused) {
			t.Fatalf("want the record function's error, got %v", err)
		}
		if p.ID != 0 || p.Version != 0 {
			t.Fatalf("a rolled back create leaves the point as it was: %+v", p)
		}
		if all, err := ms.Points(ctx(), 0); err != nil || len(all) != 0 {
			t.Fatalf("a rolled back create stores nothing: %v %v", all, err)
		}
		must(t, ms.CreatePointRecorded(ctx(), p, rec(p)))
		if n := audited(fmt.Sprint(p.ID)); n != 1 {
			t.Fatalf("the audit row commits with the create: %d rows", n)
		}
		p.IntervalS = 600
		if err := ms.UpdatePointRecorded(ctx(), p, monFail); !errors.Is(err, monRefused) {
			t.Fatalf("want the record function's error, got %v", err)
		}
		if p.Version != 1 {
			t.Fatalf("a rolled back update leaves the version: %d", p.Version)
		}
		got, err := ms.GetPoint(ctx(), p.ID)
		must(t, err)
		if got.IntervalS != 60 || got.Version != 1 {
			t.Fatalf("a rolled back update changes nothing: %+v", got)
		}
		if err := ms.DeletePointRecorded(ctx(), p.ID, p.Version, monFail); !errors.Is(err, monRefused) {
			t.Fatalf("want the record function's error, got %v", err)
		}
		_, err = ms.GetPoint(ctx(), p.ID)
		must(t, err)

		a := newAlarm(p, "BJ-1", monitoring.RuleThreshold)
		if err := ms.OpenAlarmRecorded(ctx(), a, monFail); !errors.Is(err, monRefused) {
			t.Fatalf("want the record function's error, got %v", err)
		}
		if a.ID != 0 {
			t.Fatalf("a rolled back alarm has no id: %d", a.ID)
		}
		if as, err := ms.FindAlarms(ctx(), monitoring.AlarmFilter{}); err != nil || len(as) != 0 {
			t.Fatalf("a rolled back open stores nothing: %v %v", as, err)
		}
		must(t, ms.OpenAlarmRecorded(ctx(), a, nil))
		a.Status, a.AcknowledgedAt, a.AcknowledgedBy = monitoring.StatusAcknowledged, &monT0, "值班员"
		if err := ms.UpdateAlarmRecorded(ctx(), a, monFail); !errors.Is(err, monRefused) {
			t.Fatalf("want the record function's error, got %v", err)
		}
		if a.Version != 1 || a.Status != monitoring.StatusAcknowledged {
			t.Fatalf("a rolled back update leaves the caller's alarm as it was: %+v", a)
		}
		got2, err := ms.GetAlarm(ctx(), a.ID)
		must(t, err)
		if got2.Status != monitoring.StatusActive || got2.Version != 1 {
			t.Fatalf("a rolled back update changes nothing: %+v", got2)
		}
	})

	t.Run("Readings", func(t *testing.T) {
		s := open(t)
		ms := monitoringStore(t, s)
		u := monUnit(t, s, "MON-1")
		p := mustPoint(t, ms, newPoint(u, "QT-01"))
		q := mustPoint(t, ms, newPoint(u, "QT-02"))
		at := func(sec int) time.Time { return monT0.Add(time.Duration(sec) * time.Second) }
		// Out of order, with a duplicate inside the batch.
		batch := []monitoring.Reading{
			{PointID: p.ID, Time: at(30), Value: 3}, {PointID: p.ID, Time: at(10), Value: 1},
			{PointID: q.ID, Time: at(10), Value: 9}, {PointID: p.ID, Time: at(20), Value: 2},
			{PointID: p.ID, Time: at(10), Value: 100},
		}
		added, dups, err := ms.AppendReadings(ctx(), batch)
		must(t, err)
		if added != 4 || !reflect.DeepEqual(dups, []int{4}) {
			t.Fatalf("want 4 added, the repeat at 4 a duplicate; got %d, %v", added, dups)
		}
		// Again, with an older new one among them: the stored ones are ignored, not errors,
		// and the store says which they were (the service's late/duplicate counts).
		again := []monitoring.Reading{batch[0], {PointID: p.ID, Time: at(5), Value: 0.5}, batch[1], batch[2], batch[3], batch[4]}
		added, dups, err = ms.AppendReadings(ctx(), again)
		must(t, err)
		if added != 1 || !reflect.DeepEqual(dups, []int{0, 2, 3, 4, 5}) {
			t.Fatalf("want 1 added (index 1), duplicates at 0, 2, 3, 4, 5; got %d, %v", added, dups)
		}
		raw, err := ms.Readings(ctx(), p.ID, at(0), at(30), monitoring.StepRaw)
		must(t, err)
		want := []monitoring.Sample{{Time: at(5), Min: 0.5, Max: 0.5, Avg: 0.5, Count: 1}, {Time: at(10), Min: 1, Max: 1, Avg: 1, Count: 1},
			{Time: at(20), Min: 2, Max: 2, Avg: 2, Count: 1}}
		if !reflect.DeepEqual(raw, want) {
			t.Fatalf("raw readings in [0, 30): want %+v, got %+v", want, raw)
		}
		_, err = ms.Readings(ctx(), p.ID, at(0), at(30), monitoring.Step("2m"))
		wantCode(t, err, riskmap.EINVALID)

		// An unknown point refuses the batch: nothing stored.
		_, _, err = ms.AppendReadings(ctx(), []monitoring.Reading{{PointID: p.ID, Time: at(40), Value: 4}, {PointID: q.ID + 99, Time: at(40), Value: 4}})
		wantCode(t, err, riskmap.ENOTFOUND)
		raw, err = ms.Readings(ctx(), p.ID, at(35), at(45), monitoring.StepRaw)
		must(t, err)
		if len(raw) != 0 {
			t.Fatalf("a refused batch stores nothing: %+v", raw)
		}

		latest, err := ms.LatestReadings(ctx())
		must(t, err)
		wantLatest := []monitoring.Reading{{PointID: p.ID, Time: at(30), Value: 3}, {PointID: q.ID, Time: at(10), Value: 9}}
		if !reflect.DeepEqual(latest, wantLatest) {
			t.Fatalf("latest: want %+v, got %+v", wantLatest, latest)
		}
	})

	t.Run("Rollups", func(t *testing.T) {
		s := open(t)
		ms := monitoringStore(t, s)
		u := monUnit(t, s, "MON-1")
		p := mustPoint(t, ms, newPoint(u, "QT-01"))
		rng := rand.New(rand.NewPCG(17, 1))
		// 3 hours at random seconds, sent in shuffled batches, each batch sent twice.
		var rs []monitoring.Reading
		seen := map[int]bool{}
		for len(rs) < 600 {
			sec := rng.IntN(3 * 3600)
			if seen[sec] {
				continue
			}
			seen[sec] = true
			rs = append(rs, monitoring.Reading{PointID: p.ID, Time: monT0.Add(time.Duration(sec) * time.Second), Value: math.Round(rng.Float64()*10000) / 100})
		}
		total := 0
		for i := 0; i < len(rs); i += 97 {
			b := rs[i:min(i+97, len(rs))]
			added, _, err := ms.AppendReadings(ctx(), b)
			must(t, err)
			total += added
			added, dups, err := ms.AppendReadings(ctx(), b)
			must(t, err)
			if added != 0 || len(dups) != len(b) {
				t.Fatalf("a batch sent again adds nothing: %d added, %d duplicates", added, len(dups))
			}
		}
		if total != len(rs) {
			t.Fatalf("added %d of %d", total, len(rs))
		}
		raw, err := ms.Readings(ctx(), p.ID, monT0, monT0.Add(3*time.Hour), monitoring.StepRaw)
		must(t, err)
		if len(raw) != len(rs) {
			t.Fatalf("raw: %d of %d", len(raw), len(rs))
		}
		for _, step := range []monitoring.Step{monitoring.StepMinute, monitoring.Step5Minutes, monitoring.Step15Minutes, monitoring.Step30Minutes, monitoring.StepHour} {
			want := aggregate(raw, step.Duration())
			got, err := ms.Readings(ctx(), p.ID, monT0, monT0.Add(3*time.Hour), step)
			must(t, err)
			if len(got) != len(want) {
				t.Fatalf("%s: want %d buckets, got %d", step, len(want), len(got))
			}
			for i := range want {
				w, g := want[i], got[i]
				if !w.Time.Equal(g.Time) || w.Min != g.Min || w.Max != g.Max || w.Count != g.Count || math.Abs(w.Avg-g.Avg) > 1e-9*math.Max(1, math.Abs(w.Avg)) {
					t.Fatalf("%s bucket %d: want %+v, got %+v", step, i, w, g)
				}
			}
		}
	})

	t.Run("Retention", func(t *testing.T) {
		s := open(t)
		ms := monitoringStore(t, s)
		u := monUnit(t, s, "MON-1")
		p := mustPoint(t, ms, newPoint(u, "QT-01"))
		jan := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
		must(t, ms.EnsurePartitions(ctx(), jan, jan.AddDate(0, 3, 0)))
		must(t, ms.EnsurePartitions(ctx(), jan, jan.AddDate(0, 3, 0)))
		// Readings of January, February and March, a day apart, and one in May (a month whose
		// partition the insert creates).
		var rs []monitoring.Reading
		for d := 0; d < 60; d++ {
			rs = append(rs, monitoring.Reading{PointID: p.ID, Time: jan.AddDate(0, 0, d), Value: float64(d)})
		}
		may := time.Date(2026, 5, 2, 3, 4, 5, 0, time.UTC)
		rs = append(rs, monitoring.Reading{PointID: p.ID, Time: may, Value: 99})
		added, _, err := ms.AppendReadings(ctx(), rs)
		must(t, err)
		if added != 61 {
			t.Fatalf("added %d of 61", added)
		}
		cut := time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC)
		var before int64
		for _, r := range rs {
			if r.Time.Before(cut) {
				before++
			}
		}
		gone, err := ms.DropReadingsBefore(ctx(), cut)
		must(t, err)
		if gone != before {
			t.Fatalf("dropped %d readings, want %d", gone, before)
		}
		all, err := ms.Readings(ctx(), p.ID, jan.AddDate(-1, 0, 0), may.AddDate(0, 1, 0), monitoring.StepRaw)
		must(t, err)
		if int64(len(all)) != int64(len(rs))-before || !all[0].Time.Equal(cut) {
			t.Fatalf("after retention: %d readings from %v", len(all), all[0].Time)
		}
		hours, err := ms.Readings(ctx(), p.ID, jan.AddDate(-1, 0, 0), may.AddDate(0, 1, 0), monitoring.StepHour)
		must(t, err)
		if len(hours) != len(all) || !hours[0].Time.Equal(cut) {
			t.Fatalf("the rollups of dropped readings go: %d hours from %v", len(hours), hours[0].Time)
		}
		// Readings of a dropped month can come again.
		added, _, err = ms.AppendReadings(ctx(), rs[:1])
		must(t, err)
		if added != 1 {
			t.Fatal("a reading of a dropped month is stored again")
		}
	})

	t.Run("Alarms", func(t *testing.T) {
		s := open(t)
		ms := monitoringStore(t, s)
		u := monUnit(t, s, "MON-1")
		u2 := monUnit(t, s, "MON-2")
		p := mustPoint(t, ms, newPoint(u, "QT-01"))
		q := mustPoint(t, ms, newPoint(u2, "QT-02"))
		a := newAlarm(p, "BJ-1", monitoring.RuleThreshold)
		esc := monT0.Add(time.Minute)
		a.EscalatedAt, a.Level = &esc, monitoring.LevelRed
		must(t, ms.OpenAlarmRecorded(ctx(), a, nil))
		if a.ID == 0 || a.Version != 1 {
			t.Fatalf("open must set id and version 1: %+v", a)
		}
		got, err := ms.GetAlarm(ctx(), a.ID)
		must(t, err)
		if !reflect.DeepEqual(a, got) {
			t.Fatalf("round trip:\nwant %+v\ngot  %+v", a, got)
		}
		_, err = ms.GetAlarm(ctx(), a.ID+100)
		wantCode(t, err, riskmap.ENOTFOUND)

		// One open alarm per (point, rule); another rule or point is another alarm.
		wantCode(t, ms.OpenAlarmRecorded(ctx(), newAlarm(p, "BJ-2", monitoring.RuleThreshold), nil), riskmap.ECONFLICT)
		wantCode(t, ms.OpenAlarmRecorded(ctx(), newAlarm(q, "BJ-1", monitoring.RuleThreshold), nil), riskmap.ECONFLICT)
		noCode := newAlarm(q, "", monitoring.RuleThreshold)
		wantCode(t, ms.OpenAlarmRecorded(ctx(), noCode, nil), riskmap.EINVALID)
		gone := newAlarm(q, "BJ-9", monitoring.RuleThreshold)
		gone.PointID = q.ID + 100
		wantCode(t, ms.OpenAlarmRecorded(ctx(), gone, nil), riskmap.ENOTFOUND)
		off := newAlarm(p, "BJ-2", monitoring.RuleOffline)
		must(t, ms.OpenAlarmRecorded(ctx(), off, nil))
		b := newAlarm(q, "BJ-3", monitoring.RuleThreshold)
		must(t, ms.OpenAlarmRecorded(ctx(), b, nil))

		// Update at the version.
		stale := *a
		ack := monT0.Add(2 * time.Minute)
		a.Status, a.AcknowledgedAt, a.AcknowledgedBy, a.Peak, a.LastValue = monitoring.StatusAcknowledged, &ack, "值班员", 60, 55
		must(t, ms.UpdateAlarmRecorded(ctx(), a, nil))
		if a.Version != 2 {
			t.Fatalf("update increments the version: %d", a.Version)
		}
		got, err = ms.GetAlarm(ctx(), a.ID)
		must(t, err)
		if !reflect.DeepEqual(a, got) {
			t.Fatalf("after update:\nwant %+v\ngot  %+v", a, got)
		}
		wantCode(t, ms.UpdateAlarmRecorded(ctx(), &stale, nil), riskmap.EPRECONDITION)
		missing := *a
		missing.ID = a.ID + 100
		wantCode(t, ms.UpdateAlarmRecorded(ctx(), &missing, nil), riskmap.ENOTFOUND)

		// Closed, a new one may open; the closed one cannot reopen beside it.
		closed := monT0.Add(3 * time.Minute)
		a.Status, a.DisposedAt, a.DisposedBy, a.Action, a.ClosedAt = monitoring.StatusClosed, &closed, "值班员", "关闭阀门并通风", &closed
		a.Normal, a.NormalAt = true, &closed
		must(t, ms.UpdateAlarmRecorded(ctx(), a, nil))
		again := newAlarm(p, "BJ-4", monitoring.RuleThreshold)
		must(t, ms.OpenAlarmRecorded(ctx(), again, nil))
		reopen := *a
		reopen.Status, reopen.ClosedAt = monitoring.StatusDisposed, nil
		wantCode(t, ms.UpdateAlarmRecorded(ctx(), &reopen, nil), riskmap.ECONFLICT)

		codes := func(f monitoring.AlarmFilter) []string {
			t.Helper()
			as, err := ms.FindAlarms(ctx(), f)
			must(t, err)
			var out []string
			for _, x := range as {
				out = append(out, x.Code)
			}
			return out
		}
		for _, c := range []struct {
			f    monitoring.AlarmFilter
			want []string
		}{
			{monitoring.AlarmFilter{}, []string{"BJ-4", "BJ-3", "BJ-2", "BJ-1"}},
			{monitoring.AlarmFilter{Open: true}, []string{"BJ-4", "BJ-3", "BJ-2"}},
			{monitoring.AlarmFilter{Status: monitoring.StatusClosed}, []string{"BJ-1"}},
			{monitoring.AlarmFilter{Level: monitoring.LevelRed}, []string{"BJ-1"}},
			{monitoring.AlarmFilter{UnitID: u2.ID}, []string{"BJ-3"}},
			{monitoring.AlarmFilter{PointID: p.ID, Open: true}, []string{"BJ-4", "BJ-2"}},
			{monitoring.AlarmFilter{Limit: 1}, []string{"BJ-4"}},
			{monitoring.AlarmFilter{Before: again.ID, Limit: 2}, []string{"BJ-3", "BJ-2"}},
		} {
			if got := codes(c.f); !reflect.DeepEqual(got, c.want) {
				t.Errorf("FindAlarms(%+v): want %v, got %v", c.f, c.want, got)
			}
		}
	})

	t.Run("OneOpenAlarmConcurrently", func(t *testing.T) {
		s := open(t)
		ms := monitoringStore(t, s)
		u := monUnit(t, s, "MON-1")
		for round := range 5 {
			p := mustPoint(t, ms, newPoint(u, fmt.Sprintf("QT-%d", round)))
			var wg sync.WaitGroup
			errs := make([]error, 2)
			start := make(chan struct{})
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = ms.OpenAlarmRecorded(ctx(), newAlarm(p, fmt.Sprintf("BJ-%d-%d", round, i), monitoring.RuleThreshold), nil)
				}()
			}
			close(start)
			wg.Wait()
			ok, conflict := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case riskmap.ErrorCode(err) == riskmap.ECONFLICT:
					conflict++
				default:
					t.Fatalf("unexpected error: %v", err)
				}
			}
			if ok != 1 || conflict != 1 {
				t.Fatalf("two writers: want one open and one ECONFLICT, got %v", errs)
			}
			as, err := ms.FindAlarms(ctx(), monitoring.AlarmFilter{PointID: p.ID, Open: true})
			must(t, err)
			if len(as) != 1 {
				t.Fatalf("one open alarm, got %d", len(as))
			}
		}
	})
}

// aggregate rolls raw samples (oldest first) up into buckets of d.
func aggregate(raw []monitoring.Sample, d time.Duration) []monitoring.Sample {
	byBucket := map[time.Time]*monitoring.Sample{}
	var sums = map[time.Time]float64{}
	for _, r := range raw {
		b := r.Time.Truncate(d)
		x, ok := byBucket[b]
		if !ok {
			x = &monitoring.Sample{Time: b, Min: r.Min, Max: r.Max}
			byBucket[b] = x
		}
		x.Min, x.Max, x.Count = math.Min(x.Min, r.Min), math.Max(x.Max, r.Max), x.Count+1
		sums[b] += r.Min
	}
	out := make([]monitoring.Sample, 0, len(byBucket))
	for b, x := range byBucket {
		x.Avg = sums[b] / float64(x.Count)
		out = append(out, *x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}
