package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/hazards"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// Hidden dangers (隐患), their closed loop, photos, the supervision view (督办) and the
// statistics: thin handlers over pkg/hazards, which owns the rules. The routes are in
// hazardRoutes; public reports (随手拍) in reports.go.

func (s *Server) hazardRoutes() {
	const api = "/api/v1"
	s.route(http.MethodGet, api+"/hazards", loggedIn, s.listHazards)
	s.route(http.MethodPost, api+"/hazards", editor, s.createHazard)
	s.route(http.MethodGet, api+"/hazards.csv", loggedIn, s.hazardsCSV)
	s.route(http.MethodGet, api+"/hazards/stats", loggedIn, s.hazardStats)
	s.route(http.MethodGet, api+"/hazards/:id", loggedIn, s.getHazard)
	s.route(http.MethodPatch, api+"/hazards/:id", editor, s.patchHazard)
	s.route(http.MethodPost, api+"/hazards/:id/transitions", editor, s.transitionHazard)
	s.route(http.MethodGet, api+"/hazards/:id/history", loggedIn, s.hazardHistory)
	s.route(http.MethodGet, api+"/hazards/:id/photos", loggedIn, s.hazardPhotos)
	s.route(http.MethodPost, api+"/hazards/:id/photos", editor, s.addHazardPhoto)
	s.route(http.MethodPost, api+"/hazards/:id/extension", editor, s.requestExtension)
	s.route(http.MethodPost, api+"/hazards/:id/extension/decision", editor, s.decideExtension)
	s.route(http.MethodPost, api+"/hazards/:id/supervision", editor, s.superviseHazard)
	s.route(http.MethodGet, api+"/photos/:id", loggedIn, s.getPhoto)
	s.route(http.MethodGet, api+"/units/:id/hazards", loggedIn, s.unitHazards)
	s.route(http.MethodGet, api+"/supervision", loggedIn, s.supervision)
	s.route(http.MethodGet, api+"/reports", loggedIn, s.listReports)
	s.route(http.MethodGet, api+"/reports/:id", loggedIn, s.getReport)
	s.route(http.MethodGet, api+"/reports/:id/photos", loggedIn, s.reportPhotos)
	s.route(http.MethodPost, api+"/reports/:id/convert", editor, s.convertReport)
	s.route(http.MethodPost, api+"/reports/:id/dismiss", editor, s.dismissReport)
	// Anyone may report a hidden danger on the public map: rate-limited per address, a
	// photo of at most 10 MB beside a few lines of text.
	const pub = "/public/api/v1"
	s.route(http.MethodPost, pub+"/reports", anyone, s.submitReport)
	s.route(http.MethodGet, pub+"/reports/:tracking", anyone, s.trackReport)
	// JSON passes the door too, so that a caller without the right is told so (401, 403)
	// before what it sent is judged; the handler then asks for a form.
	upload := bodyRule{types: []string{"multipart/form-data", "application/json"}, maxBytes: hazards.MaxPhotoBytes + 64<<10,
		read: 2 * time.Minute, write: s.cfg.Timeouts.Write}
	s.bodyRules["POST "+api+"/hazards/:id/photos"] = upload
	s.bodyRules["POST "+pub+"/reports"] = upload
}

// hz is the hidden dangers service.
func (s *Server) hz() *hazards.Service { return s.cfg.Hazards }

// supervisionView is a hidden danger's 挂牌督办.
type supervisionView struct {
	By      string    `json:"by"`
	ByLabel string    `json:"by_label"`
	At      time.Time `json:"at"`
	User    string    `json:"user"`
	Note    string    `json:"note"`
}

