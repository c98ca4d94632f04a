package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/sites"
	"riskmap/pkg/tiles"
)

// Protective targets (防护目标) and emergency shelters (应急避难场所), issue 16: thin
// handlers over pkg/sites, which checks, stores and keeps them in memory. Reads come from
// its layers. Targets are internal, read inside a department's regions; shelters are
// public, and every logged-in user reads them all. Writes are held to the writer's scope
// (riskmap.CanEditSite) and carry If-Match as unit writes do.

// siteKind is what the handlers need of one kind of site.
type siteKind[T sites.Item] struct {
	s *Server
	// path is the collection's path; action the audit actions' prefix ("target");
	// targetType the audit rows' target type; label the kind's Chinese name.
	path, action, targetType, label string
	layer                           func() *sites.Layer[T]
	// feature is the Feature of a site for the requester (public: the public one).
	feature  func(x T, public bool) any
	decode   func([]byte) (T, error)
	create   func(ctx context.Context, by *riskmap.User, x T, rec riskmap.SiteRecordFunc[T]) error
	update   func(ctx context.Context, by *riskmap.User, x T, rec riskmap.SiteRecordFunc[T]) error
	delete   func(ctx context.Context, by *riskmap.User, id, version int64, rec riskmap.SiteRecordFunc[T]) (T, error)
	setKey   func(x T, id, version int64)
	version  func(T) int64
	region   func(T) string
	kind     func(T) string
	name     func(T) string
	validKnd func(string) bool
	// readable tells whether u may read x (targets: inside u's regions; shelters: always).
	readable func(u *riskmap.User, x T) bool
	// props are the attributes of a site in a tile.
	props    func(T) []tiles.SiteProp
	layerID  string // the tile layer's and the OGC collection's name
	notFound func(id int64) error
}

func (s *Server) targetKind() *siteKind[*riskmap.ProtectiveTarget] {
	svc := s.cfg.Sites
	return &siteKind[*riskmap.ProtectiveTarget]{s: s, path: "/api/v1/protective-targets", action: "target",
		targetType: "protective_target", label: "防护目标", layer: svc.Targets, layerID: tiles.LayerTargets,
		feature: func(t *riskmap.ProtectiveTarget, _ bool) any { return svc.TargetFeature(t) },
		decode:  sites.DecodeTarget, create: svc.CreateTarget, update: svc.UpdateTarget, delete: svc.DeleteTarget,
		setKey:   func(t *riskmap.ProtectiveTarget, id, v int64) { t.ID, t.Version = id, v },
		version:  func(t *riskmap.ProtectiveTarget) int64 { return t.Version },
		region:   func(t *riskmap.ProtectiveTarget) string { return t.RegionCode },
		kind:     func(t *riskmap.ProtectiveTarget) string { return t.Kind },
		name:     func(t *riskmap.ProtectiveTarget) string { return t.Name + "\n" + t.Address },
		validKnd: func(k string) bool { return riskmap.TargetKindLabel(k) != "" },
		readable: func(u *riskmap.User, t *riskmap.ProtectiveTarget) bool { return riskmap.CanReadSite(u, t.RegionCode) },
		props: func(t *riskmap.ProtectiveTarget) []tiles.SiteProp {
			return []tiles.SiteProp{{Key: "id", Int: t.ID}, {Key: "name", Text: t.Name, IsText: true},
				{Key: "kind", Text: t.Kind, IsText: true}, {Key: "kind_label", Text: riskmap.TargetKindLabel(t.Kind), IsText: true},
				{Key: "region_code", Text: t.RegionCode, IsText: true}, {Key: "people", Int: int64(t.People)}}
		},
		notFound: riskmap.TargetNotFound}
}

