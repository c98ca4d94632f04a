package httpapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"riskmap/pkg/hazards"
	"riskmap/pkg/jsonappend"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// Monitoring and early warning (监测预警, issue 17): thin handlers over monitoring.Service,
// which owns the points, the readings, the alarms and their scope (a department reads and
// writes only the points and alarms of units in its scope; out of scope reads are 404,
// writes 403). The event stream (SSE) is events.go.

// Limits of the readings and alarm queries.
const (
	// MaxIngestBytes bounds a body of readings (POST /api/v1/readings): 10 MB, about
	// 150 000 readings.
	MaxIngestBytes = 10 << 20
	// MaxReadingsRange is the longest range of a readings query.
	MaxReadingsRange = 400 * 24 * time.Hour
	// MaxSamples is the most samples one readings query answers.
	MaxSamples = 100_000
)

func (s *Server) monitoringRoutes() {
	const api = "/api/v1"
	s.route(http.MethodGet, api+"/monitoring-points", loggedIn, s.listPoints)
	s.route(http.MethodPost, api+"/monitoring-points", editor, s.createPoint)
	s.route(http.MethodGet, api+"/monitoring-points/:id", loggedIn, s.getPoint)
	s.route(http.MethodPut, api+"/monitoring-points/:id", editor, s.updatePoint)
	s.route(http.MethodDelete, api+"/monitoring-points/:id", editor, s.deletePoint)
	s.route(http.MethodGet, api+"/monitoring-points/:id/readings", loggedIn, s.pointReadings)
	s.route(http.MethodGet, api+"/units/:id/monitoring-points", loggedIn, s.unitPoints)
	// Gateways and sensors write readings with a device token (scope "readings"), or an
	// editor does; a body of at most 10 MB, sent within two minutes.
	s.route(http.MethodPost, api+"/readings", ingest, s.postReadings)
	s.bodyRules["POST "+api+"/readings"] = bodyRule{types: []string{"application/json"}, maxBytes: MaxIngestBytes,
		read: 2 * time.Minute, write: s.cfg.Timeouts.Write}
	s.route(http.MethodGet, api+"/alarms", loggedIn, s.listAlarms)
	s.route(http.MethodGet, api+"/alarms.csv", loggedIn, s.alarmsCSV)
	s.route(http.MethodGet, api+"/alarms/stats", loggedIn, s.alarmStats)
	s.route(http.MethodGet, api+"/alarms/:id", loggedIn, s.getAlarm)
	s.route(http.MethodPost, api+"/alarms/:id/transitions", editor, s.transitionAlarm)
	if s.cfg.Hazards != nil {
		s.route(http.MethodPost, api+"/alarms/:id/hazard", editor, s.alarmHazard)
	}
}

// mon is the monitoring service.
func (s *Server) mon() *monitoring.Service { return s.cfg.Monitoring }

// monConfig is the monitoring taxonomy in force (the routes that use it exist only with a
// monitoring service, which has one).
func (s *Server) monConfig() *monitoring.Config { return s.mon().Config }

// kindCodes lists the kind codes, for messages.
func (s *Server) kindCodes() string {
	var out []string
	for _, k := range s.monConfig().Kinds {
		out = append(out, k.Code+"（"+k.Label+"）")
	}
	return strings.Join(out, "、")
}

// ---- parameters ----

// monParams reads the query parameters of the monitoring routes: each one at most once,
// none that allowed lacks.
type monParams struct {
	q url.Values
	p riskmap.Problems
}

func newMonParams(q url.Values, allowed map[string]bool) *monParams {
	m := &monParams{q: q}
	refuseRepeated(q, &m.p)
	for k := range q {
		if !allowed[k] {
			m.p.Add(clip(k), "不是这里的查询参数；可用：%s", strings.Join(sortedKeys(allowed), ", "))
		}
	}
	return m
}

// id reads a positive integer (an id); 0 when absent.
func (m *monParams) id(key, what string) int64 {
	v := m.q.Get(key)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		m.p.Add(key, "应为%s的编号（正整数），收到 %q", what, clip(v))
	}
	return n
}

// boolean reads true/1 or false/0; false when absent.
func (m *monParams) boolean(key string) bool {
	switch v := m.q.Get(key); v {
	case "", "false", "0":
		return false
	case "true", "1":
		return true
	default:
		m.p.Add(key, "应为 true 或 false，收到 %q", clip(v))
	}
	return false
}

// kind reads a kind code of the taxonomy.
func (m *monParams) kind(s *Server) string {
	v := m.q.Get("kind")
	if v != "" {
		if _, ok := s.monConfig().Kind(v); !ok {
			m.p.Add("kind", "未知的监测类型 %q；可选：%s", clip(v), s.kindCodes())
		}
	}
	return v
}