// extensionView is a pending extension request (延期申请).
type extensionView struct {
	Deadline    string    `json:"deadline"`
	Reason      string    `json:"reason"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
}

// hazardView is the JSON of a hidden danger: the answer of its reads and writes, and the
// properties of its Feature in lists.
type hazardView struct {
	ID                int64                        `json:"id"`
	Code              string                       `json:"code"`
	UnitID            int64                        `json:"unit_id"`
	UnitCode          string                       `json:"unit_code"`
	UnitName          string                       `json:"unit_name"`
	Category          string                       `json:"category"`
	CategoryLabel     string                       `json:"category_label"`
	RegionCode        string                       `json:"region_code"`
	Department        string                       `json:"department"`
	Level             hazards.Level                `json:"level"`
	LevelLabel        string                       `json:"level_label"`
	Description       string                       `json:"description"`
	Location          string                       `json:"location"`
	Point             [2]float64                   `json:"point"`
	FoundAt           time.Time                    `json:"found_at"`
	FoundBy           string                       `json:"found_by"`
	Source            hazards.Source               `json:"source"`
	SourceLabel       string                       `json:"source_label"`
	ReportID          *int64                       `json:"report_id"`
	AlarmID           *int64                       `json:"alarm_id"`
	ResponsibleUnit   string                       `json:"responsible_unit"`
	ResponsiblePerson string                       `json:"responsible_person"`
	Measures          string                       `json:"measures"`
	Deadline          string                       `json:"deadline"`
	Five              *hazards.FiveImplementations `json:"five"`
	Supervision       *supervisionView             `json:"supervision"`
	Extension         *extensionView               `json:"extension"`
	Status            hazards.Status               `json:"status"`
	StatusLabel       string                       `json:"status_label"`
	Overdue           bool                         `json:"overdue"`
	OverdueDays       int                          `json:"overdue_days"`
	AcceptedBy        string                       `json:"accepted_by"`
	AcceptedAt        *time.Time                   `json:"accepted_at"`
	ClosedBy          string                       `json:"closed_by"`
	ClosedAt          *time.Time                   `json:"closed_at"`
	Version           int64                        `json:"version"`
	CreatedBy         string                       `json:"created_by"`
	CreatedAt         time.Time                    `json:"created_at"`
	UpdatedAt         time.Time                    `json:"updated_at"`
	// Actions are what the caller may do now; nil (null) in the audit log.
	Actions []string `json:"actions"`
}

// viewHazard is the JSON of h for u (its actions), on today.
func (s *Server) viewHazard(h *hazards.Hazard, u *riskmap.User, today time.Time) hazardView {
	v := hazardView{ID: h.ID, Code: h.Code, UnitID: h.UnitID, UnitCode: h.UnitCode, UnitName: h.UnitName,
		Category: h.Category, CategoryLabel: h.Category, RegionCode: h.RegionCode, Department: h.Department,
		Level: h.Level, LevelLabel: h.Level.Label(), Description: h.Description, Location: h.Location,
		Point: [2]float64{h.Point[0], h.Point[1]}, FoundAt: h.FoundAt.UTC(), FoundBy: h.FoundBy, Source: h.Source, SourceLabel: h.Source.Label(),
		ResponsibleUnit: h.ResponsibleUnit, ResponsiblePerson: h.ResponsiblePerson, Measures: h.Measures,
		Deadline: dateOnly(h.Deadline), Five: h.Five, Status: h.Status, StatusLabel: h.Status.Label(),
		Overdue: h.Overdue(today), OverdueDays: h.OverdueDays(today), AcceptedBy: h.AcceptedBy, AcceptedAt: h.AcceptedAt,
		ClosedBy: h.ClosedBy, ClosedAt: h.ClosedAt, Version: h.Version, CreatedBy: h.CreatedBy,
		CreatedAt: h.CreatedAt.UTC(), UpdatedAt: h.UpdatedAt.UTC()}
	if cat, ok := s.cfg.Catalog.Category(h.Category); ok {
		v.CategoryLabel = cat.Label
	}
	if h.ReportID > 0 {
		id := h.ReportID
		v.ReportID = &id
	}
	if h.AlarmID > 0 {
		id := h.AlarmID
		v.AlarmID = &id
	}
	if sp := h.Supervision; sp != nil {
		v.Supervision = &supervisionView{By: sp.By, ByLabel: hazards.SupervisionLabel(sp.By), At: sp.At.UTC(), User: sp.User, Note: sp.Note}
	}
	if e := h.Extension; e != nil {
		v.Extension = &extensionView{Deadline: dateOnly(e.Deadline), Reason: e.Reason, RequestedBy: e.RequestedBy, RequestedAt: e.RequestedAt.UTC()}
	}
	if u != nil {
		v.Actions = hazards.Actions(u, h)
	}
	return v
}

func dateOnly(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// hazardFeature is a hidden danger as a GeoJSON Feature.
type hazardFeature struct {
	Type       string     `json:"type"`
	ID         int64      `json:"id"`
	Geometry   pointJSON  `json:"geometry"`
	Properties hazardView `json:"properties"`
}

type pointJSON struct {
	Type        string     `json:"type"`
	Coordinates [2]float64 `json:"coordinates"`
}

func hazardLocation(id int64) string { return "/api/v1/hazards/" + strconv.FormatInt(id, 10) }

// hazardParams are the query parameters of the hazard lists and their CSV.
var hazardParams = map[string]bool{"unit": true, "status": true, "level": true, "overdue": true, "due_within": true,
	"supervised": true, "region": true, "department": true, "category": true, "bbox": true, "q": true,
	"limit": true, "after": true, "cursor": true}

// parseHazardQuery reads a hazard list's query. A parameter not in allowed is refused.
func (s *Server) parseHazardQuery(q url.Values, allowed map[string]bool) (hazards.Filter, error) {
	var p riskmap.Problems
	f := hazards.Filter{Limit: DefaultLimit}
	for k := range q {
		if !allowed[k] {
			p.Add(k, "不是这里的查询参数；可用：%s", strings.Join(sortedKeys(allowed), ", "))
		}
	}
	boolean := func(k string) bool {
		switch v := q.Get(k); v {
		case "", "false", "0":
			return false
		case "true", "1":
			return true
		default:
			p.Add(k, "应为 true 或 false，收到 %q", clip(v))
		}
		return false
	}
	if v := q.Get("unit"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			p.Add("unit", "应为风险单元的编号（正整数），收到 %q", clip(v))
		}
		f.UnitID = n
	}
	if v := q.Get("status"); v != "" {
		f.Statuses = []hazards.Status{}
		for _, st := range SplitList(v) {
			if !hazards.Status(st).Valid() {
				p.Add("status", "未知的隐患状态 %q；可选 registered（登记）、reported（上报）、rectifying（整改中）、accepted（验收）、closed（销号）", clip(st))
			}
			f.Statuses = append(f.Statuses, hazards.Status(st))
		}
	}
	if v := q.Get("level"); v != "" {
		f.Levels = []hazards.Level{}
		for _, l := range SplitList(v) {
			if !hazards.Level(l).Valid() {
				p.Add("level", "未知的隐患级别 %q；可选 general（一般隐患）、major（重大隐患）", clip(l))
			}
			f.Levels = append(f.Levels, hazards.Level(l))
		}
	}
	f.Overdue = boolean("overdue")
	f.Supervised = boolean("supervised")
	if v := q.Get("due_within"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 366 {
			p.Add("due_within", "应为 1 至 366 的天数，收到 %q", clip(v))
		}
		f.DueWithinDays = n
	}
	f.RegionPrefix = regionParam(q, &p)
	f.Departments = departmentsParam(q, &p)
	if v := q.Get("category"); v != "" {
		f.Categories = []string{}
		for _, c := range SplitList(v) {
			if _, ok := s.cfg.Catalog.Category(c); !ok {
				p.Add("category", "未知的行业领域 %q；见 /api/v1/categories", clip(c))
			}
			f.Categories = append(f.Categories, c)
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
	if v := q.Get("q"); v != "" {
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxQLen {
			p.Add("q", "应为最多 %d 个字的文本", maxQLen)
		}
		f.Q = v
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			p.Add("limit", "应为 1 至 %d 的整数，收到 %q", MaxLimit, clip(v))
		}
		f.Limit = min(n, MaxLimit)
	}
	for _, k := range []string{"after", "cursor"} {
		if v := q.Get(k); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				p.Add(k, "不是本服务器给出的游标（请使用上一页的 next 链接）")
			}
			f.AfterID = n
		}
	}
	return f, p.Err()
}

func (s *Server) listHazards(c echo.Context) error {
	f, err := s.parseHazardQuery(c.QueryParams(), hazardParams)
	if err != nil {
		return err
	}
	return s.hazardCollection(c, f)
}

// unitHazards answers GET /api/v1/units/{id}/hazards: the unit's hidden dangers, if the
// caller may read the unit.
func (s *Server) unitHazards(c echo.Context) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	allowed := map[string]bool{}
	for k := range hazardParams {
		allowed[k] = k != "unit"
	}
	f, err := s.parseHazardQuery(q, allowed)
	if err != nil {
		return err
	}
	if _, err := s.readableUnit(c, id); err != nil {
		return err
	}
	f.UnitID = id
	return s.hazardCollection(c, f)
}

// hazardCollection answers a list as a FeatureCollection, paged as /api/v1/units is.
func (s *Server) hazardCollection(c echo.Context, f hazards.Filter) error {
	u := userOf(c)
	hs, matched, err := s.hz().List(c.Request().Context(), u, f)
	if err != nil {
		return err
	}
	today := s.hz().Today()
	features := make([]hazardFeature, len(hs))
	for i, h := range hs {
		features[i] = s.featureOf(h, u, today)
	}
	self := s.baseURL(c) + c.Request().URL.RequestURI()
	links := []map[string]string{{"rel": "self", "type": geoJSON, "href": self}}
	out := map[string]any{"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(features), "features": features}
	more := f.Limit > 0 && len(hs) == f.Limit && matched > len(hs)
	if more {
		q := c.Request().URL.Query()
		q.Del("cursor")
		q.Set("after", strconv.FormatInt(hs[len(hs)-1].ID, 10))
		next := s.baseURL(c) + c.Request().URL.Path + "?" + q.Encode()
		links = append(links, map[string]string{"rel": "next", "type": geoJSON, "href": next})
		out["next"] = next
	}
	out["links"] = links
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, out)
}

func (s *Server) featureOf(h *hazards.Hazard, u *riskmap.User, today time.Time) hazardFeature {
	return hazardFeature{Type: "Feature", ID: h.ID, Geometry: pointJSON{Type: "Point", Coordinates: [2]float64{h.Point[0], h.Point[1]}},
		Properties: s.viewHazard(h, u, today)}
}

// hazardID reads the id in the path.
func hazardID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %s 的隐患", clip(c.Param("id")))
	}
	return id, nil
}

func (s *Server) getHazard(c echo.Context) error {
	id, err := hazardID(c)
	if err != nil {
		return err
	}
	h, err := s.hz().Get(c.Request().Context(), userOf(c), id)
	if err != nil {
		return err
	}
	tag := etag(h.Version)
	c.Response().Header().Set("ETag", tag)
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, s.viewHazard(h, userOf(c), s.hz().Today()))
}

// hazardWrite is the common part of the hazard writes: it starts the audit row, reads the
// body and its Idempotency-Key (and answers a replay), and makes the write's recorder.
type hazardWrite struct {
	s      *Server
	c      echo.Context
	a      *auditRecord
	id     int64
	body   []byte
	idem   *idempotency
	status int
}

// startHazardWrite starts a write of action on hidden danger id (0: a new one) answered
// with status. done is true when a kept answer was replayed (or failed).
func (s *Server) startHazardWrite(c echo.Context, action string, id int64, status int, body []byte) (w *hazardWrite, done bool, err error) {
	a := auditOf(c)
	a.action, a.targetType = action, "hazard"
	if id > 0 {
		a.targetID = strconv.FormatInt(id, 10)
	}
	w = &hazardWrite{s: s, c: c, a: a, id: id, body: body, status: status}
	if c.Request().Method == http.MethodPost {
		if w.idem, err = s.idempotencyOf(c, body); err != nil {
			return nil, true, err
		}
		if done, err := s.replay(c, w.idem); done {
			return nil, true, err
		}
	}
	return w, false, nil
}

// recorder fills the audit row with the hidden danger before and after and keeps the
// answer for the Idempotency-Key.
func (w *hazardWrite) recorder() hazards.Recorder {
	return func(ch hazards.Change) (*riskmap.WriteRecords, error) {
		today := w.s.hz().Today()
		// The row kept in the transaction is a copy (as recorded's for units): a write
		// answered 503 after its commit landed leaves a refusal row that does not name
		// what the transaction wrote.
		a := *w.a
		if ch.Before != nil {
			a.before = w.s.viewHazard(ch.Before, nil, today)
		}
		if ch.After != nil {
			a.after = w.s.viewHazard(ch.After, nil, today)
			a.targetID = strconv.FormatInt(ch.After.ID, 10)
		}
		if ch.Photo != nil && ch.Photo.Owner == "hazard" {
			a.detail = clip("照片（" + hazards.PhotoStageLabel(ch.Photo.Stage) + "）")
		}
		r := &riskmap.WriteRecords{Audit: w.s.auditEntry(w.c, &a, w.status)}
		if w.idem != nil && ch.After != nil {
			b, _ := json.Marshal(w.s.viewHazard(ch.After, userOf(w.c), today))
			r.Response = w.idem.answer(w.status, "application/json", hazardLocation(ch.After.ID), etag(ch.After.Version), b, w.s.now())
		}
		return r, nil
	}
}

// answer sends the hidden danger written.
func (w *hazardWrite) answer(h *hazards.Hazard, err error) error {
	c := w.c
	if err != nil {
		if notIndexed(c, err) {
			return err
		}
		if riskmap.ErrorCode(err) == riskmap.ECONFLICT && w.idem != nil {
			if done, err := w.s.replay(c, w.idem); done {
				return err
			}
		}
		if riskmap.ErrorCode(err) == riskmap.EFORBIDDEN {
			w.a.denied = true
		}
		return err
	}
	written(c)
	c.Response().Header().Set("ETag", etag(h.Version))
	if w.status == http.StatusCreated {
		c.Response().Header().Set("Location", hazardLocation(h.ID))
	}
	return c.JSON(w.status, w.s.viewHazard(h, userOf(c), w.s.hz().Today()))
}

func (s *Server) createHazard(c echo.Context) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	w, done, err := s.startHazardWrite(c, "hazard.create", 0, http.StatusCreated, body)
	if done {
		return err
	}
	in, err := hazards.DecodeInput(body)
	if err != nil {
		return hazardDecodeError(err)
	}
	h := in.Hazard()
	err = s.hz().Create(c.Request().Context(), userOf(c), h, w.recorder())
	if riskmap.ErrorCode(err) == riskmap.EFORBIDDEN {
		// A unit outside the scope: refused as a unit write is (404 when the caller may not
		// read it at all).
		return s.denyScope(c, h.UnitID, err)
	}
	return w.answer(h, err)
}

// hazardDecodeError words a body that is not the JSON asked for.
func hazardDecodeError(err error) error {
	if riskmap.ErrorCode(err) != "" && riskmap.ErrorCode(err) != riskmap.EINTERNAL {
		return err
	}
	return decodeError(err)
}

func (s *Server) patchHazard(c echo.Context) error {
	id, err := hazardID(c)
	if err != nil {
		return err
	}
	w, _, _ := s.startHazardWrite(c, "hazard.update", id, http.StatusOK, nil)
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	p, refused, err := hazards.DecodePatch(body)
	if err != nil {
		return hazardDecodeError(err)
	}
	if len(refused) > 0 {
		return &httpError{status: http.StatusUnprocessableEntity, code: "not_patchable",
			message: "%s：%s", args: []any{refused[0].Field, refused[0].Message}}
	}
	h, err := s.hz().Update(c.Request().Context(), userOf(c), id, version, p, w.recorder())
	return w.answer(h, err)
}

// decodeJSON reads a small JSON body into v, refusing unknown fields.
func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return decodeError(err)
	}
	return nil
}

// hazardAction is a POST on one hidden danger answered with its view: it reads the id and
// the body, replays an Idempotency-Key already answered, and gives the body to do, whose
// result (or error) is the answer.
func (s *Server) hazardAction(c echo.Context, action string, do func(id int64, body []byte, rec hazards.Recorder) (*hazards.Hazard, error)) error {
	id, err := hazardID(c)
	if err != nil {
		return err
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	w, done, err := s.startHazardWrite(c, action, id, http.StatusOK, body)
	if done {
		return err
	}
	h, err := do(id, body, w.recorder())
	return w.answer(h, err)
}

func (s *Server) transitionHazard(c echo.Context) error {
	return s.hazardAction(c, "hazard.transition", func(id int64, body []byte, rec hazards.Recorder) (*hazards.Hazard, error) {
		var req struct {
			To   hazards.Status `json:"to"`
			Note string         `json:"note"`
		}
		if err := decodeJSON(body, &req); err != nil {
			return nil, err
		}
		var version int64
		if c.Request().Header.Get("If-Match") != "" {
			var err error
			if version, err = ifMatch(c); err != nil {
				return nil, err
			}
		}
		return s.hz().Transition(c.Request().Context(), userOf(c), id, version, req.To, req.Note, rec)
	})
}

func (s *Server) requestExtension(c echo.Context) error {
	return s.hazardAction(c, "hazard.extension_request", func(id int64, body []byte, rec hazards.Recorder) (*hazards.Hazard, error) {
		var req struct {
			Deadline hazards.Time `json:"deadline"`
			Reason   string       `json:"reason"`
		}
		if err := decodeJSON(body, &req); err != nil {
			return nil, hazardDecodeError(err)
		}
		return s.hz().RequestExtension(c.Request().Context(), userOf(c), id, req.Deadline.Time, req.Reason, rec)
	})
}

func (s *Server) decideExtension(c echo.Context) error {
	return s.hazardAction(c, "hazard.extension_decision", func(id int64, body []byte, rec hazards.Recorder) (*hazards.Hazard, error) {
		var req struct {
			Approve *bool  `json:"approve"`
			Note    string `json:"note"`
		}
		if err := decodeJSON(body, &req); err != nil {
			return nil, err
		}
		if req.Approve == nil {
			return nil, riskmap.Problems{riskmap.FieldErrorf("approve", "应为 true（同意）或 false（不同意）")}.Err()
		}
		return s.hz().DecideExtension(c.Request().Context(), userOf(c), id, *req.Approve, req.Note, rec)
	})
}

func (s *Server) superviseHazard(c echo.Context) error {
	return s.hazardAction(c, "hazard.supervise", func(id int64, body []byte, rec hazards.Recorder) (*hazards.Hazard, error) {
		var req struct {
			By   string `json:"by"`
			Note string `json:"note"`
		}
		if err := decodeJSON(body, &req); err != nil {
			return nil, err
		}
		return s.hz().Supervise(c.Request().Context(), userOf(c), id, req.By, req.Note, rec)
	})
}

// eventView is one entry of a hidden danger's history, with people and statuses named.
type eventView struct {
	*hazards.Event
	ByLabel   string `json:"by_label"`
	FromLabel string `json:"from_label,omitempty"`
	ToLabel   string `json:"to_label,omitempty"`
	KindLabel string `json:"kind_label"`
}

var eventKindLabels = map[string]string{
	hazards.EventCreated: "登记", hazards.EventTransition: "状态变更", hazards.EventEdited: "修改",
	hazards.EventExtension: "延期申请", hazards.EventExtDecision: "延期审批", hazards.EventSupervision: "挂牌督办",
	hazards.EventPhoto: "添加照片",
}

// personLabels names every user "姓名（单位）" by login.
func (s *Server) personLabels(ctx context.Context) map[string]string {
	out := map[string]string{}
	ps, err := s.accounts.People(ctx)
	if err != nil {
		return out
	}
	for _, p := range ps {
		out[p.Name] = riskmap.PersonLabel(p.Name, p.DisplayName, p.Organisation)
	}
	return out
}

func (s *Server) hazardHistory(c echo.Context) error {
	id, err := hazardID(c)
	if err != nil {
		return err
	}
	evs, err := s.hz().History(c.Request().Context(), userOf(c), id)
	if err != nil {
		return err
	}
	names := s.personLabels(c.Request().Context())
	items := make([]eventView, len(evs))
	for i, e := range evs {
		v := eventView{Event: e, ByLabel: e.By, KindLabel: eventKindLabels[e.Kind]}
		if n, ok := names[e.By]; ok {
			v.ByLabel = n
		}
		if e.From != "" {
			v.FromLabel = e.From.Label()
		}
		if e.To != "" {
			v.ToLabel = e.To.Label()
		}
		items[i] = v
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// photoView is a photo listed without its bytes; url fetches it.
type photoView struct {
	ID          int64     `json:"id"`
	Stage       string    `json:"stage"`
	StageLabel  string    `json:"stage_label"`
	ContentType string    `json:"content_type"`
	Width       int       `json:"width"`
	Height      int       `json:"height"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	URL         string    `json:"url"`
}

