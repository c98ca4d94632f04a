package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	mon "riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// The OGC SensorThings API 1.1 subset (OGC 18-088) at /sta/v1.1, for the gateways and
// tools of the Internet of Things: a Thing is a risk unit that has monitoring points, a
// Datastream a monitoring point, an Observation a reading (its @iot.id "<point id>-<unix
// ms>"). Reads are for logged-in users, scoped like the monitoring points; Observations and
// CreateObservations (the dataArray extension) write readings with the rule ingest (device
// tokens of scope readings, and editors), through the same monitoring service as POST
// /api/v1/readings. Echo cannot route "Things(3)", so GET /sta/v1.1/* is read by staPath.

const (
	staBase = "/sta/v1.1"
	// staMaxBody bounds an Observations or CreateObservations body (as POST /api/v1/readings).
	staMaxBody     = 10 << 20
	staDefaultTop  = 100
	staMaxTop      = 10000
	staMeasurement = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
)

func (s *Server) staRoutes() {
	s.route(http.MethodGet, staBase, loggedIn, s.staLanding)
	s.route(http.MethodGet, staBase+"/*", loggedIn, s.staGet)
	s.route(http.MethodPost, staBase+"/Observations", ingest, s.staPostObservation)
	s.route(http.MethodPost, staBase+"/CreateObservations", ingest, s.staCreateObservations)
	for _, p := range []string{"/Observations", "/CreateObservations"} {
		s.bodyRules["POST "+staBase+p] = bodyRule{types: jsonTypes, maxBytes: staMaxBody, read: s.cfg.Timeouts.Body, write: s.cfg.Timeouts.Write}
	}
}

func (s *Server) staURL(c echo.Context) string { return s.baseURL(c) + staBase }

func (s *Server) staLanding(c echo.Context) error {
	base := s.staURL(c)
	type entitySet struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	}
	return c.JSON(http.StatusOK, map[string]any{
		"value": []entitySet{{"Things", base + "/Things"}, {"Datastreams", base + "/Datastreams"}, {"Observations", base + "/Observations"}},
		"serverSettings": map[string]any{"conformance": []string{
			"http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
			"http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
			"http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
			"http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete/create-entity",
			"http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array",
			"http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/create-observations",
		}},
	})
}

// staSegment is one segment of a resource path: an entity set and, in parentheses, an id.
type staSegment struct {
	Set   string
	ID    string
	HasID bool
}

// staPath reads a resource path after /sta/v1.1/: Things(3)/Datastreams → two segments.
func staPath(p string) ([]staSegment, bool) {
	p = strings.Trim(p, "/")
	if p == "" || len(p) > 256 {
		return nil, false
	}
	var out []staSegment
	for _, part := range strings.Split(p, "/") {
		seg := staSegment{Set: part}
		if i := strings.IndexByte(part, '('); i >= 0 {
			if !strings.HasSuffix(part, ")") || i == 0 {
				return nil, false
			}
			seg.Set, seg.ID, seg.HasID = part[:i], part[i+1:len(part)-1], true
			if len(seg.ID) >= 2 && seg.ID[0] == '\'' && seg.ID[len(seg.ID)-1] == '\'' {
				seg.ID = seg.ID[1 : len(seg.ID)-1]
			}
			if seg.ID == "" {
				return nil, false
			}
		}
		out = append(out, seg)
	}
	return out, len(out) <= 2
}

func staNotFound(path string) error {
	return riskmap.Errorf(riskmap.ENOTFOUND, "SensorThings 接口没有资源 %s；可用：Things、Things(id)/Datastreams、Datastreams(id)/Observations、Observations(id)", clip(path))
}

// staID reads a numeric entity id (a Thing's, a Datastream's).
func staID(set, raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return 0, riskmap.Errorf(riskmap.ENOTFOUND, "没有 %s(%s)：编号为正整数", set, clip(raw))
	}
	return id, nil
}

