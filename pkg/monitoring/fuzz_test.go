package monitoring

import (
	"testing"

	"github.com/paulmach/orb"
)

// FuzzEvaluator drives the evaluator with any sequence of readings, offline checks,
// acknowledgements and disposals on two points of one tailings-dam unit and a gas point:
// it never panics, every event's alarm is valid, and there is never a second open alarm
// of a (point, rule) — an open or offline event comes only when none is open.
func FuzzEvaluator(fz *testing.F) {
	fz.Add([]byte{0, 1, 30, 0, 2, 60, 1, 3, 0, 2, 9, 0, 3, 9, 0, 4, 200, 0})
	fz.Add([]byte{5, 10, 7, 5, 11, 7, 6, 12, 7, 6, 13, 5, 7, 14, 5, 0, 15, 99})
	fz.Fuzz(func(t *testing.T, ops []byte) {
		dam := func(id int64) *Point {
			return &Point{ID: id, Code: "D", UnitID: 30, Kind: "phreatic_line", UnitOfMeasure: "m", Location: orb.Point{102, 25}, IntervalS: 60,
				Thresholds: Thresholds{Lower: &Bounds{Blue: f(8), Yellow: f(6), Orange: f(4), Red: f(2)}}}
		}
		cfg := Default()
		cfg.Escalations[0].MinPoints = 2
		e := NewEvaluator(&cfg)
		for _, p := range []*Point{gasPoint(), dam(2), dam(3)} {
			if _, err := e.SetPoint(p, t0); err != nil {
				t.Fatal(err)
			}
		}
		type key struct {
			p int64
			r Rule
		}
		open := map[key]bool{}
		clock := 0
		for i := 0; i+2 < len(ops); i += 3 {
			op, a, b := ops[i]%8, int(ops[i+1]), float64(ops[i+2])
			clock += a % 7
			var evs []Event
			var err error
			point := int64(1 + a%3)
			switch op {
			case 0, 1, 5, 6:
				v := b
				if point != 1 {
					v = b / 20
				}
				evs, _, err = e.Ingest(Reading{point, at(clock - a%5), v})
			case 2:
				evs = e.Offline(at(clock + a*10))
			case 3:
				evs, err = e.Acknowledge(point, Rule([]Rule{RuleThreshold, RuleOffline}[a%2]), "x", at(clock))
			case 4, 7:
				evs, err = e.Dispose(point, Rule([]Rule{RuleThreshold, RuleOffline}[a%2]), "处置", "x", at(clock))
			}
			_ = err
			for _, ev := range evs {
				if err := ev.Alarm.Validate(); err != nil {
					t.Fatalf("%s: %v", ev.Kind, err)
				}
				k := key{ev.Alarm.PointID, ev.Alarm.Rule}
				switch ev.Kind {
				case EventOpen, EventOffline:
					if open[k] {
						t.Fatalf("a second open alarm of %+v", k)
					}
					open[k] = true
				case EventClose:
					if !open[k] {
						t.Fatalf("closing an alarm not open: %+v", k)
					}
					delete(open, k)
				default:
					if !open[k] {
						t.Fatalf("%s of an alarm not open: %+v", ev.Kind, k)
					}
				}
			}
		}
		if n := len(e.OpenAlarms()); n != len(open) {
			t.Fatalf("%d open alarms, the events say %d", n, len(open))
		}
	})
}
