package monitoring

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"riskmap/pkg/riskmap"
)

// UnitRef is what the service needs of a risk unit (from the spatial index, wired in
// cmd/riskmap).
type UnitRef struct {
	ID                                           int64
	Code, Name, Category, RegionCode, Department string
	Grade                                        riskmap.Grade
}

// Group commit: concurrent Ingest calls are stored by one AppendReadings of up to
// commitRows rows (a single larger call goes alone).
const commitRows = 5000

// subscriberBuffer is how far a subscriber may fall behind before it is dropped.
const subscriberBuffer = 1024

// Service is the live side of monitoring: it keeps every point and the evaluator in
// memory, stores readings (group commit), persists the alarm events the evaluator says,
// writes the alarm conditions of the units they touch, and tells subscribers. Build it with
// NewService, Load it, then Run it.
type Service struct {
	Store  Store
	Config *Config // checked taxonomy
	// Unit gives a unit that is not retired; false: no such unit.
	Unit func(id int64) (UnitRef, bool)
	// Conditions writes a unit's alarm conditions (register.Service.SetConditions(ctx, id,
	// riskmap.ConditionAlarm, conds)); nil: none written.
	Conditions func(ctx context.Context, unitID int64, conds []riskmap.Condition) error
	Now        func() time.Time
	Logger     *slog.Logger
	// Retention: readings older than this are dropped daily (config
	// monitoring.retention_days, default 400); 0 keeps all.
	Retention time.Duration
	// Shared says that other processes serve the same store (PostGIS replicas): Run reads
	// their points every 10 s and their open alarms every 2 s. A GeoPackage is one
	// process's, and nothing is read again.
	Shared bool

	mu     sync.Mutex // the evaluator and the points
	ev     *Evaluator
	points map[int64]*Point
	byCode map[string]int64
	latest map[int64]Reading

	gmu      sync.Mutex // the group commit's queue
	queue    []*commitReq
	flushing bool
	// inFlight bounds the batches being stored at once (commitPipeline); lastEval is
	// closed once the batch taken last has been evaluated (under gmu).
	inFlight chan struct{}
	lastEval chan struct{}

	cmu  sync.Mutex // Conditions calls, one at a time
	sent map[int64]string

	rmu       sync.Mutex // refreshes of the points on a miss
	refreshed time.Time

	smu    sync.Mutex // subscribers
	subs   map[int]chan Event
	nextID int
}