func (s *Server) shelterKind() *siteKind[*riskmap.Shelter] {
	svc := s.cfg.Sites
	return &siteKind[*riskmap.Shelter]{s: s, path: "/api/v1/shelters", action: "shelter",
		targetType: "shelter", label: "避难场所", layer: svc.Shelters, layerID: tiles.LayerShelters,
		feature: func(sh *riskmap.Shelter, public bool) any { return svc.ShelterFeature(sh, public) },
		decode:  sites.DecodeShelter, create: svc.CreateShelter, update: svc.UpdateShelter, delete: svc.DeleteShelter,
		setKey:   func(sh *riskmap.Shelter, id, v int64) { sh.ID, sh.Version = id, v },
		version:  func(sh *riskmap.Shelter) int64 { return sh.Version },
		region:   func(sh *riskmap.Shelter) string { return sh.RegionCode },
		kind:     func(sh *riskmap.Shelter) string { return sh.Kind },
		name:     func(sh *riskmap.Shelter) string { return sh.Name + "\n" + sh.Address },
		validKnd: func(k string) bool { return riskmap.ShelterKindLabel(k) != "" },
		readable: func(u *riskmap.User, _ *riskmap.Shelter) bool { return u == nil || !u.Disabled },
		props: func(sh *riskmap.Shelter) []tiles.SiteProp {
			return []tiles.SiteProp{{Key: "id", Int: sh.ID}, {Key: "name", Text: sh.Name, IsText: true},
				{Key: "kind", Text: sh.Kind, IsText: true}, {Key: "kind_label", Text: riskmap.ShelterKindLabel(sh.Kind), IsText: true},
				{Key: "region_code", Text: sh.RegionCode, IsText: true}, {Key: "capacity", Int: int64(sh.Capacity)},
				{Key: "effective_area_m2", Int: int64(sh.EffectiveAreaM2 + 0.5)}, {Key: "service_radius_m", Int: int64(sh.ServiceRadiusM + 0.5)}}
		},
		notFound: riskmap.ShelterNotFound}
}

// siteRoutes serves the sites: their CRUD, the public shelter list and the tiles. The OGC
// collections are in ogc.go.
func (s *Server) siteRoutes() {
	tg, sh := s.targetKind(), s.shelterKind()
	for _, k := range []interface {
		routes()
	}{tg, sh} {
		k.routes()
	}
	s.route(http.MethodGet, "/tiles/"+tiles.LayerTargets+"/:z/:x/:y", loggedIn, func(c echo.Context) error { return tg.tile(c, userOf(c)) })
	s.route(http.MethodGet, "/tiles/"+tiles.LayerShelters+"/:z/:x/:y", loggedIn, func(c echo.Context) error { return sh.tile(c, userOf(c)) })
	// The public shelters: the static segment "shelters" routes before /public/tiles/:pub/….
	s.route(http.MethodGet, "/public/tiles/"+tiles.LayerShelters+"/:z/:x/:y", anyone, func(c echo.Context) error { return sh.tile(c, nil) })
	s.route(http.MethodGet, "/public/api/v1/shelters", anyone, sh.publicList)
}

func (k *siteKind[T]) routes() {
	s := k.s
	s.route(http.MethodGet, k.path, loggedIn, k.list)
	s.route(http.MethodPost, k.path, editor, k.createSite)
	s.route(http.MethodGet, k.path+"/:id", loggedIn, k.get)
	s.route(http.MethodPut, k.path+"/:id", editor, k.updateSite)
	s.route(http.MethodDelete, k.path+"/:id", editor, k.deleteSite)
}

// siteListParams are the query parameters of a site list.
var siteListParams = map[string]bool{"bbox": true, "kind": true, "region": true, "q": true, "limit": true, "offset": true}

// siteFilter is a site list's query.
type siteFilter struct {
	bbox          *orb.Bound
	kinds         []string
	region, q     string
	limit, offset int
}

