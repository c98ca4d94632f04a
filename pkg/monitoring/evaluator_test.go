package monitoring

import (
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

var t0 = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func newEval(t testing.TB, pts ...*Point) *Evaluator {
	t.Helper()
	cfg := Default()
	e := NewEvaluator(&cfg)
	for _, p := range pts {
		if _, err := e.SetPoint(p, t0); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// feed gives the evaluator the values of point id at seconds 1, 2, 3 … after start and
// returns the kinds of the events with the levels of their alarms ("open:yellow").
func feed(t testing.TB, e *Evaluator, id int64, start int, values ...float64) []string {
	t.Helper()
	var out []string
	for i, v := range values {
		evs, o, err := e.Ingest(Reading{PointID: id, Time: at(start + i), Value: v})
		if err != nil || o != Evaluated {
			t.Fatalf("reading %d (%g): %v %v", i, v, o, err)
		}
		out = append(out, describe(t, evs)...)
	}
	return out
}

func describe(t testing.TB, evs []Event) []string {
	t.Helper()
	var out []string
	for _, ev := range evs {
		if err := ev.Alarm.Validate(); err != nil {
			t.Fatalf("%s event with an invalid alarm: %v", ev.Kind, err)
		}
		out = append(out, string(ev.Kind)+":"+string(ev.Alarm.Level))
	}
	return out
}

func want(t *testing.T, got []string, w ...string) {
	t.Helper()
	if !slices.Equal(got, w) {
		t.Fatalf("events %v, want %v", got, w)
	}
}

func TestEvaluatorLife(t *testing.T) {
	e := newEval(t, gasPoint())
	want(t, feed(t, e, 1, 0, 10, 30, 40, 55, 60, 45), "open:yellow", "peak:yellow", "escalate:red", "peak:red")
	a, _ := e.Alarm(1, RuleThreshold)
	if a.Peak != 60 || !a.PeakAt.Equal(at(4)) || a.LastValue != 45 || a.Status != StatusActive || a.Code == "" {
		t.Fatalf("%+v", a)
	}
	// Back to normal: the alarm waits for its disposal.
	want(t, feed(t, e, 1, 10, 10), "normal:red")
	evs, err := e.Acknowledge(1, RuleThreshold, "值班员", at(12))
	want(t, describe(t, evs), "acknowledge:red")
	if _, err := e.Acknowledge(1, RuleThreshold, "值班员", at(13)); riskmap.ErrorCode(err) != riskmap.ECONFLICT {
		t.Fatalf("acknowledging twice: %v", err)
	}
	if _, err := e.Dispose(1, RuleThreshold, " ", "值班员", at(13)); riskmap.ErrorCode(err) != riskmap.EINVALID {
		t.Fatalf("disposing without an action: %v", err)
	}
	evs, err = e.Dispose(1, RuleThreshold, "关闭阀门，通风，检修泄漏点", "值班员", at(14))
	if err != nil {
		t.Fatal(err)
	}
	want(t, describe(t, evs), "dispose:red", "close:red")
	if _, ok := e.Alarm(1, RuleThreshold); ok {
		t.Fatal("a disposed alarm back to normal is still open")
	}
	// The next rise opens a new alarm.
	want(t, feed(t, e, 1, 20, 26), "open:yellow")
}

func TestEvaluatorDisposedClosesWhenNormal(t *testing.T) {
	e := newEval(t, gasPoint())
	want(t, feed(t, e, 1, 0, 52), "open:red")
	evs, err := e.Dispose(1, RuleThreshold, "切断气源", "张三", at(5))
	if err != nil {
		t.Fatal(err)
	}
	want(t, describe(t, evs), "dispose:red")
	want(t, feed(t, e, 1, 10, 30), nil...)
	want(t, feed(t, e, 1, 11, 20), "close:red")
}

// A reading back to normal that carries a time before the disposal (the sensor's clock,
// or a reading delivered late) closes the alarm at its disposal, never before it.
func TestEvaluatorClosesNotBeforeDisposal(t *testing.T) {
	e := newEval(t, gasPoint())
	want(t, feed(t, e, 1, 0, 52), "open:red")
	if _, err := e.Dispose(1, RuleThreshold, "切断气源", "张三", at(120)); err != nil {
		t.Fatal(err)
	}
	evs, _, err := e.Ingest(Reading{PointID: 1, Time: at(60), Value: 10})
	if err != nil {
		t.Fatal(err)
	}
	want(t, describe(t, evs), "close:red")
	a := evs[0].Alarm
	if !a.NormalAt.Equal(at(60)) || !a.ClosedAt.Equal(at(120)) || !evs[0].At.Equal(at(120)) {
		t.Fatalf("normal at %v, closed at %v (event %v); want normal at the reading, closed at the disposal", a.NormalAt, a.ClosedAt, evs[0].At)
	}
}

func TestEvaluatorRecur(t *testing.T) {
	e := newEval(t, gasPoint())
	want(t, feed(t, e, 1, 0, 30, 10, 27, 55), "open:yellow", "normal:yellow", "recur:yellow", "escalate:red")
	if len(e.OpenAlarms()) != 1 {
		t.Fatal("one open alarm per (point, rule)")
	}
}

// A value hovering at a threshold does not flap: the deadband (2 %LEL for gas) holds the
// level until the value is clearly back.
func TestEvaluatorHysteresis(t *testing.T) {
	e := newEval(t, gasPoint())
	want(t, feed(t, e, 1, 0, 24.9, 25.1, 24.5, 25.3, 24.0, 23.1, 25.0, 24.2), "open:yellow", "peak:yellow")
	want(t, feed(t, e, 1, 100, 22.9), "normal:yellow")
	// Without the deadband it would have flapped: the same values on a kind without one.
	cfg := Default()
	for i := range cfg.Kinds {
		cfg.Kinds[i].Deadband, cfg.Kinds[i].DeadbandFraction = 0, 0
	}
	e2 := NewEvaluator(&cfg)
	if _, err := e2.SetPoint(gasPoint(), t0); err != nil {
		t.Fatal(err)
	}
	got := feed(t, e2, 1, 0, 24.9, 25.1, 24.5, 25.3)
	want(t, got, "open:yellow", "normal:yellow", "recur:yellow")
}

// Displacement needs three readings in a row to change its level, up and down.
func TestEvaluatorConsecutive(t *testing.T) {
	p := &Point{ID: 2, Code: "WY-01", UnitID: 20, Kind: "displacement", UnitOfMeasure: "mm", Location: orb.Point{102.7, 25}, IntervalS: 3600,
		Thresholds: Thresholds{Upper: &Bounds{Yellow: f(10), Orange: f(20), Red: f(30)}}}
	e := newEval(t, p)
	want(t, feed(t, e, 2, 0, 11, 12, 5, 11, 12), nil...)
	want(t, feed(t, e, 2, 10, 13), "open:yellow")
	// Rising fast: each level needs its own three readings.
	want(t, feed(t, e, 2, 20, 31, 32), "peak:yellow", "peak:yellow")
	want(t, feed(t, e, 2, 30, 33), "escalate:red")
	// Down: three readings below 10 − max(1, 5 %) = 9 end it.
	want(t, feed(t, e, 2, 40, 8, 8), nil...)
	want(t, feed(t, e, 2, 50, 8), "normal:red")
	if l, _ := e.Level(2); l != LevelNormal {
		t.Fatalf("level %s", l)
	}
}

func TestEvaluatorLowerThresholds(t *testing.T) {
	p := &Point{ID: 3, Code: "GT-01", UnitID: 20, Kind: "beach_length", UnitOfMeasure: "m", Location: orb.Point{102.7, 25}, IntervalS: 3600,
		Thresholds: Thresholds{Lower: &Bounds{Blue: f(100), Yellow: f(80), Orange: f(70), Red: f(60)}}}
	e := newEval(t, p)
	want(t, feed(t, e, 3, 0, 120, 95, 95, 75, 75, 50, 50), "open:blue", "peak:blue", "escalate:yellow", "peak:yellow", "escalate:red")
	a, _ := e.Alarm(3, RuleThreshold)
	if a.Side != SideLower || a.Peak != 50 {
		t.Fatalf("%+v", a)
	}
	want(t, feed(t, e, 3, 10, 110, 110), "normal:red")
}

// Late, duplicate and out-of-order readings never flap the state.
func TestEvaluatorLateAndDuplicate(t *testing.T) {
	e := newEval(t, gasPoint())
	want(t, feed(t, e, 1, 10, 30), "open:yellow")
	for _, tc := range []struct {
		name string
		r    Reading
		out  Outcome
	}{
		{"Duplicate", Reading{1, at(10), 5}, Duplicate},
		{"LateLow", Reading{1, at(3), 0}, Late},
		{"LateHigh", Reading{1, at(9), 99}, Late},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, o, err := e.Ingest(tc.r)
			if err != nil || o != tc.out || len(evs) != 0 {
				t.Fatalf("%v %v %v", evs, o, err)
			}
		})
	}
	if a, _ := e.Alarm(1, RuleThreshold); a.Level != LevelYellow || a.Normal || a.Peak != 30 {
		t.Fatalf("%+v", a)
	}
	for _, r := range []Reading{{1, at(20), 1e308}, {1, at(20), -1}, {9, at(20), 1}} {
		if _, _, err := e.Ingest(r); err == nil {
			t.Fatalf("%+v accepted", r)
		}
	}
}

// Readings in any order give the events of the readings that were newest when they came,
// in that order: shuffled, duplicated and late copies add nothing.
func TestEvaluatorAnyOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	for round := 0; round < 200; round++ {
		var rs []Reading
		for i := 0; i < 30; i++ {
			rs = append(rs, Reading{1, at(rng.Intn(40)), float64(rng.Intn(70))})
		}
		e1 := newEval(t, gasPoint())
		var got []string
		var newest []Reading
		for _, r := range rs {
			evs, o, err := e1.Ingest(r)
			if err != nil {
				t.Fatal(err)
			}
			if o == Evaluated {
				newest = append(newest, r)
			} else if len(evs) > 0 {
				t.Fatal("a late reading changed the state")
			}
			got = append(got, describe(t, evs)...)
		}
		e2 := newEval(t, gasPoint())
		var again []string
		for _, r := range newest {
			evs, _, _ := e2.Ingest(r)
			again = append(again, describe(t, evs)...)
		}
		if !slices.Equal(got, again) {
			t.Fatalf("round %d: %v then %v", round, got, again)
		}
	}
}

