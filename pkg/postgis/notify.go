package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"riskmap/pkg/riskmap"
)

// Channel is the LISTEN/NOTIFY channel on which every write of a unit is announced, so that
// the other processes serving the same database can follow it.
const Channel = "riskmap_units"

// notifyWritten announces the rows of the data-modifying CTE w (with id and version): it is
// joined to the statement's result, so it runs once per written row and a write that matched
// no row announces nothing. A notification is delivered only when its transaction commits.
// The payload names the unit and its version, never its content: a follower reads what it
// needs.
const notifyWritten = ` CROSS JOIN LATERAL (SELECT pg_notify('` + Channel + `',
	json_build_object('id', w.id, 'version', w.version)::text)) AS n`

// resyncPayload announces a bulk insert: too many units for one notification each.
const resyncPayload = `{"resync":true}`

// authPayload announces a change that must cut off credentials on every replica at once:
// a user changed or disabled, a password reset, a session ended, a token revoked.
const authPayload = `{"auth":true}`

// notifyAuth announces an access change from within its transaction (delivered on commit).
func notifyAuth(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, authPayload)
	return dbError("notify access change", err)
}

// Event is one notification heard by Listen.
type Event struct {
	// ID and Version say that unit ID was written and is now at Version (or later).
	ID, Version int64
	// Resync says that many units changed at once, or that a notification could not be
	// read: the listener should catch up with ChangesSince.
	Resync bool
	// Auth says that a user, session or token changed: credentials a replica trusts from
	// its cache must be looked up again.
	Auth bool
	// Login is a login attempt another process made (AnnounceLogin); Listen never hands a
	// process its own.
	Login *riskmap.LoginAttempt
	// origin is the process that announced a login.
	origin string
}

// loginPayload is the notification of a login attempt: the attempt and the process that
// made it.
type loginPayload struct {
	Login  *riskmap.LoginAttempt `json:"login"`
	Origin string                `json:"origin"`
}

// AnnounceLogin tells the other processes serving the database of a login attempt, so
// that each throttle counts a guess made on any replica (webauth.LoginAnnouncer). The name
// tried is cut to 100 characters: a payload stays far below NOTIFY's 8000 bytes.
func (s *Store) AnnounceLogin(ctx context.Context, a riskmap.LoginAttempt) error {
	if r := []rune(a.Account); len(r) > 100 {
		a.Account = string(r[:100])
	}
	b, err := json.Marshal(loginPayload{Login: &a, Origin: s.origin})
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, string(b))
	return dbError("announce login", err)
}

// parseEvent reads a notification's payload. One it cannot read asks for a catch-up,
// which is always safe.
func parseEvent(payload string) Event {
	var p struct {
		ID      int64 `json:"id"`
		Version int64 `json:"version"`
		Resync  bool  `json:"resync"`
		Auth    bool  `json:"auth"`
		loginPayload
	}
	err := json.Unmarshal([]byte(payload), &p)
	if err == nil && (p.Auth || p.Login != nil) {
		return Event{Auth: p.Auth, Login: p.Login, origin: p.Origin}
	}
	if err != nil || p.Resync || p.ID < 1 || p.Version < 1 {
		return Event{Resync: true}
	}
	return Event{ID: p.ID, Version: p.Version}
}

// Listener is told what Listen hears. Its functions are called one at a time, from the
// goroutine that runs Listen; any of them may be nil.
type Listener struct {
	// Listening is called each time LISTEN is in place: the first time and after every
	// reconnection, before any event heard on that connection. Writes committed while no
	// connection listened were not announced to this process, so this is when the caller
	// catches up with ChangesSince (or reloads).
	Listening func()
	// Event is called for each notification.
	Event func(Event)
	// Lost is called when the connection fails or cannot be made, with the reason; Listen
	// then tries again after a pause.
	Lost func(error)
}

// Listen timings.
const (
	// listenRetryMin and listenRetryMax bound the pause before reconnecting; it doubles
	// with each failed attempt and starts again from the minimum once LISTEN succeeds.
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 2 * time.Second
	// listenQuiet is how long the connection may stay silent before Listen checks that the
	// server still answers: a connection cut without a word (a dead network path, a
	// server gone without closing it) would otherwise be waited on forever. It also keeps
	// the session from an idle_session_timeout longer than this.
	listenQuiet = 30 * time.Second
	// listenTimeout bounds connecting, LISTEN and each check.
	listenTimeout = 10 * time.Second
)

// ListenerSuffix ends the application_name of the listening connection, after the pool's:
// "riskmap-listener" by default, so that it can be told apart in pg_stat_activity.
const ListenerSuffix = "-listener"