// NewService is a service over st with the taxonomy cfg (checked) and the units of unit.
func NewService(st Store, cfg *Config, unit func(int64) (UnitRef, bool)) *Service {
	return &Service{Store: st, Config: cfg, Unit: unit, ev: NewEvaluator(cfg), points: map[int64]*Point{},
		byCode: map[string]int64{}, latest: map[int64]Reading{}, sent: map[int64]string{}, subs: map[int]chan Event{},
		inFlight: make(chan struct{}, commitPipeline)}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Load reads every point, the open alarms and the latest readings into the evaluator: at
// start. A point never heard from starts its offline clock now.
func (s *Service) Load(ctx context.Context) error {
	ps, err := s.Store.Points(ctx, 0)
	if err != nil {
		return err
	}
	open, err := s.openAlarms(ctx)
	if err != nil {
		return err
	}
	latest, err := s.Store.LatestReadings(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	s.mu.Lock()
	var evs []Event
	for _, p := range ps {
		e, err := s.ev.SetPoint(p, now)
		if err != nil {
			s.logger().Warn("monitoring point not watched", "point", p.ID, "err", err)
			continue
		}
		evs = append(evs, e...)
		s.setPoint(p)
	}
	for _, a := range open {
		if err := s.ev.Restore(a); err != nil {
			s.logger().Warn("open alarm not restored", "alarm", a.Code, "err", err)
		}
	}
	touched := map[int64]bool{}
	for _, r := range latest {
		e, out, err := s.ev.Ingest(r)
		if err != nil {
			continue
		}
		if out == Evaluated {
			s.latest[r.PointID] = r
		}
		evs = append(evs, e...)
	}
	s.persist(ctx, evs, nil, touched)
	s.mu.Unlock()
	s.updateConditions(ctx, touched)
	return nil
}

// openAlarms reads every open alarm.
func (s *Service) openAlarms(ctx context.Context) ([]*Alarm, error) {
	var open []*Alarm
	err := s.eachAlarm(ctx, AlarmFilter{Open: true}, 0, func(a *Alarm) bool {
		open = append(open, a)
		return true
	})
	return open, err
}

// MaxScan is the most alarms Alarms and Stats read from the store for one answer.
const MaxScan = 100_000

// eachAlarm calls fn with the alarms f selects, newest first, page by page, until fn
// returns false or max (0: no limit) alarms were read.
func (s *Service) eachAlarm(ctx context.Context, f AlarmFilter, max int, fn func(*Alarm) bool) error {
	f.Limit, f.Before = MaxAlarms, 0
	n := 0
	for {
		as, err := s.Store.FindAlarms(ctx, f)
		if err != nil {
			return err
		}
		for _, a := range as {
			if !fn(a) {
				return nil
			}
			if n++; max > 0 && n >= max {
				return nil
			}
		}
		if len(as) < MaxAlarms {
			return nil
		}
		f.Before = as[len(as)-1].ID
	}
}

// WantedConditions are the alarm conditions every unit with an open orange or red alarm
// should have (for register.Service.ReconcileConditions at start).
func (s *Service) WantedConditions() map[int64][]riskmap.Condition {
	s.mu.Lock()
	out := map[int64][]riskmap.Condition{}
	for unit := range s.ev.units {
		if c := Conditions(s.ev.unitAlarms(unit)); len(c) > 0 {
			out[unit] = c
		}
	}
	s.mu.Unlock()
	return out
}

// setPoint keeps a copy of p (s.mu held).
func (s *Service) setPoint(p *Point) {
	if old, ok := s.points[p.ID]; ok && s.byCode[old.Code] == p.ID {
		delete(s.byCode, old.Code)
	}
	cp := *p
	cp.Thresholds = p.Thresholds.clone()
	s.points[p.ID] = &cp
	s.byCode[p.Code] = p.ID
}

func (s *Service) removePoint(id int64) {
	if old, ok := s.points[id]; ok && s.byCode[old.Code] == id {
		delete(s.byCode, old.Code)
	}
	delete(s.points, id)
	delete(s.latest, id)
}

// Run works until ctx is done: the offline check (and the points other replicas wrote)
// every 10 s, the replica sync of open alarms every 2 s, and daily the monthly partitions
// (this month and the next) and the retention of readings.
func (s *Service) Run(ctx context.Context) {
	offline := time.NewTicker(10 * time.Second)
	defer offline.Stop()
	var syncC <-chan time.Time // nil: the store is this process's alone, nothing to follow
	if s.Shared {
		sync := time.NewTicker(2 * time.Second)
		defer sync.Stop()
		syncC = sync.C
	}
	daily := time.NewTicker(24 * time.Hour)
	defer daily.Stop()
	s.Maintain(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-offline.C:
			if s.Shared {
				if err := s.SyncPoints(ctx); err != nil && ctx.Err() == nil {
					s.logger().Warn("reading monitoring points", "err", err)
				}
			}
			s.CheckOffline(ctx)
		case <-syncC:
			if err := s.SyncAlarms(ctx); err != nil && ctx.Err() == nil {
				s.logger().Warn("syncing open alarms", "err", err)
			}
		case <-daily.C:
			s.Maintain(ctx)
		}
	}
}

// Maintain makes the partitions of this month and the next and drops the readings older
// than Retention.
func (s *Service) Maintain(ctx context.Context) {
	now := s.now()
	if err := s.Store.EnsurePartitions(ctx, MonthStart(now), MonthStart(now).AddDate(0, 1, 0)); err != nil && ctx.Err() == nil {
		s.logger().Warn("creating readings partitions", "err", err)
	}
	if s.Retention > 0 {
		n, err := s.Store.DropReadingsBefore(ctx, now.Add(-s.Retention))
		if err != nil && ctx.Err() == nil {
			s.logger().Warn("dropping old readings", "err", err)
		} else if n > 0 {
			s.logger().Info("old readings dropped", "readings", n, "retention_days", int(s.Retention/(24*time.Hour)))
		}
	}
}

// CheckOffline raises the offline alarms of the points silent too long now.
func (s *Service) CheckOffline(ctx context.Context) {
	touched := map[int64]bool{}
	s.mu.Lock()
	evs := s.ev.Offline(s.now())
	s.persist(ctx, evs, nil, touched)
	s.mu.Unlock()
	s.updateConditions(ctx, touched)
}

// SyncPoints takes the points as stored (other replicas' writes).
func (s *Service) SyncPoints(ctx context.Context) error {
	ps, err := s.Store.Points(ctx, 0)
	if err != nil {
		return err
	}
	touched := map[int64]bool{}
	now := s.now()
	s.mu.Lock()
	defer func() { s.mu.Unlock(); s.updateConditions(ctx, touched) }()
	seen := map[int64]bool{}
	var evs []Event
	for _, p := range ps {
		seen[p.ID] = true
		if old, ok := s.points[p.ID]; ok && old.Version >= p.Version {
			continue
		}
		e, err := s.ev.SetPoint(p, now)
		if err != nil {
			continue
		}
		evs = append(evs, e...)
		s.setPoint(p)
	}
	for id := range s.points {
		if !seen[id] {
			evs = append(evs, s.ev.RemovePoint(id, now)...)
			s.removePoint(id)
		}
	}
	s.persist(ctx, evs, nil, touched)
	return nil
}

// SyncAlarms takes the open alarms as stored: those other replicas opened, changed or
// closed are adopted and their events published here.
func (s *Service) SyncAlarms(ctx context.Context) error {
	stored, err := s.openAlarms(ctx)
	if err != nil {
		return err
	}
	byCode := map[string]*Alarm{}
	for _, a := range stored {
		byCode[a.Code] = a
	}
	s.mu.Lock()
	mine := s.ev.OpenAlarms()
	s.mu.Unlock()
	// Ours that are no longer open in the store.
	var gone []*Alarm
	for _, a := range mine {
		if _, ok := byCode[a.Code]; !ok && a.ID > 0 {
			if st, err := s.Store.GetAlarm(ctx, a.ID); err == nil && !st.Open() {
				gone = append(gone, st)
			}
		}
	}
	touched := map[int64]bool{}
	s.mu.Lock()
	var evs []Event
	for _, a := range stored {
		cur, ok := s.ev.Alarm(a.PointID, a.Rule)
		if ok && cur.Code == a.Code && cur.Version >= a.Version {
			continue
		}
		if _, watched := s.points[a.PointID]; !watched {
			continue
		}
		// Read again under the lock: the list may predate a write of ours (this replica
		// closed the alarm, or wrote a newer version, since).
		fresh, err := s.Store.GetAlarm(ctx, a.ID)
		if err != nil || !fresh.Open() || (ok && cur.Code == fresh.Code && cur.Version >= fresh.Version) {
			continue
		}
		if err := s.ev.Adopt(fresh); err != nil {
			continue
		}
		evs = append(evs, Event{Kind: syncKind(cur, fresh), Alarm: fresh.clone(), At: s.now()})
		touched[fresh.UnitID] = true
	}
	for _, a := range gone { // closed is final
		if cur, ok := s.ev.Alarm(a.PointID, a.Rule); ok && cur.Code == a.Code {
			_ = s.ev.Adopt(a)
			evs = append(evs, Event{Kind: EventClose, Alarm: a.clone(), At: s.now()})
			touched[a.UnitID] = true
		}
	}
	s.publish(evs)
	s.mu.Unlock()
	s.updateConditions(ctx, touched)
	return nil
}

// syncKind names what another replica did to an alarm, from its state before and after.
func syncKind(before *Alarm, a *Alarm) EventKind {
	switch {
	case before == nil || before.Code != a.Code:
		if a.Rule == RuleOffline {
			return EventOffline
		}
		return EventOpen
	case a.Status != before.Status && a.Status == StatusAcknowledged:
		return EventAck
	case a.Status != before.Status && a.Status == StatusDisposed:
		return EventDispose
	case a.Level.Higher(before.Level):
		return EventEscalate
	case a.Normal && !before.Normal:
		return EventNormal
	case !a.Normal && before.Normal:
		return EventRecur
	}
	return EventPeak
}

// persist stores the events of one evaluator call (s.mu held): per alarm its last state,
// opened or updated; then publishes them. A conflicting open (another replica opened the
// alarm first) adopts the stored one; a stale update reloads, adopts and reapplies (again, up to maxReapply times).
// rec records the first write (a person's transition). touched gets the units.
func (s *Service) persist(ctx context.Context, evs []Event, rec riskmap.AccessRecordFunc, touched map[int64]bool) error {
	if len(evs) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	// Events of one alarm, in order.
	var order []string
	groups := map[string][]Event{}
	for _, ev := range evs {
		if _, ok := groups[ev.Alarm.Code]; !ok {
			order = append(order, ev.Alarm.Code)
		}
		groups[ev.Alarm.Code] = append(groups[ev.Alarm.Code], ev)
	}
	var firstErr error
	var out []Event
	for _, code := range order {
		g := groups[code]
		last := g[len(g)-1].Alarm.clone()
		stored, err := s.write(ctx, last, g, rec)
		rec = nil
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			s.logger().Error("persisting an alarm event", "alarm", code, "err", err)
			continue
		}
		if stored == nil { // adopted another writer's alarm instead
			continue
		}
		touched[stored.UnitID] = true
		for _, ev := range g {
			a := ev.Alarm.clone()
			a.ID, a.Version = stored.ID, stored.Version
			out = append(out, Event{Kind: ev.Kind, Alarm: a, At: ev.At, Escalated: ev.Escalated})
		}
		if len(out) > 0 {
			out[len(out)-1].Alarm = stored.clone()
		}
	}
	s.publish(out)
	return firstErr
}