func TestEvaluatorOffline(t *testing.T) {
	e := newEval(t, gasPoint())
	if evs := e.Offline(at(179)); len(evs) != 0 {
		t.Fatal("offline before three intervals")
	}
	evs := e.Offline(at(1000))
	want(t, describe(t, evs), "offline:blue")
	if !evs[0].Alarm.OpenedAt.Equal(at(180)) || evs[0].Alarm.Rule != RuleOffline {
		t.Fatalf("offline from %v, want three intervals after the start", evs[0].Alarm.OpenedAt)
	}
	want(t, describe(t, e.Offline(at(2000))), nil...)
	// A reading: back online (the offline alarm waits for its disposal), and evaluated.
	want(t, feed(t, e, 1, 1500, 30), "normal:blue", "open:yellow")
	want(t, describe(t, e.Offline(at(1600))), nil...)
	evs, err := e.Dispose(1, RuleOffline, "更换通信模块", "李四", at(1601))
	if err != nil {
		t.Fatal(err)
	}
	want(t, describe(t, evs), "dispose:blue", "close:blue")
	// Silent again from its last reading.
	evs = e.Offline(at(1500 + 180))
	want(t, describe(t, evs), "offline:blue")
	if len(e.OpenAlarms()) != 2 {
		t.Fatal("one threshold and one offline alarm")
	}
}

