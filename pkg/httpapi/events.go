package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/webauth"
)

// The event stream (GET /api/v1/events, Server-Sent Events): what the map needs to show a
// unit red the moment its gas reading crosses the line, without reloading. One hub per
// server hears the monitoring service's alarm events (one subscription, however many
// clients) and the index's grade changes, and hands each client the events of the units it
// may read (riskmap.CanReadInternal, as the unit reads). A client first gets a snapshot of
// the alarmed units, then the events as they come, and a comment every 15 s that keeps
// proxies from closing an idle stream. A client that cannot keep up is dropped: its browser
// reconnects (retry: 3000) and starts again from a fresh snapshot. Streams end when the
// client leaves and when the server shuts down (Close, or http.Server.Shutdown through the
// hook HTTPServer registers), so a shutdown never waits on them.
//
// A stream lasts longer than its caller's rights may: it looks its caller up again as the
// REST routes do (webauth's cache, the store past it), at once when the auth cache is
// forgotten (a logout, a user changed or disabled, a password reset or a token revoked,
// here or on another replica), before the next event it writes, and at every keep-alive
// (a session's idle and absolute limits). A caller no longer valid ends the stream (its
// browser reconnects and gets 401); a changed scope filters every later event, and the
// client gets a fresh snapshot of its new scope.

// Event stream timings.
const (
	sseKeepalive = 15 * time.Second
	// sseWriteWindow is how long one write of the stream may take: the server's write
	// timeout would cut a stream that lives longer, so each write extends the deadline.
	sseWriteWindow = 30 * time.Second
	// sseBuffer is how many events a client may fall behind before it is dropped.
	sseBuffer = 256
	// sseRetryMillis is the reconnection delay the browser is told.
	sseRetryMillis = 3000
)

// sseMessage is one event of the stream, encoded once for every client.
type sseMessage struct {
	event string
	data  []byte
	// category and region are the unit's, for the scope of each client.
	category, region string
}

// eventClient is one open stream.
type eventClient struct {
	// user is the caller as last looked up; the stream replaces it when it changes.
	user atomic.Pointer[riskmap.User]
	ch   chan *sseMessage
	// gone is closed when the hub drops the client (too slow, or the alarm feed restarted).
	gone    chan struct{}
	dropped bool
}

// eventHub fans events out to the open streams.
type eventHub struct {
	s     *Server
	ctx   context.Context // done when the server stops
	stop  context.CancelFunc
	start sync.Once // subscribes to the alarm events, on the first stream

	mu      sync.Mutex
	clients map[*eventClient]struct{}
}

func newEventHub(s *Server) *eventHub {
	ctx, cancel := context.WithCancel(context.Background())
	return &eventHub{s: s, ctx: ctx, stop: cancel, clients: map[*eventClient]struct{}{}}
}

// Close ends every open event stream and stops the hub; call it when the server stops
// (HTTPServer's http.Server calls it when it shuts down).
func (s *Server) Close() {
	if s.hub != nil {
		s.hub.stop()
	}
}

func (s *Server) eventRoutes() {
	s.hub = newEventHub(s)
	if s.cfg.Index != nil {
		// Listeners may be added at any time (the index calls them under its lock, so
		// gradeChanged must not block).
		s.cfg.Index.OnChange(s.hub.gradeChanged)
	}
	// A stream may last for hours: its write deadline moves with each write (see events).
	s.route(http.MethodGet, "/api/v1/events", loggedIn, s.events)
}

// subscribe subscribes to the alarm events once, on the first stream, before that stream
// is answered: an alarm raised right after the stream's snapshot is not missed.
func (h *eventHub) subscribe() {
	h.start.Do(func() {
		if h.s.mon() != nil {
			ch, cancel := h.s.mon().Subscribe()
			go h.followAlarms(ch, cancel)
		}
	})
}

// followAlarms hands every alarm event of the subscription ch to the streams until the
// server stops. A subscription the service drops (it fell too far behind) is taken up
// again, and every stream is dropped so that its client starts again from a fresh snapshot.
func (h *eventHub) followAlarms(ch <-chan monitoring.Event, cancel func()) {
	for {
		for done := false; !done; {
			select {
			case <-h.ctx.Done():
				cancel()
				return
			case ev, ok := <-ch:
				if !ok {
					done = true
					break
				}
				h.alarmEvent(ev)
			}
		}
		cancel()
		h.dropAll()
		select {
		case <-h.ctx.Done():
			return
		case <-time.After(time.Second):
		}
		ch, cancel = h.s.mon().Subscribe()
	}
}