// write stores alarm a (the last state of events g) and returns it as stored, nil when
// another writer's alarm was adopted instead.
func (s *Service) write(ctx context.Context, a *Alarm, g []Event, rec riskmap.AccessRecordFunc) (*Alarm, error) {
	if a.ID == 0 {
		err := s.Store.OpenAlarmRecorded(ctx, a, rec)
		if err == nil {
			if a.Open() {
				_ = s.ev.Adopt(a)
			}
			return a, nil
		}
		if riskmap.ErrorCode(err) != riskmap.ECONFLICT {
			// Not stored: the evaluator forgets it, so that the next reading opens it again.
			a.Status, a.ClosedAt = StatusClosed, &a.OpenedAt
			_ = s.ev.Adopt(a)
			return nil, err
		}
		// Another replica opened the alarm of this point and rule first: take it.
		open, ferr := s.Store.FindAlarms(ctx, AlarmFilter{PointID: a.PointID, Open: true})
		if ferr != nil {
			return nil, ferr
		}
		for _, o := range open {
			if o.Rule == a.Rule {
				_ = s.ev.Adopt(o)
				s.publish([]Event{{Kind: syncKind(nil, o), Alarm: o.clone(), At: o.OpenedAt}})
				return nil, nil
			}
		}
		return nil, err
	}
	err := s.Store.UpdateAlarmRecorded(ctx, a, rec)
	if err == nil {
		_ = s.ev.Adopt(a)
		return a, nil
	}
	if riskmap.ErrorCode(err) != riskmap.EPRECONDITION {
		return nil, err
	}
	// Stale: another writer changed it since. Reload, adopt, reapply — again while other
	// replicas keep writing it between our read and our write (two replicas ingesting one
	// point's readings at once lost that race now and then, and with it these events).
	for try := 0; ; try++ {
		st, gerr := s.Store.GetAlarm(ctx, a.ID)
		if gerr != nil {
			return nil, gerr
		}
		_ = s.ev.Adopt(st)
		if !st.Open() {
			s.publish([]Event{{Kind: EventClose, Alarm: st.clone(), At: s.now()}})
			return nil, nil
		}
		m := reapply(st, a, g)
		err := s.Store.UpdateAlarmRecorded(ctx, m, rec)
		if err == nil {
			_ = s.ev.Adopt(m)
			return m, nil
		}
		if riskmap.ErrorCode(err) != riskmap.EPRECONDITION || try+1 >= maxReapply {
			return nil, err
		}
	}
}

// maxReapply is how many more times a stale alarm write is reloaded and reapplied.
const maxReapply = 8

// reapply lays the changes of events g (ours, the state a) over the stored alarm st.
func reapply(st, a *Alarm, g []Event) *Alarm {
	m := st.clone()
	m.LastValue = a.LastValue
	for _, ev := range g {
		switch ev.Kind {
		case EventEscalate:
			if a.Level.Higher(m.Level) {
				m.Level, m.EscalatedAt = a.Level, a.EscalatedAt
			}
		case EventRecur:
			m.Normal, m.NormalAt = false, nil
		case EventNormal, EventClose:
			if a.Normal && !m.Normal {
				m.Normal, m.NormalAt = true, a.NormalAt
			}
			if m.Normal && m.Status == StatusDisposed {
				m.close(*m.NormalAt)
			}
		}
	}
	if (m.Side == SideUpper && a.Peak > m.Peak) || (m.Side == SideLower && a.Peak < m.Peak) {
		m.Peak, m.PeakAt = a.Peak, a.PeakAt
	}
	return m
}

// Subscribe returns a channel of every event after it is persisted, in order, and its
// cancel function. A subscriber that falls subscriberBuffer events behind is dropped: its
// channel is closed.
func (s *Service) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, subscriberBuffer)
	s.smu.Lock()
	id := s.nextID
	s.nextID++
	s.subs[id] = ch
	s.smu.Unlock()
	return ch, func() {
		s.smu.Lock()
		if c, ok := s.subs[id]; ok {
			delete(s.subs, id)
			close(c)
		}
		s.smu.Unlock()
	}
}