func viewPhoto(p *hazards.Photo) photoView {
	return photoView{ID: p.ID, Stage: p.Stage, StageLabel: hazards.PhotoStageLabel(p.Stage), ContentType: p.ContentType,
		Width: p.Width, Height: p.Height, By: p.By, At: p.At.UTC(), URL: "/api/v1/photos/" + strconv.FormatInt(p.ID, 10)}
}

func (s *Server) hazardPhotos(c echo.Context) error {
	id, err := hazardID(c)
	if err != nil {
		return err
	}
	ps, err := s.hz().Photos(c.Request().Context(), userOf(c), id)
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return listJSON(c, "items", ps, err, viewPhoto)
}

func (s *Server) addHazardPhoto(c echo.Context) error {
	id, err := hazardID(c)
	if err != nil {
		return err
	}
	a := auditOf(c)
	a.action, a.targetType, a.targetID = "hazard.photo", "hazard", strconv.FormatInt(id, 10)
	form, err := readUpload(c)
	if err != nil {
		return err
	}
	if form.file == nil {
		return riskmap.Problems{riskmap.FieldErrorf("photo", "请选择照片（JPEG 或 PNG）")}.Err()
	}
	// The Idempotency-Key names the photo and its stage.
	idem, err := s.idempotencyOf(c, append([]byte(form.fields["stage"]+"\n"), form.file...))
	if err != nil {
		return err
	}
	if done, err := s.replay(c, idem); done {
		return err
	}
	w := &hazardWrite{s: s, c: c, a: a, id: id, status: http.StatusCreated}
	rec := w.recorder()
	p, err := s.hz().AddPhoto(c.Request().Context(), userOf(c), id, form.fields["stage"], form.file, func(ch hazards.Change) (*riskmap.WriteRecords, error) {
		r, err := rec(ch)
		if err == nil && idem != nil && ch.Photo != nil {
			b, _ := json.Marshal(viewPhoto(ch.Photo))
			r.Response = idem.answer(http.StatusCreated, "application/json", "/api/v1/photos/"+strconv.FormatInt(ch.Photo.ID, 10), "", b, s.now())
		}
		return r, err
	})
	if err != nil {
		if riskmap.ErrorCode(err) == riskmap.EFORBIDDEN {
			a.denied = true
		}
		return err
	}
	written(c)
	c.Response().Header().Set("Location", "/api/v1/photos/"+strconv.FormatInt(p.ID, 10))
	return c.JSON(http.StatusCreated, viewPhoto(p))
}