// alarmEvent sends an alarm event to the streams that may read its unit.
func (h *eventHub) alarmEvent(ev monitoring.Event) {
	if ev.Alarm == nil {
		return
	}
	h.mu.Lock()
	n := len(h.clients)
	h.mu.Unlock()
	if n == 0 {
		return
	}
	v, category := h.view(ev.Alarm)
	data, err := json.Marshal(map[string]any{"kind": ev.Kind, "alarm": v})
	if err != nil {
		return
	}
	h.send(&sseMessage{event: "alarm", data: data, category: category, region: v.RegionCode})
}

// view is an alarm's view (its point and unit named, from memory) and its unit's category.
func (h *eventHub) view(a *monitoring.Alarm) (*monitoring.AlarmView, string) {
	v, ok := h.s.mon().View(nil, a)
	if !ok {
		v = &monitoring.AlarmView{Alarm: a, LevelLabel: a.Level.Label(), StatusLabel: a.Status.Label()}
	}
	var category string
	if ix := h.s.cfg.Index; ix != nil {
		if f, ok := ix.Snapshot().Get(a.UnitID); ok {
			category = f.Category
			if v.RegionCode == "" {
				v.RegionCode = f.RegionCode
			}
		}
	}
	return v, category
}

// gradeChanged hears the index: a unit whose current grade changed is an event. It runs
// under the index's lock and never blocks.
func (h *eventHub) gradeChanged(ch spatialindex.Change) {
	if ch.Before == nil || ch.After == nil || ch.Before.Grade == ch.After.Grade {
		return
	}
	f := ch.After
	data, err := json.Marshal(map[string]any{"unit_id": f.ID, "code": f.Code, "grade": f.Grade,
		"inherent_grade": f.InherentGrade, "before": ch.Before.Grade})
	if err != nil {
		return
	}
	h.send(&sseMessage{event: "grade", data: data, category: f.Category, region: f.RegionCode})
}

// send hands m to every client that may read its unit; a client whose buffer is full is
// dropped.
func (h *eventHub) send(m *sseMessage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cl := range h.clients {
		if !riskmap.CanReadInternal(cl.user.Load(), m.category, m.region) {
			continue
		}
		select {
		case cl.ch <- m:
		default:
			h.drop(cl)
		}
	}
}

// drop ends a client's stream; h.mu is held.
func (h *eventHub) drop(cl *eventClient) {
	if !cl.dropped {
		cl.dropped = true
		close(cl.gone)
	}
	delete(h.clients, cl)
}

func (h *eventHub) dropAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cl := range h.clients {
		h.drop(cl)
	}
}

func (h *eventHub) add(u *riskmap.User) *eventClient {
	cl := &eventClient{ch: make(chan *sseMessage, sseBuffer), gone: make(chan struct{})}
	cl.user.Store(u)
	h.mu.Lock()
	h.clients[cl] = struct{}{}
	h.mu.Unlock()
	h.subscribe()
	return cl
}

func (h *eventHub) remove(cl *eventClient) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop(cl)
}

// EventClients is the number of open event streams.
func (s *Server) EventClients() int {
	if s.hub == nil {
		return 0
	}
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return len(s.hub.clients)
}

// ctxClient keeps the context of the client's connection (audit replaces the request's).
const ctxClient = "riskmap.client"

// clientContext is done when the client's connection is.
func clientContext(c echo.Context) context.Context {
	if ctx, ok := c.Get(ctxClient).(context.Context); ok {
		return ctx
	}
	return c.Request().Context()
}

