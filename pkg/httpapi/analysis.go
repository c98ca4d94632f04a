package httpapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"riskmap/pkg/analysis"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/sites"
)

// The spatial analyses of issue 16, answered from memory by the analysis engine
// (Config.Analysis): the conflicts of a unit's influence range with protective targets
// (安全距离不足), per unit, per target and city-wide (JSON, GeoJSON lines, CSV), the shelter
// coverage per district and street, and the nearest shelter on the public map.
func (s *Server) analysisRoutes() {
	const api = "/api/v1"
	s.route(http.MethodGet, api+"/units/:id/conflicts", loggedIn, s.unitConflicts)
	s.route(http.MethodGet, api+"/protective-targets/:id/conflicts", loggedIn, s.targetConflicts)
	s.route(http.MethodGet, api+"/conflicts", loggedIn, s.listConflicts)
	s.route(http.MethodGet, api+"/conflicts.csv", loggedIn, s.conflictsCSV)
	s.route(http.MethodGet, api+"/shelter-coverage", loggedIn, s.shelterCoverage)
	s.route(http.MethodGet, "/public/api/v1/shelters/nearest", anyone, s.nearestShelter)
}

// engine is the analysis engine once it has loaded.
func (s *Server) engine() (*analysis.Engine, error) {
	e := s.cfg.Analysis
	if e == nil || !e.Loaded() {
		return nil, riskmap.Errorf(riskmap.EUNAVAILABLE, "空间分析仍在载入，请稍后再试")
	}
	return e, nil
}

// conflictUnitJSON, conflictTargetJSON and conflictJSON are a conflict as the API shows it.
type conflictUnitJSON struct {
	ID            int64  `json:"id"`
	Code          string `json:"code"`
	Name          string `json:"name"`
	Category      string `json:"category"`
	CategoryLabel string `json:"category_label"`
	Grade         string `json:"grade"`
	GradeLabel    string `json:"grade_label"`
	RegionCode    string `json:"region_code"`
	Department    string `json:"department"`
}

type conflictTargetJSON struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	KindLabel  string `json:"kind_label"`
	People     int    `json:"people"`
	RegionCode string `json:"region_code"`
}

type conflictJSON struct {
	Unit             conflictUnitJSON   `json:"unit"`
	Target           conflictTargetJSON `json:"target"`
	DistanceM        float64            `json:"distance_m"`
	InfluenceRadiusM float64            `json:"influence_radius_m"`
	RadiusSource     string             `json:"radius_source"`
	Line             *geojson.Geometry  `json:"line"`
}

// round1 rounds to a tenth (of a metre, a square metre).
func round1(v float64) float64 { return math.Round(v*10) / 10 }

func (s *Server) conflictOf(c *analysis.Conflict) conflictJSON {
	u, t := c.Unit, c.Target
	return conflictJSON{
		Unit: conflictUnitJSON{ID: u.ID, Code: u.Code, Name: u.Name, Category: u.Category, CategoryLabel: s.categoryLabel(u.Category),
			Grade: string(u.Grade), GradeLabel: u.Grade.Label(), RegionCode: u.RegionCode, Department: u.Department},
		Target: conflictTargetJSON{ID: t.ID, Name: t.Name, Kind: t.Kind, KindLabel: riskmap.TargetKindLabel(t.Kind),
			People: t.People, RegionCode: t.RegionCode},
		DistanceM: round1(c.DistanceM), InfluenceRadiusM: c.RadiusM, RadiusSource: c.RadiusSource,
		Line: geojson.NewGeometry(c.Line()),
	}
}

func (s *Server) categoryLabel(code string) string {
	if s.cfg.Catalog != nil {
		if c, ok := s.cfg.Catalog.Category(code); ok {
			return c.Label
		}
	}
	return code
}

// readableConflicts keeps the conflicts of units the caller may read.
func readableConflicts(u *riskmap.User, cs []analysis.Conflict) []analysis.Conflict {
	out := cs[:0]
	for _, c := range cs {
		if riskmap.CanReadInternal(u, c.Unit.Category, c.Unit.RegionCode) {
			out = append(out, c)
		}
	}
	return out
}

