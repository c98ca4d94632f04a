package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"riskmap/pkg/analysis"
	"riskmap/pkg/grading"
	"riskmap/pkg/hazards"
	"riskmap/pkg/mapimage"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/reportdoc"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// The 城市安全风险评估报告 (GET /api/v1/report.pdf, /api/v1/report.docx) and the four-colour
// map as an image (GET /api/v1/map.png, /public/api/v1/map.png).

// mapFilters are the unit filters a map image takes (those of the map); publicMapFilters
// those of the public map.
var (
	mapFilters       = map[string]bool{"category": true, "grade": true, "region": true, "department": true, "q": true, "status": true, "overdue": true, "open_hazards": true}
	publicMapFilters = map[string]bool{"category": true, "grade": true, "region": true}
)

// reportRoutes serves the report and the map image. The report's font is looked for now;
// without it the report routes answer 503 naming the package to install.
func (s *Server) reportRoutes() {
	fonts := &reportdoc.FontSource{Path: s.cfg.ReportFont, Now: s.now}
	if _, err := fonts.Font(); err != nil {
		s.cfg.Logger.Warn("the report's font is missing: reports answer 503 until it is installed", "err", riskmap.MessageOf(err))
	}
	const api = "/api/v1"
	s.route(http.MethodGet, api+"/map.png", loggedIn, s.internal.mapPNG)
	s.route(http.MethodGet, api+"/report.pdf", loggedIn, s.report(fonts, "pdf"))
	s.route(http.MethodGet, api+"/report.docx", loggedIn, s.report(fonts, "docx"))
	if s.publisher != nil {
		s.route(http.MethodGet, "/public"+api+"/map.png", anyone, func(c echo.Context) error { return s.pub().mapPNG(c) })
	}
}

// splitQuery separates the parameters in names from the others.
func splitQuery(q url.Values, names []string) (mine, rest url.Values) {
	mine, rest = url.Values{}, url.Values{}
	for k, v := range q {
		if slices.Contains(names, k) {
			mine[k] = v
		} else {
			rest[k] = v
		}
	}
	return mine, rest
}

// union is the set of a and the names.
func union(a map[string]bool, names ...string) map[string]bool {
	m := make(map[string]bool, len(a)+len(names))
	for k := range a {
		m[k] = true
	}
	for _, k := range names {
		m[k] = true
	}
	return m
}

// regionLevelOf is the level the regional map and the counts by region use by default: the
// coarsest level with more than one region (the demo city has one district and six
// streets: streets).
func (s *Server) regionLevelOf() string {
	n := map[string]int{}
	for _, r := range s.regions {
		n[r.Level]++
	}
	for _, l := range riskmap.RegionLevels {
		if n[l] > 1 {
			return l
		}
	}
	return riskmap.LevelDistrict
}

// unitShapes are the shapes of the features, and their bounding box.
func unitShapes(fs []*spatialindex.Feature) ([]mapimage.Shape, orb.Bound, bool) {
	shapes := make([]mapimage.Shape, 0, len(fs))
	var b orb.Bound
	for i, f := range fs {
		shapes = append(shapes, mapimage.Shape{ID: f.ID, Grade: f.Grade, Geometry: f.Geometry})
		if i == 0 {
			b = f.Bound
		} else {
			b = b.Union(f.Bound)
		}
	}
	return shapes, b, len(fs) > 0
}

// regionShapes are the regions of a level with their grades (sums aligned with s.regions),
// and their bounding box.
func (s *Server) regionShapes(level string, sums []regiongrade.Summary) ([]mapimage.Shape, orb.Bound) {
	var shapes []mapimage.Shape
	var b orb.Bound
	byCode := map[string]riskmap.Grade{}
	for _, sm := range sums {
		byCode[sm.Code] = sm.Grade
	}
	for i, r := range s.regions {
		if r.Level != level {
			continue
		}
		g := byCode[r.Code]
		if !g.Valid() {
			g = riskmap.GradeBlue
		}
		shapes = append(shapes, mapimage.Shape{ID: int64(i), Grade: g, Geometry: r.Geometry})
		if len(shapes) == 1 {
			b = r.Bound
		} else {
			b = b.Union(r.Bound)
		}
	}
	return shapes, b
}

