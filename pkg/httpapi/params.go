package httpapi

import (
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// ParseBBox reads "minLon,minLat,maxLon,maxLat" in WGS 84.
func ParseBBox(s string) (orb.Bound, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return orb.Bound{}, riskmap.Errorf(riskmap.EINVALID, "应为四个数：最小经度,最小纬度,最大经度,最大纬度；收到 %d 个", len(parts))
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return orb.Bound{}, riskmap.Errorf(riskmap.EINVALID, "第 %d 个值（%q）不是有限的数值", i+1, clip(p))
		}
		v[i] = f
	}
	for _, i := range []int{0, 2} {
		if v[i] < -180 || v[i] > 180 {
			return orb.Bound{}, riskmap.Errorf(riskmap.EINVALID, "经度 %g 超出 -180 至 180", v[i])
		}
	}
	for _, i := range []int{1, 3} {
		if v[i] < -90 || v[i] > 90 {
			return orb.Bound{}, riskmap.Errorf(riskmap.EINVALID, "纬度 %g 超出 -90 至 90", v[i])
		}
	}
	if v[0] > v[2] || v[1] > v[3] {
		return orb.Bound{}, riskmap.Errorf(riskmap.EINVALID, "最小值（%g,%g）不能大于最大值（%g,%g）", v[0], v[1], v[2], v[3])
	}
	return orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, nil
}

// Limits of list requests.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
	maxQLen      = 100
)

// parseList reads a list query for this view: on the internal view, a department user's
// scope is always added to the filters.
func (v *view) parseList(c echo.Context, q url.Values, allowed map[string]bool) (*riskmap.UnitFilter, error) {
	f, err := v.s.parseList(q, allowed)
	if err == nil && !v.public {
		f.Scope = scoped(c)
	}
	return f, err
}

// listParams are the filters of GET /api/v1/units and its exports: any other parameter is
// refused, never ignored (a filter left out would silently answer everything).
var listParams = map[string]bool{"bbox": true, "category": true, "grade": true, "region": true,
	"department": true, "q": true, "status": true, "overdue": true, "open_hazards": true, "limit": true, "cursor": true}

// listParamsAnd is listParams with the extra parameters of one route.
func listParamsAnd(extra ...string) map[string]bool {
	m := maps.Clone(listParams)
	for _, k := range extra {
		m[k] = true
	}
	return m
}