// unitConflicts answers GET /api/v1/units/{id}/conflicts: the unit's influence range and the
// protective targets inside it, to whoever may read the unit.
func (s *Server) unitConflicts(c echo.Context) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	if err := noParams(c.QueryParams(), nil); err != nil {
		return err
	}
	e, err := s.engine()
	if err != nil {
		return err
	}
	// A retired unit is not in the index (it threatens nothing any more): read from the store.
	u, err := s.readableUnit(c, id)
	if err != nil {
		return err
	}
	hazardous, r, source := e.UnitRange(u.category, u.radius)
	res := e.UnitConflicts(id)
	out := struct {
		UnitID           int64          `json:"unit_id"`
		Hazardous        bool           `json:"hazardous"`
		InfluenceRadiusM float64        `json:"influence_radius_m"`
		RadiusSource     string         `json:"radius_source"`
		Conflicts        []conflictJSON `json:"conflicts"`
	}{UnitID: id, Hazardous: hazardous, InfluenceRadiusM: r, RadiusSource: source, Conflicts: []conflictJSON{}}
	for i := range res.Conflicts {
		out.Conflicts = append(out.Conflicts, s.conflictOf(&res.Conflicts[i]))
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, out)
}

// targetConflicts answers GET /api/v1/protective-targets/{id}/conflicts: the units whose
// influence range holds the target, of those the caller may read.
func (s *Server) targetConflicts(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return riskmap.Errorf(riskmap.ENOTFOUND, "没有防护目标 %q：编号为正整数", clip(c.Param("id")))
	}
	if err := noParams(c.QueryParams(), nil); err != nil {
		return err
	}
	e, err := s.engine()
	if err != nil {
		return err
	}
	t, ok := e.Target(id)
	if !ok || !riskmap.CanReadSite(userOf(c), t.RegionCode) {
		if ok {
			auditOf(c).denied = true
		}
		return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的防护目标", id)
	}
	cs := readableConflicts(userOf(c), e.TargetConflicts(id))
	out := struct {
		TargetID  int64          `json:"target_id"`
		Conflicts []conflictJSON `json:"conflicts"`
	}{TargetID: id, Conflicts: []conflictJSON{}}
	for i := range cs {
		out.Conflicts = append(out.Conflicts, s.conflictOf(&cs[i]))
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, out)
}

// conflictParams are the query parameters of GET /api/v1/conflicts (f=geojson: lines) and
// of its CSV (without f).
var conflictParams = map[string]bool{"region": true, "department": true, "grade": true, "kind": true,
	"bbox": true, "limit": true, "offset": true, "f": true}

// refuseRepeated adds a problem for every parameter given more than once: the handlers
// read one value, so a second would be dropped silently (region=a&region=b answering a).
func refuseRepeated(q url.Values, p *riskmap.Problems) {
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if len(q[k]) > 1 {
			p.Add(clip(k), "只能给一个值")
		}
	}
}

// noParams refuses every query parameter allowed does not hold, and an allowed one given
// twice.
func noParams(q url.Values, allowed map[string]bool) error {
	var p riskmap.Problems
	names := sortedKeys(allowed)
	refuseRepeated(q, &p)
	for k := range q {
		if allowed[k] {
			continue
		}
		if len(names) == 0 {
			p.Add(k, "此处不接受查询参数")
		} else {
			p.Add(k, "不是这里的查询参数；可用：%s", strings.Join(names, ", "))
		}
	}
	return p.Err()
}

// parseConflictQuery reads the filters of the city-wide conflict table; the caller's scope
// is added (conflicts only of units the caller may read). Without limit, CSV takes every
// conflict and JSON DefaultLimit.
func (s *Server) parseConflictQuery(c echo.Context, allowed map[string]bool, limit int) (analysis.ConflictFilter, error) {
	q := c.QueryParams()
	// Admins and experts read every unit: no scope to test (the table's own order and size
	// then answer an unfiltered page).
	f := analysis.ConflictFilter{Scope: scoped(c), Limit: limit}
	var p riskmap.Problems
	refuseRepeated(q, &p)
	for k := range q {
		if !allowed[k] {
			p.Add(k, "不是这里的查询参数；可用：%s", strings.Join(sortedKeys(allowed), ", "))
		}
	}
	f.RegionPrefix = regionParam(q, &p)
	f.Departments = departmentsParam(q, &p)
	f.Grades = gradesParam(q, &p)
	if v := q.Get("kind"); v != "" {
		f.Kinds = []string{}
		for _, k := range SplitList(v) {
			if riskmap.TargetKindLabel(k) == "" {
				p.Add("kind", "未知的防护目标类型 %q；可选 school（学校）、kindergarten（幼儿园）、hospital（医院）、care_home（养老院）、crowded_place（人员密集场所）", clip(k))
				continue
			}
			f.Kinds = append(f.Kinds, k)
		}
	}
	if v := q.Get("bbox"); v != "" {
		b, err := ParseBBox(v)
		if err != nil {
			p.Add("bbox", "%s", riskmap.MessageOf(err))
		} else {
			f.BBox = &b
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			p.Add("limit", "应为 1 至 %d 的整数，收到 %q", MaxLimit, clip(v))
		}
		f.Limit = min(n, MaxLimit)
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > math.MaxInt32 {
			p.Add("offset", "应为非负整数，收到 %q", clip(v))
		}
		f.Offset = n
	}
	if v := q.Get("f"); v != "" && v != "json" && v != "geojson" {
		p.Add("f", "应为 json（默认）或 geojson（冲突连线的 FeatureCollection），收到 %q", clip(v))
	}
	return f, p.Err()
}

