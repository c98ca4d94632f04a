package monitoring

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"riskmap/pkg/riskmap"
)

// EventKind says what happened to an alarm.
type EventKind string

// Event kinds: what a store persists and the event stream carries.
const (
	EventOpen     EventKind = "open"     // a new threshold alarm
	EventOffline  EventKind = "offline"  // a new offline alarm: the point fell silent
	EventEscalate EventKind = "escalate" // an open alarm's level rose
	EventRecur    EventKind = "recur"    // an open alarm that was back to normal is not any more
	EventPeak     EventKind = "peak"     // an open alarm's most severe value moved
	EventNormal   EventKind = "normal"   // values back to normal; the alarm waits for disposal
	EventAck      EventKind = "acknowledge"
	EventDispose  EventKind = "dispose"
	EventClose    EventKind = "close" // disposed and normal: the alarm is over
)

// Event is one change of an alarm; Alarm is a copy of the alarm after it.
type Event struct {
	Kind  EventKind `json:"kind"`
	Alarm *Alarm    `json:"alarm"`
	At    time.Time `json:"at"`
	// Escalated is set when the level comes from the unit's escalation rule: Points of the
	// unit agree at Escalated.From or above.
	Escalated *Escalated `json:"escalated,omitempty"`
}

// Escalated is the cause of a unit-level escalation.
type Escalated struct {
	From   Level `json:"from"`
	Points int   `json:"points"`
}

// Outcome is what Ingest did with a reading.
type Outcome int

// Outcomes of Ingest.
const (
	Evaluated Outcome = iota // the newest reading of its point: evaluated
	Duplicate                // the same time as the newest evaluated: ignored
	Late                     // older than the newest evaluated: kept by the store, not evaluated
)

// side is the level of a point on one side of its thresholds, with the runs of readings
// that make it change: enter[r] counts the latest readings in a row at or beyond the
// threshold of the level of rank r, exit[r] those inside it by more than the deadband.
type side struct {
	cur         Level
	enter, exit [5]int
}

// step feeds value v to the side of bounds b (upper when up) and returns the new level.
func (s *side) step(b *Bounds, k *Kind, v float64, up bool, need int) Level {
	if b == nil {
		s.cur = LevelNormal
		return s.cur
	}
	for _, l := range Levels {
		t := b.At(l)
		r := l.Rank()
		if t == nil {
			s.enter[r], s.exit[r] = 0, 0
			continue
		}
		db := k.deadband(*t)
		in, out := v >= *t, v < *t-db
		if !up {
			in, out = v <= *t, v > *t+db
		}
		s.enter[r] = bump(s.enter[r], in)
		s.exit[r] = bump(s.exit[r], out)
	}
	next := LevelNormal
	for i := len(Levels) - 1; i >= 0; i-- {
		l := Levels[i]
		if b.At(l) == nil {
			continue
		}
		r := l.Rank()
		if (r <= s.cur.Rank() && s.exit[r] < need) || (r > s.cur.Rank() && s.enter[r] >= need) {
			next = l
			break
		}
	}
	s.cur = next
	return next
}

func bump(n int, ok bool) int {
	if !ok {
		return 0
	}
	return min(n+1, 1<<20)
}

// pointState is what the evaluator knows of a point.
type pointState struct {
	p            *Point
	kind         *Kind
	esc          *Escalation
	since        time.Time // watched from (the offline clock of a point never heard from)
	last         time.Time
	lastValue    float64
	heard        bool
	upper, lower side
	alarms       map[Rule]*Alarm
}

// measured is the point's own level and the side it is on.
func (ps *pointState) measured() (Level, Side) {
	switch {
	case ps.upper.cur.Valid() && !ps.lower.cur.Higher(ps.upper.cur):
		return ps.upper.cur, SideUpper
	case ps.lower.cur.Valid():
		return ps.lower.cur, SideLower
	}
	return LevelNormal, ""
}