// Listen listens on Channel on a connection of its own, outside the pool, until ctx ends,
// and returns nil then. When the connection is lost it reconnects after a pause (100 ms
// doubling to 2 s), listens again and calls l.Listening. It returns an error only if it
// cannot start at all.
func (s *Store) Listen(ctx context.Context, l Listener) error {
	cfg := s.pool.Config().ConnConfig // a copy
	app := cfg.RuntimeParams["application_name"]
	if app == "" {
		app = s.cfg.ApplicationName
	}
	cfg.RuntimeParams["application_name"] = app + ListenerSuffix
	pause := listenRetryMin
	for {
		err := s.listenOn(ctx, cfg, l, func() { pause = listenRetryMin })
		if ctx.Err() != nil {
			return nil
		}
		if l.Lost != nil {
			l.Lost(listenError(err))
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		pause = min(2*pause, listenRetryMax)
	}
}

// listenOn connects, listens and hands over notifications until the connection fails or
// ctx ends. listening is called once LISTEN is in place.
func (s *Store) listenOn(ctx context.Context, cfg *pgx.ConnConfig, l Listener, listening func()) error {
	cctx, cancel := context.WithTimeout(ctx, listenTimeout)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	cctx, cancel = context.WithTimeout(ctx, listenTimeout)
	// LISTEN takes no values and cannot be prepared; pgx sends a statement without
	// arguments as a simple query.
	_, err = conn.Exec(cctx, "LISTEN "+Channel)
	cancel()
	if err != nil {
		return err
	}
	listening()
	if l.Listening != nil {
		l.Listening()
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, listenQuiet)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if e := parseEvent(n.Payload); l.Event != nil && (e.Login == nil || e.origin != s.origin) {
				l.Event(e)
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// Quiet for a while; a timed-out wait leaves the connection usable.
			pctx, cancel := context.WithTimeout(ctx, listenTimeout)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// listenError is a lost connection's reason, without a DSN in it.
func listenError(err error) error {
	if err == nil {
		return errors.New("postgis: listen: the connection ended")
	}
	return errors.New("postgis: listen: " + safeMessage(err))
}

// ChangeMark returns a mark to catch up from with ChangesSince: every write that commits
// after ChangeMark is called is found by ChangesSince(mark). Take it before reading what
// the caller keeps (loading an index), so that a write committed during the read is found
// too. A mark is a transaction id: the oldest one still running, so that a write which
// began before the mark and commits after it is not missed.
func (s *Store) ChangeMark(ctx context.Context) (int64, error) {
	var mark int64
	if err := s.pool.QueryRow(ctx, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint").Scan(&mark); err != nil {
		return 0, dbError("change mark", err)
	}
	return mark, nil
}

// ChangesSince returns up to limit units written since mark was taken, retired ones
// included, oldest change first, and the mark to catch up from next time. It may also
// return units written a little before mark; applying a unit again changes nothing. A mark
// must come from ChangeMark or ChangesSince: rows written before the migration that added
// change marks are never returned.
//
// When it returns limit units there may be more: ask again with a higher limit, or reload
// everything (after taking a new mark).
func (s *Store) ChangesSince(ctx context.Context, mark int64, limit int) ([]*riskmap.Unit, int64, error) {
	// The next mark is taken first: a write that commits from now on is at or above it, and
	// one committed before now is visible to the query below.
	next, err := s.ChangeMark(ctx)
	if err != nil {
		return nil, 0, err
	}
	// The order makes the planner walk the change_xid index and stop at the limit even
	// before the column has statistics (right after a bulk load).
	rows, err := s.pool.Query(ctx, selectUnit+" WHERE change_xid >= $1::text::xid8 ORDER BY change_xid LIMIT $2",
		strconv.FormatInt(mark, 10), int64(limit))
	if err != nil {
		return nil, 0, dbError("changes since", err)
	}
	defer rows.Close()
	var units []*riskmap.Unit
	sc := newUnitScan()
	for rows.Next() {
		u, err := sc.scan(rows)
		if err != nil {
			return nil, 0, dbError("changes since", err)
		}
		units = append(units, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, dbError("changes since", err)
	}
	return units, next, nil
}

// UnitVersion is a unit's id and version, as ChangedSince lists them.
type UnitVersion struct {
	ID, Version int64
}

// ChangedSince returns the id and version of every unit written since mark (retired ones
// included, oldest change first) and the mark to catch up from next time: what a replica
// compares with its index to read only the units it does not hold yet. It reads two
// integers a unit, so a minute of steady writes costs little even when they are many.
func (s *Store) ChangedSince(ctx context.Context, mark int64) ([]UnitVersion, int64, error) {
	next, err := s.ChangeMark(ctx)
	if err != nil {
		return nil, 0, err
	}
	rows, err := s.pool.Query(ctx, "SELECT id, version FROM risk_units WHERE change_xid >= $1::text::xid8 ORDER BY change_xid",
		strconv.FormatInt(mark, 10))
	if err != nil {
		return nil, 0, dbError("changed since", err)
	}
	defer rows.Close()
	var out []UnitVersion
	for rows.Next() {
		var v UnitVersion
		if err := rows.Scan(&v.ID, &v.Version); err != nil {
			return nil, 0, dbError("changed since", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, dbError("changed since", err)
	}
	return out, next, nil
}

// UnitsByID reads the units of ids (retired ones included), in id order; an id with no
// unit is left out.
func (s *Store) UnitsByID(ctx context.Context, ids []int64) ([]*riskmap.Unit, error) {
	rows, err := s.pool.Query(ctx, selectUnit+" WHERE id = ANY($1) ORDER BY id", ids)
	if err != nil {
		return nil, dbError("units by id", err)
	}
	defer rows.Close()
	var units []*riskmap.Unit
	sc := newUnitScan()
	for rows.Next() {
		u, err := sc.scan(rows)
		if err != nil {
			return nil, dbError("units by id", err)
		}
		units = append(units, u)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("units by id", err)
	}
	return units, nil
}