// conflictLineProps are the properties of a conflict line Feature (?f=geojson).
type conflictLineProps struct {
	UnitID           int64   `json:"unit_id"`
	UnitName         string  `json:"unit_name"`
	UnitCode         string  `json:"unit_code"`
	Grade            string  `json:"grade"`
	GradeLabel       string  `json:"grade_label"`
	TargetID         int64   `json:"target_id"`
	TargetName       string  `json:"target_name"`
	TargetKind       string  `json:"target_kind"`
	KindLabel        string  `json:"kind_label"`
	People           int     `json:"people"`
	DistanceM        float64 `json:"distance_m"`
	InfluenceRadiusM float64 `json:"influence_radius_m"`
}

// listConflicts answers GET /api/v1/conflicts: the city-wide table, sorted by grade (red
// first), people, distance; ?f=geojson gives the same page as LineString Features.
func (s *Server) listConflicts(c echo.Context) error {
	f, err := s.parseConflictQuery(c, conflictParams, DefaultLimit)
	if err != nil {
		return err
	}
	e, err := s.engine()
	if err != nil {
		return err
	}
	total, page := e.Conflicts(f)
	self := s.baseURL(c) + c.Request().URL.RequestURI()
	typ := "application/json"
	if c.QueryParam("f") == "geojson" {
		typ = geoJSON
	}
	links := []map[string]string{{"rel": "self", "type": typ, "href": self}}
	if f.Offset+len(page) < total && len(page) > 0 {
		q := c.Request().URL.Query()
		q.Set("offset", strconv.Itoa(f.Offset+len(page)))
		links = append(links, map[string]string{"rel": "next", "type": typ, "href": s.baseURL(c) + c.Request().URL.Path + "?" + q.Encode()})
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	if typ == geoJSON {
		type feature struct {
			Type       string            `json:"type"`
			Geometry   *geojson.Geometry `json:"geometry"`
			Properties conflictLineProps `json:"properties"`
		}
		features := make([]feature, len(page))
		for i := range page {
			cf := &page[i]
			features[i] = feature{Type: "Feature", Geometry: geojson.NewGeometry(cf.Line()), Properties: conflictLineProps{
				UnitID: cf.Unit.ID, UnitName: cf.Unit.Name, UnitCode: cf.Unit.Code, Grade: string(cf.Unit.Grade), GradeLabel: cf.Unit.Grade.Label(),
				TargetID: cf.Target.ID, TargetName: cf.Target.Name, TargetKind: cf.Target.Kind, KindLabel: riskmap.TargetKindLabel(cf.Target.Kind),
				People: cf.Target.People, DistanceM: round1(cf.DistanceM), InfluenceRadiusM: cf.RadiusM}}
		}
		b, err := json.Marshal(map[string]any{"type": "FeatureCollection", "numberMatched": total, "numberReturned": len(features),
			"features": features, "links": links})
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, geoJSON, b)
	}
	items := make([]conflictJSON, len(page))
	for i := range page {
		items[i] = s.conflictOf(&page[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"total": total, "items": items, "links": links})
}

// conflictCSVParams are the query parameters of the CSV: the table's, without f.
var conflictCSVParams = map[string]bool{"region": true, "department": true, "grade": true, "kind": true,
	"bbox": true, "limit": true, "offset": true}

// conflictsCSV answers GET /api/v1/conflicts.csv: the city-wide table (every conflict unless
// limit is given) as UTF-8 CSV with a byte-order mark and Chinese headers, as units.csv.
func (s *Server) conflictsCSV(c echo.Context) error {
	f, err := s.parseConflictQuery(c, conflictCSVParams, 0)
	if err != nil {
		return err
	}
	e, err := s.engine()
	if err != nil {
		return err
	}
	_, page := e.Conflicts(f)
	names := s.regionNames()
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	_ = w.Write([]string{"风险单元编号", "风险单元名称", "行业领域", "风险等级", "所属区域", "监管部门",
		"防护目标", "目标类型", "人数", "距离（米）", "影响半径（米）", "半径来源"})
	for i := range page {
		cf := &page[i]
		source := "单元填报"
		if cf.RadiusSource == "default" {
			source = "行业默认"
		}
		_ = w.Write([]string{csvCell(cf.Unit.Code), csvCell(cf.Unit.Name), s.categoryLabel(cf.Unit.Category), cf.Unit.Grade.ShortLabel(),
			csvCell(names.short(cf.Unit.RegionCode)), csvCell(cf.Unit.Department), csvCell(cf.Target.Name),
			riskmap.TargetKindLabel(cf.Target.Kind), strconv.Itoa(cf.Target.People),
			strconv.FormatFloat(round1(cf.DistanceM), 'f', 1, 64), strconv.FormatFloat(cf.RadiusM, 'f', -1, 64), source})
	}
	w.Flush()
	h := c.Response().Header()
	// 安全距离冲突清单.csv, with an ASCII name for clients that do not read RFC 5987.
	h.Set("Content-Disposition", `attachment; filename="conflicts.csv"; filename*=UTF-8''%E5%AE%89%E5%85%A8%E8%B7%9D%E7%A6%BB%E5%86%B2%E7%AA%81%E6%B8%85%E5%8D%95.csv`)
	h.Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// coverageProps are the properties of a region's shelter coverage Feature.
type coverageProps struct {
	Code                   string  `json:"code"`
	Name                   string  `json:"name"`
	Level                  string  `json:"level"`
	Population             int64   `json:"population"`
	Shelters               int     `json:"shelters"`
	Capacity               int     `json:"capacity"`
	EffectiveAreaM2        float64 `json:"effective_area_m2"`
	PerCapitaM2            float64 `json:"per_capita_m2"`
	RequiredPerCapitaM2    float64 `json:"required_per_capita_m2"`
	ShortfallM2            float64 `json:"shortfall_m2"`
	Meets                  bool    `json:"meets"`
	CoveredPopulationShare float64 `json:"covered_population_share"`
	CoveredAreaShare       float64 `json:"covered_area_share"`
	Class                  string  `json:"class"`
	Explanation            string  `json:"explanation"`
}

// shelterCoverage answers GET /api/v1/shelter-coverage?level=district|street (default
// street): one Feature per region with its coverage.
func (s *Server) shelterCoverage(c echo.Context) error {
	if err := noParams(c.QueryParams(), map[string]bool{"level": true}); err != nil {
		return err
	}
	level := c.QueryParam("level")
	switch level {
	case "":
		level = riskmap.LevelStreet
	case riskmap.LevelDistrict, riskmap.LevelStreet:
	default:
		var p riskmap.Problems
		p.Add("level", "应为 district（区县）或 street（街道），收到 %q", clip(level))
		return p.Err()
	}
	e, err := s.engine()
	if err != nil {
		return err
	}
	type feature struct {
		Type       string            `json:"type"`
		Geometry   *geojson.Geometry `json:"geometry"`
		Properties coverageProps     `json:"properties"`
	}
	cov := e.Coverage(level)
	features := make([]feature, len(cov))
	for i, r := range cov {
		features[i] = feature{Type: "Feature", Geometry: geojson.NewGeometry(r.Geometry), Properties: coverageProps{
			Code: r.Code, Name: r.Name, Level: r.Level, Population: r.Population, Shelters: r.Shelters, Capacity: r.Capacity,
			EffectiveAreaM2: round1(r.EffectiveAreaM2), PerCapitaM2: math.Round(r.PerCapitaM2*100) / 100,
			RequiredPerCapitaM2: r.RequiredPerCapitaM2, ShortfallM2: round1(r.ShortfallM2), Meets: r.Meets,
			CoveredPopulationShare: math.Round(r.CoveredPopulationShare*1000) / 1000, CoveredAreaShare: math.Round(r.CoveredAreaShare*1000) / 1000,
			Class: r.Class, Explanation: r.Explanation}}
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	b, err := json.Marshal(map[string]any{"type": "FeatureCollection", "features": features})
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, geoJSON, b)
}

// ParseNearestQuery reads the query of GET /public/api/v1/shelters/nearest: lon and lat,
// both required, finite and inside WGS 84's range; no other parameter.
func ParseNearestQuery(q url.Values) (orb.Point, error) {
	var p riskmap.Problems
	for k := range q {
		if k != "lon" && k != "lat" {
			p.Add(k, "不是这里的查询参数；可用：lat, lon")
		}
	}
	read := func(name string, limit float64, missing, outside string) float64 {
		vs, ok := q[name]
		if !ok || len(vs) == 0 || strings.TrimSpace(vs[0]) == "" {
			p.Add(name, missing)
			return 0
		}
		if len(vs) > 1 {
			p.Add(name, "只能给一个值")
			return 0
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(vs[0]), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			p.Add(name, "应为有限的数值，收到 %q", clip(vs[0]))
			return 0
		}
		if v < -limit || v > limit {
			p.Add(name, outside, v)
		}
		return v
	}
	lon := read("lon", 180, "必填（经度，WGS 84 十进制度）", "经度 %g 超出 -180 至 180")
	lat := read("lat", 90, "必填（纬度，WGS 84 十进制度）", "纬度 %g 超出 -90 至 90")
	return orb.Point{lon, lat}, p.Err()
}

// nearItem is a shelter as seen from the point asked about.
type nearItem struct {
	Shelter    sites.Feature[sites.ShelterProperties] `json:"shelter"`
	DistanceM  float64                                `json:"distance_m"`
	BearingDeg float64                                `json:"bearing_deg"`
	Direction  string                                 `json:"direction"`
	Nav        struct {
		Amap string `json:"amap"`
		Geo  string `json:"geo"`
	} `json:"nav"`
}

// nearestShelter answers GET /public/api/v1/shelters/nearest?lon=&lat=, to anyone: the
// nearest shelter (straight-line distance to its edge, direction) with links that open it
// in a navigation app, and the shelters within the config's nearby distance (1 km).
func (s *Server) nearestShelter(c echo.Context) error {
	p, err := ParseNearestQuery(c.QueryParams())
	if err != nil {
		return err
	}
	e, err := s.engine()
	if err != nil {
		return err
	}
	if !e.NearCity(p) {
		var pr riskmap.Problems
		pr.Add("lon", "位置离本市超过 %d 公里", analysis.MaxRadiusM/1000)
		return pr.Err()
	}
	nearest, nearby := e.Nearest(p, 0)
	names := s.regionNames()
	fs := &sites.Service{RegionName: func(code string) string { return names[code] }}
	item := func(n *analysis.Near) nearItem {
		it := nearItem{Shelter: fs.ShelterFeature(n.Shelter, true), DistanceM: round1(n.DistanceM),
			BearingDeg: math.Round(n.BearingDeg*10) / 10, Direction: n.Direction}
		// The navigation app goes to the shelter's closest point (its edge, or the point).
		lon, lat := strconv.FormatFloat(n.Point[0], 'f', 6, 64), strconv.FormatFloat(n.Point[1], 'f', 6, 64)
		name := url.QueryEscape(n.Shelter.Name)
		it.Nav.Amap = "https://uri.amap.com/marker?position=" + lon + "," + lat + "&name=" + name + "&coordinate=wgs84&callnative=1"
		it.Nav.Geo = "geo:" + lat + "," + lon + "?q=" + lat + "," + lon + "(" + url.PathEscape(n.Shelter.Name) + ")"
		return it
	}
	out := struct {
		From struct {
			Lon float64 `json:"lon"`
			Lat float64 `json:"lat"`
		} `json:"from"`
		Nearest *nearItem  `json:"nearest"`
		Nearby  []nearItem `json:"nearby"`
	}{Nearby: []nearItem{}}
	out.From.Lon, out.From.Lat = p[0], p[1]
	if nearest != nil {
		it := item(nearest)
		out.Nearest = &it
	}
	for i := range nearby {
		out.Nearby = append(out.Nearby, item(&nearby[i]))
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=60")
	return c.JSON(http.StatusOK, out)
}
