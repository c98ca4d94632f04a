package httpapi

import (
	"context"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"riskmap/pkg/riskmap"
)

// The audit log exported (GET /api/v1/audit.csv and /api/v1/audit.xlsx, admins only): the
// rows the same filters select as GET /api/v1/audit (all of them, newest first, not a
// page), in Chinese as the 操作日志 panel shows them: actions by their names, people by
// "姓名（单位）", units by code and name, times in Beijing time, and what a change of a user
// changed. The names of actions, objects and outcomes are auditlabels.json, which the
// panel (frontend/src/app/admin.js) reads too.

//go:embed auditlabels.json
var auditLabelsJSON []byte

// auditLabels are the Chinese names of auditlabels.json.
var auditLabels = func() (l struct {
	Actions      [][2]string       `json:"actions"`
	Targets      map[string]string `json:"targets"`
	Outcomes     map[string]string `json:"outcomes"`
	UserFields   map[string]string `json:"user_fields"`
	UnitFields   map[string]string `json:"unit_fields"`
	HazardFields map[string]string `json:"hazard_fields"`
	DetailFields map[string]string `json:"detail_fields"`
}) {
	if err := json.Unmarshal(auditLabelsJSON, &l); err != nil {
		panic("httpapi: auditlabels.json: " + err.Error())
	}
	return l
}()

// auditActionLabel names an audit action in Chinese ("unit.approve" → 审核通过); an action
// without a name of its own is named by its kind ("用户：user.x").
func auditActionLabel(code string) string {
	for _, a := range auditLabels.Actions {
		if a[0] == code {
			return a[1]
		}
	}
	for _, a := range auditLabels.Actions {
		if strings.HasSuffix(a[0], ".") && strings.HasPrefix(code, a[0]) {
			return strings.TrimSuffix(a[1], "（全部）") + "：" + code
		}
	}
	return code
}

const auditTimeLayout = "2006-01-02 15:04:05"

// auditHeader is the exported log's first row.
var auditHeader = []string{"记录编号", "时间（北京时间）", "操作人", "登录名", "角色", "操作", "结果", "状态码", "请求",
	"对象", "说明", "修改内容", "来源地址", "次数", "最后一次（北京时间）"}

// maxAuditExport is the most rows one export holds: a worksheet's rows, the header aside.
const maxAuditExport = 1<<20 - 2

// auditFilter reads the audit log's filters from the query (actor, action, outcome,
// target_type, target_id, since, until and, with paging, before and limit); EINVALID names
// each bad one.
func auditFilter(q url.Values, paging bool) (riskmap.AuditFilter, error) {
	var p riskmap.Problems
	f := riskmap.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Outcome: q.Get("outcome"),
		TargetType: q.Get("target_type"), TargetID: q.Get("target_id"), Limit: 100}
	if f.Outcome != "" && f.Outcome != riskmap.OutcomeOK && f.Outcome != riskmap.OutcomeDenied && f.Outcome != riskmap.OutcomeFailed {
		p.Add("outcome", "应为 ok（成功）、denied（拒绝）或 failed（失败）")
	}
	for _, k := range []string{"since", "until"} {
		if v := q.Get(k); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				p.Add(k, "应为 RFC 3339 时间，如 2026-11-26T08:00:00Z")
			} else if k == "since" {
				f.Since = t
			} else {
				f.Until = t
			}
		}
	}
	if paging {
		if v := q.Get("before"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				p.Add("before", "应为操作日志的记录编号")
			}
			f.BeforeID = n
		}
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				p.Add("limit", "应为 1 至 1000 的整数")
			}
			f.Limit = n
		}
	} else {
		for k := range q {
			if !slices.Contains([]string{"actor", "action", "outcome", "target_type", "target_id", "since", "until"}, k) {
				p.Add(clip(k), "导出不认识这个参数；可用 actor、action、outcome、target_type、target_id、since、until")
			}
		}
	}
	return f, p.Err()
}

// auditNamer names the people, units and regions of exported rows, each read once.
type auditNamer struct {
	s       *Server
	ctx     context.Context
	people  map[string]*riskmap.User
	units   map[string]string
	regions map[string]string
}

