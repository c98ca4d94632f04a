package main

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"log/slog"
	"slices"
	"time"

	"riskmap/pkg/postgis"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// Catch-up tuning of follow.
const (
	// catchUpLimit is the most units a catch-up reads and applies one by one; past it, both
	// indexes are reloaded, which is faster for a big change such as a bulk load. Only
	// units newer than the indexed version count: this replica's own writes, indexed before
	// they were answered, cost a catch-up two integers each and never a reload.
	catchUpLimit = 10_000
	// catchUpRead is how many units a catch-up reads in one query.
	catchUpRead = 1000
	// catchUpEvery is how often a replica catches up while nothing goes wrong. It moves the
	// mark on, so that a catch-up after a reconnection reads little, and it brings in
	// writes nobody announced (an edit made in QGIS or psql).
	catchUpEvery = time.Minute
	// readLimit is the most units a batch of notifications reads one by one; past it (a
	// regrade of the whole register, say) one catch-up reads them all in one query.
	readLimit = 100
	// catchUpRetry is how soon a catch-up or a read that failed is tried again.
	catchUpRetry = 2 * time.Second
	// followQueue is how many notifications wait for the follower before the listener
	// waits too.
	followQueue = 1024
)

// follow keeps the indexes in step with writes made by other replicas on the same PostGIS
// database, until ctx ends. Each write is announced with its unit's id and version; a unit
// whose version is newer than the indexed one is read and applied to both indexes. Writes
// made through this replica reached its indexes before their response, so their own
// announcements find nothing newer and cost no read.
//
// Whenever its listening connection is (re)established it catches up with what changed
// while nothing listened, from mark: the change mark serve took before it loaded the
// indexes, so that writes committed during the load are caught up (0 reloads both).
func (m *Main) follow(ctx context.Context, s followStore, ix *spatialindex.Index, units indexWriter, pub publicationLoader, mark int64) {
	f := &follower{store: s, ix: ix, units: units, pub: pub, logger: m.logger, mark: mark}
	if a, ok := pub.(credentialCache); ok {
		f.forget, f.heardLogin = a.ForgetCredentials, a.HearLogin
	}
	f.run(ctx)
}

// indexWriter brings the units other replicas wrote into the index the way this replica's
// own writes reach it (register.Service, whose Index is the follower's).
type indexWriter interface {
	ApplyStored(u *riskmap.Unit) (bool, error)
	ApplyStoredAll(us []*riskmap.Unit) (int, error)
	RemoveErased(id int64) bool
}

// publicationLoader brings the public view up to the latest publication (httpapi.Server).
type publicationLoader interface {
	LoadPublication(ctx context.Context) error
}

// credentialCache forgets the sessions and tokens it trusts (httpapi.Server): another
// replica disabled a user, ended a session or revoked a token.
type credentialCache interface {
	ForgetCredentials()
	// HearLogin counts a login attempt another replica made in the login throttle.
	HearLogin(riskmap.LoginAttempt)
}

// publicationCheckEvery is how often a replica looks for a publication another replica made.
const publicationCheckEvery = time.Second

// followStore is what follow needs of the store.
type followStore interface {
	Listen(ctx context.Context, l postgis.Listener) error
	GetUnit(ctx context.Context, id int64) (*riskmap.Unit, error)
	ChangeMark(ctx context.Context) (int64, error)
	ChangedSince(ctx context.Context, mark int64) ([]postgis.UnitVersion, int64, error)
	UnitsByID(ctx context.Context, ids []int64) ([]*riskmap.Unit, error)
	Units(ctx context.Context) iter.Seq2[*riskmap.Unit, error]
}

// follower holds the state of follow. Only its run goroutine touches it.
type follower struct {
	store followStore
	// ix is read for the versions indexed and loaded whole by a reload; single units reach
	// it through units.
	ix     *spatialindex.Index
	units  indexWriter
	pub    publicationLoader
	logger *slog.Logger
	// mark is where the next catch-up starts (postgis.ChangeMark); 0 means unknown, and the
	// next catch-up reloads everything.
	mark int64
	// behind is set when a change may have been missed (a read failed); a catch-up soon
	// repairs it.
	behind bool
	// limit is catchUpLimit (tests lower it).
	limit int
	// forget drops the credentials this replica trusts from its cache (nil: none).
	forget func()
	// heardLogin takes another replica's login attempt (nil: none).
	heardLogin func(riskmap.LoginAttempt)
}

