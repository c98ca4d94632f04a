package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/publishing"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/riskmap"
)

// Publications (发布): an admin freezes the approved register and its regional grades into
// a numbered, immutable publication (pkg/publishing); /public serves the latest one.

// LoadPublication makes the latest publication the public view, if it is not already. The
// server calls it after a publication; the command calls it at start and when another
// replica has published.
func (s *Server) LoadPublication(ctx context.Context) error {
	if s.publisher == nil {
		return nil
	}
	s.pubLoad.Lock()
	defer s.pubLoad.Unlock()
	return s.loadPublication(ctx)
}

// loadPublication is LoadPublication with s.pubLoad held.
func (s *Server) loadPublication(ctx context.Context) error {
	cur := s.pub()
	var (
		have int64
		from publishing.Forker
	)
	if cur.publication != nil && cur.ix.Loaded() {
		// The public index follows by the change since the publication it holds.
		have = cur.publication.Number
		from, _ = cur.ix.(publishing.Forker)
	}
	p, ix, err := s.publisher.Latest(ctx, have, from)
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
		if !cur.ix.Loaded() {
			if _, err := cur.ix.Load(ctx, func(func(*riskmap.Unit, error) bool) {}); err != nil {
				return err
			}
		}
		return nil
	}
	if err != nil || p == nil {
		return err
	}
	s.replacePublic(s.newView(ix, true, p))
	s.cfg.Logger.Info("publication loaded for the public", "number", p.Number, "units", ix.Snapshot().Len())
	return nil
}

// replacePublic serves a new publication's view. The index it replaces (as large as the
// register) is garbage once the requests reading it end: a few seconds later it is
// collected and its memory given back to the system, in the background, rather than
// lingering until the heap next doubles (issue 18: RSS grew 0.8 GB with each publication
// of 1M units). One release pending covers every replacement before it runs.
func (s *Server) replacePublic(v *view) {
	old := s.public.Swap(v)
	if old == nil || old.publication == nil {
		return
	}
	if s.releasing.CompareAndSwap(false, true) {
		time.AfterFunc(releaseAfter, func() {
			s.releasing.Store(false) // a replacement from now on schedules its own
			debug.FreeOSMemory()
		})
	}
}

// releaseAfter is how long a replaced publication's readers are given to finish before its
// memory is collected and given back.
const releaseAfter = 5 * time.Second