// level reads a warning level.
func (m *monParams) level() monitoring.Level {
	v := m.q.Get("level")
	if v != "" && !monitoring.Level(v).Valid() {
		m.p.Add("level", "未知的预警级别 %q；可选 blue（蓝色预警）、yellow（黄色预警）、orange（橙色预警）、red（红色预警）", clip(v))
	}
	return monitoring.Level(v)
}

// when reads a time: RFC 3339, or a date (the start of that day in China).
func (m *monParams) when(key string) time.Time {
	v := m.q.Get(key)
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil && t.Year() >= 1970 && t.Year() <= 9999 {
		return t.UTC()
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, riskmap.ChinaTime); err == nil && t.Year() >= 1970 {
		return t.UTC()
	}
	m.p.Add(key, "时间 %q 无效：请写作 RFC 3339（如 2026-12-06T08:30:00+08:00）或日期（如 2026-12-06）", clip(v))
	return time.Time{}
}

// limit reads a limit of 1 to most; def when absent.
func (m *monParams) limit(def, most int) int {
	v := m.q.Get("limit")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		m.p.Add("limit", "应为 1 至 %d 的整数，收到 %q", most, clip(v))
	}
	return min(max(n, 1), most)
}

func (m *monParams) err() error { return m.p.Err() }

// ---- monitoring points ----

var pointParams = map[string]bool{"unit": true, "kind": true, "region": true, "alarmed": true}

// pointList is the answer of the point lists.
type pointList struct {
	Items []*monitoring.PointView `json:"items"`
	Total int                     `json:"total"`
}

func (s *Server) points(c echo.Context, f monitoring.PointFilter) error {
	ps, err := s.mon().Points(c.Request().Context(), userOf(c), f)
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []*monitoring.PointView{}
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, pointList{Items: ps, Total: len(ps)})
}

func (s *Server) listPoints(c echo.Context) error {
	m := newMonParams(c.QueryParams(), pointParams)
	f := monitoring.PointFilter{UnitID: m.id("unit", "风险单元"), Kind: m.kind(s), Region: regionParam(c.QueryParams(), &m.p), Alarmed: m.boolean("alarmed")}
	if err := m.err(); err != nil {
		return err
	}
	return s.points(c, f)
}

// unitPoints is GET /api/v1/units/{id}/monitoring-points: the points of a unit the caller
// may read (as its hidden dangers).
func (s *Server) unitPoints(c echo.Context) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	allowed := map[string]bool{}
	for k := range pointParams {
		allowed[k] = k != "unit" && k != "region"
	}
	m := newMonParams(c.QueryParams(), allowed)
	f := monitoring.PointFilter{UnitID: id, Kind: m.kind(s), Alarmed: m.boolean("alarmed")}
	if err := m.err(); err != nil {
		return err
	}
	if _, err := s.readableUnit(c, id); err != nil {
		return err
	}
	return s.points(c, f)
}

// pointID reads the id of the path.
func pointID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, riskmap.Errorf(riskmap.ENOTFOUND, "没有监测点 %q：编号为正整数", clip(c.Param("id")))
	}
	return id, nil
}

func pointLocation(id int64) string { return "/api/v1/monitoring-points/" + strconv.FormatInt(id, 10) }

func (s *Server) getPoint(c echo.Context) error {
	id, err := pointID(c)
	if err != nil {
		return err
	}
	p, err := s.mon().Point(c.Request().Context(), userOf(c), id)
	if err != nil {
		return s.hiding(c, err)
	}
	tag := etag(p.Version)
	h := c.Response().Header()
	h.Set("ETag", tag)
	h.Set("Cache-Control", "private, no-cache")
	if c.Request().Header.Get("If-None-Match") == tag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.JSON(http.StatusOK, p)
}

// hiding marks a 404 of an object out of the caller's scope as a refusal in the audit log
// (the service answers both "none" and "not yours" with ENOTFOUND).
func (s *Server) hiding(c echo.Context, err error) error {
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND && scoped(c) != nil {
		auditOf(c).denied = true
	}
	return err
}