// followMsg is one thing the listener heard.
type followMsg struct {
	event postgis.Event
	// listening says that a connection listens again: time to catch up.
	listening bool
}

func (f *follower) run(ctx context.Context) {
	msgs := make(chan followMsg, followQueue)
	send := func(msg followMsg) {
		select {
		case msgs <- msg:
		case <-ctx.Done():
		}
	}
	listened := make(chan struct{})
	go func() {
		defer close(listened)
		lost := false
		err := f.store.Listen(ctx, postgis.Listener{
			Listening: func() {
				if lost {
					f.logger.Info("listening to other replicas again; catching up")
					lost = false
				}
				send(followMsg{listening: true})
			},
			Event: func(e postgis.Event) { send(followMsg{event: e}) },
			Lost: func(err error) {
				// The first failure is worth a warning; the retries every two seconds
				// while the database stays away are not.
				level := slog.LevelDebug
				if !lost {
					level = slog.LevelWarn
				}
				f.logger.Log(ctx, level, "lost the connection that hears other replicas' writes; reconnecting", "error", err)
				lost = true
			},
		})
		if err != nil {
			f.logger.Error("cannot follow other replicas' writes", "error", err)
		}
	}()
	defer func() { <-listened }()

	tick := time.NewTicker(catchUpEvery)
	defer tick.Stop()
	pubTick := time.NewTicker(publicationCheckEvery)
	defer pubTick.Stop()
	for {
		wasBehind := f.behind
		select {
		case <-ctx.Done():
			return
		case msg := <-msgs:
			f.handle(ctx, drain(msg, msgs))
		case <-tick.C:
			f.catchUp(ctx, "")
		case <-pubTick.C:
			f.loadPublication(ctx)
		}
		// Only a change of state resets the ticker: steady events must not put off the
		// periodic catch-up for ever.
		switch {
		case f.behind && !wasBehind:
			tick.Reset(catchUpRetry)
		case !f.behind && wasBehind:
			tick.Reset(catchUpEvery)
		}
	}
}

// drain returns first and whatever else is already waiting, up to a batch.
func drain(first followMsg, msgs <-chan followMsg) []followMsg {
	batch := []followMsg{first}
	for len(batch) < followQueue {
		select {
		case msg := <-msgs:
			batch = append(batch, msg)
		default:
			return batch
		}
	}
	return batch
}