func (s *Service) publish(evs []Event) {
	if len(evs) == 0 {
		return
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	for _, ev := range evs {
		for id, ch := range s.subs {
			select {
			case ch <- ev:
			default:
				delete(s.subs, id)
				close(ch)
			}
		}
	}
}

// updateConditions writes the alarm conditions of the units touched whose conditions
// changed since last written (outside s.mu; one call at a time, each with the state of the
// moment).
func (s *Service) updateConditions(ctx context.Context, touched map[int64]bool) {
	if s.Conditions == nil || len(touched) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	ids := make([]int64, 0, len(touched))
	for id := range touched {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	s.cmu.Lock()
	defer s.cmu.Unlock()
	for _, id := range ids {
		s.mu.Lock()
		c := Conditions(s.ev.unitAlarms(id))
		s.mu.Unlock()
		k := condKey(c)
		if old, ok := s.sent[id]; ok && old == k {
			continue
		}
		if err := s.Conditions(ctx, id, c); err != nil && riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
			s.logger().Error("writing a unit's alarm conditions", "unit", id, "err", err)
			continue
		}
		s.sent[id] = k
	}
}

func condKey(c []riskmap.Condition) string {
	var b strings.Builder
	for _, x := range c {
		b.WriteString(x.Ref + "\x00" + x.Level + "\x00" + x.Detail + "\x01")
	}
	return b.String()
}

// Scope.

func canRead(by *riskmap.User, u UnitRef) bool {
	return by == nil || riskmap.CanReadInternal(by, u.Category, u.RegionCode)
}

func canWrite(by *riskmap.User, u UnitRef) bool {
	return by == nil || riskmap.CanEdit(by, u.Category, u.RegionCode)
}

func (s *Service) unit(id int64) (UnitRef, bool) {
	if s.Unit == nil {
		return UnitRef{ID: id}, true
	}
	return s.Unit(id)
}

func unitNotFound(id int64) error {
	return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的风险单元", id).
		WithFields([]riskmap.FieldError{riskmap.FieldErrorf("unit_id", "没有这个风险单元")})
}

func pointOutOfScope(code string) error {
	return riskmap.Errorf(riskmap.EFORBIDDEN, "监测点 %s 不在您的管辖范围内", code)
}

// targetUnit checks the unit a point is to belong to: it exists and by may edit it.
func (s *Service) targetUnit(by *riskmap.User, id int64) (UnitRef, error) {
	u, ok := s.unit(id)
	if !ok || !canRead(by, u) {
		return u, unitNotFound(id)
	}
	if !canWrite(by, u) {
		return u, riskmap.Errorf(riskmap.EFORBIDDEN, "风险单元 %d 不在您的管辖范围内", id)
	}
	return u, nil
}

// readable is point id if by may read it (a copy); ENOTFOUND otherwise.
func (s *Service) readable(ctx context.Context, by *riskmap.User, id int64) (*Point, UnitRef, error) {
	s.mu.Lock()
	p, ok := s.points[id]
	if ok {
		cp := *p
		p = &cp
	}
	s.mu.Unlock()
	if !ok {
		sp, err := s.Store.GetPoint(ctx, id)
		if err != nil {
			return nil, UnitRef{}, err
		}
		p = sp
	}
	u, ok := s.unit(p.UnitID)
	if !ok || !canRead(by, u) {
		return nil, u, PointNotFound(id)
	}
	return p, u, nil
}

// Points.

// CreatePoint stores a new point: Config.Prepare fills what it leaves out from its kind,
// then Config.CheckPoint. Its unit must exist and be in by's edit scope.
func (s *Service) CreatePoint(ctx context.Context, by *riskmap.User, p *Point, rec riskmap.AccessRecordFunc) error {
	p.ID, p.Version = 0, 0
	if p.UnitID > 0 {
		if _, err := s.targetUnit(by, p.UnitID); err != nil {
			return err
		}
	}
	s.Config.Prepare(p)
	if err := s.Config.CheckPoint(p); err != nil {
		return err
	}
	if err := s.Store.CreatePointRecorded(ctx, p, rec); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.ev.SetPoint(p, s.now()); err != nil {
		return err
	}
	s.setPoint(p)
	return nil
}

// UpdatePoint replaces point p.ID at version p.Version (If-Match). The point before and
// after must be in by's edit scope. A point moved to another unit closes its open alarms.
func (s *Service) UpdatePoint(ctx context.Context, by *riskmap.User, p *Point, rec riskmap.AccessRecordFunc) error {
	old, ou, err := s.readable(ctx, by, p.ID)
	if err != nil {
		return err
	}
	if !canWrite(by, ou) {
		return pointOutOfScope(old.Code)
	}
	if p.UnitID > 0 && p.UnitID != old.UnitID {
		if _, err := s.targetUnit(by, p.UnitID); err != nil {
			return err
		}
	}
	s.Config.Prepare(p)
	if err := s.Config.CheckPoint(p); err != nil {
		return err
	}
	if err := s.Store.UpdatePointRecorded(ctx, p, rec); err != nil {
		return err
	}
	touched := map[int64]bool{old.UnitID: true}
	s.mu.Lock()
	evs, err := s.ev.SetPoint(p, s.now())
	if err == nil {
		s.setPoint(p)
		err = s.persist(ctx, evs, nil, touched)
	}
	s.mu.Unlock()
	s.updateConditions(ctx, touched)
	return err
}

// DeletePoint deletes point id at version (a point with alarms is kept: ECONFLICT).
func (s *Service) DeletePoint(ctx context.Context, by *riskmap.User, id, version int64, rec riskmap.AccessRecordFunc) error {
	old, ou, err := s.readable(ctx, by, id)
	if err != nil {
		return err
	}
	if !canWrite(by, ou) {
		return pointOutOfScope(old.Code)
	}
	if err := s.Store.DeletePointRecorded(ctx, id, version, rec); err != nil {
		return err
	}
	touched := map[int64]bool{}
	s.mu.Lock()
	evs := s.ev.RemovePoint(id, s.now())
	s.removePoint(id)
	err = s.persist(ctx, evs, nil, touched)
	s.mu.Unlock()
	s.updateConditions(ctx, touched)
	return err
}

// PointFilter selects points; zero fields select everything.
type PointFilter struct {
	UnitID  int64
	Kind    string
	Region  string // region code prefix
	Alarmed bool   // only points with an open alarm
}

// PointView is a point as the API shows it.
type PointView struct {
	*Point
	KindLabel  string   `json:"kind_label"`
	UnitCode   string   `json:"unit_code"`
	UnitName   string   `json:"unit_name"`
	RegionCode string   `json:"region_code"`
	Level      Level    `json:"level"`            // the point's level now ("" normal)
	Latest     *Reading `json:"latest,omitempty"` // newest reading evaluated, from memory
	Online     bool     `json:"online"`           // no open offline alarm
	// Alarmed is set when the point has an open alarm.
	Alarmed bool `json:"alarmed"`
}

// view builds p's view (s.mu held).
func (s *Service) view(p *Point, u UnitRef) *PointView {
	cp := *p
	v := &PointView{Point: &cp, UnitCode: u.Code, UnitName: u.Name, RegionCode: u.RegionCode, Online: true}
	if k, ok := s.Config.Kind(p.Kind); ok {
		v.KindLabel = k.Label
	}
	v.Level, _ = s.ev.Level(p.ID)
	if r, ok := s.latest[p.ID]; ok {
		v.Latest = &r
	}
	if a, ok := s.ev.Alarm(p.ID, RuleOffline); ok {
		v.Alarmed = true
		if !a.Normal {
			v.Online = false
		}
	}
	if _, ok := s.ev.Alarm(p.ID, RuleThreshold); ok {
		v.Alarmed = true
	}
	return v
}

// Point is one point in by's read scope; ENOTFOUND otherwise.
func (s *Service) Point(ctx context.Context, by *riskmap.User, id int64) (*PointView, error) {
	p, u, err := s.readable(ctx, by, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.view(p, u), nil
}

// Points are the points of the filter in by's read scope, by id.
func (s *Service) Points(ctx context.Context, by *riskmap.User, f PointFilter) ([]*PointView, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*PointView{}
	for _, p := range s.points {
		if (f.UnitID > 0 && p.UnitID != f.UnitID) || (f.Kind != "" && p.Kind != f.Kind) {
			continue
		}
		u, ok := s.unit(p.UnitID)
		if !ok || !canRead(by, u) || (f.Region != "" && !strings.HasPrefix(u.RegionCode, f.Region)) {
			continue
		}
		v := s.view(p, u)
		if f.Alarmed && !v.Alarmed {
			continue
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b *PointView) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Readings are the readings (or rollups) of a point in by's read scope at from ≤ time < to.
func (s *Service) Readings(ctx context.Context, by *riskmap.User, point int64, from, to time.Time, step Step) ([]Sample, error) {
	if !step.Valid() {
		return nil, BadStep(step)
	}
	if !from.Before(to) {
		return nil, riskmap.Errorf(riskmap.EINVALID, "起始时间应早于结束时间")
	}
	if _, _, err := s.readable(ctx, by, point); err != nil {
		return nil, err
	}
	return s.Store.Readings(ctx, point, from, to, step)
}

// Ingest.

// Form is the shape of a body of readings.
type Form int

// Forms of a body of readings.
const (
	FormBatch     Form = iota // [{"point": id|"code", "time": …, "value": …}]
	FormDataArray             // SensorThings CreateObservations (dataArray)
)

// IngestResult is what Ingest did with a body. Accepted counts the readings stored now
// (Late of them older than their point's newest reading: stored, not evaluated);
// Duplicates those stored already (or repeated), not stored again.
type IngestResult struct {
	Accepted   int       `json:"accepted"`
	Duplicates int       `json:"duplicates"`
	Late       int       `json:"late"`
	Refused    []Refusal `json:"refused"`
	// Items are the items not refused (stored now or before): STA builds its links from them.
	Items []Item `json:"-"`
}

// Resolve is the scope-checked lookup of a point by id or code: ENOTFOUND for none or one
// out of by's read scope, EFORBIDDEN for one by may read but not write readings of.
func (s *Service) Resolve(by *riskmap.User, ref PointRef) (*Point, error) {
	p, ok := s.lookup(ref)
	if !ok && s.refresh() { // another replica may have created it
		p, ok = s.lookup(ref)
	}
	if !ok {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "没有监测点 %s", ref)
	}
	u, ok := s.unit(p.UnitID)
	if !ok || !canRead(by, u) {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "没有监测点 %s", ref)
	}
	if !canWrite(by, u) {
		return nil, pointOutOfScope(p.Code)
	}
	return p, nil
}

func (s *Service) lookup(ref PointRef) (*Point, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := ref.ID
	if ref.Code != "" {
		id = s.byCode[ref.Code]
	}
	p, ok := s.points[id]
	if !ok {
		return nil, false
	}
	cp := *p
	return &cp, true
}

// refresh reads the points as stored (SyncPoints), at most once a second; it reports
// whether it did.
func (s *Service) refresh() bool {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if !s.refreshed.IsZero() && time.Since(s.refreshed) < time.Second {
		return false
	}
	s.refreshed = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.SyncPoints(ctx) == nil
}

// Ingest parses a body of readings (ParseBatch or ParseDataArray) with by's scope, stores
// the readings accepted, evaluates them and returns what it did. Items are refused one by
// one; a body that is not an array is EINVALID. It returns once its readings are committed.
func (s *Service) Ingest(ctx context.Context, by *riskmap.User, form Form, body []byte) (*IngestResult, error) {
	in := Input{Now: s.now(), Retention: s.Retention, Config: s.Config, Lookup: func(r PointRef) (*Point, error) { return s.Resolve(by, r) }}
	var items []Item
	var refused []Refusal
	var err error
	if form == FormDataArray {
		items, refused, err = ParseDataArray(body, in)
	} else {
		items, refused, err = ParseBatch(body, in)
	}
	if err != nil {
		return nil, err
	}
	return s.ingest(ctx, items, refused)
}

// IngestReadings stores and evaluates readings already resolved (MQTT, simulate, bench),
// refusing one by one those of unknown points, not finite, outside their kind's range or
// too far in the future.
func (s *Service) IngestReadings(ctx context.Context, rs []Reading) (*IngestResult, error) {
	if len(rs) > MaxBatch {
		return nil, riskmap.Errorf(riskmap.ETOOLARGE, "一批最多 %d 条读数，收到 %d 条", MaxBatch, len(rs))
	}
	now := s.now()
	var items []Item
	var refused []Refusal
	s.mu.Lock()
	for _, r := range rs {
		if _, ok := s.points[r.PointID]; !ok {
			s.mu.Unlock()
			s.refresh() // another replica may have created it
			s.mu.Lock()
			break
		}
	}
	for i, r := range rs {
		at := "[" + strconv.Itoa(i) + "]"
		p, ok := s.points[r.PointID]
		switch {
		case !ok:
			refused = append(refused, Refusal{i, riskmap.FieldErrorf(at+".point", "没有监测点 %d", r.PointID)})
			continue
		}
		if fe, ok := checkTime(r.Time, now, s.Retention, at+".time"); !ok {
			refused = append(refused, Refusal{i, fe})
			continue
		}
		if err := r.Validate(); err != nil {
			refused = append(refused, Refusal{i, riskmap.FieldErrorf(at+".value", "应为有限数值")})
			continue
		}
		if k, ok := s.Config.Kind(p.Kind); ok && (r.Value < k.Min || r.Value > k.Max) {
			refused = append(refused, Refusal{i, riskmap.FieldErrorf(at+".value", "数值 %g 超出%s的量程（%g 到 %g %s）", r.Value, k.Label, k.Min, k.Max, k.Unit)})
			continue
		}
		r.Time = r.Time.UTC().Truncate(Resolution)
		items = append(items, Item{i, r})
	}
	s.mu.Unlock()
	return s.ingest(ctx, items, refused)
}

func (s *Service) ingest(ctx context.Context, items []Item, refused []Refusal) (*IngestResult, error) {
	res := &IngestResult{Refused: refused, Items: items}
	if res.Refused == nil {
		res.Refused = []Refusal{}
	}
	if len(items) == 0 {
		return res, nil
	}
	rs := make([]Reading, len(items))
	for i, it := range items {
		rs[i] = it.Reading
	}
	req := &commitReq{rs: rs, res: res, done: make(chan error, 1)}
	s.enqueue(req)
	select {
	case err := <-req.done:
		if err != nil {
			return nil, err
		}
		return res, nil
	case <-ctx.Done():
		// Not acknowledged: the readings may or may not be stored.
		return nil, ctx.Err()
	}
}

// commitReq is one Ingest call's readings waiting for the group commit.
type commitReq struct {
	rs   []Reading
	res  *IngestResult
	done chan error
}

// enqueue adds req to the group commit; the first caller while none runs commits the queue
// (and what arrives meanwhile) until it is empty.
func (s *Service) enqueue(req *commitReq) {
	s.gmu.Lock()
	s.queue = append(s.queue, req)
	if s.flushing {
		s.gmu.Unlock()
		return
	}
	s.flushing = true
	s.gmu.Unlock()
	go s.flush()
}

func (s *Service) flush() {
	for {
		s.gmu.Lock()
		n, rows := 0, 0
		for n < len(s.queue) && (n == 0 || rows+len(s.queue[n].rs) <= commitRows) {
			rows += len(s.queue[n].rs)
			n++
		}
		if n == 0 {
			s.flushing = false
			s.gmu.Unlock()
			return
		}
		batch := slices.Clone(s.queue[:n])
		s.queue = slices.Delete(s.queue, 0, n)
		prev, done := s.lastEval, make(chan struct{})
		s.lastEval = done
		s.gmu.Unlock()
		s.inFlight <- struct{}{} // at most commitPipeline batches stored at once
		go func() {
			defer func() { <-s.inFlight }()
			s.commitAfter(batch, prev, done)
		}()
	}
}

// commitPipeline is how many batches are stored at once. A batch's AppendReadings (the
// insert and the minute and hour rollups: PostgreSQL's work, not ours) runs while the one
// before it is still being stored or evaluated, so that the database gets a second
// backend; the batches are still evaluated one after the other, in the order they were
// taken, so that a point's readings reach the evaluator in order.
const commitPipeline = 2

// commitAfter stores batch, waits until the batch taken before it (prev, nil for none) is
// evaluated, evaluates it and closes done.
func (s *Service) commitAfter(batch []*commitReq, prev, done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var all []Reading
	for _, q := range batch {
		all = append(all, q.rs...)
	}
	_, dups, err := s.Store.AppendReadings(ctx, all)
	if prev != nil {
		<-prev
	}
	if err != nil && len(batch) > 1 {
		// One request's point may be gone: commit each alone, so that the others are kept.
		for _, q := range batch {
			s.commitAfter([]*commitReq{q}, nil, make(chan struct{}))
		}
		return
	}
	if err != nil {
		batch[0].done <- err
		return
	}
	s.evaluate(ctx, batch, all, dups)
}

// row is a reading of a batch and the request it came from.
type row struct {
	r   Reading
	req *commitReq
	dup bool
}

// evaluate evaluates the readings all of a stored batch in time order (those at the
// indexes dups were not stored by it: stored before, or repeated in the batch), persists
// the events and answers each request.
func (s *Service) evaluate(ctx context.Context, batch []*commitReq, all []Reading, dups []int) {
	rows := make([]row, 0, len(all))
	for _, q := range batch {
		for _, r := range q.rs {
			rows = append(rows, row{r: r, req: q})
		}
	}
	for _, i := range dups {
		rows[i].dup = true
	}
	s.mu.Lock()
	slices.SortStableFunc(rows, func(a, b row) int { return a.r.Time.Compare(b.r.Time) })
	touched := map[int64]bool{}
	for _, x := range rows {
		evs, out, err := s.ev.Ingest(x.r)
		switch {
		case x.dup:
			x.req.res.Duplicates++
		case err != nil, out == Late:
			x.req.res.Accepted++
			x.req.res.Late++
		case out == Duplicate:
			x.req.res.Duplicates++
		default:
			x.req.res.Accepted++
		}
		if err == nil && out == Evaluated {
			s.latest[x.r.PointID] = x.r
		}
		if len(evs) > 0 {
			_ = s.persist(ctx, evs, nil, touched)
		}
	}
	s.mu.Unlock()
	s.updateConditions(ctx, touched)
	for _, q := range batch {
		q.done <- nil
	}
}

// Alarms.

// AlarmQuery selects alarms; zero fields select everything.
type AlarmQuery struct {
	Status  Status
	Open    bool
	Level   Level
	UnitID  int64
	PointID int64
	Region  string // region code prefix
	Kind    string
	// From and To bound the time the alarm opened (From ≤ opened_at < To).
	From, To time.Time
	Limit    int
}

// AlarmView is an alarm as the API shows it.
type AlarmView struct {
	*Alarm
	PointCode     string `json:"point_code"`
	Kind          string `json:"kind"`
	KindLabel     string `json:"kind_label"`
	UnitOfMeasure string `json:"unit_of_measure"`
	UnitCode      string `json:"unit_code"`
	UnitName      string `json:"unit_name"`
	RegionCode    string `json:"region_code"`
	Department    string `json:"department"`
	LevelLabel    string `json:"level_label"`
	StatusLabel   string `json:"status_label"`
}

// View is a's view (its point and unit named); ok is false when by may not read it.
func (s *Service) View(by *riskmap.User, a *Alarm) (*AlarmView, bool) {
	u, ok := s.unit(a.UnitID)
	if !ok {
		u = UnitRef{ID: a.UnitID}
	}
	if !canRead(by, u) {
		return nil, false
	}
	v := &AlarmView{Alarm: a.clone(), UnitCode: u.Code, UnitName: u.Name, RegionCode: u.RegionCode, Department: u.Department,
		LevelLabel: a.Level.Label(), StatusLabel: a.Status.Label()}
	s.mu.Lock()
	p, ok := s.points[a.PointID]
	if ok {
		v.PointCode, v.Kind, v.UnitOfMeasure = p.Code, p.Kind, p.UnitOfMeasure
	}
	s.mu.Unlock()
	if k, ok := s.Config.Kind(v.Kind); ok {
		v.KindLabel = k.Label
	}
	return v, true
}

// CanRead reports whether by may read what concerns unit id (events of its alarms).
func (s *Service) CanRead(by *riskmap.User, unitID int64) bool {
	u, ok := s.unit(unitID)
	return ok && canRead(by, u) || by == nil
}

// Alarms are the alarms of the query in by's read scope, newest first (of the newest
// MaxScan alarms the store's filter selects).
func (s *Service) Alarms(ctx context.Context, by *riskmap.User, q AlarmQuery) ([]*AlarmView, error) {
	f := AlarmFilter{Status: q.Status, Open: q.Open, Level: q.Level, UnitID: q.UnitID, PointID: q.PointID}
	out := []*AlarmView{}
	err := s.eachAlarm(ctx, f, MaxScan, func(a *Alarm) bool {
		if !q.From.IsZero() && a.OpenedAt.Before(q.From) || !q.To.IsZero() && !a.OpenedAt.Before(q.To) {
			return true
		}
		v, ok := s.View(by, a)
		if !ok || (q.Region != "" && !strings.HasPrefix(v.RegionCode, q.Region)) || (q.Kind != "" && v.Kind != q.Kind) {
			return true
		}
		out = append(out, v)
		return q.Limit <= 0 || len(out) < q.Limit
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Alarm is one alarm in by's read scope; ENOTFOUND otherwise.
func (s *Service) Alarm(ctx context.Context, by *riskmap.User, id int64) (*AlarmView, error) {
	a, err := s.Store.GetAlarm(ctx, id)
	if err != nil {
		return nil, err
	}
	v, ok := s.View(by, a)
	if !ok {
		return nil, AlarmNotFound(id)
	}
	return v, nil
}

// Transition acknowledges (action "acknowledge") or disposes of (action "dispose", note:
// the 处置措施 taken, required) alarm id in by's edit scope; version is If-Match (0: not
// checked).
func (s *Service) Transition(ctx context.Context, by *riskmap.User, id, version int64, action, note string, rec riskmap.AccessRecordFunc) (*AlarmView, error) {
	if action != "acknowledge" && action != "dispose" {
		return nil, riskmap.Errorf(riskmap.EINVALID, "action 须为 acknowledge（确认）或 dispose（处置）").
			WithFields([]riskmap.FieldError{riskmap.FieldErrorf("action", "须为 acknowledge 或 dispose")})
	}
	st, err := s.Store.GetAlarm(ctx, id)
	if err != nil {
		return nil, err
	}
	u, ok := s.unit(st.UnitID)
	if !ok {
		u = UnitRef{ID: st.UnitID}
	}
	if !canRead(by, u) {
		return nil, AlarmNotFound(id)
	}
	if !canWrite(by, u) {
		return nil, riskmap.Errorf(riskmap.EFORBIDDEN, "报警 %s 不在您的管辖范围内", st.Code)
	}
	if version != 0 && st.Version != version {
		return nil, StaleAlarm(id)
	}
	name := ""
	if by != nil {
		name = by.Name
	}
	touched := map[int64]bool{}
	var out *Alarm
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		out, err = s.transition(ctx, st, action, note, name, rec, touched)
		s.mu.Unlock()
		if riskmap.ErrorCode(err) != riskmap.EPRECONDITION || attempt > 0 || version != 0 {
			break
		}
		if st, err = s.Store.GetAlarm(ctx, id); err != nil {
			break
		}
	}
	s.updateConditions(ctx, touched)
	if err != nil {
		return nil, err
	}
	v, _ := s.View(nil, out)
	return v, nil
}

// transition applies action to alarm st (as stored) and persists it (s.mu held).
func (s *Service) transition(ctx context.Context, st *Alarm, action, note, by string, rec riskmap.AccessRecordFunc, touched map[int64]bool) (*Alarm, error) {
	now := s.now()
	cur, held := s.ev.Alarm(st.PointID, st.Rule)
	held = held && cur.Code == st.Code
	if held && cur.Version < st.Version {
		_ = s.ev.Adopt(st)
	}
	var evs []Event
	var err error
	if held {
		before, _ := s.ev.Alarm(st.PointID, st.Rule)
		if action == "acknowledge" {
			evs, err = s.ev.Acknowledge(st.PointID, st.Rule, by, now)
		} else {
			evs, err = s.ev.Dispose(st.PointID, st.Rule, note, by, now)
		}
		if err != nil {
			return nil, err
		}
		last := evs[len(evs)-1].Alarm.clone()
		if err := s.Store.UpdateAlarmRecorded(ctx, last, rec); err != nil {
			_ = s.ev.Adopt(before) // as it was
			if riskmap.ErrorCode(err) == riskmap.EPRECONDITION {
				if fresh, gerr := s.Store.GetAlarm(ctx, st.ID); gerr == nil {
					_ = s.ev.Adopt(fresh)
				}
			}
			return nil, err
		}
		_ = s.ev.Adopt(last)
		for i := range evs {
			evs[i].Alarm.ID, evs[i].Alarm.Version = last.ID, last.Version
		}
		evs[len(evs)-1].Alarm = last.clone()
		s.publish(evs)
		touched[last.UnitID] = true
		return last, nil
	}
	a := st.clone()
	if action == "acknowledge" {
		if err := a.Acknowledge(by, now); err != nil {
			return nil, err
		}
		evs = []Event{{Kind: EventAck, Alarm: a, At: now}}
	} else {
		closed, err := a.Dispose(note, by, now)
		if err != nil {
			return nil, err
		}
		evs = []Event{{Kind: EventDispose, Alarm: a, At: now}}
		if closed {
			evs = append(evs, Event{Kind: EventClose, Alarm: a, At: now})
		}
	}
	if err := s.Store.UpdateAlarmRecorded(ctx, a, rec); err != nil {
		return nil, err
	}
	for i := range evs {
		evs[i].Alarm = a.clone()
	}
	if _, watched := s.points[a.PointID]; watched && a.Open() {
		_ = s.ev.Adopt(a)
	}
	s.publish(evs)
	touched[a.UnitID] = true
	return a, nil
}

// UnitAlarms are the units with an open alarm in by's read scope and the highest level of
// their open alarms.
func (s *Service) UnitAlarms(by *riskmap.User) map[int64]Level {
	s.mu.Lock()
	open := s.ev.OpenAlarms()
	s.mu.Unlock()
	out := map[int64]Level{}
	for _, a := range open {
		if u, ok := s.unit(a.UnitID); ok && canRead(by, u) {
			out[a.UnitID] = maxLevel(out[a.UnitID], a.Level)
		}
	}
	return out
}

// Stats.

// Stats are the statistics of alarms (报警统计).
type Stats struct {
	Total    int `json:"total"`
	Open     int `json:"open"`
	Closed   int `json:"closed"`
	Disposed int `json:"disposed"` // disposed, or closed after disposal
	// DisposalRate is Disposed / Total; 1 when there is none.
	DisposalRate   float64 `json:"disposal_rate"`
	AckSeconds     Summary `json:"ack_seconds"`     // opened → acknowledged
	DisposeSeconds Summary `json:"dispose_seconds"` // opened → disposed
	ByKind         []Count `json:"by_kind"`
	ByLevel        []Count `json:"by_level"`
	ByDepartment   []Count `json:"by_department"`
	ByRegion       []Count `json:"by_region"`
}

// Summary summarises durations in seconds.
type Summary struct {
	N      int     `json:"n"`
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	P90    float64 `json:"p90"`
}

// Count is the alarms of one key (a kind, level, department or region). Label names the
// key in Chinese: a kind's name, a level's name, the department itself ("（未填写）" when the
// unit has none); a region's key is the 乡镇/街道 (RegionGroup) and its label the key, as the
// service knows no region names: the HTTP API names it.
type Count struct {
	Key          string  `json:"key"`
	Label        string  `json:"label"`
	Total        int     `json:"total"`
	Open         int     `json:"open"`
	Disposed     int     `json:"disposed"`
	DisposalRate float64 `json:"disposal_rate"`
}

// Stats are the statistics of the alarms of the query in by's read scope.
func (s *Service) Stats(ctx context.Context, by *riskmap.User, q AlarmQuery) (*Stats, error) {
	q.Limit = 0
	as, err := s.Alarms(ctx, by, q)
	if err != nil {
		return nil, err
	}
	st := &Stats{ByKind: []Count{}, ByLevel: []Count{}, ByDepartment: []Count{}, ByRegion: []Count{}}
	var ack, disp []float64
	groups := [4]map[string]*Count{{}, {}, {}, {}}
	for _, a := range as {
		st.Total++
		disposed := a.DisposedAt != nil
		if a.Open() {
			st.Open++
		} else {
			st.Closed++
		}
		if disposed {
			st.Disposed++
			disp = append(disp, a.DisposedAt.Sub(a.OpenedAt).Seconds())
		}
		if a.AcknowledgedAt != nil {
			ack = append(ack, a.AcknowledgedAt.Sub(a.OpenedAt).Seconds())
		}
		region := RegionGroup(a.RegionCode)
		for i, kl := range [4][2]string{{a.Kind, cmp.Or(a.KindLabel, a.Kind, "（未知类型）")}, {string(a.Level), a.LevelLabel},
			{a.Department, cmp.Or(a.Department, "（未填写）")}, {region, region}} {
			c := groups[i][kl[0]]
			if c == nil {
				c = &Count{Key: kl[0], Label: kl[1]}
				groups[i][kl[0]] = c
			}
			c.Total++
			if a.Open() {
				c.Open++
			}
			if disposed {
				c.Disposed++
			}
		}
	}
	st.DisposalRate = rate(st.Disposed, st.Total)
	st.AckSeconds, st.DisposeSeconds = summarize(ack), summarize(disp)
	for i, dst := range []*[]Count{&st.ByKind, &st.ByLevel, &st.ByDepartment, &st.ByRegion} {
		for _, c := range groups[i] {
			c.DisposalRate = rate(c.Disposed, c.Total)
			*dst = append(*dst, *c)
		}
		slices.SortFunc(*dst, func(a, b Count) int { return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(a.Key, b.Key)) })
	}
	// Levels in their order, red first.
	slices.SortFunc(st.ByLevel, func(a, b Count) int { return cmp.Compare(Level(b.Key).Rank(), Level(a.Key).Rank()) })
	return st, nil
}

// RegionGroup is the region a unit's region code counts in for the statistics: its 乡镇/街道,
// the first 9 digits (as the hidden dangers' statistics group by region); a shorter code is
// itself.
func RegionGroup(code string) string {
	if len(code) > 9 {
		return code[:9]
	}
	return code
}

func rate(n, total int) float64 {
	if total == 0 {
		return 1
	}
	return float64(n) / float64(total)
}

func summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	slices.Sort(xs)
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	q := func(p float64) float64 {
		i := int(p * float64(len(xs)-1))
		return xs[i]
	}
	med := q(0.5)
	if len(xs)%2 == 0 {
		med = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return Summary{N: len(xs), Mean: sum / float64(len(xs)), Median: med, P90: q(0.9)}
}