func (s *Server) getPhoto(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %s 的照片", clip(c.Param("id")))
	}
	p, err := s.hz().Photo(c.Request().Context(), userOf(c), id)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", `inline; filename="photo-`+strconv.FormatInt(p.ID, 10)+photoExt(p.ContentType)+`"`)
	return c.Blob(http.StatusOK, p.ContentType, p.Bytes)
}

func photoExt(ct string) string {
	if ct == "image/png" {
		return ".png"
	}
	return ".jpg"
}

// statsRow is one group of the hazard statistics: its counts, its name and its
// rectification rate (整改率: rectified, that is accepted or closed, of all).
type statsRow struct {
	hazards.Count
	Label             string  `json:"label"`
	RectificationRate float64 `json:"rectification_rate"`
}

func rate(c hazards.Count) float64 {
	if c.Total == 0 {
		return 0
	}
	return float64(int(float64(c.Accepted)/float64(c.Total)*1000+0.5)) / 1000
}

// statsRows names the groups of counts and adds their total.
func (s *Server) statsRows(by string, counts []hazards.Count) ([]statsRow, statsRow) {
	names := s.regionNames()
	rows := make([]statsRow, len(counts))
	var total hazards.Count
	for i, c := range counts {
		label := c.Key
		switch by {
		case hazards.ByCategory:
			if cat, ok := s.cfg.Catalog.Category(c.Key); ok {
				label = cat.Label
			}
		case hazards.ByRegion:
			if n, ok := names[c.Key]; ok {
				label = n
			}
		}
		if label == "" {
			label = "（未填写）"
		}
		rows[i] = statsRow{Count: c, Label: label, RectificationRate: rate(c)}
		total.Total += c.Total
		total.Closed += c.Closed
		total.Accepted += c.Accepted
		total.Open += c.Open
		total.OpenMajor += c.OpenMajor
		total.Overdue += c.Overdue
		total.DueSoon += c.DueSoon
		total.Supervised += c.Supervised
	}
	total.Key = ""
	return rows, statsRow{Count: total, Label: "合计", RectificationRate: rate(total)}
}