// staObservationID reads "<point id>-<unix ms>".
func staObservationID(raw string) (int64, time.Time, error) {
	p, ms, ok := strings.Cut(raw, "-")
	id, err1 := strconv.ParseInt(p, 10, 64)
	t, err2 := strconv.ParseInt(ms, 10, 64)
	if !ok || err1 != nil || err2 != nil || id < 1 || t < 0 || t > 1<<50 {
		return 0, time.Time{}, riskmap.Errorf(riskmap.ENOTFOUND, "没有 Observations(%s)：编号应为“监测点编号-毫秒时间戳”", clip(raw))
	}
	return id, time.UnixMilli(t).UTC(), nil
}

func (s *Server) staGet(c echo.Context) error {
	path := c.Param("*")
	if u, err := url.PathUnescape(path); err == nil {
		path = u
	}
	segs, ok := staPath(path)
	if !ok {
		return staNotFound(path)
	}
	q := c.QueryParams()
	if q.Has("$filter") {
		return riskmap.Errorf(riskmap.EINVALID, "本服务的 SensorThings 接口不支持 $filter；请用 Datastreams(id)/Observations 与 $top、$skip、$orderby")
	}
	first := segs[0]
	var second *staSegment
	if len(segs) == 2 {
		second = &segs[1]
		if second.HasID {
			return staNotFound(path)
		}
	}
	switch {
	case first.Set == "Things" && !first.HasID && second == nil:
		return s.staThings(c, 0)
	case first.Set == "Things" && first.HasID && second == nil:
		id, err := staID("Things", first.ID)
		if err != nil {
			return err
		}
		return s.staThings(c, id)
	case first.Set == "Things" && first.HasID && second.Set == "Datastreams":
		id, err := staID("Things", first.ID)
		if err != nil {
			return err
		}
		if _, err := s.staThing(c, id); err != nil {
			return err
		}
		return s.staDatastreams(c, id)
	case first.Set == "Datastreams" && !first.HasID && second == nil:
		return s.staDatastreams(c, 0)
	case first.Set == "Datastreams" && first.HasID:
		id, err := staID("Datastreams", first.ID)
		if err != nil {
			return err
		}
		pv, err := s.cfg.Monitoring.Point(c.Request().Context(), userOf(c), id)
		if err != nil {
			return err
		}
		switch {
		case second == nil:
			return c.JSON(http.StatusOK, s.staDatastream(c, pv))
		case second.Set == "Observations":
			return s.staObservations(c, pv)
		case second.Set == "Thing":
			return s.staThings(c, pv.UnitID)
		}
	case first.Set == "Observations" && first.HasID:
		id, at, err := staObservationID(first.ID)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		pv, err := s.cfg.Monitoring.Point(ctx, userOf(c), id)
		if err != nil {
			return err
		}
		rs, err := s.cfg.Monitoring.Readings(ctx, userOf(c), id, at, at.Add(time.Millisecond), mon.StepRaw)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return riskmap.Errorf(riskmap.ENOTFOUND, "没有 Observations(%s)", clip(first.ID))
		}
		switch {
		case second == nil:
			return c.JSON(http.StatusOK, s.staObservation(c, pv.ID, rs[0].Time, rs[0].Avg))
		case second.Set == "Datastream":
			return c.JSON(http.StatusOK, s.staDatastream(c, pv))
		}
	case first.Set == "Observations" && !first.HasID && second == nil:
		return riskmap.Errorf(riskmap.EINVALID, "请按监测点读取观测：Datastreams(id)/Observations")
	}
	return staNotFound(path)
}

