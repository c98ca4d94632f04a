package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb/geojson"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/tiles"
)

// OGC API – Features Part 1 Core, read-only, for QGIS and GDAL.

const (
	confCore    = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
	confGeoJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
	confOAS30   = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"
	crs84       = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
)

type link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// ogcRoutes serves OGC API Features. QGIS and GDAL connect without logging in and get what
// the public sees (the latest publication); with a session or an API token they get the
// register, narrowed to a department's scope.
func (s *Server) ogcRoutes() {
	get := func(path string, h echo.HandlerFunc) { s.route(http.MethodGet, path, anyone, ogcCaching(h)) }
	get("/ogc", s.ogcLanding)
	get("/ogc/", s.ogcLanding)
	get("/ogc/api", s.ogcAPI)
	get("/ogc/conformance", s.ogcConformance)
	get("/ogc/collections", s.ogcCollections)
	get("/ogc/collections/:cid", s.ogcCollection)
	get("/ogc/collections/:cid/items", s.ogcItems)
	get("/ogc/collections/:cid/items/:fid", s.ogcItem)
}

// ogcCaching keeps OGC responses out of caches. QGIS reads the landing page, the API
// definition, the collection and the first page of items through its disk cache, preferring
// a stored copy however old (Qt's PreferCache), unless the response said no-store: with
// anything less it shows the features and counts of an earlier publication, or of another
// user's token.
func ogcCaching(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return h(c)
	}
}

// ogcView is the view the requester gets: the public one for the public, the internal one
// for users.
func (s *Server) ogcView(c echo.Context) *view {
	if userOf(c) == nil && s.pub() != nil {
		return s.pub()
	}
	return s.internal
}

// ogcNoParams refuses query parameters on resources that take none but "f".
func ogcNoParams(c echo.Context) error {
	for k := range c.QueryParams() {
		if k != "f" {
			return riskmap.Errorf(riskmap.EINVALID, "未知的查询参数 %q", clip(k))
		}
	}
	if f := c.QueryParam("f"); f != "" && f != "json" {
		return riskmap.Errorf(riskmap.EINVALID, "不提供 f=%s；请用 f=json", clip(f))
	}
	return nil
}

// ogcDocument answers a resource that takes no query parameter but f with the JSON that
// body makes from the resource's absolute address (the base URL and path).
func (s *Server) ogcDocument(c echo.Context, path string, body func(self string) any) error {
	if err := ogcNoParams(c); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, body(s.baseURL(c)+path))
}

func (s *Server) ogcLanding(c echo.Context) error {
	return s.ogcDocument(c, "/ogc", func(b string) any {
		return map[string]any{
			"title":       "riskmap 城市安全风险清单",
			"description": "风险辨识单元与区域总体风险等级 (OGC API – Features)",
			"links": []link{
				{b, "self", "application/json", "本页"},
				{b + "/api", "service-desc", openAPIType, "API 定义 (OpenAPI 3.0)"},
				{b + "/conformance", "conformance", "application/json", "符合的标准"},
				{b + "/collections", "data", "application/json", "数据集合"},
			},
		}
	})
}

func (s *Server) ogcConformance(c echo.Context) error {
	if err := ogcNoParams(c); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"conformsTo": []string{confCore, confOAS30, confGeoJSON}})
}

// ogcCollectionDef is one collection of /ogc.
type ogcCollectionDef struct {
	id, title, description string
	// regions marks the regions collection; the others are units, of one kind of geometry
	// (kind) or of every kind ("").
	regions bool
	kind    riskmap.GeometryKind
	// geometry is the collection's geometry type, named as OGC API – Features Part 5 names
	// geometry formats.
	geometry string
	// params are the query parameters its items take.
	params []string
	// site names the layer of a collection of sites (tiles.LayerTargets, LayerShelters);
	// internal ones are listed only to users.
	site     string
	internal bool
}

var (
	ogcUnitParams   = []string{"bbox", "bbox-crs", "limit", "cursor", "category", "grade", "region", "q", "properties", "f"}
	ogcRegionParams = []string{"bbox", "bbox-crs", "limit", "cursor", "level", "f"}
)