// events is GET /api/v1/events.
func (s *Server) events(c echo.Context) error {
	if err := noParams(c.QueryParams(), nil); err != nil {
		return err
	}
	w := c.Response()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	if c.Request().Method == http.MethodHead {
		return c.NoContent(http.StatusOK)
	}
	// The request's context does not end with the client (see audit): the client's own
	// does.
	gone := clientContext(c).Done()
	hub := s.hub
	// Who is asking, as of now: authenticate looked the caller up before forgotten was
	// taken, and a change in between would go unheard.
	k := &streamCaller{s: s, c: c, principal: principalOf(c)}
	if !k.recheck() {
		return riskmap.Errorf(riskmap.EUNAUTHORIZED, "会话已结束；请重新登录")
	}
	cl := hub.add(k.user()) // before the snapshot: nothing that happens after it is missed
	defer hub.remove(cl)
	rc := http.NewResponseController(w.Writer)
	write := func(b []byte) error {
		_ = rc.SetWriteDeadline(time.Now().Add(sseWriteWindow))
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	w.WriteHeader(http.StatusOK)
	if err := write(frame("snapshot", s.eventSnapshot(k.user()), "retry: "+strconv.Itoa(sseRetryMillis)+"\n")); err != nil {
		return nil
	}
	// still looks the caller up again: false when the stream must end. A caller whose
	// scope changed is filtered by the new one from here on, and gets its snapshot.
	still := func() bool {
		before := k.user()
		if !k.recheck() {
			return false
		}
		if u := k.user(); u != before {
			cl.user.Store(u)
			if !sameScope(before, u) {
				return write(frame("snapshot", s.eventSnapshot(u), "")) == nil
			}
		}
		return true
	}
	tick := time.NewTicker(sseKeepalive)
	defer tick.Stop()
	for {
		var b []byte
		select {
		case <-gone:
			return nil
		case <-hub.ctx.Done():
			return nil
		case <-cl.gone:
			return nil
		case <-k.forgotten:
			if !still() {
				return nil
			}
			continue
		case m := <-cl.ch:
			// The hub chose m by the caller it knew; a change it did not know yet is heard
			// before m is written.
			select {
			case <-k.forgotten:
				if !still() {
					return nil
				}
			default:
			}
			if !riskmap.CanReadInternal(k.user(), m.category, m.region) {
				continue
			}
			b = frame(m.event, m.data, "")
		case <-tick.C:
			if !still() {
				return nil
			}
			b = []byte(": keepalive\n\n")
		}
		if err := write(b); err != nil {
			return nil
		}
	}
}

// eventSnapshot is the data of a stream's snapshot event: the alarmed units u may read.
func (s *Server) eventSnapshot(u *riskmap.User) []byte {
	alarmed := map[string]monitoring.Level{}
	if s.mon() != nil {
		for id, l := range s.mon().UnitAlarms(u) {
			alarmed[strconv.FormatInt(id, 10)] = l
		}
	}
	snap, _ := json.Marshal(map[string]any{"alarmed_units": alarmed})
	return snap
}

// streamCaller is the caller of an open stream, as last looked up.
type streamCaller struct {
	s *Server
	c echo.Context
	// principal is the caller as last looked up (at first, as authenticate found it): its
	// session's limits still apply while the store does not answer.
	principal *webauth.Principal
	// forgotten is closed when the auth cache is next forgotten: the caller must be looked
	// up again.
	forgotten <-chan struct{}
}

// recheck looks the caller up again, as authenticate does (from the auth cache while it
// holds, from the store past it, without counting as the session's activity), and reports
// whether the stream may go on: false once its session or token is no longer valid or its
// user is disabled. A store that does not answer says nothing of the credential: the
// stream goes on with the caller it knew, and asks again at the next keep-alive.
func (k *streamCaller) recheck() bool {
	k.forgotten = k.s.auth.Forgotten()
	// Bounded: the stream's own request context outlives its client (the audit middleware
	// keeps it), and a stream waiting on a store that does not answer would neither write
	// nor notice the hub stopping.
	ctx, cancel := context.WithTimeout(k.c.Request().Context(), recheckTimeout)
	p, err := k.s.auth.Reidentify(ctx, k.c)
	cancel()
	switch {
	case err == nil && p.User != nil && loggedIn.allows(p.User):
		k.principal = p
		return true
	case err == nil || riskmap.ErrorCode(err) == riskmap.EUNAUTHORIZED:
		return false
	}
	// The store did not answer: the caller known goes on while its session is within its
	// idle and absolute limits, as a REST request's would.
	return k.user() != nil && k.s.auth.InLimits(k.principal)
}

// user is the caller as last looked up.
func (k *streamCaller) user() *riskmap.User { return k.principal.User }

// recheckTimeout bounds a stream's lookup of its caller.
const recheckTimeout = 5 * time.Second

// sameScope reports whether a and b read the same units (role, department, categories,
// regions); both are valid users.
func sameScope(a, b *riskmap.User) bool {
	return a.Role == b.Role && a.Department == b.Department && slices.Equal(a.Categories, b.Categories) && slices.Equal(a.Regions, b.Regions)
}

// frame is one SSE event: an event name and one data line (JSON has no newline).
func frame(event string, data []byte, prefix string) []byte {
	b := make([]byte, 0, len(prefix)+len(event)+len(data)+16)
	b = append(b, prefix...)
	b = append(b, "event: "...)
	b = append(b, event...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}