// staThingJSON is a Thing: a risk unit with monitoring points.
type staThingJSON struct {
	ID          int64          `json:"@iot.id"`
	SelfLink    string         `json:"@iot.selfLink"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Properties  map[string]any `json:"properties"`
	Datastreams string         `json:"Datastreams@iot.navigationLink"`
}

type staUnitOfMeasurement struct {
	Name       string `json:"name"`
	Symbol     string `json:"symbol"`
	Definition string `json:"definition"`
}

// staDatastreamJSON is a Datastream: a monitoring point.
type staDatastreamJSON struct {
	ID                int64                `json:"@iot.id"`
	SelfLink          string               `json:"@iot.selfLink"`
	Name              string               `json:"name"`
	Description       string               `json:"description"`
	UnitOfMeasurement staUnitOfMeasurement `json:"unitOfMeasurement"`
	ObservationType   string               `json:"observationType"`
	ObservedArea      map[string]any       `json:"observedArea"`
	Properties        map[string]any       `json:"properties"`
	Thing             string               `json:"Thing@iot.navigationLink"`
	Observations      string               `json:"Observations@iot.navigationLink"`
}

// staObservationJSON is an Observation: a reading.
type staObservationJSON struct {
	ID             string  `json:"@iot.id"`
	SelfLink       string  `json:"@iot.selfLink"`
	PhenomenonTime string  `json:"phenomenonTime"`
	ResultTime     string  `json:"resultTime"`
	Result         float64 `json:"result"`
	Datastream     string  `json:"Datastream@iot.navigationLink"`
}

// staCollection is a list of entities.
type staCollection struct {
	Count    *int   `json:"@iot.count,omitempty"`
	NextLink string `json:"@iot.nextLink,omitempty"`
	Value    any    `json:"value"`
}

func staTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func staObservationKey(point int64, t time.Time) string {
	return strconv.FormatInt(point, 10) + "-" + strconv.FormatInt(t.UnixMilli(), 10)
}

func (s *Server) staObservation(c echo.Context, point int64, t time.Time, v float64) staObservationJSON {
	base := s.staURL(c)
	key := staObservationKey(point, t)
	return staObservationJSON{ID: key, SelfLink: base + "/Observations(" + key + ")", PhenomenonTime: staTime(t), ResultTime: staTime(t),
		Result: v, Datastream: base + "/Observations(" + key + ")/Datastream"}
}

func (s *Server) staDatastream(c echo.Context, pv *mon.PointView) staDatastreamJSON {
	base := s.staURL(c)
	self := fmt.Sprintf("%s/Datastreams(%d)", base, pv.ID)
	props := map[string]any{"code": pv.Code, "kind": pv.Kind, "kind_label": pv.KindLabel, "interval_s": pv.IntervalS,
		"thresholds": pv.Thresholds, "level": pv.Level, "online": pv.Online, "unit_code": pv.UnitCode}
	return staDatastreamJSON{ID: pv.ID, SelfLink: self, Name: pv.Code,
		Description:       strings.TrimSpace(pv.UnitName + " " + pv.KindLabel + "监测点 " + pv.Code),
		UnitOfMeasurement: staUnitOfMeasurement{Name: pv.KindLabel, Symbol: pv.UnitOfMeasure, Definition: "riskmap:monitoring/kind/" + pv.Kind},
		ObservationType:   staMeasurement,
		ObservedArea:      map[string]any{"type": "Point", "coordinates": []float64{pv.Location[0], pv.Location[1]}},
		Properties:        props, Thing: self + "/Thing", Observations: self + "/Observations"}
}

// staThings answers /Things (id 0), /Things(id) (id > 0) or /Datastreams(n)/Thing (id < 0:
// the unit of a point the caller may read).
func (s *Server) staThings(c echo.Context, id int64) error {
	if id != 0 {
		t, err := s.staThing(c, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, t)
	}
	pvs, err := s.cfg.Monitoring.Points(c.Request().Context(), userOf(c), mon.PointFilter{})
	if err != nil {
		return err
	}
	things := s.staGroupThings(c, pvs)
	return s.staPage(c, len(things), func(skip, top int) any { return things[skip : skip+top] })
}

// staThing is the Thing of unit id: ENOTFOUND when the caller may read none of its points.
func (s *Server) staThing(c echo.Context, id int64) (*staThingJSON, error) {
	pvs, err := s.cfg.Monitoring.Points(c.Request().Context(), userOf(c), mon.PointFilter{UnitID: id})
	if err != nil {
		return nil, err
	}
	things := s.staGroupThings(c, pvs)
	if len(things) == 0 {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "没有 Things(%d)：该风险单元没有您可查看的监测点", id)
	}
	return &things[0], nil
}

func (s *Server) staGroupThings(c echo.Context, pvs []*mon.PointView) []staThingJSON {
	base := s.staURL(c)
	byUnit := map[int64]*staThingJSON{}
	var ids []int64
	for _, pv := range pvs {
		t, ok := byUnit[pv.UnitID]
		if !ok {
			self := fmt.Sprintf("%s/Things(%d)", base, pv.UnitID)
			t = &staThingJSON{ID: pv.UnitID, SelfLink: self, Name: pv.UnitName, Description: "风险单元 " + pv.UnitCode,
				Properties:  map[string]any{"code": pv.UnitCode, "region_code": pv.RegionCode, "points": 0, "level": mon.Level("")},
				Datastreams: self + "/Datastreams"}
			byUnit[pv.UnitID] = t
			ids = append(ids, pv.UnitID)
		}
		t.Properties["points"] = t.Properties["points"].(int) + 1
		if l, _ := t.Properties["level"].(mon.Level); pv.Level.Higher(l) {
			t.Properties["level"] = pv.Level
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]staThingJSON, len(ids))
	for i, id := range ids {
		out[i] = *byUnit[id]
	}
	return out
}

func (s *Server) staDatastreams(c echo.Context, unit int64) error {
	pvs, err := s.cfg.Monitoring.Points(c.Request().Context(), userOf(c), mon.PointFilter{UnitID: unit})
	if err != nil {
		return err
	}
	sort.Slice(pvs, func(i, j int) bool { return pvs[i].ID < pvs[j].ID })
	return s.staPage(c, len(pvs), func(skip, top int) any {
		out := make([]staDatastreamJSON, 0, top)
		for _, pv := range pvs[skip : skip+top] {
			out = append(out, s.staDatastream(c, pv))
		}
		return out
	})
}

// staPaging reads $top, $skip and $count.
func staPaging(q url.Values) (top, skip int, count bool, err error) {
	top, skip = staDefaultTop, 0
	if v := q.Get("$top"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 0 || n > staMaxTop {
			return 0, 0, false, riskmap.Errorf(riskmap.EINVALID, "$top 应为 0 到 %d 的整数", staMaxTop)
		}
		top = n
	}
	if v := q.Get("$skip"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 0 || n > 1<<30 {
			return 0, 0, false, riskmap.Errorf(riskmap.EINVALID, "$skip 应为非负整数")
		}
		skip = n
	}
	switch q.Get("$count") {
	case "", "false":
	case "true":
		count = true
	default:
		return 0, 0, false, riskmap.Errorf(riskmap.EINVALID, "$count 应为 true 或 false")
	}
	return top, skip, count, nil
}

// staNext is the link of the page after skip+top.
func (s *Server) staNext(c echo.Context, skip, top int) string {
	q := c.QueryParams()
	u := url.Values{}
	for k, v := range q {
		u[k] = v
	}
	u.Set("$skip", strconv.Itoa(skip+top))
	u.Set("$top", strconv.Itoa(top))
	return s.baseURL(c) + c.Request().URL.EscapedPath() + "?" + u.Encode()
}

// staPage answers a page of n entities, page(skip, top) giving those of the page.
func (s *Server) staPage(c echo.Context, n int, page func(skip, top int) any) error {
	top, skip, count, err := staPaging(c.QueryParams())
	if err != nil {
		return err
	}
	from := min(skip, n)
	to := min(from+top, n)
	out := staCollection{Value: page(from, to-from)}
	if count {
		out.Count = &n
	}
	if to < n && top > 0 {
		out.NextLink = s.staNext(c, skip, top)
	}
	return c.JSON(http.StatusOK, out)
}

// staWindows are the spans read back from now for a page of the newest observations: few
// readings are read when the page is near the present.
var staWindows = []time.Duration{time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 31 * 24 * time.Hour}

// staAllTime is the span of every reading (retention keeps at most 400 days by default).
const staAllTime = 20 * 366 * 24 * time.Hour

func (s *Server) staObservations(c echo.Context, pv *mon.PointView) error {
	q := c.QueryParams()
	top, skip, count, err := staPaging(q)
	if err != nil {
		return err
	}
	desc := true
	switch strings.Join(strings.Fields(q.Get("$orderby")), " ") {
	case "", "phenomenonTime desc", "resultTime desc":
	case "phenomenonTime", "phenomenonTime asc", "resultTime", "resultTime asc":
		desc = false
	default:
		return riskmap.Errorf(riskmap.EINVALID, "$orderby 只支持 phenomenonTime asc 或 phenomenonTime desc")
	}
	ctx := c.Request().Context()
	to := s.now().Add(mon.MaxFuture + time.Second)
	var rs []mon.Sample
	windows := staWindows
	if count || !desc {
		windows = nil // every reading is needed
	}
	done := false
	for _, w := range windows {
		if rs, err = s.cfg.Monitoring.Readings(ctx, userOf(c), pv.ID, to.Add(-w), to, mon.StepRaw); err != nil {
			return err
		}
		if len(rs) > skip+top {
			done = true
			break
		}
	}
	if !done {
		if rs, err = s.cfg.Monitoring.Readings(ctx, userOf(c), pv.ID, to.Add(-staAllTime), to, mon.StepRaw); err != nil {
			return err
		}
	}
	n := len(rs)
	from := min(skip, n)
	end := min(from+top, n)
	out := make([]staObservationJSON, 0, end-from)
	for i := from; i < end; i++ {
		r := rs[i]
		if desc {
			r = rs[n-1-i]
		}
		out = append(out, s.staObservation(c, pv.ID, r.Time, r.Avg))
	}
	res := staCollection{Value: out}
	if count {
		res.Count = &n
	}
	if end < n && top > 0 {
		res.NextLink = s.staNext(c, skip, top)
	}
	return c.JSON(http.StatusOK, res)
}

// staPostObservation is POST /Observations: one reading, {"Datastream": {"@iot.id": n},
// "phenomenonTime": …, "result": …} (a missing phenomenonTime is now). 201 with the
// Observation and its Location; 400 with the reason when it is refused.
func (s *Server) staPostObservation(c echo.Context) error {
	b, err := s.readOptionalBody(c) // limitBody holds it to staMaxBody (bodyRules)
	if err != nil {
		return err
	}
	body, err := staObservationBody(b, s.now())
	if err != nil {
		return err
	}
	res, err := s.cfg.Monitoring.Ingest(c.Request().Context(), userOf(c), mon.FormDataArray, body)
	if err != nil {
		return err
	}
	s.metrics.countReadings("sta", res)
	if len(res.Items) == 0 {
		fe := riskmap.FieldErrorf("result", "读数未被接受")
		if len(res.Refused) > 0 {
			fe = res.Refused[0].FieldError
			fe.Field = staField(fe.Field)
		}
		return riskmap.Errorf(riskmap.EINVALID, "%s", fe).WithFields([]riskmap.FieldError{fe}) // fe: in the client's language
	}
	r := res.Items[0].Reading
	o := s.staObservation(c, r.PointID, r.Time, r.Value)
	c.Response().Header().Set(echo.HeaderLocation, o.SelfLink)
	return c.JSON(http.StatusCreated, o)
}

// staObservationBody reads the body of POST /Observations ({"Datastream": {"@iot.id": n},
// "phenomenonTime": …, "result": …}; no time: now) and returns it as the one-row
// CreateObservations body the service reads, or EINVALID naming the field.
func staObservationBody(b []byte, now time.Time) ([]byte, error) {
	var in struct {
		Datastream *struct {
			ID json.RawMessage `json:"@iot.id"`
		} `json:"Datastream"`
		PhenomenonTime json.RawMessage `json:"phenomenonTime"`
		ResultTime     json.RawMessage `json:"resultTime"`
		Result         json.RawMessage `json:"result"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&in); err != nil {
		if m := staBareResult.FindSubmatch(b); m != nil {
			// Not JSON, but what a device means is plain: say so, as the batch forms do.
			fe := riskmap.FieldErrorf("result", "应为有限数值，收到 %s", string(m[1]))
			return nil, riskmap.Errorf(riskmap.EINVALID, "%s", fe).WithFields([]riskmap.FieldError{fe})
		}
		return nil, decodeError(err)
	}
	if in.Datastream == nil || len(in.Datastream.ID) == 0 {
		return nil, riskmap.Errorf(riskmap.EINVALID, "必须指明 Datastream（{\"@iot.id\": 监测点编号}）").
			WithFields([]riskmap.FieldError{riskmap.FieldErrorf("Datastream", "必须指明监测点")})
	}
	if len(in.Result) == 0 {
		return nil, riskmap.Errorf(riskmap.EINVALID, "必须填写观测值 result").
			WithFields([]riskmap.FieldError{riskmap.FieldErrorf("result", "必须填写数值")})
	}
	t := in.PhenomenonTime
	if len(t) == 0 || string(t) == "null" {
		t, _ = json.Marshal(now.Format(time.RFC3339Nano))
	}
	body, err := json.Marshal([]map[string]any{{"Datastream": map[string]json.RawMessage{"@iot.id": in.Datastream.ID},
		"components": []string{"phenomenonTime", "result"}, "dataArray": [][]json.RawMessage{{t, in.Result}}}})
	if err != nil {
		return nil, riskmap.Errorf(riskmap.EINVALID, "请求体不是有效的 JSON")
	}
	return body, nil
}