// parseList reads a list query into a filter of active units. A parameter that allowed
// does not hold is refused (a nil allowed takes every parameter: tiles, whose URLs may carry
// a cache-buster). A list parameter that names nothing (category=,) selects nothing.
func (s *Server) parseList(q url.Values, allowed map[string]bool) (*riskmap.UnitFilter, error) {
	var p riskmap.Problems
	lp := &riskmap.UnitFilter{Limit: DefaultLimit}
	for k := range q {
		if allowed != nil && !allowed[k] {
			p.Add(k, "不是这里的查询参数；可用：%s", strings.Join(sortedKeys(allowed), ", "))
		}
	}
	if v := q.Get("bbox"); v != "" {
		b, err := ParseBBox(v)
		if err != nil {
			p.Add("bbox", "%s", riskmap.MessageOf(err))
		} else {
			lp.BBox = &b
		}
	}
	if v := q.Get("category"); v != "" {
		lp.Categories = []string{}
		for _, c := range SplitList(v) {
			if _, ok := s.cfg.Catalog.Category(c); !ok {
				p.Add("category", "未知的行业领域 %q；见 /api/v1/categories", clip(c))
			}
			lp.Categories = append(lp.Categories, c)
		}
	}
	lp.Grades = gradesParam(q, &p)
	lp.RegionPrefix = regionParam(q, &p)
	lp.Departments = departmentsParam(q, &p)
	if v := q.Get("status"); v != "" {
		lp.Statuses = []riskmap.Status{}
		for _, st := range SplitList(v) {
			switch status := riskmap.Status(st); status {
			case riskmap.StatusDraft, riskmap.StatusSubmitted, riskmap.StatusApproved:
				lp.Statuses = append(lp.Statuses, status)
			case riskmap.StatusRetired:
				p.Add("status", "已注销的单元不在地图和清单中；可选 draft（草稿）、submitted（待审核）、approved（已审核）")
			default:
				p.Add("status", "未知状态 %q；可选 draft（草稿）、submitted（待审核）、approved（已审核）", clip(st))
			}
		}
	}
	if v := q.Get("overdue"); v != "" {
		switch v {
		case "true", "1":
			// Overdue today, in China: 下次复核 before today's date there.
			day := riskmap.ChinaDay(s.now())
			lp.ReviewDueBefore = &day
		case "false", "0":
		default:
			p.Add("overdue", "应为 true（只看逾期未复核的单元）或 false，收到 %q", clip(v))
		}
	}
	if v := q.Get("open_hazards"); v != "" {
		switch v {
		case "true", "1":
			lp.HasOpenHazards = true // units with hidden dangers not yet closed (未销号)
		case "false", "0":
		default:
			p.Add("open_hazards", "应为 true（只看有未销号隐患的单元）或 false，收到 %q", clip(v))
		}
	}
	if v := q.Get("q"); v != "" {
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxQLen {
			p.Add("q", "应为最多 %d 个字的文本", maxQLen)
		}
		lp.Q = v
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			p.Add("limit", "应为 1 至 %d 的整数，收到 %q", MaxLimit, clip(v))
		}
		lp.Limit = min(n, MaxLimit)
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n == math.MaxInt64 {
			p.Add("cursor", "不是本服务器给出的游标（请使用上一页的 next 链接）")
		}
		lp.AfterID = n
	}
	return lp, p.Err()
}

// statsParams are the query parameters of GET /api/v1/stats.
var statsParams = map[string]bool{"region": true, "category": true}

// parseStats reads the query of GET /api/v1/stats: a region prefix and categories, read as
// a list's are; no limit.
func (s *Server) parseStats(q url.Values) (*riskmap.UnitFilter, error) {
	f, err := s.parseList(q, statsParams)
	f.Limit = 0
	return f, err
}

// SplitList reads a comma-separated list, without blanks and empty items.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// sortedKeys lists a set's keys in order; an empty set gives [] (not null) in JSON.
func sortedKeys(m map[string]bool) []string {
	return append([]string{}, slices.Sorted(maps.Keys(m))...)
}

// regionParam reads ?region=, a prefix of region codes (digits only); "" when absent.
func regionParam(q url.Values, p *riskmap.Problems) string {
	v := q.Get("region")
	if len(v) > 15 || strings.Trim(v, "0123456789") != "" {
		p.Add("region", "应为数字组成的区划代码前缀，收到 %q", clip(v))
	}
	return v
}

// departmentsParam reads ?department=, a list of department names; nil when absent.
func departmentsParam(q url.Values, p *riskmap.Problems) []string {
	v := q.Get("department")
	if v == "" {
		return nil
	}
	out := []string{}
	for _, d := range SplitList(v) {
		if utf8.RuneCountInString(d) > riskmap.MaxShortTextLen {
			p.Add("department", "部门名称最多 %d 个字", riskmap.MaxShortTextLen)
		}
		out = append(out, d)
	}
	return out
}

// gradesParam reads ?grade=, a list of grades; nil when absent.
func gradesParam(q url.Values, p *riskmap.Problems) []riskmap.Grade {
	v := q.Get("grade")
	if v == "" {
		return nil
	}
	out := []riskmap.Grade{}
	for _, g := range SplitList(v) {
		gr, ok := riskmap.ParseGrade(g)
		if !ok {
			p.Add("grade", "未知的等级 %q；可选 red（重大）、orange（较大）、yellow（一般）、blue（低）", clip(g))
			continue
		}
		out = append(out, gr)
	}
	return out
}