// ogcCollectionDefs are the collections, in the order /ogc/collections lists them. units
// mixes points, lines and polygons (API.md promises it); units_point, units_line and
// units_polygon hold one kind each, for clients such as QGIS that give a layer one type.
var ogcCollectionDefs = []ogcCollectionDef{
	{id: "units", title: "风险辨识单元", description: "城市安全风险清单中的风险辨识单元及其风险等级 (重大/较大/一般/低)；点、线、面混合，" +
		"在 QGIS 中请分别添加 units_point、units_line 和 units_polygon", geometry: "geometry-any", params: ogcUnitParams},
	{id: "units_point", title: "风险辨识单元（点）", description: "几何为点 (Point/MultiPoint) 的风险辨识单元及其风险等级",
		kind: riskmap.KindPoint, geometry: "geometry-point-or-multipoint", params: ogcUnitParams},
	{id: "units_line", title: "风险辨识单元（线）", description: "几何为线 (LineString/MultiLineString) 的风险辨识单元及其风险等级",
		kind: riskmap.KindLine, geometry: "geometry-linestring-or-multilinestring", params: ogcUnitParams},
	{id: "units_polygon", title: "风险辨识单元（面）", description: "几何为面 (Polygon/MultiPolygon) 的风险辨识单元及其风险等级",
		kind: riskmap.KindPolygon, geometry: "geometry-polygon-or-multipolygon", params: ogcUnitParams},
	{id: "regions", title: "区域总体风险", description: "区、街道/乡镇、社区/村与网格的区域总体安全风险等级",
		regions: true, geometry: "geometry-multipolygon", params: ogcRegionParams},
}

// ogcSiteDefs are the collections of sites (issue 16), served when the server has them:
// the protective targets to users only, the shelters to anyone.
var ogcSiteDefs = []ogcCollectionDef{
	{id: tiles.LayerTargets, title: "高敏感防护目标", description: "学校、幼儿园、医院、养老院与人员密集场所（内部数据，须登录；部门用户只见其辖区）",
		site: tiles.LayerTargets, internal: true, geometry: "geometry-any", params: ogcSiteParams},
	{id: tiles.LayerShelters, title: "应急避难场所", description: "紧急、固定与中心避难场所及其容纳人数、有效避难面积和服务半径",
		site: tiles.LayerShelters, geometry: "geometry-any", params: ogcSiteParams},
}

var ogcSiteParams = []string{"bbox", "bbox-crs", "limit", "cursor", "kind", "region", "q", "f"}

// ogcDefs are the collections the requester of c may see (c nil: every collection the
// server has, for the API definition).
func (s *Server) ogcDefs(c echo.Context) []ogcCollectionDef {
	if s.cfg.Sites == nil {
		return ogcCollectionDefs
	}
	out := slices.Clone(ogcCollectionDefs)
	for _, d := range ogcSiteDefs {
		if !d.internal || c == nil || userOf(c) != nil {
			out = append(out, d)
		}
	}
	return out
}

// ogcCollectionDefOf finds a collection the requester of c may see by id; an unknown one
// is ENOTFOUND.
func (s *Server) ogcCollectionDefOf(c echo.Context, id string) (*ogcCollectionDef, error) {
	defs := s.ogcDefs(c)
	for i := range defs {
		if defs[i].id == id {
			return &defs[i], nil
		}
	}
	ids := make([]string, len(defs))
	for i, d := range defs {
		ids[i] = d.id
	}
	return nil, riskmap.Errorf(riskmap.ENOTFOUND, "没有数据集合 %q；可用的集合：%s", clip(id), strings.Join(ids, "、"))
}