// pointInput is the JSON of a point written (POST, PUT). The read-only fields of a point
// as read may be sent back and are ignored.
type pointInput struct {
	Code          string                 `json:"code"`
	UnitID        int64                  `json:"unit_id"`
	Kind          string                 `json:"kind"`
	UnitOfMeasure string                 `json:"unit_of_measure"`
	Location      *[2]float64            `json:"location"`
	IntervalS     int                    `json:"interval_s"`
	Thresholds    *monitoring.Thresholds `json:"thresholds"`

	ID         json.RawMessage `json:"id"`
	Version    json.RawMessage `json:"version"`
	UpdatedAt  json.RawMessage `json:"updated_at"`
	KindLabel  json.RawMessage `json:"kind_label"`
	UnitCode   json.RawMessage `json:"unit_code"`
	UnitName   json.RawMessage `json:"unit_name"`
	RegionCode json.RawMessage `json:"region_code"`
	Level      json.RawMessage `json:"level"`
	Latest     json.RawMessage `json:"latest"`
	Online     json.RawMessage `json:"online"`
	Alarmed    json.RawMessage `json:"alarmed"`
}

// decodePoint reads a point's JSON. A point without a location is placed at its unit (its
// point, or the centre of its extent).
func (s *Server) decodePoint(body []byte) (*monitoring.Point, error) {
	var in pointInput
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	p := &monitoring.Point{Code: strings.TrimSpace(in.Code), UnitID: in.UnitID, Kind: strings.TrimSpace(in.Kind),
		UnitOfMeasure: strings.TrimSpace(in.UnitOfMeasure), IntervalS: in.IntervalS}
	if in.Thresholds != nil {
		p.Thresholds = *in.Thresholds
	}
	if in.Location != nil {
		p.Location = orb.Point(*in.Location)
	} else if snap, err := s.internal.snapshot(); err == nil && p.UnitID > 0 {
		if f, ok := snap.Get(p.UnitID); ok && f.Geometry != nil {
			if pt, ok := f.Geometry.(orb.Point); ok {
				p.Location = pt
			} else {
				p.Location = f.Bound.Center()
			}
		}
	}
	return p, nil
}

// startPoint begins the audit row of a write of action on point id (0: a new one).
func startPoint(c echo.Context, action string, id int64) *auditRecord {
	a := auditOf(c)
	a.action, a.targetType = "point."+action, "monitoring_point"
	if id > 0 {
		a.targetID = strconv.FormatInt(id, 10)
	}
	return a
}

// pointRecorder keeps the audit row of a point write in the write's transaction: the
// point before (nil for a create) and p as written (nil for a delete).
func (s *Server) pointRecorder(c echo.Context, a *auditRecord, status int, before any, p *monitoring.Point) riskmap.AccessRecordFunc {
	return func() (*riskmap.WriteRecords, error) {
		r := *a
		r.before = before
		if p != nil {
			cp := *p
			r.after = &cp
			r.targetID = strconv.FormatInt(p.ID, 10)
		}
		return &riskmap.WriteRecords{Audit: s.auditEntry(c, &r, status)}, nil
	}
}

// answerPoint sends point id as it is now.
func (s *Server) answerPoint(c echo.Context, status int, p *monitoring.Point) error {
	written(c)
	v, err := s.mon().Point(c.Request().Context(), userOf(c), p.ID)
	if err != nil {
		v = &monitoring.PointView{Point: p}
	}
	h := c.Response().Header()
	h.Set("ETag", etag(v.Version))
	if status == http.StatusCreated {
		h.Set("Location", pointLocation(p.ID))
	}
	return c.JSON(status, v)
}

func (s *Server) createPoint(c echo.Context) error {
	a := startPoint(c, "create", 0)
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	p, err := s.decodePoint(body)
	if err != nil {
		return err
	}
	if err := s.mon().CreatePoint(c.Request().Context(), userOf(c), p, s.pointRecorder(c, a, http.StatusCreated, nil, p)); err != nil {
		if riskmap.ErrorCode(err) == riskmap.EFORBIDDEN || riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
			return s.denyScope(c, p.UnitID, err)
		}
		return failed(c, a, err)
	}
	return s.answerPoint(c, http.StatusCreated, p)
}

// stalePoint words a stale If-Match as units' writes do.
func stalePoint(err error, id, version int64) error {
	if riskmap.ErrorCode(err) == riskmap.EPRECONDITION {
		return riskmap.Errorf(riskmap.EPRECONDITION, "监测点 %d 在第 %d 版之后已被他人修改；请重新加载后再修改", id, version)
	}
	return err
}

func (s *Server) updatePoint(c echo.Context) error {
	id, err := pointID(c)
	if err != nil {
		return err
	}
	a := startPoint(c, "update", id)
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	p, err := s.decodePoint(body)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	before, err := s.mon().Point(ctx, userOf(c), id)
	if err != nil {
		return s.hiding(c, err)
	}
	if p.UnitID == 0 {
		p.UnitID = before.UnitID // a point stays at its unit unless told otherwise
	}
	p.ID, p.Version = id, version
	if err := s.mon().UpdatePoint(ctx, userOf(c), p, s.pointRecorder(c, a, http.StatusOK, before.Point, p)); err != nil {
		return failed(c, a, stalePoint(err, id, version))
	}
	return s.answerPoint(c, http.StatusOK, p)
}