func (k *siteKind[T]) parseFilter(q url.Values, allowed map[string]bool) (siteFilter, error) {
	var p riskmap.Problems
	f := siteFilter{limit: DefaultLimit}
	refuseRepeated(q, &p)
	for key := range q {
		if !allowed[key] {
			p.Add(clip(key), "不是这里的查询参数；可用：%s", strings.Join(sortedKeys(allowed), ", "))
		}
	}
	if v := q.Get("bbox"); v != "" {
		b, err := ParseBBox(v)
		if err != nil {
			p.Add("bbox", "%s", riskmap.MessageOf(err))
		}
		f.bbox = &b
	}
	if v := q.Get("kind"); v != "" {
		for _, kd := range SplitList(v) {
			if !k.validKnd(kd) {
				p.Add("kind", "不是%s的类型：%q", k.label, clip(kd))
			}
			f.kinds = append(f.kinds, kd)
		}
	}
	if v := q.Get("region"); v != "" {
		if len(v) > 32 || !isDigits(v) {
			p.Add("region", "应为行政区划代码（前缀），收到 %q", clip(v))
		}
		f.region = v
	}
	if v := q.Get("q"); v != "" {
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxQLen {
			p.Add("q", "应为最多 %d 个字的文本", maxQLen)
		}
		f.q = v
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			p.Add("limit", "应为 1 至 %d 的整数，收到 %q", MaxLimit, clip(v))
		}
		f.limit = min(max(n, 1), MaxLimit)
	}
	for _, key := range []string{"offset", "cursor"} {
		if v := q.Get(key); v != "" {
			// Past 2³¹ no page holds anything, and offset + limit must not overflow (the
			// next link would go negative).
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > math.MaxInt32 {
				p.Add(key, "应为不小于 0 的整数，收到 %q", clip(v))
			}
			f.offset = min(max(n, 0), math.MaxInt32)
		}
	}
	return f, p.Err()
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// find returns the sites f selects that u may read (u nil: the public, for shelters), by id.
func (k *siteKind[T]) find(f siteFilter, u *riskmap.User, public bool) []T {
	keep := func(x T) bool {
		if !public && !k.readable(u, x) {
			return false
		}
		if len(f.kinds) > 0 && !slices.Contains(f.kinds, k.kind(x)) {
			return false
		}
		if f.region != "" && !strings.HasPrefix(k.region(x), f.region) {
			return false
		}
		return f.q == "" || strings.Contains(k.name(x), f.q)
	}
	l := k.layer()
	var out []T
	if f.bbox != nil {
		l.Search(*f.bbox, func(x T) bool {
			if keep(x) {
				out = append(out, x)
			}
			return true
		})
		slices.SortFunc(out, func(a, b T) int { return cmpInt64(a.SiteID(), b.SiteID()) })
		return out
	}
	for _, x := range l.All() {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// collection answers a page of sites as a FeatureCollection with its links.
func (k *siteKind[T]) collection(c echo.Context, all []T, f siteFilter, public bool, cursor string) map[string]any {
	end := min(f.offset+f.limit, len(all))
	features := make([]any, 0, max(end-f.offset, 0))
	if f.offset < len(all) {
		for _, x := range all[f.offset:end] {
			features = append(features, k.feature(x, public))
		}
	}
	self := k.s.baseURL(c) + c.Request().URL.RequestURI()
	links := []link{{self, "self", geoJSON, ""}}
	out := map[string]any{"type": "FeatureCollection", "numberMatched": len(all), "numberReturned": len(features), "features": features}
	if end < len(all) {
		q := c.Request().URL.Query()
		q.Set(cursor, strconv.Itoa(end))
		next := k.s.baseURL(c) + c.Request().URL.Path + "?" + q.Encode()
		links = append(links, link{next, "next", geoJSON, "下一页"})
		out["next"] = next
	}
	out["links"] = links
	return out
}

func (k *siteKind[T]) list(c echo.Context) error {
	f, err := k.parseFilter(c.QueryParams(), siteListParams)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return jsonAs(c, http.StatusOK, geoJSON, k.collection(c, k.find(f, userOf(c), false), f, false, "offset"))
}

// jsonAs answers v as JSON of a content type.
func jsonAs(c echo.Context, status int, contentType string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, contentType, b)
}

// publicList is GET /public/api/v1/shelters: every shelter (in bbox), public properties,
// cacheable for a minute.
func (k *siteKind[T]) publicList(c echo.Context) error {
	f, err := k.parseFilter(c.QueryParams(), map[string]bool{"bbox": true})
	if err != nil {
		return err
	}
	f.limit = k.layer().Len() + 1
	b, err := json.Marshal(k.collection(c, k.find(f, nil, true), f, true, "offset"))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	tag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("ETag", tag)
	h.Set("Access-Control-Allow-Origin", "*")
	if c.Request().Header.Get("If-None-Match") == tag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, geoJSON, b)
}

// siteID reads the id of the path.
func (k *siteKind[T]) siteID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, riskmap.Errorf(riskmap.ENOTFOUND, "没有%s %q：编号为正整数", k.label, clip(c.Param("id")))
	}
	return id, nil
}

// readable returns site id if u may read it; one u may not read is not found, and the
// refusal is marked in the audit log.
func (k *siteKind[T]) readableSite(c echo.Context, id int64, u *riskmap.User, public bool) (T, error) {
	x, ok := k.layer().Get(id)
	if !ok {
		var zero T
		return zero, k.notFound(id)
	}
	if !public && !k.readable(u, x) {
		auditOf(c).denied = true
		var zero T
		return zero, k.notFound(id)
	}
	return x, nil
}

func (k *siteKind[T]) get(c echo.Context) error {
	id, err := k.siteID(c)
	if err != nil {
		return err
	}
	x, err := k.readableSite(c, id, userOf(c), false)
	if err != nil {
		return err
	}
	tag := etag(k.version(x))
	h := c.Response().Header()
	h.Set("ETag", tag)
	h.Set("Cache-Control", "private, no-cache")
	if c.Request().Header.Get("If-None-Match") == tag {
		return c.NoContent(http.StatusNotModified)
	}
	return jsonAs(c, http.StatusOK, geoJSON, k.feature(x, false))
}