// Evaluator is the state machine of alarms: fed a point's readings it keeps, per (point,
// rule), at most one open alarm, and says what changed as Events for a store to persist.
// It is deterministic: the same calls give the same events. It is not safe for concurrent
// use; one goroutine (or a lock) owns it.
type Evaluator struct {
	cfg    *Config
	points map[int64]*pointState
	units  map[int64][]*pointState // by unit, ordered by point id
	// Code names a new alarm; the default, BJ-<point id>-<opened, UTC to the nanosecond>
	// (-OFF for offline), is unique: a (point, rule)'s alarms open at increasing times.
	Code func(p *Point, rule Rule, opened time.Time) string
}

// NewEvaluator is an evaluator of the taxonomy cfg (checked).
func NewEvaluator(cfg *Config) *Evaluator {
	return &Evaluator{cfg: cfg, points: map[int64]*pointState{}, units: map[int64][]*pointState{}, Code: defaultCode}
}

func defaultCode(p *Point, rule Rule, opened time.Time) string {
	c := fmt.Sprintf("BJ-%d-%s", p.ID, opened.UTC().Format("20060102150405.999999999"))
	if rule == RuleOffline {
		c += "-OFF"
	}
	return c
}

// SetPoint watches point p (a copy), or takes its new settings when already watched: new
// thresholds start the runs of readings anew but keep the level and the open alarms; a
// point moved to another unit closes its alarms (the events) and starts afresh. since
// starts the offline clock of a point never heard from (zero: the first Offline call).
func (e *Evaluator) SetPoint(p *Point, since time.Time) ([]Event, error) {
	if p.ID < 1 {
		return nil, riskmap.Errorf(riskmap.EINVALID, "监测点须有编号")
	}
	if err := e.cfg.CheckPoint(p); err != nil {
		return nil, err
	}
	cp := *p
	cp.Thresholds = p.Thresholds.clone()
	k, _ := e.cfg.Kind(p.Kind)
	var evs []Event
	if ps, ok := e.points[p.ID]; ok {
		if ps.p.UnitID == p.UnitID {
			ps.p, ps.kind, ps.esc = &cp, k, e.cfg.escalation(p.Kind)
			ps.upper.enter, ps.upper.exit, ps.lower.enter, ps.lower.exit = [5]int{}, [5]int{}, [5]int{}, [5]int{}
			return nil, nil
		}
		evs = e.RemovePoint(p.ID, since)
	}
	ps := &pointState{p: &cp, kind: k, esc: e.cfg.escalation(p.Kind), since: since, alarms: map[Rule]*Alarm{}}
	e.points[p.ID] = ps
	u := append(e.units[p.UnitID], ps)
	sort.Slice(u, func(i, j int) bool { return u[i].p.ID < u[j].p.ID })
	e.units[p.UnitID] = u
	return evs, nil
}

// RemovePoint stops watching a point; its open alarms close at time at.
func (e *Evaluator) RemovePoint(id int64, at time.Time) []Event {
	ps, ok := e.points[id]
	if !ok {
		return nil
	}
	var evs []Event
	for _, r := range []Rule{RuleThreshold, RuleOffline} {
		if a := ps.alarms[r]; a != nil {
			a.close(at)
			evs = append(evs, Event{Kind: EventClose, Alarm: a.clone(), At: *a.ClosedAt})
		}
	}
	delete(e.points, id)
	e.units[ps.p.UnitID] = slices.DeleteFunc(e.units[ps.p.UnitID], func(q *pointState) bool { return q == ps })
	if len(e.units[ps.p.UnitID]) == 0 {
		delete(e.units, ps.p.UnitID)
	}
	return evs
}

// Restore takes an open alarm from a store (at start): the evaluator then holds it as the
// one open alarm of its (point, rule). A threshold alarm that is not back to normal sets
// its point's level on its side.
func (e *Evaluator) Restore(a *Alarm) error {
	ps, ok := e.points[a.PointID]
	if !ok {
		return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的监测点", a.PointID)
	}
	if err := a.Validate(); err != nil {
		return err
	}
	if !a.Open() {
		return nil
	}
	if old := ps.alarms[a.Rule]; old != nil {
		return riskmap.Errorf(riskmap.ECONFLICT, "监测点 %d 已有未关闭的同类报警 %s", a.PointID, old.Code)
	}
	return e.Adopt(a)
}