func (s *Server) deletePoint(c echo.Context) error {
	id, err := pointID(c)
	if err != nil {
		return err
	}
	a := startPoint(c, "delete", id)
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	before, err := s.mon().Point(ctx, userOf(c), id)
	if err != nil {
		return s.hiding(c, err)
	}
	if err := s.mon().DeletePoint(ctx, userOf(c), id, version, s.pointRecorder(c, a, http.StatusNoContent, before.Point, nil)); err != nil {
		return failed(c, a, stalePoint(err, id, version))
	}
	written(c)
	return c.NoContent(http.StatusNoContent)
}

// ---- readings ----

var readingsParams = map[string]bool{"from": true, "to": true, "step": true}

// readingsAnswer is the answer of GET /api/v1/monitoring-points/{id}/readings.
type readingsAnswer struct {
	Point   int64               `json:"point"`
	Step    monitoring.Step     `json:"step"`
	From    time.Time           `json:"from"`
	To      time.Time           `json:"to"`
	Samples []monitoring.Sample `json:"samples"`
}

// autoStep is the step of a range when none is asked for: every reading up to 6 hours, then
// the finest step that keeps a chart within about 1,500 samples — minutes up to a day, 5
// minutes up to 5 days, 15 minutes up to 15 days, 30 minutes up to 31 days (all read from
// the minute rollups), hours beyond.
func autoStep(d time.Duration) monitoring.Step {
	const day = 24 * time.Hour
	switch {
	case d <= 6*time.Hour:
		return monitoring.StepRaw
	case d <= day:
		return monitoring.StepMinute
	case d <= 5*day:
		return monitoring.Step5Minutes
	case d <= 15*day:
		return monitoring.Step15Minutes
	case d <= 31*day:
		return monitoring.Step30Minutes
	}
	return monitoring.StepHour
}