// The tailings-dam rule: three points of one unit at a level agree and escalate one level.
func TestEvaluatorUnitEscalation(t *testing.T) {
	dam := func(id, unit int64) *Point {
		return &Point{ID: id, Code: "JRX-" + string(rune('0'+id)), UnitID: unit, Kind: "phreatic_line", UnitOfMeasure: "m", Location: orb.Point{102.7, 25}, IntervalS: 3600,
			Thresholds: Thresholds{Lower: &Bounds{Blue: f(8), Yellow: f(6), Orange: f(4), Red: f(2)}}}
	}
	e := newEval(t, dam(1, 30), dam(2, 30), dam(3, 30), dam(4, 31))
	want(t, feed(t, e, 1, 0, 5.5, 5.5), "open:yellow")
	want(t, feed(t, e, 4, 0, 5.5, 5.5), "open:yellow") // another unit: does not agree
	want(t, feed(t, e, 2, 0, 5.6, 5.6), "open:yellow")
	// Point 3 at blue: three points at blue or above agree, so it opens one level up.
	var evs []Event
	for i, v := range []float64{7, 7} {
		evs, _, _ = e.Ingest(Reading{3, at(i), v})
	}
	want(t, describe(t, evs), "open:yellow")
	if x := evs[0].Escalated; x == nil || x.From != LevelBlue || x.Points != 3 {
		t.Fatalf("escalated %+v", x)
	}
	if l, _ := e.Level(3); l != LevelBlue {
		t.Fatalf("its own level %s", l)
	}
	// Point 3 at yellow too: three agree at yellow, all three become orange.
	got := feed(t, e, 3, 10, 5.9, 5.9)
	want(t, got, "peak:yellow", "escalate:orange", "escalate:orange", "escalate:orange")
	for _, id := range []int64{1, 2, 3} {
		if a, _ := e.Alarm(id, RuleThreshold); a.Level != LevelOrange {
			t.Fatalf("point %d at %s", id, a.Level)
		}
	}
	if a, _ := e.Alarm(4, RuleThreshold); a.Level != LevelYellow {
		t.Fatal("another unit's point escalated")
	}
	// One point recovers: the others stay at their level (an alarm never drops while open).
	want(t, feed(t, e, 1, 20, 9, 9), "normal:orange")
	want(t, feed(t, e, 2, 20, 5.6), nil...)
	if a, _ := e.Alarm(2, RuleThreshold); a.Level != LevelOrange {
		t.Fatal("an alarm dropped while open")
	}
}