// Ingest evaluates a reading. A reading older than the newest one evaluated of its point
// is Late and one at the same time a Duplicate: neither changes any state. Errors: EINVALID
// (a value that is not finite or outside the kind's range), ENOTFOUND (a point not watched).
func (e *Evaluator) Ingest(r Reading) ([]Event, Outcome, error) {
	ps, ok := e.points[r.PointID]
	if !ok {
		return nil, Late, riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的监测点", r.PointID)
	}
	if err := r.Validate(); err != nil {
		return nil, Late, err
	}
	if r.Value < ps.kind.Min || r.Value > ps.kind.Max {
		return nil, Late, riskmap.Errorf(riskmap.EINVALID, "数值 %g 超出%s的量程（%g 到 %g %s）", r.Value, ps.kind.Label, ps.kind.Min, ps.kind.Max, ps.kind.Unit)
	}
	if ps.heard {
		if r.Time.Equal(ps.last) {
			return nil, Duplicate, nil
		}
		if r.Time.Before(ps.last) {
			return nil, Late, nil
		}
	}
	ps.heard, ps.last, ps.lastValue = true, r.Time, r.Value
	var evs []Event
	if a := ps.alarms[RuleOffline]; a != nil && !a.Normal {
		evs = append(evs, e.normal(ps, a, r.Time))
	}
	need := ps.kind.Consecutive
	before, _ := ps.measured()
	ps.upper.step(ps.p.Thresholds.Upper, ps.kind, r.Value, true, need)
	ps.lower.step(ps.p.Thresholds.Lower, ps.kind, r.Value, false, need)
	evs = e.apply(ps, r.Time, false, evs)
	if after, _ := ps.measured(); after != before && ps.esc != nil {
		// The others of the unit under the same rule may now agree: escalate them.
		for _, q := range e.units[ps.p.UnitID] {
			if q != ps && q.esc == ps.esc {
				evs = e.apply(q, r.Time, true, evs)
			}
		}
	}
	return evs, Evaluated, nil
}

// target is the level a point's threshold alarm should have: its own, one higher when
// enough points of its unit under its escalation rule are at that level or above.
func (e *Evaluator) target(ps *pointState) (Level, Side, *Escalated) {
	m, s := ps.measured()
	if !m.Valid() || ps.esc == nil || m == LevelRed {
		return m, s, nil
	}
	n := 0
	for _, q := range e.units[ps.p.UnitID] {
		if q.esc == ps.esc {
			if ql, _ := q.measured(); ql.Rank() >= m.Rank() {
				n++
			}
		}
	}
	if n >= ps.esc.MinPoints {
		return m.Next(), s, &Escalated{From: m, Points: n}
	}
	return m, s, nil
}