func (k *siteKind[T]) location(id int64) string { return k.path + "/" + strconv.FormatInt(id, 10) }

// start begins the audit row of a write of action on site id (0: a new one).
func (k *siteKind[T]) start(c echo.Context, action string, id int64) *auditRecord {
	a := auditOf(c)
	a.action, a.targetType = k.action+"."+action, k.targetType
	if id > 0 {
		a.targetID = strconv.FormatInt(id, 10)
	}
	return a
}

// recorder fills the audit row with the site before and after and keeps the answer for
// the Idempotency-Key (idem may be nil); the row kept in the transaction is a copy, as
// units' (recorded).
func (k *siteKind[T]) recorder(c echo.Context, a *auditRecord, status int, idem *idempotency) riskmap.SiteRecordFunc[T] {
	return func(before, after T) (*riskmap.WriteRecords, error) {
		r := *a
		var none T
		if any(before) != any(none) {
			r.before = k.feature(before, false)
		}
		if any(after) != any(none) {
			r.after = k.feature(after, false)
			r.targetID = strconv.FormatInt(after.SiteID(), 10)
		}
		w := &riskmap.WriteRecords{Audit: k.s.auditEntry(c, &r, status)}
		if idem != nil && any(after) != any(none) {
			b, err := json.Marshal(k.feature(after, false))
			if err != nil {
				return nil, err
			}
			w.Response = idem.answer(status, geoJSON, k.location(after.SiteID()), etag(k.version(after)), b, k.s.now())
		}
		return w, nil
	}
}

// failed marks what a refused write's error means for its audit row.
func failed(c echo.Context, a *auditRecord, err error) error {
	if riskmap.ErrorCode(err) == riskmap.EFORBIDDEN {
		a.denied = true
	}
	return err
}

func (k *siteKind[T]) answer(c echo.Context, status int, x T) error {
	written(c)
	c.Response().Header().Set("ETag", etag(k.version(x)))
	if status == http.StatusCreated {
		c.Response().Header().Set("Location", k.location(x.SiteID()))
	}
	return jsonAs(c, status, geoJSON, k.feature(x, false))
}

func (k *siteKind[T]) createSite(c echo.Context) error {
	a := k.start(c, "create", 0)
	body, err := k.s.readBody(c)
	if err != nil {
		return err
	}
	idem, err := k.s.idempotencyOf(c, body)
	if err != nil {
		return err
	}
	if done, err := k.s.replay(c, idem); done {
		return err
	}
	x, err := k.decode(body)
	if err != nil {
		return err
	}
	if err := k.create(c.Request().Context(), userOf(c), x, k.recorder(c, a, http.StatusCreated, idem)); err != nil {
		if riskmap.ErrorCode(err) == riskmap.ECONFLICT {
			if done, err := k.s.replay(c, idem); done {
				return err
			}
		}
		return failed(c, a, err)
	}
	return k.answer(c, http.StatusCreated, x)
}

// write reads what a write of an existing site names: its id and, in If-Match, its version
// (428 without one, as for units).
func (k *siteKind[T]) write(c echo.Context, action string) (int64, int64, *auditRecord, error) {
	id, err := k.siteID(c)
	if err != nil {
		return 0, 0, nil, err
	}
	a := k.start(c, action, id)
	version, err := ifMatch(c)
	return id, version, a, err
}

// stale words a stale If-Match as units' writes do.
func (k *siteKind[T]) stale(err error, id, version int64) error {
	if riskmap.ErrorCode(err) == riskmap.EPRECONDITION {
		return riskmap.Errorf(riskmap.EPRECONDITION, "%s %d 在第 %d 版之后已被他人修改；请重新加载后再修改", k.label, id, version)
	}
	return err
}

func (k *siteKind[T]) updateSite(c echo.Context) error {
	id, version, a, err := k.write(c, "update")
	if err != nil {
		return err
	}
	body, err := k.s.readBody(c)
	if err != nil {
		return err
	}
	x, err := k.decode(body)
	if err != nil {
		return err
	}
	k.setKey(x, id, version)
	if err := k.update(c.Request().Context(), userOf(c), x, k.recorder(c, a, http.StatusOK, nil)); err != nil {
		return failed(c, a, k.stale(err, id, version))
	}
	return k.answer(c, http.StatusOK, x)
}