// staBareResult finds a result written as a bare NaN or Infinity (which JSON has not).
var staBareResult = regexp.MustCompile(`"result"\s*:\s*([-+]?(?:NaN|Infinity))\b`)

// staField names a field of a POST /Observations body from the field of its dataArray
// form: "[0].dataArray[0][1]" is result, "[0].Datastream" Datastream.
func staField(f string) string {
	switch {
	case strings.HasSuffix(f, "[0]") && strings.Contains(f, "dataArray"):
		return "phenomenonTime"
	case strings.HasSuffix(f, "[1]") && strings.Contains(f, "dataArray"):
		return "result"
	case strings.HasSuffix(f, "Datastream"):
		return "Datastream"
	}
	return f
}

// staCreateObservations is POST /CreateObservations (the dataArray extension): 201 with an
// array with, for each row of every group in order, the link of its Observation or
// "error: …" why it was refused. The rows accepted are kept even when others are refused.
func (s *Server) staCreateObservations(c echo.Context) error {
	b, err := s.readOptionalBody(c) // limitBody holds it to staMaxBody (bodyRules)
	if err != nil {
		return err
	}
	res, err := s.cfg.Monitoring.Ingest(c.Request().Context(), userOf(c), mon.FormDataArray, b)
	if err != nil {
		return err
	}
	s.metrics.countReadings("sta", res)
	n := 0
	for _, it := range res.Items {
		n = max(n, it.Index+1)
	}
	for _, r := range res.Refused {
		n = max(n, r.Index+1)
	}
	out := make([]string, n)
	for i := range out {
		out[i] = "error"
	}
	base := s.staURL(c)
	for _, it := range res.Items {
		out[it.Index] = base + "/Observations(" + staObservationKey(it.Reading.PointID, it.Reading.Time) + ")"
	}
	lang, sep := langOf(c), "："
	if lang != riskmap.Chinese {
		sep = ": "
	}
	for _, r := range res.Refused {
		if r.Index >= 0 {
			out[r.Index] = "error: " + r.Field + sep + r.MessageIn(lang)
		}
	}
	return c.JSON(http.StatusCreated, out)
}