// apply brings the threshold alarm of ps to its target level at time at; onlyUp (a
// neighbour's reading) only escalates an open alarm.
func (e *Evaluator) apply(ps *pointState, at time.Time, onlyUp bool, evs []Event) []Event {
	lvl, sd, esc := e.target(ps)
	a := ps.alarms[RuleThreshold]
	v := ps.lastValue
	if a != nil && at.Before(a.OpenedAt) {
		// Points' clocks differ: a neighbour's reading may be older than this alarm, and a
		// restored alarm newer than the first reading after a restart.
		at = a.OpenedAt
	}
	switch {
	case onlyUp:
		if a != nil && !a.Normal && lvl.Higher(a.Level) {
			a.Level, a.EscalatedAt = lvl, &at
			evs = append(evs, Event{Kind: EventEscalate, Alarm: a.clone(), At: at, Escalated: esc})
		}
	case !lvl.Valid():
		if a != nil {
			a.LastValue = v
			if !a.Normal {
				evs = append(evs, e.normal(ps, a, at))
			}
		}
	case a == nil:
		a = &Alarm{Code: e.Code(ps.p, RuleThreshold, at), PointID: ps.p.ID, UnitID: ps.p.UnitID, Rule: RuleThreshold, Level: lvl,
			Status: StatusActive, Side: sd, OpenedAt: at, Peak: v, PeakAt: at, LastValue: v}
		ps.alarms[RuleThreshold] = a
		evs = append(evs, Event{Kind: EventOpen, Alarm: a.clone(), At: at, Escalated: esc})
	default:
		a.LastValue = v
		kind := EventKind("")
		if a.Normal {
			a.Normal, a.NormalAt, a.Side = false, nil, sd
			a.Peak, a.PeakAt = v, at
			kind = EventRecur
		}
		if lvl.Higher(a.Level) {
			a.Level, a.EscalatedAt = lvl, &at
			if kind == "" {
				kind = EventEscalate
			}
		}
		if (a.Side == SideUpper && v > a.Peak) || (a.Side == SideLower && v < a.Peak) {
			a.Peak, a.PeakAt = v, at
			if kind == "" {
				kind = EventPeak
			}
		}
		if kind != "" {
			evs = append(evs, Event{Kind: kind, Alarm: a.clone(), At: at, Escalated: esc})
		}
	}
	return evs
}

// normal marks a back to normal; a disposed alarm closes (and leaves the evaluator).
func (e *Evaluator) normal(ps *pointState, a *Alarm, at time.Time) Event {
	if at.Before(a.OpenedAt) { // a reading from before an offline alarm's moment, delivered late
		at = a.OpenedAt
	}
	a.Normal, a.NormalAt = true, &at
	if a.Status == StatusDisposed {
		a.close(at)
		delete(ps.alarms, a.Rule)
		return Event{Kind: EventClose, Alarm: a.clone(), At: *a.ClosedAt}
	}
	return Event{Kind: EventNormal, Alarm: a.clone(), At: at}
}

// Offline raises an offline alarm for every point silent (no reading evaluated, or none
// since it was first watched) for Config.OfflineAfter of its intervals at time now. The
// alarm opens at the moment the silence became long enough, however late the check runs.
func (e *Evaluator) Offline(now time.Time) []Event {
	var evs []Event
	for _, id := range e.ids() {
		ps := e.points[id]
		if !ps.heard && ps.since.IsZero() {
			ps.since = now
		}
		ref := ps.since
		if ps.heard {
			ref = ps.last
		}
		silence := time.Duration(e.cfg.OfflineAfter) * ps.p.Interval()
		if ps.p.IntervalS < 1 || now.Sub(ref) < silence {
			continue
		}
		if a := ps.alarms[RuleOffline]; a != nil {
			if a.Normal { // back to normal but not yet disposed; silent again
				a.Normal, a.NormalAt = false, nil
				evs = append(evs, Event{Kind: EventRecur, Alarm: a.clone(), At: now})
			}
			continue
		}
		at := ref.Add(silence)
		a := &Alarm{Code: e.Code(ps.p, RuleOffline, at), PointID: id, UnitID: ps.p.UnitID, Rule: RuleOffline, Level: e.cfg.OfflineLevel,
			Status: StatusActive, OpenedAt: at, Peak: ps.lastValue, PeakAt: ref, LastValue: ps.lastValue}
		ps.alarms[RuleOffline] = a
		evs = append(evs, Event{Kind: EventOffline, Alarm: a.clone(), At: at})
	}
	return evs
}