func (s *Server) newAuditNamer(ctx context.Context) (*auditNamer, error) {
	us, err := s.accounts.Users(ctx)
	if err != nil {
		return nil, err
	}
	n := &auditNamer{s: s, ctx: ctx, people: map[string]*riskmap.User{}, units: map[string]string{}, regions: map[string]string{}}
	for _, u := range us {
		n.people[u.Name] = u
	}
	for _, r := range s.cfg.Regions {
		n.regions[r.Code] = r.Name
	}
	return n, nil
}

// person names a login as "姓名（单位）", the login itself when it names nobody known.
func (n *auditNamer) person(login string) string {
	if u := n.people[login]; u != nil {
		return u.PersonLabel()
	}
	return login
}

// actor names who acted: a person, the command line and its account, or nobody.
func (n *auditNamer) actor(e *riskmap.AuditEntry) string {
	switch {
	case e.Actor == "":
		return "（匿名）"
	case strings.HasPrefix(e.Actor, "cli:"):
		return "命令行（" + strings.TrimPrefix(e.Actor, "cli:") + "）"
	}
	return n.person(e.Actor)
}

// target names a row's object: 风险单元 CJ-WHP-0001 名称, 用户 李明（单位）, 发布 第 2 期.
func (n *auditNamer) target(e *riskmap.AuditEntry) string {
	if e.TargetType == "" {
		return ""
	}
	kind := auditLabels.Targets[e.TargetType]
	if kind == "" {
		kind = e.TargetType
	}
	switch e.TargetType {
	case "unit":
		name, ok := n.units[e.TargetID]
		if !ok {
			name = "#" + e.TargetID
			if id, err := strconv.ParseInt(e.TargetID, 10, 64); err == nil {
				if u, err := n.s.cfg.Store.GetUnit(n.ctx, id); err == nil {
					name = u.Code + " " + u.Name
				}
			}
			n.units[e.TargetID] = name
		}
		return kind + " " + name
	case "hazard":
		name, ok := n.units["hazard:"+e.TargetID]
		if !ok {
			name = "#" + e.TargetID
			if id, err := strconv.ParseInt(e.TargetID, 10, 64); err == nil && n.s.cfg.Hazards != nil {
				if h, err := n.s.cfg.Hazards.Store.GetHazard(n.ctx, id); err == nil {
					name = h.Code
				}
			}
			n.units["hazard:"+e.TargetID] = name
		}
		return kind + " " + name
	case "report":
		return kind + " #" + e.TargetID
	case "publication":
		return kind + " 第 " + e.TargetID + " 期"
	case "user":
		return kind + " " + n.person(e.TargetID)
	}
	return strings.TrimSpace(kind + " " + e.TargetID)
}

// userFieldOrder is the order in which the changes of a user are listed.
var userFieldOrder = []string{"display_name", "organisation", "phone", "role", "department", "categories", "regions", "disabled"}

// unitFieldOrder is the order in which the changes of a unit are listed.
var unitFieldOrder = []string{"code", "name", "public_label", "category", "sub_category", "region_code", "address",
	"geometry", "accident_types", "major_hazard_source", "major_risk_factors", "assessment", "direct_major_reason",
	"risk_value", "grade", "controls", "responsible_department", "responsible_unit", "contact_person",
	"contact_phone", "influence_radius_m", "status", "assessed_by", "assessed_at", "next_review_due"}

// changes says what a change of a user or a unit changed, field by field in Chinese:
// "管辖区域：澄江市 → 凤麓街道；停用：否 → 是". Other rows: "".
func (n *auditNamer) changes(e *riskmap.AuditEntry) string {
	if e.TargetType == "unit" && len(e.After) > 0 {
		return n.unitChanges(e.Before, e.After)
	}
	if e.TargetType == "hazard" && len(e.Before) > 0 && len(e.After) > 0 {
		return hazardChanges(e.Before, e.After)
	}
	if e.TargetType != "user" || len(e.Before) == 0 || len(e.After) == 0 {
		return ""
	}
	var b, a map[string]json.RawMessage
	if json.Unmarshal(e.Before, &b) != nil || json.Unmarshal(e.After, &a) != nil {
		return ""
	}
	var parts []string
	for _, k := range userFieldOrder {
		if string(b[k]) == string(a[k]) {
			continue
		}
		parts = append(parts, auditLabels.UserFields[k]+"："+n.userValue(k, b[k])+" → "+n.userValue(k, a[k]))
	}
	return strings.Join(parts, "；")
}