func (s *Server) hazardStats(c echo.Context) error {
	q := c.QueryParams()
	allowed := map[string]bool{"by": true}
	for _, k := range []string{"status", "level", "region", "department", "category", "unit", "supervised", "overdue"} {
		allowed[k] = true
	}
	by := q.Get("by")
	if by == "" {
		by = hazards.ByCategory
	}
	f, err := s.parseHazardQuery(q, allowed)
	if err != nil {
		return err
	}
	f.Limit = 0
	counts, err := s.hz().Stats(c.Request().Context(), userOf(c), f, by)
	if err != nil {
		return err
	}
	rows, total := s.statsRows(by, counts)
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, map[string]any{"by": by, "items": rows, "total": total})
}

// unitSummary is a unit in the supervision view's lists of reviews.
type unitSummary struct {
	ID            int64         `json:"id"`
	Code          string        `json:"code"`
	Name          string        `json:"name"`
	Category      string        `json:"category"`
	RegionCode    string        `json:"region_code"`
	Department    string        `json:"department"`
	Grade         riskmap.Grade `json:"grade"`
	GradeLabel    string        `json:"grade_label"`
	NextReviewDue string        `json:"next_review_due,omitempty"`
	ReidentifyDue string        `json:"reidentify_due,omitempty"`
	OverdueDays   int           `json:"overdue_days"`
}