func (e *Evaluator) ids() []int64 {
	ids := make([]int64, 0, len(e.points))
	for id := range e.points {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Alarm is a copy of the open alarm of (point, rule).
func (e *Evaluator) Alarm(point int64, rule Rule) (*Alarm, bool) {
	if ps, ok := e.points[point]; ok {
		if a := ps.alarms[rule]; a != nil {
			return a.clone(), true
		}
	}
	return nil, false
}

// OpenAlarms are copies of every open alarm, by point id then rule.
func (e *Evaluator) OpenAlarms() []*Alarm {
	var out []*Alarm
	for _, id := range e.ids() {
		for _, r := range []Rule{RuleThreshold, RuleOffline} {
			if a := e.points[id].alarms[r]; a != nil {
				out = append(out, a.clone())
			}
		}
	}
	return out
}

// Level is the point's own level now (before any escalation) and ok false for a point not
// watched.
func (e *Evaluator) Level(point int64) (Level, bool) {
	ps, ok := e.points[point]
	if !ok {
		return LevelNormal, false
	}
	l, _ := ps.measured()
	return l, true
}

func (e *Evaluator) open(point int64, rule Rule) (*pointState, *Alarm, error) {
	if ps, ok := e.points[point]; ok {
		if a := ps.alarms[rule]; a != nil {
			return ps, a, nil
		}
	}
	return nil, nil, riskmap.Errorf(riskmap.ENOTFOUND, "监测点 %d 没有未关闭的报警", point)
}

// Acknowledge confirms the open alarm of (point, rule). Errors: ENOTFOUND (none open),
// ECONFLICT (not active).
func (e *Evaluator) Acknowledge(point int64, rule Rule, by string, at time.Time) ([]Event, error) {
	_, a, err := e.open(point, rule)
	if err != nil {
		return nil, err
	}
	if err := a.Acknowledge(by, at); err != nil {
		return nil, err
	}
	return []Event{{Kind: EventAck, Alarm: a.clone(), At: *a.AcknowledgedAt}}, nil
}

// Dispose records the disposal of the open alarm of (point, rule) with the action taken;
// when its values are already normal it closes. Errors: ENOTFOUND, ECONFLICT (disposed
// already), EINVALID (no action).
func (e *Evaluator) Dispose(point int64, rule Rule, action, by string, at time.Time) ([]Event, error) {
	ps, a, err := e.open(point, rule)
	if err != nil {
		return nil, err
	}
	closed, err := a.Dispose(action, by, at)
	if err != nil {
		return nil, err
	}
	evs := []Event{{Kind: EventDispose, Alarm: a.clone(), At: *a.DisposedAt}}
	if closed {
		delete(ps.alarms, rule)
		evs = append(evs, Event{Kind: EventClose, Alarm: a.clone(), At: *a.ClosedAt})
	}
	return evs, nil
}

// Adopt takes the stored state of an alarm that another writer changed (another replica,
// or a stale write reloaded): an open alarm replaces the evaluator's open alarm of its
// (point, rule) — a threshold alarm not back to normal sets its point's level on its side,
// as Restore does — and a closed one removes the evaluator's alarm of its (point, rule)
// when it is the same alarm (same code). ENOTFOUND for a point not watched.
func (e *Evaluator) Adopt(a *Alarm) error {
	ps, ok := e.points[a.PointID]
	if !ok {
		return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的监测点", a.PointID)
	}
	if !a.Open() {
		if old := ps.alarms[a.Rule]; old != nil && old.Code == a.Code {
			delete(ps.alarms, a.Rule)
		}
		return nil
	}
	ps.alarms[a.Rule] = a.clone()
	if a.Rule == RuleThreshold && !a.Normal {
		if a.Side == SideLower {
			ps.lower.cur = maxLevel(ps.lower.cur, a.Level)
		} else {
			ps.upper.cur = maxLevel(ps.upper.cur, a.Level)
		}
	}
	return nil
}

// unitAlarms are copies of the open alarms of a unit's points, by point id then rule.
func (e *Evaluator) unitAlarms(unit int64) []*Alarm {
	var out []*Alarm
	for _, ps := range e.units[unit] {
		for _, r := range []Rule{RuleThreshold, RuleOffline} {
			if a := ps.alarms[r]; a != nil {
				out = append(out, a.clone())
			}
		}
	}
	return out
}