// unitChanges says what a unit's write changed ("行业领域：— → 危险化学品；…"), from the
// Features before (none for a new unit) and after, as the 操作日志 panel shows them.
func (n *auditNamer) unitChanges(before, after json.RawMessage) string {
	props := func(raw json.RawMessage) map[string]json.RawMessage {
		var f struct {
			Geometry   json.RawMessage            `json:"geometry"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if len(raw) == 0 || json.Unmarshal(raw, &f) != nil {
			return map[string]json.RawMessage{}
		}
		if f.Properties == nil {
			f.Properties = map[string]json.RawMessage{}
		}
		f.Properties["geometry"] = f.Geometry
		return f.Properties
	}
	b, a := props(before), props(after)
	var parts []string
	for _, k := range unitFieldOrder {
		if string(b[k]) == string(a[k]) {
			continue
		}
		from, to := n.unitValue(k, b[k]), n.unitValue(k, a[k])
		if k == "geometry" {
			from, to = "（原位置）", "（新位置）"
			if len(b) == 1 { // a new unit: nothing before
				from = "—"
			}
		}
		if from == to {
			continue
		}
		parts = append(parts, auditLabels.UnitFields[k]+"："+from+" → "+to)
	}
	return strings.Join(parts, "；")
}

// unitValue shows a unit field's JSON value in Chinese: codes by their names, the
// assessment and the control measures in words.
func (n *auditNamer) unitValue(k string, raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` || string(raw) == "[]" {
		return "—"
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	switch k {
	case "category":
		if c, ok := n.s.cfg.Catalog.Category(s); ok {
			return c.Label
		}
	case "region_code":
		if name := n.regions[s]; name != "" {
			return name + "（" + s + "）"
		}
	case "grade":
		return riskmap.Grade(s).Label()
	case "status":
		return riskmap.Status(s).Label()
	case "assessed_at", "next_review_due":
		if len(s) >= 10 {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return t.In(riskmap.ChinaTime).Format(time.DateOnly)
			}
			return s[:10]
		}
	case "accident_types":
		var list []string
		if json.Unmarshal(raw, &list) == nil {
			for i, c := range list {
				if a, ok := n.s.cfg.Catalog.AccidentType(c); ok {
					list[i] = a.Label
				}
			}
			return strings.Join(list, "、")
		}
	case "major_hazard_source":
		var m riskmap.MajorHazardSource
		if json.Unmarshal(raw, &m) == nil && m.Level > 0 {
			return []string{"", "一级", "二级", "三级", "四级"}[min(m.Level, 4)] + "重大危险源"
		}
	case "assessment":
		var a riskmap.Assessment
		if json.Unmarshal(raw, &a) == nil {
			if a.Method == riskmap.MethodLEC {
				return fmt.Sprintf("作业条件危险性分析法：L = %g，E = %g，C = %g", a.L, a.E, a.C)
			}
			return fmt.Sprintf("风险矩阵法：L = %d，S = %d", a.Likelihood, a.Severity)
		}
	case "controls":
		var c riskmap.Controls
		if json.Unmarshal(raw, &c) == nil {
			var groups []string
			for _, g := range []struct {
				label string
				list  []string
			}{{"工程技术措施", c.Engineering}, {"管理措施", c.Management}, {"培训教育措施", c.Training},
				{"个体防护措施", c.PPE}, {"应急处置措施", c.Emergency}} {
				if len(g.list) > 0 {
					groups = append(groups, g.label+"："+strings.Join(g.list, "、"))
				}
			}
			return strings.Join(groups, "；")
		}
	}
	if s != "" {
		return s
	}
	return string(raw)
}

// detailText says a row's detail in words: a review's {"comment"} as 审核意见：…; any other
// text as it is.
func detailText(d string) string {
	// The JSON may follow a note on how the request was made ("API 令牌 #3（名称）；{…}").
	i := strings.Index(d, "{")
	if i < 0 {
		return d
	}
	var o map[string]any
	if json.Unmarshal([]byte(d[i:]), &o) != nil {
		return d
	}
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v, ok := o[k].(string)
		if !ok || v == "" {
			continue
		}
		label := auditLabels.DetailFields[k]
		if label == "" {
			label = k
		}
		parts = append(parts, label+"："+v)
	}
	return d[:i] + strings.Join(parts, "；")
}

// userValue shows a user field's JSON value in Chinese.
func (n *auditNamer) userValue(k string, raw json.RawMessage) string {
	var list []string
	switch k {
	case "categories", "regions":
		if json.Unmarshal(raw, &list) != nil {
			return string(raw)
		}
		if len(list) == 0 {
			return "—"
		}
		for i, c := range list {
			if k == "categories" {
				if cat, ok := n.s.cfg.Catalog.Category(c); ok {
					list[i] = cat.Label
				}
			} else if name := n.regions[c]; name != "" {
				list[i] = name + "（" + c + "）"
			}
		}
		return strings.Join(list, "、")
	case "disabled":
		if string(raw) == "true" {
			return "是"
		}
		return "否"
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return string(raw)
	}
	if k == "role" {
		s = riskmap.RoleLabel(s)
	}
	if s == "" {
		return "—"
	}
	return s
}

// auditRow is an exported row: text, and the numbers (id, status, count) as numbers.
func (n *auditNamer) row(e *riskmap.AuditEntry) []any {
	role := riskmap.RoleLabel(e.Role)
	if e.Role == "cli" {
		role = "命令行"
	}
	outcome := auditLabels.Outcomes[e.Outcome]
	if outcome == "" {
		outcome = e.Outcome
	}
	last := ""
	if !e.LastAt.IsZero() {
		last = e.LastAt.In(riskmap.ChinaTime).Format(auditTimeLayout)
	}
	login := e.Actor
	if strings.HasPrefix(login, "cli:") {
		login = ""
	}
	return []any{e.ID, e.At.In(riskmap.ChinaTime).Format(auditTimeLayout), n.actor(e), login, role, auditActionLabel(e.Action), outcome,
		e.Status, strings.TrimSpace(e.Method + " " + e.Path), n.target(e), detailText(e.Detail), n.changes(e), e.ClientAddr, max(e.Count, 1), last}
}

// auditExporter is ready to export the log: the counts of refusals whose minute is over
// are written, and the people known.
func (s *Server) auditExporter(ctx context.Context) (*auditNamer, error) {
	if err := s.flushFolds(ctx, false); err != nil {
		return nil, err
	}
	return s.newAuditNamer(ctx)
}

// each calls fn with every row f selects, newest first, at most maxAuditExport of them;
// it reports whether there were more.
func (n *auditNamer) each(f riskmap.AuditFilter, fn func(row []any) error) (more bool, err error) {
	f.Limit, f.BeforeID = riskmap.AuditMaxLimit, 0
	count := 0
	for {
		es, err := n.s.cfg.Store.AuditEntries(n.ctx, f)
		if err != nil {
			return false, err
		}
		for _, e := range es {
			if count == maxAuditExport {
				return true, nil
			}
			if err := fn(n.row(e)); err != nil {
				return false, err
			}
			count++
		}
		if len(es) < f.Limit {
			return false, nil
		}
		f.BeforeID = es[len(es)-1].ID
	}
}

// auditDownload sets the headers of an exported log: 操作日志.csv or .xlsx.
func auditDownload(c echo.Context, ext, contentType string) {
	h := c.Response().Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit.%s"; filename*=UTF-8''%s.%s`, ext, url.PathEscape("操作日志"), ext))
	h.Set("Cache-Control", "private, no-store")
}

// exportAuditCSV streams the selected rows as UTF-8 CSV with a byte-order mark, so that
// spreadsheet programs read the Chinese right; a cell that would start a formula is quoted.
func (s *Server) exportAuditCSV(c echo.Context) error {
	f, err := auditFilter(c.QueryParams(), false)
	if err != nil {
		return err
	}
	names, err := s.auditExporter(c.Request().Context())
	if err != nil {
		return err
	}
	auditDownload(c, "csv", "text/csv; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	_, _ = c.Response().Write([]byte("\ufeff"))
	w := csv.NewWriter(c.Response())
	_ = w.Write(auditHeader)
	cells := make([]string, len(auditHeader))
	more, err := names.each(f, func(row []any) error {
		for i, v := range row {
			switch v := v.(type) {
			case string:
				cells[i] = csvCell(v)
			default:
				cells[i] = fmt.Sprint(v)
			}
		}
		return w.Write(cells)
	})
	if err == nil && more {
		err = w.Write([]string{fmt.Sprintf("（仅导出最新的 %d 条；请缩小筛选范围后分批导出）", maxAuditExport)})
	}
	w.Flush()
	if err != nil {
		// The answer has begun: the client gets a short file, the log says why.
		s.cfg.Logger.Error("exporting the audit log as CSV", "err", err)
	}
	return nil
}

// exportAuditXLSX writes the selected rows as an Excel workbook, through excelize's
// stream writer, which keeps a large log on disk rather than in memory.
func (s *Server) exportAuditXLSX(c echo.Context) error {
	f, err := auditFilter(c.QueryParams(), false)
	if err != nil {
		return err
	}
	book := excelize.NewFile()
	defer book.Close()
	const sheet = "操作日志"
	if err := book.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := book.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	bold, err := book.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	for i, w := range []float64{10, 20, 28, 14, 10, 16, 8, 8, 36, 36, 40, 50, 16, 8, 20} {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	head := make([]any, len(auditHeader))
	for i, h := range auditHeader {
		head[i] = excelize.Cell{Value: h, StyleID: bold}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	names, err := s.auditExporter(c.Request().Context())
	if err != nil {
		return err
	}
	r := 1
	more, err := names.each(f, func(row []any) error {
		r++
		cell, _ := excelize.CoordinatesToCellName(1, r)
		return sw.SetRow(cell, row)
	})
	if err != nil {
		return err
	}
	if more {
		cell, _ := excelize.CoordinatesToCellName(1, r+1)
		if err := sw.SetRow(cell, []any{fmt.Sprintf("（仅导出最新的 %d 条；请缩小筛选范围后分批导出）", maxAuditExport)}); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	auditDownload(c, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Response().WriteHeader(http.StatusOK)
	if _, err := book.WriteTo(c.Response()); err != nil {
		s.cfg.Logger.Error("exporting the audit log as xlsx", "err", err)
	}
	return nil
}

// hazardFieldOrder is the order in which the changes of a hidden danger are listed.
var hazardFieldOrder = []string{"level", "description", "location", "point", "found_at", "found_by", "source",
	"responsible_unit", "responsible_person", "measures", "deadline", "five", "supervision", "extension", "status",
	"accepted_by", "closed_by"}

// hazardChanges names the fields of a hidden danger a write changed ("状态；整改期限"),
// from its views before and after.
func hazardChanges(before, after json.RawMessage) string {
	var b, a map[string]json.RawMessage
	if json.Unmarshal(before, &b) != nil || json.Unmarshal(after, &a) != nil {
		return ""
	}
	var parts []string
	for _, k := range hazardFieldOrder {
		if string(b[k]) != string(a[k]) {
			if k == "status" {
				var from, to string
				_ = json.Unmarshal(b["status_label"], &from)
				_ = json.Unmarshal(a["status_label"], &to)
				parts = append(parts, auditLabels.HazardFields[k]+"："+from+" → "+to)
				continue
			}
			parts = append(parts, auditLabels.HazardFields[k])
		}
	}
	return strings.Join(parts, "；")
}