// regionsBound is the bounding box of every region (the city), for an empty map.
func (s *Server) regionsBound() orb.Bound {
	var b orb.Bound
	for i, r := range s.regions {
		if i == 0 {
			b = r.Bound
		} else {
			b = b.Union(r.Bound)
		}
	}
	return b
}

// matching returns the features of snap that f selects, in id order.
func matching(snap *spatialindex.Snapshot, f *riskmap.UnitFilter) []*spatialindex.Feature {
	m := f.Matcher()
	var out []*spatialindex.Feature
	snap.Ascend(0, func(ft *spatialindex.Feature) bool {
		if m.Match(&ft.UnitFacts) {
			out = append(out, ft)
		}
		return true
	})
	return out
}

// mapPNG answers GET /api/v1/map.png and /public/api/v1/map.png: the four-colour map of the
// units the filters select (within the caller's scope) or of the regional grades, as PNG.
func (v *view) mapPNG(c echo.Context) error {
	allowed := mapFilters
	if v.public {
		allowed = publicMapFilters
	}
	mine, rest := splitQuery(c.QueryParams(), mapimage.Params)
	req, err := mapimage.ParseQuery(mine)
	if err != nil {
		return err
	}
	f, err := v.parseList(c, rest, union(allowed, mapimage.Params...))
	if err != nil {
		return err
	}
	var shapes []mapimage.Shape
	var extent orb.Bound
	have := false
	if req.Layer == mapimage.LayerRegions {
		rv := v.regionView(c)
		sums, _, err := rv.grades.Summaries()
		if err != nil {
			return err
		}
		level := req.Level
		if level == "" {
			level = v.s.regionLevelOf()
		}
		shapes, extent = v.s.regionShapes(level, sums)
		have = len(shapes) > 0
	} else {
		snap, err := v.snapshot()
		if err != nil {
			return err
		}
		shapes, extent, have = unitShapes(matching(snap, f))
	}
	box := v.s.regionsBound()
	if have {
		box = extent
	}
	box = mapimage.Extent(box)
	if req.BBox != nil {
		box = *req.BBox
	}
	img := mapimage.Render(shapes, mapimage.Options{BBox: box, Width: req.Width, Height: req.Height,
		Colours: v.s.cfg.Grader.Config().Colours, Legend: req.Legend})
	raw, err := mapimage.Encode(img)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `inline; filename="map.png"`)
	if v.public {
		h.Set("Cache-Control", "public, max-age=60")
	} else {
		h.Set("Cache-Control", "private, no-store")
	}
	return c.Blob(http.StatusOK, "image/png", raw)
}

// reportParams are the report's query parameters: the map's filters and publication.
var reportParams = union(mapFilters, "publication")