// supervision answers GET /api/v1/supervision: the 督办 view of the caller's scope.
func (s *Server) supervision(c echo.Context) error {
	u := userOf(c)
	// The units' part walks the index while the store answers the hidden dangers' part.
	type unitsPart struct {
		reviews, reid  []unitSummary
		nReview, nReid int
		err            error
	}
	part := make(chan unitsPart, 1)
	go func() {
		var p unitsPart
		p.reviews, p.nReview, p.reid, p.nReid, p.err = s.reviewsOverdue(c, s.hz().Today())
		part <- p
	}()
	b, err := s.hz().SupervisionView(c.Request().Context(), u)
	up := <-part
	if err != nil {
		return err
	}
	views := func(hs []*hazards.Hazard) []hazardView {
		out := make([]hazardView, len(hs))
		for i, h := range hs {
			out[i] = s.viewHazard(h, u, b.Today)
		}
		return out
	}
	if up.err != nil {
		return up.err
	}
	reviews, reviewCount, reid, reidCount := up.reviews, up.nReview, up.reid, up.nReid
	dept, _ := s.statsRows(hazards.ByDepartment, b.ByDepartment)
	region, _ := s.statsRows(hazards.ByRegion, b.ByRegion)
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, map[string]any{
		"today": dateOnly(b.Today),
		"counts": map[string]int{"overdue": b.OverdueCount, "due_soon": b.DueSoonCount, "supervised": b.Sup,
			"reviews_overdue": reviewCount, "reidentify_overdue": reidCount},
		"overdue": views(b.Overdue), "due_soon": views(b.DueSoon), "supervised": views(b.Supervised),
		"reviews_overdue": reviews, "reidentify_overdue": reid,
		"by_department": dept, "by_region": region,
	})
}