func (k *siteKind[T]) deleteSite(c echo.Context) error {
	id, version, a, err := k.write(c, "delete")
	if err != nil {
		return err
	}
	if _, err := k.delete(c.Request().Context(), userOf(c), id, version, k.recorder(c, a, http.StatusNoContent, nil)); err != nil {
		return failed(c, a, k.stale(err, id, version))
	}
	written(c)
	return c.NoContent(http.StatusNoContent)
}

// tile draws the sites of a tile from memory: for u (nil: the public) the ones u may read.
func (k *siteKind[T]) tile(c echo.Context, u *riskmap.User) error {
	opt := k.s.cfg.TileOptions
	t, err := tiles.ParseSiteZXY(c.Param("z"), c.Param("x"), c.Param("y"), opt)
	if err != nil {
		return err
	}
	public := u == nil
	var fs []tiles.SiteFeature
	k.layer().Search(tiles.TileBound(t, opt), func(x T) bool {
		if public || k.readable(u, x) {
			g, _ := x.SiteGeometry()
			fs = append(fs, tiles.SiteFeature{ID: x.SiteID(), Geometry: g, Props: k.props(x)})
		}
		return true
	})
	slices.SortFunc(fs, func(a, b tiles.SiteFeature) int { return cmpInt64(a.ID, b.ID) })
	tl, err := tiles.SiteTile(k.layerID, fs, t, opt)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	if public {
		h.Set("Cache-Control", "public, max-age=60")
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Cache-Control", "private, no-cache")
		vary(h, "Cookie", "Authorization")
	}
	if tl.Empty {
		return c.NoContent(http.StatusNoContent)
	}
	h.Set("ETag", tl.ETag)
	vary(h, "Accept-Encoding")
	if match := c.Request().Header.Get("If-None-Match"); match != "" && match == tl.ETag {
		return c.NoContent(http.StatusNotModified)
	}
	return sendGzip(c, tl.Gzip)
}

// sendGzip answers a gzip-compressed tile: as it is to a client that takes gzip, inflated
// to one that does not.
func sendGzip(c echo.Context, gz []byte) error {
	if strings.Contains(c.Request().Header.Get("Accept-Encoding"), "gzip") {
		c.Response().Header().Set("Content-Encoding", "gzip")
		return c.Blob(http.StatusOK, mvtType, gz)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, mvtType, raw)
}

// siteExtent is the bound of a layer of sites as an OGC extent; the regions' (fallback)
// when it has none.
func (s *Server) siteExtent(layer string, fallback [4]float64) [4]float64 {
	var b orb.Bound
	var ok bool
	if layer == tiles.LayerTargets {
		b, ok = s.cfg.Sites.Targets().Bound()
	} else {
		b, ok = s.cfg.Sites.Shelters().Bound()
	}
	if !ok {
		return fallback
	}
	return [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
}

// ogcSiteItems is the items of a collection of sites: the public's shelters to the public,
// what a user may read to a user.
func (s *Server) ogcSiteItems(c echo.Context, d *ogcCollectionDef) error {
	if d.site == tiles.LayerTargets {
		return s.targetKind().ogcItems(c, d)
	}
	return s.shelterKind().ogcItems(c, d)
}

// ogcSiteItem is one site of a collection.
func (s *Server) ogcSiteItem(c echo.Context, d *ogcCollectionDef) error {
	if d.site == tiles.LayerTargets {
		return s.targetKind().ogcItem(c)
	}
	return s.shelterKind().ogcItem(c)
}

func (k *siteKind[T]) ogcItems(c echo.Context, d *ogcCollectionDef) error {
	allowed := setOf(d.params)
	q := c.QueryParams()
	f, err := k.parseFilter(q, allowed)
	if err != nil {
		return err
	}
	u := userOf(c)
	return jsonAs(c, http.StatusOK, geoJSON, k.collection(c, k.find(f, u, u == nil), f, u == nil, "cursor"))
}

func (k *siteKind[T]) ogcItem(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("fid"), 10, 64)
	if err != nil || id < 1 {
		return riskmap.Errorf(riskmap.ENOTFOUND, "没有%s %q：编号为正整数", k.label, clip(c.Param("fid")))
	}
	u := userOf(c)
	x, err := k.readableSite(c, id, u, u == nil)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(k.version(x)))
	return jsonAs(c, http.StatusOK, geoJSON, k.feature(x, u == nil))
}

// siteKindCodes are the codes of every kind of target and shelter.
func siteKindCodes() []string {
	var out []string
	for _, k := range riskmap.TargetKinds {
		out = append(out, k.Code)
	}
	for _, k := range riskmap.ShelterKinds {
		out = append(out, k.Code)
	}
	return out
}