// report answers GET /api/v1/report.{pdf,docx}: the assessment report of the units the
// filters select within the caller's scope, from the live register or (?publication=n)
// from publication n, whose report is the same bytes every time.
func (s *Server) report(fonts *reportdoc.FontSource, format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		var pubNo int64
		if v, ok := q["publication"]; ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 64)
			if len(v) != 1 || err != nil || n < 1 {
				return riskmap.Problems{riskmap.FieldErrorf("publication", "应为发布的期号（正整数），收到 %q", clip(v[0]))}.Err()
			}
			pubNo = n
		}
		rest := url.Values{}
		for k, v := range q {
			if k != "publication" {
				rest[k] = v
			}
		}
		f, err := s.internal.parseList(c, rest, reportParams)
		if err != nil {
			return err
		}
		font, err := fonts.Font()
		if err != nil {
			return err
		}
		d, err := s.reportData(c, f, rest, pubNo)
		if err != nil {
			return err
		}
		var raw []byte
		ctype, name := "application/pdf", "report.pdf"
		if format == "pdf" {
			raw, err = reportdoc.PDF(d, font)
		} else {
			ctype, name = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "report.docx"
			raw, err = reportdoc.DOCX(d, font)
		}
		if err != nil {
			return err
		}
		h := c.Response().Header()
		// 城市安全风险评估报告.{pdf,docx}, with an ASCII name for clients that do not read RFC 5987.
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s.%s`, name, url.PathEscape(d.Title()), format))
		h.Set("Cache-Control", "private, no-store")
		return c.Blob(http.StatusOK, ctype, raw)
	}
}

// reportFeatures are the units a report covers and what it says about where they come from.
type reportFeatures struct {
	features []*spatialindex.Feature
	date     time.Time
	scope    string
	// regions are the regional grades shown (aligned with s.regions when live).
	regions []regiongrade.Summary
	note    string
	pub     *riskmap.Publication
}

// publicationSnapshot is publication n's units: the public view's index when n is the one it
// serves, else a new index loaded from the store.
func (s *Server) publicationSnapshot(ctx context.Context, n int64) (*riskmap.Publication, *spatialindex.Snapshot, error) {
	if s.publisher == nil {
		return nil, nil, riskmap.Errorf(riskmap.ENOTFOUND, "本服务没有发布功能")
	}
	p, err := s.publisher.Store.GetPublication(ctx, n)
	if err != nil {
		return nil, nil, err
	}
	if v := s.pub(); v != nil && v.publication != nil && v.publication.Number == n && v.ix.Loaded() {
		return p, v.ix.Snapshot(), nil
	}
	ix := s.publisher.NewIndex()
	units := func(yield func(*riskmap.Unit, error) bool) {
		for a, err := range s.publisher.Store.PublicationUnits(ctx, n) {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(a.Unit(), nil) {
				return
			}
		}
	}
	if _, err := ix.Load(ctx, iter.Seq2[*riskmap.Unit, error](units)); err != nil {
		return nil, nil, err
	}
	return p, ix.Snapshot(), nil
}

// unitProps are what the report reads of a unit's Feature beyond the index's facts.
type unitProps struct {
	Properties struct {
		Controls              riskmap.Controls `json:"controls"`
		ResponsibleDepartment string           `json:"responsible_department"`
		ResponsibleUnit       string           `json:"responsible_unit"`
		PublicLabel           string           `json:"public_label"`
	} `json:"properties"`
}

func (s *Server) reportData(c echo.Context, f *riskmap.UnitFilter, q url.Values, pubNo int64) (*reportdoc.Data, error) {
	ctx := c.Request().Context()
	user := scoped(c)
	var rf reportFeatures
	if pubNo > 0 {
		p, snap, err := s.publicationSnapshot(ctx, pubNo)
		if err != nil {
			return nil, err
		}
		rf.features, rf.date, rf.pub = matching(snap, f), p.CreatedAt, p
		rf.scope = fmt.Sprintf("第 %d 期发布（已审核的风险单元）", p.Number)
		if err := json.Unmarshal(p.Regions, &rf.regions); err != nil {
			return nil, fmt.Errorf("publication %d's regions: %w", p.Number, err)
		}
		rf.note = fmt.Sprintf("区域风险等级为第 %d 期发布时的等级，按全部已发布单元计算，不受本报告的筛选条件影响。", p.Number)
	} else {
		snap, err := s.internal.snapshot()
		if err != nil {
			return nil, err
		}
		rf.features, rf.date = matching(snap, f), s.now()
		rf.scope = "全市风险清单（含草稿、待审核和已审核的风险单元）"
		rv := s.internal.regionView(c)
		sums, _, err := rv.grades.Summaries()
		if err != nil {
			return nil, err
		}
		rf.regions = sums
		rf.note = "区域风险等级按当前风险清单实时计算，不受本报告的筛选条件影响。"
		if rv != s.internal {
			rf.note = "区域风险等级为最新一期发布的等级（部门用户看到的区域等级与公众相同），不受本报告的筛选条件影响。"
		}
	}
	if user != nil {
		rf.scope += "；限" + cmp.Or(user.Department, user.DisplayName, user.Name) + "的职责范围"
	}
	d := &reportdoc.Data{City: reportdoc.City(s.cfg.Contact.Name), Publisher: s.cfg.Contact.Name, Date: rf.date,
		Scope: rf.scope, Filters: s.filtersText(q), MapAspect: float64(reportMapH) / reportMapW, RegionsNote: rf.note}
	if d.Publisher == "" {
		d.Publisher = d.City + "安全生产委员会办公室"
	}
	colours := s.cfg.Grader.Config().Colours
	pal := mapimage.DefaultColours
	for i, g := range riskmap.Grades {
		fill := pal[g].Fill
		if c, ok := colours[g]; ok && c.Fill != "" {
			fill = c.Fill
		}
		d.Grades[i] = reportdoc.GradeInfo{Grade: g, Label: g.Label(), Short: g.ShortLabel(), Fill: fill}
	}
	s.countUnits(d, rf.features, rf.pub != nil)
	// The maps.
	shapes, extent, have := unitShapes(rf.features)
	box := s.regionsBound()
	if have {
		box = extent
	}
	var err error
	if d.UnitMap, err = mapimage.Encode(mapimage.Render(shapes, mapimage.Options{BBox: mapimage.Extent(box), Width: reportMapW, Height: reportMapH, Colours: colours, Legend: true})); err != nil {
		return nil, err
	}
	level := s.regionLevelOf()
	rshapes, rbox := s.regionShapes(level, rf.regions)
	if len(rshapes) > 0 {
		if d.RegionMap, err = mapimage.Encode(mapimage.Render(rshapes, mapimage.Options{BBox: mapimage.Extent(rbox), Width: reportMapW, Height: reportMapH, Colours: colours, Legend: true})); err != nil {
			return nil, err
		}
	}
	// The regional grades: every level but grids.
	byCode := map[string]regiongrade.Summary{}
	for _, sm := range rf.regions {
		byCode[sm.Code] = sm
	}
	for _, r := range s.regions {
		sm, ok := byCode[r.Code]
		if !ok || r.Level == riskmap.LevelGrid {
			continue
		}
		d.Regions = append(d.Regions, reportdoc.RegionRow{Name: r.Name, Level: levelLabel(r.Level), Counts: sm.Counts.Array(), Grade: sm.Grade, Explanation: sm.Explanation})
	}
	if rf.pub != nil {
		d.HazardsNote = "隐患排查治理情况为实时数据，不属于发布内容；请在系统中查看或导出不带 publication 参数的报告。"
	} else if s.cfg.Hazards == nil {
		d.HazardsNote = "本系统未启用隐患排查治理功能。"
	} else if d.Hazards, err = s.reportHazards(ctx, userOf(c), f); err != nil {
		return nil, err
	}
	if err := s.reportAnalyses(d, rf.features, f.RegionPrefix, rf.pub != nil); err != nil {
		return nil, err
	}
	// 监测预警 is live data: not in a publication's report.
	if rf.pub == nil {
		if d.Monitoring, err = s.reportMonitoring(ctx, userOf(c), rf.features, f.RegionPrefix); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// The size of the report's map images, in pixels.
const (
	reportMapW = 1200
	reportMapH = 900
)

func levelLabel(l string) string {
	switch l {
	case riskmap.LevelDistrict:
		return "区县"
	case riskmap.LevelStreet:
		return "街道"
	case riskmap.LevelCommunity:
		return "社区"
	case riskmap.LevelGrid:
		return "网格"
	}
	return l
}

// countUnits fills the report's counts and its list of 重大 and 较大 risks.
func (s *Server) countUnits(d *reportdoc.Data, fs []*spatialindex.Feature, public bool) {
	level := s.regionLevelOf()
	type group struct {
		code, name string
	}
	var groups []group
	names := map[string]string{}
	for _, r := range s.regions {
		names[r.Code] = r.Name
		if r.Level == level {
			groups = append(groups, group{r.Code, r.Name})
		}
	}
	// The longest group code first, so that a region inside another is found first.
	slices.SortFunc(groups, func(a, b group) int { return cmp.Compare(len(b.code), len(a.code)) })
	byCat := map[string]*reportdoc.CountRow{}
	byRegion := map[string]*reportdoc.CountRow{}
	add := func(m map[string]*reportdoc.CountRow, label string, i int) {
		r := m[label]
		if r == nil {
			r = &reportdoc.CountRow{Label: label}
			m[label] = r
		}
		r.Counts[i]++
	}
	for _, f := range fs {
		i := f.Grade.Rank() - 1
		if i < 0 {
			continue
		}
		d.Total[i]++
		add(byCat, s.catLabel(f.Category), i)
		region := "其他区域"
		for _, g := range groups {
			if strings.HasPrefix(f.RegionCode, g.code) {
				region = g.name
				break
			}
		}
		add(byRegion, region, i)
		if i <= 1 {
			var p unitProps
			_ = json.Unmarshal(f.JSON(), &p)
			name := f.Name
			if public || name == "" {
				name = p.Properties.PublicLabel
			}
			d.Major = append(d.Major, reportdoc.RiskRow{Code: f.Code, Name: name, Category: s.catLabel(f.Category),
				Region: cmp.Or(names[f.RegionCode], f.RegionCode), Grade: f.Grade, Controls: reportdoc.ControlsText(p.Properties.Controls),
				Department: cmp.Or(f.Department, p.Properties.ResponsibleDepartment), Unit: p.Properties.ResponsibleUnit})
		}
	}
	rows := func(m map[string]*reportdoc.CountRow) []reportdoc.CountRow {
		out := make([]reportdoc.CountRow, 0, len(m))
		for _, r := range m {
			out = append(out, *r)
		}
		slices.SortFunc(out, func(a, b reportdoc.CountRow) int {
			return cmp.Or(cmp.Compare(b.Sum(), a.Sum()), cmp.Compare(a.Label, b.Label))
		})
		return out
	}
	d.ByCategory, d.ByRegion = rows(byCat), rows(byRegion)
	slices.SortStableFunc(d.Major, func(a, b reportdoc.RiskRow) int {
		return cmp.Or(cmp.Compare(a.Grade.Rank(), b.Grade.Rank()), cmp.Compare(a.Code, b.Code))
	})
}

func (s *Server) catLabel(code string) string {
	if cat, ok := s.cfg.Catalog.Category(code); ok {
		return cat.Label
	}
	return code
}

// openMajorListed is how many open major hidden dangers the report lists.
const openMajorListed = 100

// reportHazards is the hidden-danger part of a live report: counts by category and the
// open major ones, within the caller's scope and the report's filters.
func (s *Server) reportHazards(ctx context.Context, u *riskmap.User, f *riskmap.UnitFilter) (*reportdoc.HazardPart, error) {
	hf := hazards.Filter{Categories: f.Categories, RegionPrefix: f.RegionPrefix, Departments: f.Departments, Q: f.Q}
	counts, err := s.hz().Stats(ctx, u, hf, hazards.ByCategory)
	if err != nil {
		return nil, err
	}
	part := &reportdoc.HazardPart{Total: reportdoc.HazardRow{Label: "合计"}}
	for _, c := range counts {
		row := reportdoc.HazardRow{Label: s.catLabel(c.Key), Total: c.Total, Closed: c.Closed, Open: c.Open, OpenMajor: c.OpenMajor, Overdue: c.Overdue, DueSoon: c.DueSoon}
		part.ByCategory = append(part.ByCategory, row)
		t := &part.Total
		t.Total, t.Closed, t.Open, t.OpenMajor, t.Overdue, t.DueSoon = t.Total+c.Total, t.Closed+c.Closed, t.Open+c.Open, t.OpenMajor+c.OpenMajor, t.Overdue+c.Overdue, t.DueSoon+c.DueSoon
	}
	hf.Open, hf.Levels, hf.Limit = true, []hazards.Level{hazards.LevelMajor}, openMajorListed
	list, n, err := s.hz().List(ctx, u, hf)
	if err != nil {
		return nil, err
	}
	for _, h := range list {
		part.OpenMajor = append(part.OpenMajor, reportdoc.HazardItem{Code: h.Code, Unit: h.UnitName, Description: h.Description,
			Deadline: h.Deadline.Format("2006-01-02"), Department: h.Department, Status: h.Status.Label()})
	}
	part.OpenMajorMore = max(0, n-len(list))
	return part, nil
}

// filtersText says in words which filters a report applies.
func (s *Server) filtersText(q url.Values) string {
	var parts []string
	if v := q.Get("category"); v != "" {
		var ls []string
		for _, c := range SplitList(v) {
			ls = append(ls, s.catLabel(c))
		}
		parts = append(parts, "行业领域 "+strings.Join(ls, "、"))
	}
	if v := q.Get("grade"); v != "" {
		var ls []string
		for _, g := range SplitList(v) {
			if gr, ok := riskmap.ParseGrade(g); ok {
				ls = append(ls, gr.Label())
			}
		}
		parts = append(parts, "风险等级 "+strings.Join(ls, "、"))
	}
	if v := q.Get("region"); v != "" {
		name := v
		for _, r := range s.regions {
			if r.Code == v {
				name = r.Name + "（" + v + "）"
			}
		}
		parts = append(parts, "区域 "+name)
	}
	if v := q.Get("department"); v != "" {
		parts = append(parts, "责任部门 "+strings.Join(SplitList(v), "、"))
	}
	if v := q.Get("status"); v != "" {
		var ls []string
		for _, st := range SplitList(v) {
			ls = append(ls, map[string]string{"draft": "草稿", "submitted": "待审核", "approved": "已审核"}[st])
		}
		parts = append(parts, "状态 "+strings.Join(ls, "、"))
	}
	if v := q.Get("q"); v != "" {
		parts = append(parts, "关键词「"+v+"」")
	}
	if v := q.Get("overdue"); v == "true" || v == "1" {
		parts = append(parts, "复核逾期")
	}
	if v := q.Get("open_hazards"); v == "true" || v == "1" {
		parts = append(parts, "有未销号隐患")
	}
	return strings.Join(parts, "；")
}

// conflictsListed is how many conflicts the report lists (the rest are counted).
const conflictsListed = 300

// reportAnalyses fills the report's chapters 安全距离分析 and 应急避难场所覆盖 from the
// analysis engine: the conflicts of the units the report covers (its filters and the
// caller's scope already applied to fs) and the shelter coverage of the districts and
// streets (of the region filter, when given). A publication's report leaves them out: they
// are live data, not part of a publication.
func (s *Server) reportAnalyses(d *reportdoc.Data, fs []*spatialindex.Feature, region string, pub bool) error {
	e := s.cfg.Analysis
	switch {
	case pub:
		d.ConflictsNote = "安全距离分析为实时数据，不属于发布内容；请在系统中查看冲突清单或导出不带 publication 参数的报告。"
		d.CoverageNote = "应急避难场所覆盖为实时数据，不属于发布内容；请在系统中查看或导出不带 publication 参数的报告。"
		return nil
	case e == nil:
		d.ConflictsNote = "本系统未启用空间分析功能。"
		d.CoverageNote = d.ConflictsNote
		return nil
	case !e.Loaded():
		d.ConflictsNote = "空间分析正在启动，尚无结果；请稍后再导出报告。"
		d.CoverageNote = d.ConflictsNote
		return nil
	}
	part, err := s.reportConflicts(e, fs)
	if err != nil {
		return err
	}
	d.Conflicts = part
	d.Coverage, err = s.reportCoverage(e, region)
	return err
}

// reportConflicts is the chapter 安全距离分析: the conflicts of the units in fs, in the
// order of the city-wide table, the first conflictsListed listed, and the maps.
func (s *Server) reportConflicts(e *analysis.Engine, fs []*spatialindex.Feature) (*reportdoc.ConflictPart, error) {
	in := make(map[int64]bool, len(fs))
	for _, f := range fs {
		in[f.ID] = true
	}
	_, all := e.Conflicts(analysis.ConflictFilter{})
	part := &reportdoc.ConflictPart{}
	var mine []analysis.Conflict
	units := map[int64][]riskmap.Condition{}
	targets := map[int64]bool{}
	for _, c := range all {
		if !in[c.Unit.ID] {
			continue
		}
		mine = append(mine, c)
		units[c.Unit.ID] = append(units[c.Unit.ID], riskmap.Condition{Source: riskmap.ConditionConflict, Ref: c.Target.Name, Level: c.Target.Kind})
		if !targets[c.Target.ID] {
			targets[c.Target.ID] = true
			part.People += c.Target.People
		}
		if len(part.Rows) < conflictsListed {
			part.Rows = append(part.Rows, reportdoc.ConflictRow{UnitCode: c.Unit.Code, UnitName: c.Unit.Name, Grade: c.Unit.Grade,
				Target: c.Target.Name, Kind: riskmap.TargetKindLabel(c.Target.Kind), People: c.Target.People,
				DistanceM: c.DistanceM, RadiusM: c.RadiusM, DefaultRadius: c.RadiusSource == "default"})
		} else {
			part.More++
		}
	}
	part.Units, part.Targets = len(units), len(targets)
	// The units the conflict rules raise: above their inherent grade, and raised by their
	// conflicts alone.
	g := s.cfg.Grader
	for _, c := range mine {
		conds, ok := units[c.Unit.ID]
		if !ok {
			continue
		}
		delete(units, c.Unit.ID)
		if up, _ := g.Raise(c.Unit.InherentGrade, conds); c.Unit.Grade.Higher(c.Unit.InherentGrade) && up.Higher(c.Unit.InherentGrade) {
			part.Raised++
		}
	}
	part.RaisedRule = conflictRuleText(g.Config().Dynamic.Rules)
	var err error
	part.Maps, err = s.conflictMaps(mine)
	return part, err
}

// conflictRuleText says the conflict rules of the dynamic grades in words, e.g.
// "较大风险单元的影响范围内有学校、幼儿园或医院的，上调为重大风险"; "" when there is none.
func conflictRuleText(rules []grading.DynamicRule) string {
	type key struct{ grades, raise string }
	var order []key
	kinds := map[key][]string{}
	for _, r := range rules {
		if r.Source != riskmap.ConditionConflict {
			continue
		}
		var gs []string
		for _, g := range r.Grades {
			gs = append(gs, g.Label())
		}
		k := key{strings.Join(gs, "、"), "上调为" + r.RaiseTo.Label()}
		if r.RaiseTo == "" {
			k.raise = fmt.Sprintf("上调 %d 级", r.RaiseBy)
		}
		if k.grades == "" {
			k.grades = "风险"
		}
		if _, ok := kinds[k]; !ok {
			order = append(order, k)
		}
		kind := cmp.Or(riskmap.TargetKindLabel(r.Level), "防护目标")
		if !slices.Contains(kinds[k], kind) {
			kinds[k] = append(kinds[k], kind)
		}
	}
	var parts []string
	for _, k := range order {
		ks := kinds[k]
		list := ks[0]
		if n := len(ks); n > 1 {
			list = strings.Join(ks[:n-1], "、") + "或" + ks[n-1]
		}
		parts = append(parts, k.grades+"单元的影响范围内有"+list+"的，"+k.raise)
	}
	return strings.Join(parts, "；")
}

// conflictMaps draws the conflict lines over the units (in their grades' colours) and the
// targets, with the outlines of the regions: the whole extent of the conflicts and, when
// they crowd in one region of the report's level, that region closer.
func (s *Server) conflictMaps(cs []analysis.Conflict) ([]reportdoc.Figure, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	level := s.regionLevelOf()
	var outlines []orb.Geometry
	var groups []*riskmap.Region
	for _, r := range s.regions {
		if r.Level == level || r.Level == riskmap.LevelDistrict {
			outlines = append(outlines, r.Geometry)
		}
		if r.Level == level {
			groups = append(groups, r.Region)
		}
	}
	draw := func(sel []analysis.Conflict) ([]byte, float64, orb.Bound, error) {
		var shapes []mapimage.Shape
		var markers []orb.Geometry
		var lines []orb.LineString
		seenU, seenT := map[int64]bool{}, map[int64]bool{}
		var b orb.Bound
		for i, c := range sel {
			if i == 0 {
				b = c.Unit.Bound
			}
			b = b.Union(c.Unit.Bound).Union(c.Target.Geometry.Bound())
			if !seenU[c.Unit.ID] {
				seenU[c.Unit.ID] = true
				shapes = append(shapes, mapimage.Shape{ID: c.Unit.ID, Grade: c.Unit.Grade, Geometry: c.Unit.Geometry})
			}
			if !seenT[c.Target.ID] {
				seenT[c.Target.ID] = true
				markers = append(markers, c.Target.Geometry)
			}
			lines = append(lines, c.Line())
		}
		box := mapimage.Extent(b)
		raw, err := mapimage.Encode(mapimage.Render(shapes, mapimage.Options{BBox: box, Width: reportMapW, Height: reportMapH,
			Colours: s.cfg.Grader.Config().Colours, Legend: true, Outlines: outlines, Markers: markers, Lines: lines}))
		return raw, float64(reportMapH) / reportMapW, box, err
	}
	raw, aspect, whole, err := draw(cs)
	if err != nil {
		return nil, err
	}
	figs := []reportdoc.Figure{{Caption: fmt.Sprintf("图 6-1  安全距离冲突分布（%d 处）", len(cs)), PNG: raw, Aspect: aspect}}
	// The region of the level with the most conflicts, when the whole map shows it small.
	var best *riskmap.Region
	var bestSel []analysis.Conflict
	for _, r := range groups {
		var sel []analysis.Conflict
		for _, c := range cs {
			if strings.HasPrefix(c.Unit.RegionCode, r.Code) {
				sel = append(sel, c)
			}
		}
		if len(sel) > len(bestSel) {
			best, bestSel = r, sel
		}
	}
	if best == nil || len(bestSel) < 10 {
		return figs, nil
	}
	area := func(b orb.Bound) float64 { return (b.Max[0] - b.Min[0]) * (b.Max[1] - b.Min[1]) }
	raw, aspect, zoom, err := draw(bestSel)
	if err != nil {
		return nil, err
	}
	if area(zoom) > area(whole)/4 {
		return figs, nil
	}
	return append(figs, reportdoc.Figure{Caption: fmt.Sprintf("图 6-2  %s安全距离冲突分布（%d 处）", best.Name, len(bestSel)), PNG: raw, Aspect: aspect}), nil
}

// reportCoverage is the chapter 应急避难场所覆盖: the coverage of the districts and streets
// (those holding region or inside it, when the report is filtered by region).
func (s *Server) reportCoverage(e *analysis.Engine, region string) (*reportdoc.CoveragePart, error) {
	part := &reportdoc.CoveragePart{RequiredM2: e.Config().ShelterPerCapitaM2}
	rows := func(level string) []reportdoc.CoverageRow {
		var out []reportdoc.CoverageRow
		for _, c := range e.Coverage(level) {
			if region != "" && !strings.HasPrefix(c.Code, region) && !strings.HasPrefix(region, c.Code) {
				continue
			}
			if level == riskmap.LevelDistrict {
				part.Shelters += c.Shelters
			}
			out = append(out, reportdoc.CoverageRow{Name: c.Name, Population: c.Population, Shelters: c.Shelters,
				EffectiveAreaM2: c.EffectiveAreaM2, PerCapitaM2: c.PerCapitaM2, ShortfallM2: c.ShortfallM2,
				CoveredPopulation: c.CoveredPopulationShare, CoveredArea: c.CoveredAreaShare, Class: c.Class})
		}
		return out
	}
	part.Districts = rows(riskmap.LevelDistrict)
	part.Streets = rows(riskmap.LevelStreet)
	fig, err := coverageMap(e, region)
	part.Map = fig
	return part, err
}

// coverageMap draws the streets (of region) in the colours of their coverage classes, the
// districts' outlines and the shelters inside as white dots with a dark outline.
func coverageMap(e *analysis.Engine, region string) (*reportdoc.Figure, error) {
	palette := func(hex string) *mapimage.Palette {
		c, _ := mapimage.ParseHex(hex)
		return &mapimage.Palette{Fill: c, Outline: color.RGBA{0x42, 0x42, 0x42, 255}}
	}
	var shapes []mapimage.Shape
	var outlines []orb.Geometry
	var b orb.Bound
	for i, c := range e.Coverage(riskmap.LevelStreet) {
		if region != "" && !strings.HasPrefix(c.Code, region) && !strings.HasPrefix(region, c.Code) {
			continue
		}
		if len(shapes) == 0 {
			b = c.Geometry.Bound()
		}
		b = b.Union(c.Geometry.Bound())
		shapes = append(shapes, mapimage.Shape{ID: int64(i), Geometry: c.Geometry, Palette: palette(reportdoc.CoverageColours[c.Class])})
	}
	if len(shapes) == 0 {
		return nil, nil
	}
	for _, c := range e.Coverage(riskmap.LevelDistrict) {
		outlines = append(outlines, c.Geometry)
	}
	dot := palette(reportdoc.ShelterColour)
	dot.Outline = color.RGBA{0x21, 0x21, 0x21, 255}
	for _, sh := range e.Shelters() {
		if sh.Geometry == nil || !b.Intersects(sh.Geometry.Bound()) {
			continue
		}
		// A shelter is a dot at its place, its footprint too small to see at this scale.
		shapes = append(shapes, mapimage.Shape{ID: sh.ID, Geometry: sh.Geometry.Bound().Center(), Palette: dot})
	}
	raw, err := mapimage.Encode(mapimage.Render(shapes, mapimage.Options{BBox: mapimage.Extent(b), Width: reportMapW, Height: reportMapH, Outlines: outlines}))
	if err != nil {
		return nil, err
	}
	return &reportdoc.Figure{Caption: "图 7-1  各街道人均有效避难面积与应急避难场所分布", PNG: raw, Aspect: float64(reportMapH) / reportMapW}, nil
}