type ogcCollection struct {
	ID          string         `json:"id"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Extent      map[string]any `json:"extent"`
	ItemType    string         `json:"itemType"`
	// GeometryType is not in OGC API – Features Part 1, which has no place for it; the
	// value is a geometry format name of Part 5.
	GeometryType string   `json:"geometryType"`
	CRS          []string `json:"crs"`
	Links        []link   `json:"links"`
}

func (s *Server) collections(c echo.Context) []ogcCollection {
	b := s.baseURL(c) + "/ogc/collections/"
	extent := func(bb [4]float64) map[string]any {
		return map[string]any{"spatial": map[string]any{"bbox": [][4]float64{bb}, "crs": crs84}}
	}
	unitsBox := [4]float64{-180, -90, 180, 90}
	if snap, err := s.ogcView(c).snapshot(); err == nil && snap.Len() > 0 {
		min, max := snap.Bounds()
		unitsBox = [4]float64{min[0], min[1], max[0], max[1]}
	}
	regionBox := [4]float64{-180, -90, 180, 90}
	if len(s.regions) > 0 {
		bd := s.regions[0].Bound
		for _, r := range s.regions[1:] {
			bd = bd.Union(r.Bound)
		}
		regionBox = [4]float64{bd.Min[0], bd.Min[1], bd.Max[0], bd.Max[1]}
	}
	defs := s.ogcDefs(c)
	out := make([]ogcCollection, 0, len(defs))
	for _, d := range defs {
		// Every unit collection shares the extent of all units: finding each kind's own
		// would walk the whole index on every request.
		bb := unitsBox
		if d.regions {
			bb = regionBox
		}
		if d.site != "" {
			bb = s.siteExtent(d.site, regionBox)
		}
		out = append(out, ogcCollection{ID: d.id, Title: d.title, Description: d.description, Extent: extent(bb),
			ItemType: "feature", GeometryType: d.geometry, CRS: []string{crs84},
			Links: []link{
				{b + d.id, "self", "application/json", d.title},
				{b + d.id + "/items", "items", geoJSON, d.title},
			}})
	}
	return out
}

func (s *Server) ogcCollections(c echo.Context) error {
	return s.ogcDocument(c, "/ogc/collections", func(b string) any {
		return map[string]any{
			"links":       []link{{b, "self", "application/json", "数据集合"}},
			"collections": s.collections(c),
		}
	})
}

func (s *Server) ogcCollection(c echo.Context) error {
	if err := ogcNoParams(c); err != nil {
		return err
	}
	if _, err := s.ogcCollectionDefOf(c, c.Param("cid")); err != nil {
		return err
	}
	for _, col := range s.collections(c) {
		if col.ID == c.Param("cid") {
			return c.JSON(http.StatusOK, col)
		}
	}
	return riskmap.Errorf(riskmap.ENOTFOUND, "没有数据集合 %q", clip(c.Param("cid")))
}

func setOf(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func (s *Server) ogcItems(c echo.Context) error {
	q := c.QueryParams()
	if v := q.Get("bbox-crs"); v != "" && v != crs84 {
		return riskmap.Errorf(riskmap.EINVALID, "不支持 bbox-crs %q；请用 %s", clip(v), crs84)
	}
	if f := q.Get("f"); f != "" && f != "json" && f != "geojson" {
		return riskmap.Errorf(riskmap.EINVALID, "不提供 f=%s；请用 f=json", clip(f))
	}
	d, err := s.ogcCollectionDefOf(c, c.Param("cid"))
	if err != nil {
		return err
	}
	if d.site != "" {
		return s.ogcSiteItems(c, d)
	}
	allowed := setOf(d.params)
	if !d.regions {
		v := s.ogcView(c)
		p, err := v.parseList(c, q, allowed)
		if err != nil {
			return err
		}
		p.Kind = d.kind
		if v := q.Get("bbox"); v != "" && len(SplitList(v)) == 6 {
			return riskmap.Errorf(riskmap.EINVALID, "bbox：不支持三维范围；请给出四个数")
		}
		keep, err := v.propertySelection(q)
		if err != nil {
			return err
		}
		snap, err := v.snapshot()
		if err != nil {
			return err
		}
		pg := snap.Find(p)
		buf, release := pageBuffer()
		defer release()
		buf.WriteString(`{"type":"FeatureCollection","numberMatched":` + strconv.Itoa(pg.Matched) +
			`,"numberReturned":` + strconv.Itoa(len(pg.Features)) + `,"features":[`)
		v.writeFeatures(buf, pg.Features, keep)
		links := []link{{s.baseURL(c) + c.Request().URL.RequestURI(), "self", geoJSON, ""}}
		if pg.More {
			links = append(links, link{s.nextURL(c, pg.Features[len(pg.Features)-1].ID), "next", geoJSON, "下一页"})
		}
		lb, _ := json.Marshal(links)
		buf.WriteString(`],"links":`)
		buf.Write(lb)
		buf.WriteString(`}`)
		return c.Blob(http.StatusOK, geoJSON, buf.Bytes())
	}
	var p riskmap.Problems
	for k := range q {
		if !allowed[k] {
			p.Add(k, "不是这里的查询参数；可用：%s", strings.Join(sortedKeys(allowed), ", "))
		}
	}
	level := q.Get("level")
	if level != "" && !riskmap.ValidRegionLevel(level) {
		p.Add("level", "应为 district（区县）、street（街道）、community（社区）或 grid（网格）")
	}
	limit, offset := DefaultLimit, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			p.Add("limit", "应为 1 至 %d 的整数", MaxLimit)
		}
		limit = min(max(n, 1), MaxLimit)
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > len(s.regions) {
			p.Add("cursor", "不是本服务器给出的游标（请使用上一页的 next 链接）")
		}
		offset = n
	}
	var box *[4]float64
	if v := q.Get("bbox"); v != "" {
		b, err := ParseBBox(v)
		if err != nil {
			p.Add("bbox", "%s", riskmap.MessageOf(err))
		}
		box = &[4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
	}
	if err := p.Err(); err != nil {
		return err
	}
	sums, _, err := s.ogcView(c).regionView(c).grades.Summaries()
	if err != nil {
		return err
	}
	var all []regionFeature
	for i, r := range s.regions {
		if level != "" && r.Level != level {
			continue
		}
		if box != nil && (r.Bound.Max[0] < box[0] || r.Bound.Min[0] > box[2] || r.Bound.Max[1] < box[1] || r.Bound.Min[1] > box[3]) {
			continue
		}
		all = append(all, regionFeature{Type: "Feature", ID: r.Code, Geometry: geojson.NewGeometry(r.Geometry), Properties: sums[i]})
	}
	end := min(offset+limit, len(all))
	pageItems := []regionFeature{}
	if offset < len(all) {
		pageItems = all[offset:end]
	}
	links := []link{{s.baseURL(c) + c.Request().URL.RequestURI(), "self", geoJSON, ""}}
	if end < len(all) {
		links = append(links, link{s.nextURL(c, int64(end)), "next", geoJSON, "下一页"})
	}
	return c.JSON(http.StatusOK, map[string]any{"type": "FeatureCollection", "numberMatched": len(all),
		"numberReturned": len(pageItems), "features": pageItems, "links": links})
}

func (s *Server) ogcItem(c echo.Context) error {
	if err := ogcNoParams(c); err != nil {
		return err
	}
	d, err := s.ogcCollectionDefOf(c, c.Param("cid"))
	if err != nil {
		return err
	}
	if d.site != "" {
		return s.ogcSiteItem(c, d)
	}
	if !d.regions {
		id, err := strconv.ParseInt(c.Param("fid"), 10, 64)
		if err != nil || id < 1 {
			return riskmap.Errorf(riskmap.ENOTFOUND, "没有风险单元 %q", clip(c.Param("fid")))
		}
		v := s.ogcView(c)
		snap, err := v.snapshot()
		if err != nil {
			return err
		}
		f, ok := snap.Get(id)
		if !ok || !(&riskmap.UnitFilter{Kind: d.kind}).Matcher().Match(&f.UnitFacts) {
			return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的风险单元", id)
		}
		if !v.public {
			if err := s.checkRead(c, id, f.Category, f.RegionCode); err != nil {
				return err
			}
		}
		c.Response().Header().Set("ETag", etag(f.Version))
		return c.Blob(http.StatusOK, geoJSON, f.JSON())
	}
	f, err := s.ogcView(c).regionView(c).regionByCode(c.Param("fid"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}