type publicationJSON struct {
	Number    int64     `json:"number"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	Note      string    `json:"note"`
	UnitCount int       `json:"unit_count"`
}

func pubJSON(p *riskmap.Publication, internal bool) publicationJSON {
	j := publicationJSON{Number: p.Number, CreatedAt: p.CreatedAt.UTC(), Note: p.Note, UnitCount: p.UnitCount}
	if internal {
		j.CreatedBy = p.CreatedBy
	}
	return j
}

func (s *Server) publish(c echo.Context) error {
	var req struct {
		Note string `json:"note"`
	}
	b, err := s.readOptionalBody(c)
	if err != nil {
		return err
	}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &req); err != nil {
			return riskmap.Errorf(riskmap.EINVALID, `请发送 {"note": "…"}，或不带请求体`)
		}
	}
	if err := publishing.CheckNote(req.Note); err != nil {
		return err
	}
	if s.publisher == nil {
		return riskmap.Errorf(riskmap.EUNAVAILABLE, "本服务器没有公众版")
	}
	idem, err := s.idempotencyOf(c, b)
	if err != nil {
		return err
	}
	if done, err := s.replay(c, idem); done {
		return err
	}
	ctx := c.Request().Context()
	a := auditOf(c)
	a.action, a.targetType = "publication.create", "publication"
	var body []byte
	p := &riskmap.Publication{CreatedBy: userOf(c).Name, Note: req.Note, CreatedAt: s.now()}
	err = func() error {
		s.pubLoad.Lock()
		defer s.pubLoad.Unlock()
		// The audit row and the answer kept for an Idempotency-Key commit with the
		// publication.
		ch, err := s.publisher.Publish(ctx, p, func(q *riskmap.Publication) (*riskmap.WriteRecords, error) {
			w := *a // the request's own row keeps what was known before the write (see recorded)
			w.targetID, w.after = strconv.FormatInt(q.Number, 10), pubJSON(q, true)
			var err error
			if body, err = json.Marshal(pubJSON(q, true)); err != nil {
				return nil, err
			}
			r := &riskmap.WriteRecords{Audit: s.auditEntry(c, &w, http.StatusCreated)}
			if idem != nil {
				r.Response = idem.answer(http.StatusCreated, echo.MIMEApplicationJSON, publicationLocation(q.Number), "", body, s.now())
			}
			return r, nil
		})
		if err != nil {
			return err
		}
		written(c)
		cur := s.pub()
		var have int64 // the publication the public view holds (0: none)
		if cur.publication != nil {
			have = cur.publication.Number
		}
		switch {
		case have >= p.Number:
			// Another replica's publication, later than this one, is served already.
		case have == p.Number-1:
			// The public index follows by this publication's change.
			var from publishing.Forker
			if f, ok := cur.ix.(publishing.Forker); ok && have > 0 {
				from = f
			}
			// Committed: the public view follows whether or not the client waits.
			ix, err := s.publisher.Advance(context.WithoutCancel(ctx), from, p, ch)
			if err != nil {
				return err
			}
			s.replacePublic(s.newView(ix, true, p))
		default:
			// The public view is behind by more than this publication (another replica
			// published meanwhile): catch up from what it holds.
			return s.loadPublication(context.WithoutCancel(ctx))
		}
		return nil
	}()
	if err != nil {
		if riskmap.ErrorCode(err) == riskmap.ECONFLICT {
			// A request with the same key may have published first: answer as it was.
			if done, err := s.replay(c, idem); done {
				return err
			}
		}
		return err
	}
	c.Response().Header().Set("Location", publicationLocation(p.Number))
	return c.Blob(http.StatusCreated, echo.MIMEApplicationJSON, body)
}

func publicationLocation(n int64) string { return "/api/v1/publications/" + strconv.FormatInt(n, 10) }

func (s *Server) listPublications(c echo.Context) error {
	ps, err := s.cfg.Store.Publications(c.Request().Context())
	return listJSON(c, "publications", ps, err, func(p *riskmap.Publication) publicationJSON { return pubJSON(p, true) })
}

func parsePubNumber(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, riskmap.Errorf(riskmap.ENOTFOUND, "没有第 %q 期：发布按 1、2、…… 编号", clip(s))
	}
	return n, nil
}

func (s *Server) getPublication(c echo.Context) error {
	n, err := parsePubNumber(c.Param("n"))
	if err != nil {
		return err
	}
	p, err := s.cfg.Store.GetPublication(c.Request().Context(), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pubJSON(p, true))
}

// latestPublication tells the public page which publication it shows.
func (s *Server) latestPublication(c echo.Context) error {
	v := s.pub()
	c.Response().Header().Set("Cache-Control", "no-cache")
	if v.publication == nil {
		return riskmap.Errorf(riskmap.ENOTFOUND, "尚未发布")
	}
	return c.JSON(http.StatusOK, pubJSON(v.publication, false))
}

type diffUnit struct {
	ID         int64  `json:"id"`
	Code       string `json:"code"`
	Name       string `json:"name"`
	Category   string `json:"category"`
	RegionCode string `json:"region_code"`
	Grade      string `json:"grade,omitempty"`
	FromGrade  string `json:"from_grade,omitempty"`
	ToGrade    string `json:"to_grade,omitempty"`
}

type diffRegion struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	FromGrade string `json:"from_grade"`
	ToGrade   string `json:"to_grade"`
}

func (s *Server) publicationUnitMap(ctx context.Context, n int64) (map[int64]*riskmap.ApprovedUnit, error) {
	m := map[int64]*riskmap.ApprovedUnit{}
	for a, err := range s.cfg.Store.PublicationUnits(ctx, n) {
		if err != nil {
			return nil, err
		}
		a.Geometry = nil // the diff lists, it does not draw
		m[a.UnitID] = a
	}
	return m, nil
}

// unitMap maps units by id, without their geometry (a diff lists, it does not draw).
func unitMap(units []*riskmap.ApprovedUnit) map[int64]*riskmap.ApprovedUnit {
	m := make(map[int64]*riskmap.ApprovedUnit, len(units))
	for _, a := range units {
		a.Geometry = nil
		m[a.UnitID] = a
	}
	return m
}

// diffPublications lists the units added, removed or regraded between publications a and b,
// and the regions whose grade changed.
func (s *Server) diffPublications(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := parsePubNumber(c.Param("a"))
	if err != nil {
		return err
	}
	b, err := parsePubNumber(c.Param("b"))
	if err != nil {
		return err
	}
	pa, err := s.cfg.Store.GetPublication(ctx, a)
	if err != nil {
		return err
	}
	pb, err := s.cfg.Store.GetPublication(ctx, b)
	if err != nil {
		return err
	}
	// Only the units that changed between the two are read: a unit both hold alike adds
	// nothing to the diff.
	ua, ub := map[int64]*riskmap.ApprovedUnit{}, map[int64]*riskmap.ApprovedUnit{}
	if a != b {
		ch, err := s.cfg.Store.PublicationChanges(ctx, min(a, b), max(a, b))
		if err != nil {
			return err
		}
		ua, ub = unitMap(ch.Removed), unitMap(ch.Added)
		if a > b {
			ua, ub = ub, ua
		}
	}
	return c.JSON(http.StatusOK, diffOf(userOf(c), a, b, ua, ub, pa.Regions, pb.Regions))
}

// previewPublication is the diff between the latest publication (none: an empty one, 0)
// and what publishing now would publish (to: 0); nothing is written. The admin sees it
// before confirming a publication.
func (s *Server) previewPublication(c echo.Context) error {
	if s.publisher == nil {
		return riskmap.Errorf(riskmap.EUNAVAILABLE, "本服务器没有公众版，无从发布")
	}
	ctx := c.Request().Context()
	var from int64
	var before json.RawMessage
	ua := map[int64]*riskmap.ApprovedUnit{}
	latest, err := s.cfg.Store.LatestPublication(ctx)
	switch {
	case err == nil:
		from, before = latest.Number, latest.Regions
		if ua, err = s.publicationUnitMap(ctx, from); err != nil {
			return err
		}
	case riskmap.ErrorCode(err) != riskmap.ENOTFOUND:
		return err
	}
	units, after, err := s.publisher.Preview(ctx)
	if err != nil {
		return err
	}
	ub := make(map[int64]*riskmap.ApprovedUnit, len(units))
	for _, a := range units {
		a.Geometry = nil
		ub[a.UnitID] = a
	}
	return c.JSON(http.StatusOK, diffOf(userOf(c), from, 0, ua, ub, before, after))
}

// publicationDiff is what changed from publication From to To (0 in a preview: now).
type publicationDiff struct {
	From           int64        `json:"from"`
	To             int64        `json:"to"`
	Added          []diffUnit   `json:"added"`
	Removed        []diffUnit   `json:"removed"`
	Changed        []diffUnit   `json:"changed"`
	RegionsChanged []diffRegion `json:"regions_changed"`
}

// diffOf compares the units ua and regional grades ra of publication a with those of b,
// as me may see them: outside a department's scope, without names.
func diffOf(me *riskmap.User, a, b int64, ua, ub map[int64]*riskmap.ApprovedUnit, ra, rb json.RawMessage) publicationDiff {
	mk := func(x *riskmap.ApprovedUnit) diffUnit {
		d := diffUnit{ID: x.UnitID, Code: x.Code, Category: x.Category, RegionCode: x.RegionCode}
		if riskmap.CanReadInternal(me, x.Category, x.RegionCode) {
			d.Name = x.Name // outside a department's scope, what the public sees: no names
		}
		return d
	}
	out := publicationDiff{From: a, To: b, Added: []diffUnit{}, Removed: []diffUnit{}, Changed: []diffUnit{}, RegionsChanged: []diffRegion{}}
	for id, x := range ub {
		y, ok := ua[id]
		switch {
		case !ok:
			d := mk(x)
			d.Grade = string(x.Grade)
			out.Added = append(out.Added, d)
		case y.Grade != x.Grade:
			d := mk(x)
			d.FromGrade, d.ToGrade = string(y.Grade), string(x.Grade)
			out.Changed = append(out.Changed, d)
		}
	}
	for id, y := range ua {
		if _, ok := ub[id]; !ok {
			d := mk(y)
			d.Grade = string(y.Grade)
			out.Removed = append(out.Removed, d)
		}
	}
	for _, l := range [][]diffUnit{out.Added, out.Removed, out.Changed} {
		sort.Slice(l, func(i, j int) bool { return l[i].ID < l[j].ID })
	}
	var sa, sb []regiongrade.Summary
	_ = json.Unmarshal(ra, &sa)
	_ = json.Unmarshal(rb, &sb)
	before := make(map[string]string, len(sa))
	for _, r := range sa {
		before[r.Code] = string(r.Grade)
	}
	for _, r := range sb {
		if g, ok := before[r.Code]; ok && g != string(r.Grade) {
			out.RegionsChanged = append(out.RegionsChanged, diffRegion{Code: r.Code, Name: r.Name, FromGrade: g, ToGrade: string(r.Grade)})
		}
	}
	return out
}

// publicRoutes serves the latest publication to everyone.
func (s *Server) publicRoutes() {
	pub := func(h func(*view, echo.Context) error) echo.HandlerFunc {
		return func(c echo.Context) error { return h(s.pub(), c) }
	}
	const p = "/public/api/v1"
	s.route(http.MethodGet, p+"/units", anyone, pub((*view).listUnits))
	s.route(http.MethodGet, p+"/units.csv", anyone, pub((*view).unitsCSV))
	s.route(http.MethodGet, p+"/units/:id", anyone, pub((*view).getUnit))
	s.route(http.MethodGet, p+"/categories", anyone, s.categories)
	s.route(http.MethodGet, p+"/grading", anyone, s.publicGrading)
	s.route(http.MethodGet, p+"/regions", anyone, pub((*view).listRegions))
	s.route(http.MethodGet, p+"/regions/:code", anyone, pub((*view).getRegion))
	s.route(http.MethodGet, p+"/stats", anyone, pub((*view).stats))
	s.route(http.MethodGet, p+"/publication", anyone, s.latestPublication)
	s.publicTileRoutes()
}