func TestRestoreOneOpenAlarm(t *testing.T) {
	e := newEval(t, gasPoint())
	a := &Alarm{Code: "BJ-1", PointID: 1, UnitID: 10, Rule: RuleThreshold, Level: LevelRed, Status: StatusAcknowledged, Side: SideUpper,
		OpenedAt: at(0), AcknowledgedAt: ptr(at(1)), Peak: 60, PeakAt: at(0), LastValue: 60}
	if err := e.Restore(a); err != nil {
		t.Fatal(err)
	}
	b := *a
	b.Code = "BJ-2"
	if err := e.Restore(&b); riskmap.ErrorCode(err) != riskmap.ECONFLICT {
		t.Fatalf("a second open alarm of (point, rule): %v", err)
	}
	// The restored level holds: a red value escalates nothing and opens nothing.
	want(t, feed(t, e, 1, 10, 55, 30), nil...)
	want(t, feed(t, e, 1, 20, 10), "normal:red")
}

func ptr(t time.Time) *time.Time { return &t }

func TestAlarmCondition(t *testing.T) {
	a := &Alarm{Code: "BJ-1", Level: LevelOrange, Status: StatusAcknowledged, OpenedAt: at(0)}
	c, ok := a.Condition()
	if !ok || c.Source != riskmap.ConditionAlarm || c.Ref != "BJ-1" || c.Level != "orange" || !c.Since.Equal(at(0)) {
		t.Fatalf("%+v %v", c, ok)
	}
	for _, b := range []*Alarm{{Code: "x", Level: LevelYellow, Status: StatusActive}, {Code: "y", Level: LevelRed, Status: StatusClosed}} {
		if _, ok := b.Condition(); ok {
			t.Fatalf("%+v raises", b)
		}
	}
	if n := len(Conditions([]*Alarm{a, {Level: LevelBlue}})); n != 1 {
		t.Fatal(n)
	}
}