func (s *Server) pointReadings(c echo.Context) error {
	id, err := pointID(c)
	if err != nil {
		return err
	}
	m := newMonParams(c.QueryParams(), readingsParams)
	from, to := m.when("from"), m.when("to")
	step := monitoring.Step(m.q.Get("step"))
	if step != "" && !step.Valid() {
		m.p.Add("step", "应为 raw（原始读数）、1m、5m、15m、30m（分钟）或 1h（每小时），收到 %q", clip(string(step)))
	}
	if err := m.err(); err != nil {
		return err
	}
	if to.IsZero() {
		to = s.now()
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	var p riskmap.Problems
	switch {
	case !from.Before(to):
		p.Add("from", "起始时间应早于结束时间")
	case to.Sub(from) > MaxReadingsRange:
		p.Add("from", "查询范围不能超过 %d 天", int(MaxReadingsRange/(24*time.Hour)))
	}
	if err := p.Err(); err != nil {
		return err
	}
	if step == "" {
		step = autoStep(to.Sub(from))
	}
	ctx := c.Request().Context()
	pt, err := s.mon().Point(ctx, userOf(c), id)
	if err != nil {
		return s.hiding(c, err)
	}
	// The samples a step gives at most (raw: at the point's interval, with room for a
	// device that reports faster): over MaxSamples, ask for a coarser step before reading.
	per := step.Duration()
	if step == monitoring.StepRaw {
		per = max(pt.Interval()/10, time.Second)
	}
	if n := to.Sub(from) / per; n > MaxSamples && step != monitoring.StepHour {
		return tooManySamples(step)
	}
	samples, err := s.mon().Readings(ctx, userOf(c), id, from, to, step)
	if err != nil {
		return s.hiding(c, err)
	}
	if len(samples) > MaxSamples {
		return tooManySamples(step)
	}
	if samples == nil {
		samples = []monitoring.Sample{}
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	a := readingsAnswer{Point: id, Step: step, From: from, To: to, Samples: samples}
	if b, ok := a.appendJSON(nil); ok {
		return c.JSONBlob(http.StatusOK, b)
	}
	return c.JSON(http.StatusOK, a)
}

// appendJSON appends the answer as c.JSON writes it (encoding/json, then a newline),
// written by hand: encoding/json took 40 ms for a month of minute samples (43,200), more
// than the query. ok is false for what encoding/json refuses (a value that is not finite, a
// year outside 0–9999) or escapes (a step that is not one of the steps): c.JSON writes it.
func (a readingsAnswer) appendJSON(b []byte) ([]byte, bool) {
	if !a.Step.Valid() {
		return nil, false
	}
	b = slices.Grow(b, 160+len(a.Samples)*100)
	b = append(b, `{"point":`...)
	b = strconv.AppendInt(b, a.Point, 10)
	b = append(b, `,"step":"`...)
	b = append(b, a.Step...)
	b = append(b, `","from":`...)
	ok := true
	b, ok = appendJSONTime(b, a.From, ok)
	b = append(b, `,"to":`...)
	b, ok = appendJSONTime(b, a.To, ok)
	b = append(b, `,"samples":`...)
	if a.Samples == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, s := range a.Samples {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"time":`...)
			b, ok = appendJSONTime(b, s.Time, ok)
			// A minute of one reading has min, max and avg alike: written once, copied.
			b = append(b, `,"min":`...)
			m := len(b)
			b, ok = appendJSONFloat(b, s.Min, ok)
			lo := b[m:]
			b = append(b, `,"max":`...)
			if math.Float64bits(s.Max) == math.Float64bits(s.Min) {
				b = append(b, lo...)
			} else {
				b, ok = appendJSONFloat(b, s.Max, ok)
			}
			b = append(b, `,"avg":`...)
			if math.Float64bits(s.Avg) == math.Float64bits(s.Min) {
				b = append(b, lo...)
			} else {
				b, ok = appendJSONFloat(b, s.Avg, ok)
			}
			b = append(b, `,"count":`...)
			b = strconv.AppendInt(b, s.Count, 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...), ok
}

// appendJSONTime appends t as time.Time's MarshalJSON does; ok turns false for a year or
// an offset it refuses.
func appendJSONTime(b []byte, t time.Time, ok bool) ([]byte, bool) {
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 {
		ok = false
	}
	if y := t.Year(); y < 0 || y > 9999 {
		ok = false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), ok
}

// appendJSONFloat appends f as encoding/json does (its floatEncoder for float64); ok turns
// false for NaN and ±Inf, which it refuses.
func appendJSONFloat(b []byte, f float64, ok bool) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	return jsonappend.Float(b, f), ok
}

func tooManySamples(step monitoring.Step) error {
	var p riskmap.Problems
	coarser := "30m 或 1h"
	if step == monitoring.StepRaw {
		coarser = "1m、30m 或 1h"
	}
	p.Add("step", "此范围的数据超过 %d 条，请缩小范围或使用更粗的步长（%s）", MaxSamples, coarser)
	return p.Err()
}

// postReadings is POST /api/v1/readings: a JSON batch [{"point": id or "code", "time",
// "value"}]. Items are refused one by one and the rest kept: 200 with the counts and the
// refusals, also when every item is refused; 400 only for a body that is not an array.
func (s *Server) postReadings(c echo.Context) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	res, err := s.mon().Ingest(c.Request().Context(), userOf(c), monitoring.FormBatch, body)
	if err != nil {
		return err
	}
	s.metrics.countReadings("api", res)
	if res.Refused == nil {
		res.Refused = []monitoring.Refusal{}
	}
	if lang := langOf(c); lang != riskmap.Chinese {
		for i := range res.Refused {
			res.Refused[i].Message = res.Refused[i].MessageIn(lang)
		}
	}
	return c.JSON(http.StatusOK, res)
}

// ---- alarms ----

var alarmParams = map[string]bool{"status": true, "level": true, "unit": true, "point": true, "region": true, "kind": true,
	"open": true, "from": true, "to": true, "limit": true}

// parseAlarmQuery reads an alarm query of the parameters allowed: limit def when none is
// given (0: all), at most most.
func (s *Server) parseAlarmQuery(q url.Values, allowed map[string]bool, def, most int) (monitoring.AlarmQuery, error) {
	m := newMonParams(q, allowed)
	aq := monitoring.AlarmQuery{Level: m.level(), UnitID: m.id("unit", "风险单元"), PointID: m.id("point", "监测点"),
		Region: regionParam(q, &m.p), Kind: m.kind(s), Open: m.boolean("open"), From: m.when("from"), To: m.when("to"),
		Limit: m.limit(def, most)}
	if v := q.Get("status"); v != "" {
		if !monitoring.Status(v).Valid() {
			m.p.Add("status", "未知的报警状态 %q；可选 active（报警中）、acknowledged（已确认）、disposed（已处置）、closed（已关闭）", clip(v))
		}
		aq.Status = monitoring.Status(v)
	}
	if !aq.From.IsZero() && !aq.To.IsZero() && !aq.From.Before(aq.To) {
		m.p.Add("from", "起始时间应早于结束时间")
	}
	return aq, m.err()
}

// alarmList is the answer of GET /api/v1/alarms.
type alarmList struct {
	Items []*monitoring.AlarmView `json:"items"`
	Total int                     `json:"total"`
}

func (s *Server) listAlarms(c echo.Context) error {
	q, err := s.parseAlarmQuery(c.QueryParams(), alarmParams, DefaultLimit, monitoring.MaxAlarms)
	if err != nil {
		return err
	}
	as, err := s.mon().Alarms(c.Request().Context(), userOf(c), q)
	if err != nil {
		return err
	}
	if as == nil {
		as = []*monitoring.AlarmView{}
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, alarmList{Items: as, Total: len(as)})
}

// alarmID reads the id of the path.
func alarmID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, riskmap.Errorf(riskmap.ENOTFOUND, "没有报警 %q：编号为正整数", clip(c.Param("id")))
	}
	return id, nil
}

func (s *Server) getAlarm(c echo.Context) error {
	id, err := alarmID(c)
	if err != nil {
		return err
	}
	a, err := s.mon().Alarm(c.Request().Context(), userOf(c), id)
	if err != nil {
		return s.hiding(c, err)
	}
	h := c.Response().Header()
	h.Set("ETag", etag(a.Version))
	h.Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, a)
}

// alarmHeader is the header of alarms.csv.
var alarmHeader = []string{"报警编号", "监测点", "监测类型", "风险单元编号", "风险单元名称", "所属区域", "监管部门", "报警类型", "预警级别", "状态",
	"报警时间", "峰值", "最新值", "计量单位", "确认时间", "确认人", "处置时间", "处置人", "处置措施", "恢复正常时间", "关闭时间"}

// beijingTime formats a time for a CSV cell, in Beijing time; "" for none.
func beijingTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.In(riskmap.ChinaTime).Format(time.DateTime)
}

func number(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// alarmsCSV is GET /api/v1/alarms.csv: the alarms of the query (scoped; at most
// monitoring.MaxAlarms, newest first) as UTF-8 CSV with a BOM and Chinese headers.
func (s *Server) alarmsCSV(c echo.Context) error {
	// Every alarm the filters select (of the newest monitoring.MaxScan), unless limit.
	q, err := s.parseAlarmQuery(c.QueryParams(), alarmParams, 0, monitoring.MaxScan)
	if err != nil {
		return err
	}
	as, err := s.mon().Alarms(c.Request().Context(), userOf(c), q)
	if err != nil {
		return err
	}
	names := s.regionNames()
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	_ = w.Write(alarmHeader)
	for _, a := range as {
		rule := "超阈值"
		if a.Rule == monitoring.RuleOffline {
			rule = "离线"
		}
		rec := []string{a.Code, a.PointCode, a.KindLabel, a.UnitCode, a.UnitName, names.short(a.RegionCode), a.Department, rule,
			a.Level.Label(), a.Status.Label(), beijingTime(&a.OpenedAt), number(a.Peak), number(a.LastValue), a.UnitOfMeasure,
			beijingTime(a.AcknowledgedAt), a.AcknowledgedBy, beijingTime(a.DisposedAt), a.DisposedBy, a.Action, beijingTime(a.NormalAt), beijingTime(a.ClosedAt)}
		for i := range rec {
			rec[i] = csvCell(rec[i])
		}
		_ = w.Write(rec)
	}
	w.Flush()
	h := c.Response().Header()
	// 报警记录.csv, with an ASCII name for clients that do not read RFC 5987.
	h.Set("Content-Disposition", `attachment; filename="alarms.csv"; filename*=UTF-8''%E6%8A%A5%E8%AD%A6%E8%AE%B0%E5%BD%95.csv`)
	h.Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

var alarmStatsParams = map[string]bool{"region": true, "from": true, "to": true, "kind": true, "level": true}

// alarmStats is GET /api/v1/alarms/stats: the alarm statistics of the caller's scope.
func (s *Server) alarmStats(c echo.Context) error {
	q, err := s.parseAlarmQuery(c.QueryParams(), alarmStatsParams, 0, monitoring.MaxAlarms)
	if err != nil {
		return err
	}
	q.Limit = 0
	st, err := s.mon().Stats(c.Request().Context(), userOf(c), q)
	if err != nil {
		return err
	}
	s.nameAlarmRegions(st)
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, st)
}

// nameAlarmRegions names the regions of st's by_region (乡镇/街道, monitoring.RegionGroup) as
// the hidden dangers' statistics do: the region's name, or the name of its district when the
// street is not in the regions' list, "（未填写）" for none.
func (s *Server) nameAlarmRegions(st *monitoring.Stats) {
	names := s.regionNames()
	for i, c := range st.ByRegion {
		st.ByRegion[i].Label = "（未填写）"
		if c.Key != "" {
			st.ByRegion[i].Label = names.short(c.Key)
		}
	}
}

// startAlarm begins the audit row of a write of action on alarm id.
func startAlarm(c echo.Context, action string, id int64) *auditRecord {
	a := auditOf(c)
	a.action, a.targetType, a.targetID = "alarm."+action, "alarm", strconv.FormatInt(id, 10)
	return a
}

// alarmRecorder keeps the audit row of an alarm's transition in its transaction.
func (s *Server) alarmRecorder(c echo.Context, a *auditRecord, status int, before *monitoring.AlarmView, after any) riskmap.AccessRecordFunc {
	return func() (*riskmap.WriteRecords, error) {
		r := *a
		if before != nil {
			r.before = before
		}
		r.after = after
		return &riskmap.WriteRecords{Audit: s.auditEntry(c, &r, status)}, nil
	}
}

// transitionAlarm is POST /api/v1/alarms/{id}/transitions {"action": "acknowledge" |
// "dispose", "note": 处置措施}; If-Match, when sent, must name the alarm's version.
func (s *Server) transitionAlarm(c echo.Context) error {
	id, err := alarmID(c)
	if err != nil {
		return err
	}
	var version int64
	if c.Request().Header.Get("If-Match") != "" {
		if version, err = ifMatch(c); err != nil {
			return err
		}
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	var req struct {
		Action string `json:"action"`
		Note   string `json:"note"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.Action != "acknowledge" && req.Action != "dispose" {
		var p riskmap.Problems
		p.Add("action", "应为 acknowledge（确认）或 dispose（处置，note 填写处置措施），收到 %q", clip(req.Action))
		return p.Err()
	}
	if req.Action == "dispose" {
		// The measures are the request's note (stored as the alarm's action).
		if err := monitoring.CheckMeasures("note", req.Note); err != nil {
			return err
		}
	}
	a := startAlarm(c, req.Action, id)
	ctx := c.Request().Context()
	before, err := s.mon().Alarm(ctx, userOf(c), id)
	if err != nil {
		return s.hiding(c, err)
	}
	after := map[string]any{"action": req.Action}
	if req.Note != "" {
		after["note"] = req.Note
	}
	v, err := s.mon().Transition(ctx, userOf(c), id, version, req.Action, req.Note, s.alarmRecorder(c, a, http.StatusOK, before, after))
	if err != nil {
		if riskmap.ErrorCode(err) == riskmap.EPRECONDITION {
			err = riskmap.Errorf(riskmap.EPRECONDITION, "报警 %d 在第 %d 版之后已被他人修改；请重新加载后再操作", id, version)
		}
		return failed(c, a, err)
	}
	written(c)
	c.Response().Header().Set("ETag", etag(v.Version))
	return c.JSON(http.StatusOK, v)
}

// alarmHazardInput is what POST /api/v1/alarms/{id}/hazard may set of the hidden danger;
// everything has a default from the alarm and its unit.
type alarmHazardInput struct {
	Level             hazards.Level                `json:"level"`
	Description       string                       `json:"description"`
	Location          string                       `json:"location"`
	ResponsibleUnit   string                       `json:"responsible_unit"`
	ResponsiblePerson string                       `json:"responsible_person"`
	Measures          string                       `json:"measures"`
	Deadline          hazards.Time                 `json:"deadline"`
	Five              *hazards.FiveImplementations `json:"five"`
}

// alarmHazardDays is the default deadline of a hidden danger from an alarm: a week for a
// general one, a month for a major one.
func alarmHazardDays(l hazards.Level) int {
	if l == hazards.LevelMajor {
		return 30
	}
	return 7
}

// alarmDescription is the description of the hidden danger an alarm becomes:
// "监测报警 BJ-… ：可燃气体浓度 62%LEL，红色预警".
func alarmDescription(a *monitoring.AlarmView) string {
	if a.Rule == monitoring.RuleOffline {
		return fmt.Sprintf("监测报警 %s ：%s监测点 %s 离线，%s", a.Code, a.KindLabel, a.PointCode, a.Level.Label())
	}
	return fmt.Sprintf("监测报警 %s ：%s %s%s，%s", a.Code, a.KindLabel, number(a.Peak), a.UnitOfMeasure, a.Level.Label())
}

// alarmHazardOf is the 409 naming the hidden danger alarm al already became, nil if none.
func (s *Server) alarmHazardOf(c echo.Context, al *monitoring.AlarmView) error {
	hs, _, err := s.hz().List(c.Request().Context(), userOf(c), hazards.Filter{UnitID: al.UnitID, AlarmID: al.ID, Limit: 1})
	if err != nil || len(hs) == 0 {
		return nil
	}
	return riskmap.Errorf(riskmap.ECONFLICT, "报警 %s 已转为隐患 %s", al.Code, hs[0].Code)
}

// alarmHazard is POST /api/v1/alarms/{id}/hazard: the alarm becomes a hidden danger of its
// unit in one step (source 监测; major when the alarm is red; found when the alarm opened,
// at its point), and an active alarm is acknowledged. 201 {"hazard", "alarm"}. An alarm
// that became a hidden danger already is 409, naming it.
func (s *Server) alarmHazard(c echo.Context) error {
	id, err := alarmID(c)
	if err != nil {
		return err
	}
	a := startAlarm(c, "hazard", id)
	body, err := s.readOptionalBody(c)
	if err != nil {
		return err
	}
	var in alarmHazardInput
	if len(body) > 0 {
		if err := decodeJSON(body, &in); err != nil {
			return hazardDecodeError(err)
		}
	}
	ctx := c.Request().Context()
	by := userOf(c)
	al, err := s.mon().Alarm(ctx, by, id)
	if err != nil {
		return s.hiding(c, err)
	}
	// One hidden danger per alarm: the store refuses a second (a unique index on the alarm),
	// and the refusal names the first (below).
	h := &hazards.Hazard{UnitID: al.UnitID, AlarmID: al.ID, Level: in.Level, Description: in.Description, Location: in.Location,
		FoundAt: al.OpenedAt, FoundBy: "监测预警系统", Source: hazards.SourceMonitoring, ResponsibleUnit: in.ResponsibleUnit,
		ResponsiblePerson: in.ResponsiblePerson, Measures: in.Measures, Deadline: in.Deadline.Time, Five: in.Five}
	if h.Level == "" {
		h.Level = hazards.LevelGeneral
		if al.Level == monitoring.LevelRed {
			h.Level = hazards.LevelMajor
		}
	}
	if strings.TrimSpace(h.Description) == "" {
		h.Description = alarmDescription(al)
	}
	if strings.TrimSpace(h.Location) == "" {
		h.Location = "监测点 " + al.PointCode
	}
	if pt, err := s.mon().Point(ctx, by, al.PointID); err == nil {
		h.Point = pt.Location
	}
	if h.ResponsibleUnit == "" || h.ResponsiblePerson == "" {
		if u, err := s.cfg.Store.GetUnit(ctx, al.UnitID); err == nil {
			if h.ResponsibleUnit == "" {
				h.ResponsibleUnit = u.ResponsibleUnit
			}
			if h.ResponsiblePerson == "" {
				h.ResponsiblePerson = u.ContactPerson
			}
		}
	}
	if strings.TrimSpace(h.ResponsiblePerson) == "" && by != nil {
		h.ResponsiblePerson = by.Name
	}
	if strings.TrimSpace(h.Measures) == "" {
		h.Measures = "核查监测报警原因，排除隐患并恢复正常监测"
		if al.Action != "" {
			h.Measures = al.Action
		}
	}
	if h.Deadline.IsZero() {
		h.Deadline = s.hz().Today().AddDate(0, 0, alarmHazardDays(h.Level))
	}
	err = s.hz().Create(ctx, by, h, func(ch hazards.Change) (*riskmap.WriteRecords, error) {
		r := *a
		r.before = al
		if ch.After != nil {
			r.after = map[string]any{"hazard": s.viewHazard(ch.After, nil, s.hz().Today())}
		}
		return &riskmap.WriteRecords{Audit: s.auditEntry(c, &r, http.StatusCreated)}, nil
	})
	if err != nil {
		if notIndexed(c, err) {
			return err
		}
		if riskmap.ErrorCode(err) == riskmap.EFORBIDDEN {
			return s.denyScope(c, h.UnitID, err)
		}
		if riskmap.ErrorCode(err) == riskmap.ECONFLICT {
			if made := s.alarmHazardOf(c, al); made != nil {
				return made
			}
		}
		return hazardDecodeError(err)
	}
	written(c)
	view := al
	if al.Status == monitoring.StatusActive {
		// The alarm is taken in hand: acknowledged, with its own audit row.
		ack := *a
		ack.action = "alarm.acknowledge"
		if v, err := s.mon().Transition(ctx, by, id, 0, "acknowledge", "", s.alarmRecorder(c, &ack, http.StatusOK, al,
			map[string]any{"action": "acknowledge", "hazard": h.Code})); err == nil {
			view = v
		} else if v, gerr := s.mon().Alarm(ctx, by, id); gerr == nil {
			view = v // acknowledged meanwhile by someone else
		}
	}
	c.Response().Header().Set("Location", hazardLocation(h.ID))
	return c.JSON(http.StatusCreated, map[string]any{"hazard": s.viewHazard(h, by, s.hz().Today()), "alarm": view})
}