// handle applies a batch of what the listener heard. A catch-up covers every write
// committed before it starts, so a batch that asks for one needs nothing else; otherwise
// each unit is read once, at its latest version, if it is newer than the indexed one.
func (f *follower) handle(ctx context.Context, batch []followMsg) {
	latest := map[int64]int64{}
	why := ""
	forget := false
	for _, msg := range batch {
		// An access change elsewhere, or one that may have gone unheard while nothing
		// listened: every credential is looked up again (once for the batch).
		forget = forget || msg.listening || msg.event.Auth
		if msg.event.Login != nil && f.heardLogin != nil {
			f.heardLogin(*msg.event.Login)
		}
		switch {
		case msg.event.Auth, msg.event.Login != nil:
		case msg.listening:
			why = "listening"
		case msg.event.Resync:
			if why == "" {
				why = "many units changed"
			}
		case msg.event.Version > latest[msg.event.ID]:
			latest[msg.event.ID] = msg.event.Version
		}
	}
	if forget && f.forget != nil {
		f.forget()
	}
	if why != "" {
		f.catchUp(ctx, why)
		return
	}
	ids := make([]int64, 0, len(latest))
	for id, v := range latest {
		// An event older than, or as old as, what is indexed is nothing new. A retired unit
		// is not indexed (version 0) and is read again; the index keeps it out.
		if v > f.ix.Version(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > readLimit {
		f.catchUp(ctx, "many units changed")
		return
	}
	slices.Sort(ids)
	for _, id := range ids {
		u, err := f.store.GetUnit(ctx, id)
		switch {
		case riskmap.ErrorCode(err) == riskmap.ENOTFOUND:
			// Erased from the database by hand: riskmap itself never erases a unit.
			f.units.RemoveErased(id)
		case err != nil:
			if ctx.Err() == nil {
				f.logger.Warn("cannot read a unit another replica wrote; catching up shortly", "unit", id, "error", err)
				f.behind = true
			}
			return
		default:
			f.apply(u)
		}
	}
}

// logIndexErrors logs the units a batch could not index (spatialindex.UnitError, joined), one
// line each up to ten, then how many more.
func (f *follower) logIndexErrors(err error) {
	if err == nil {
		return
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for i, e := range errs {
		if i == 10 {
			f.logger.Error("cannot index more units another replica wrote", "more", len(errs)-i)
			return
		}
		var ue *spatialindex.UnitError
		if errors.As(e, &ue) {
			f.logger.Error("cannot index a unit another replica wrote", "unit", ue.ID, "error", ue.Err)
		} else {
			f.logger.Error("cannot index a unit another replica wrote", "error", e)
		}
	}
}

// apply brings a unit read from the store into the index. It reports whether it changed.
// The public index changes only with a publication (loadPublication).
func (f *follower) apply(u *riskmap.Unit) bool {
	changed, err := f.units.ApplyStored(u)
	if err != nil {
		f.logger.Error("cannot index a unit another replica wrote", "unit", u.ID, "error", err)
		return false
	}
	return changed
}

// loadPublication serves the latest publication, if another replica made a newer one.
func (f *follower) loadPublication(ctx context.Context) {
	if f.pub == nil {
		return
	}
	if err := f.pub.LoadPublication(ctx); err != nil && ctx.Err() == nil {
		f.logger.Warn("cannot load the latest publication; trying again shortly", "error", err)
	}
}

// catchUp applies every unit changed since the mark that the index does not hold at its
// version, or reloads both indexes when the mark is unknown or more than catchUpLimit such
// units changed. why says what asked for it, for the log; "" is the periodic catch-up,
// logged only when it found something nobody had announced.
func (f *follower) catchUp(ctx context.Context, why string) {
	if f.mark == 0 {
		f.reload(ctx, why)
		return
	}
	start := time.Now()
	vs, next, err := f.store.ChangedSince(ctx, f.mark)
	if err != nil {
		f.fail(ctx, err)
		return
	}
	var ids []int64 // one row a unit: its latest change
	for _, v := range vs {
		// Retired units are not indexed (version 0): read again, the index keeps them out.
		if v.Version > f.ix.Version(v.ID) {
			ids = append(ids, v.ID)
		}
	}
	read := len(ids)
	if limit := cmp.Or(f.limit, catchUpLimit); len(ids) > limit {
		f.reload(ctx, why)
		return
	}
	slices.Sort(ids)
	changed := 0
	for len(ids) > 0 {
		batch := ids[:min(len(ids), catchUpRead)]
		ids = ids[len(batch):]
		units, err := f.store.UnitsByID(ctx, batch)
		if err != nil {
			f.fail(ctx, err)
			return
		}
		// One change of the index a batch, not one a unit (Index.ApplyAll).
		n, err := f.units.ApplyStoredAll(units)
		f.logIndexErrors(err)
		changed += n
	}
	f.mark, f.behind = next, false
	if why != "" || changed > 0 {
		if why == "" {
			why = "periodic"
		}
		f.logger.Info("caught up with other replicas", "reason", why, "changes", len(vs), "read", read, "changed", changed,
			"seconds", time.Since(start).Seconds())
	}
}

// reload loads both indexes again from the store, as serve did. Writes that reach the
// indexes meanwhile are kept (Index.Load sees to it).
func (f *follower) reload(ctx context.Context, why string) {
	start := time.Now()
	// The mark is taken first, so that a write committed while the indexes load is caught
	// up next time.
	mark, err := f.store.ChangeMark(ctx)
	if err != nil {
		f.fail(ctx, err)
		return
	}
	n, err := f.ix.Load(ctx, f.store.Units(ctx))
	if err != nil {
		f.fail(ctx, err)
		return
	}
	f.mark, f.behind = mark, false
	f.logger.Info("reloaded the spatial index to follow other replicas", "reason", why, "units", n,
		"seconds", time.Since(start).Seconds())
}

func (f *follower) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	f.logger.Warn("cannot catch up with other replicas' writes; trying again shortly", "error", err)
	f.behind = true
}