func TestEvaluatorSetPoint(t *testing.T) {
	e := newEval(t, gasPoint())
	want(t, feed(t, e, 1, 0, 30), "open:yellow")
	t.Run("ErrInvalid", func(t *testing.T) {
		p := gasPoint()
		p.Thresholds.Upper.Red = f(10)
		if _, err := e.SetPoint(p, t0); riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatal(err)
		}
	})
	t.Run("NewThresholdsKeepTheAlarm", func(t *testing.T) {
		p := gasPoint()
		p.Thresholds.Upper.Orange = f(35)
		evs, err := e.SetPoint(p, t0)
		if err != nil || len(evs) != 0 {
			t.Fatal(evs, err)
		}
		want(t, feed(t, e, 1, 10, 36), "escalate:orange")
	})
	t.Run("MovedToAnotherUnitCloses", func(t *testing.T) {
		p := gasPoint()
		p.UnitID = 11
		evs, err := e.SetPoint(p, at(20))
		if err != nil {
			t.Fatal(err)
		}
		want(t, describe(t, evs), "close:orange")
		if len(e.OpenAlarms()) != 0 {
			t.Fatal("alarms left open")
		}
		want(t, feed(t, e, 1, 30, 36), "open:yellow")
		if a, _ := e.Alarm(1, RuleThreshold); a.UnitID != 11 || a.Level != LevelYellow {
			t.Fatalf("%+v", a)
		}
	})
}

func TestEvaluatorCodesAreUnique(t *testing.T) {
	e := newEval(t, gasPoint())
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		base := time.Duration(i) * 1500 * time.Millisecond
		for j, v := range []float64{30, 10} {
			evs, _, err := e.Ingest(Reading{1, t0.Add(base + time.Duration(j)*100*time.Millisecond), v})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if ev.Kind == EventOpen {
					if seen[ev.Alarm.Code] {
						t.Fatalf("code %s twice", ev.Alarm.Code)
					}
					seen[ev.Alarm.Code] = true
				}
			}
		}
		if _, err := e.Dispose(1, RuleThreshold, "复核", "x", t0.Add(base+time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 20 {
		t.Fatal(len(seen))
	}
}

func TestEvaluatorOfflineClockStartsAtFirstCheck(t *testing.T) {
	cfg := Default()
	e := NewEvaluator(&cfg)
	if _, err := e.SetPoint(gasPoint(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	want(t, describe(t, e.Offline(at(0))), nil...)
	want(t, describe(t, e.Offline(at(179))), nil...)
	want(t, describe(t, e.Offline(at(180))), "offline:blue")
}

// BenchmarkIngest: one reading through the evaluator (a gas point wandering around its
// thresholds).
func BenchmarkIngest(b *testing.B) {
	e := newEval(b, gasPoint())
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, _, err := e.Ingest(Reading{1, t0.Add(time.Duration(i) * time.Second), float64(i % 60)}); err != nil {
			b.Fatal(err)
		}
	}
}