// reviewsOverdue lists the active units of the caller's scope whose review is past due,
// most overdue first, and those not identified anew within riskmap.ReidentifyYears.
func (s *Server) reviewsOverdue(c echo.Context, today time.Time) (reviews []unitSummary, nReviews int, reid []unitSummary, nReid int, err error) {
	snap, err := s.internal.snapshot()
	if err != nil {
		return nil, 0, nil, 0, err
	}
	day := riskmap.DayNumber(today)
	// The index keeps the units ordered by each due date: those past due are a prefix of
	// each category's range, so the whole city costs a few lookups, and a department's
	// scope a walk over its own categories' units past due.
	var cats []string
	var keep func(category, regionCode string) bool
	if scope := scoped(c); scope != nil {
		cats = slices.Clone(scope.Categories)
		if cats == nil {
			cats = []string{} // no category: nothing in scope
		}
		keep = scope.InScope
	}
	summarize := func(kind spatialindex.DueKind) ([]unitSummary, int) {
		fs, n := snap.PastDue(kind, day, cats, keep, hazards.MaxSupervisionItems)
		out := make([]unitSummary, 0, len(fs))
		for _, f := range fs {
			u := unitSummary{ID: f.ID, Code: f.Code, Name: f.Name, Category: f.Category, RegionCode: f.RegionCode,
				Department: f.Department, Grade: f.Grade, GradeLabel: f.Grade.Label()}
			if kind == spatialindex.DueReidentify {
				u.ReidentifyDue, u.OverdueDays = dayDate(f.ReidentifyDue), int(day-f.ReidentifyDue)
			} else {
				u.NextReviewDue, u.OverdueDays = dayDate(f.ReviewDue), int(day-f.ReviewDue)
			}
			out = append(out, u)
		}
		return out, n
	}
	reviews, nReviews = summarize(spatialindex.DueReview)
	reid, nReid = summarize(spatialindex.DueReidentify)
	return reviews, nReviews, reid, nReid, nil
}

// dayDate is a riskmap.DayNumber as a date.
func dayDate(d int32) string {
	return time.Unix(int64(d-1)*86400, 0).UTC().Format(time.DateOnly)
}
