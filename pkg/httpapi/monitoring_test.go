package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"riskmap/pkg/httpapi"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// Monitoring and early warning (issue 17) over HTTP, on both stores: points, readings,
// device tokens, alarms, their transitions, alarm → hidden danger, statistics and the
// event stream.

// newMonitoringEnv is newEnv with a monitoring service, wired as cmd/riskmap wires it: the
// units from the index, the alarm conditions written through the register.
func newMonitoringEnv(t *testing.T, store riskmap.Store) *env {
	t.Helper()
	e := newEnvWith(t, store, func(hc *httpapi.Config) {
		cfg := monitoring.Default()
		units, ix := hc.Units, hc.Index
		svc := monitoring.NewService(store.(monitoring.Store), &cfg, func(id int64) (monitoring.UnitRef, bool) {
			f, ok := ix.Snapshot().Get(id)
			if !ok {
				return monitoring.UnitRef{}, false
			}
			return monitoring.UnitRef{ID: f.ID, Code: f.Code, Name: f.Name, Category: f.Category, RegionCode: f.RegionCode,
				Department: f.Department, Grade: f.Grade}, true
		})
		svc.Conditions = func(ctx context.Context, id int64, conds []riskmap.Condition) error {
			_, err := units.SetConditions(ctx, id, riskmap.ConditionAlarm, conds)
			return err
		}
		svc.Logger = slog.New(slog.DiscardHandler)
		if err := svc.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		hc.Monitoring = svc
	})
	t.Cleanup(e.api.Close)
	return e
}

// monUnit creates a blue hazardous-chemical unit in 凤麓街道 (yjj's scope, not zjj's) and
// returns its id.
func (e *env) monUnit(t *testing.T, code string) string {
	t.Helper()
	r := e.do("POST", "/api/v1/units", feature(code, "监测测试 "+code, 102.912, 24.671, 1, 3), e.as("expert1")...)
	if r.code != 201 {
		t.Fatalf("create unit %s: %d %s", code, r.code, r.body)
	}
	return strings.TrimPrefix(r.header.Get("Location"), "/api/v1/units/")
}

func TestMonitoring(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newMonitoringEnv(t, open(t))
			t.Run("Points", e.testPoints)
			t.Run("DeviceToken", e.testDeviceToken)
			t.Run("AlarmLife", e.testAlarmLife)
			t.Run("Readings", e.testReadingsQuery)
			t.Run("BodyLimit", e.testReadingsBodyLimit)
		})
	}
}

func (e *env) testPoints(t *testing.T) {
	e.t = t
	unit := e.monUnit(t, "MON-P")
	body := `{"code":"JC-P1","unit_id":` + unit + `,"kind":"gas"}`
	r := e.do("POST", "/api/v1/monitoring-points", body)
	if r.code != 201 || r.header.Get("ETag") != `"1"` || !strings.HasPrefix(r.header.Get("Location"), "/api/v1/monitoring-points/") {
		t.Fatalf("create: %d %v %s", r.code, r.header, r.body)
	}
	loc := r.header.Get("Location")
	p := r.json(t)
	// The kind's defaults: unit of measure, interval, thresholds; the unit's place.
	if p["unit_of_measure"] != "%LEL" || p["kind_label"] != "可燃气体浓度" || p["unit_code"] != "MON-P" || p["location"] == nil {
		t.Fatalf("created point: %s", r.body)
	}
	if th := p["thresholds"].(map[string]any)["upper"].(map[string]any); th["red"] != 50.0 || th["yellow"] != 25.0 {
		t.Fatalf("default thresholds: %v", th)
	}
	if r := e.do("POST", "/api/v1/monitoring-points", body); r.code != 409 {
		t.Fatalf("a taken code: %d %s", r.code, r.body)
	}
	for _, bad := range []string{`{"code":"JC-X","unit_id":` + unit + `,"kind":"zoo"}`, `{"code":"","unit_id":` + unit + `,"kind":"gas"}`,
		`{"code":"JC-X","unit_id":` + unit + `,"kind":"gas","colour":"red"}`, `[1]`,
		`{"code":"JC-X","unit_id":` + unit + `,"kind":"gas","thresholds":{"upper":{"yellow":60,"red":50}}}`} {
		if r := e.do("POST", "/api/v1/monitoring-points", bad); r.code != 400 {
			t.Fatalf("bad point %s: %d %s", bad, r.code, r.body)
		}
	}
	if r := e.do("GET", loc, ""); r.code != 200 || r.header.Get("ETag") != `"1"` {
		t.Fatalf("get: %d %s", r.code, r.body)
	}
	if r := e.do("GET", loc, "", "If-None-Match", `"1"`); r.code != 304 {
		t.Fatalf("If-None-Match: %d", r.code)
	}
	upd := `{"code":"JC-P1","unit_id":` + unit + `,"kind":"gas","interval_s":30}`
	if r := e.do("PUT", loc, upd); r.code != 428 {
		t.Fatalf("PUT without If-Match: %d %s", r.code, r.body)
	}
	if r := e.do("PUT", loc, upd, "If-Match", `"7"`); r.code != 412 {
		t.Fatalf("stale PUT: %d %s", r.code, r.body)
	}
	r = e.do("PUT", loc, upd, "If-Match", `"1"`)
	if r.code != 200 || r.header.Get("ETag") != `"2"` || r.json(t)["interval_s"] != 30.0 {
		t.Fatalf("PUT: %d %s", r.code, r.body)
	}
	// The point as read, sent back: its read-only fields (kind_label, latest, online,
	// alarmed …) are ignored.
	got := e.do("GET", loc, "")
	if r := e.do("PUT", loc, string(got.body), "If-Match", `"2"`); r.code != 200 || r.header.Get("ETag") != `"3"` || r.json(t)["interval_s"] != 30.0 {
		t.Fatalf("PUT of the point as read: %d %s", r.code, r.body)
	}
	// Lists: all, by unit, kind, region; the unit's own.
	for _, q := range []string{"", "?unit=" + unit, "?kind=gas&region=530481001", "?alarmed=0"} {
		r := e.do("GET", "/api/v1/monitoring-points"+q, "")
		if r.code != 200 || !strings.Contains(string(r.body), `"JC-P1"`) {
			t.Fatalf("list %q: %d %s", q, r.code, r.body)
		}
	}
	if r := e.do("GET", "/api/v1/units/"+unit+"/monitoring-points", ""); r.code != 200 || r.json(t)["total"] != 1.0 {
		t.Fatalf("unit's points: %d %s", r.code, r.body)
	}
	for _, q := range []string{"?kind=zoo", "?unit=x", "?alarmed=maybe", "?region=abc", "?colour=red", "?unit=1&unit=2"} {
		if r := e.do("GET", "/api/v1/monitoring-points"+q, ""); r.code != 400 {
			t.Fatalf("bad list %q: %d %s", q, r.code, r.body)
		}
	}
	// Scope: zjj (construction and gas) neither sees nor writes the chemical unit's point.
	if r := e.do("GET", loc, "", e.as("zjj")...); r.code != 404 {
		t.Fatalf("zjj reads the point: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/monitoring-points", "", e.as("zjj")...); r.code != 200 || strings.Contains(string(r.body), "JC-P1") {
		t.Fatalf("zjj lists the point: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/units/"+unit+"/monitoring-points", "", e.as("zjj")...); r.code != 404 {
		t.Fatalf("zjj reads the unit's points: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/monitoring-points", `{"code":"JC-Z","unit_id":`+unit+`,"kind":"gas"}`, e.as("zjj")...); r.code != 403 && r.code != 404 {
		t.Fatalf("zjj writes a point: %d %s", r.code, r.body)
	}
	if r := e.do("GET", loc, "", e.as("yjj")...); r.code != 200 {
		t.Fatalf("yjj reads its point: %d %s", r.code, r.body)
	}
	// DELETE needs If-Match, a current one.
	if r := e.do("DELETE", loc, ""); r.code != 428 {
		t.Fatalf("DELETE without If-Match: %d", r.code)
	}
	if r := e.do("DELETE", loc, "", "If-Match", `"1"`); r.code != 412 {
		t.Fatalf("stale DELETE: %d", r.code)
	}
	if r := e.do("DELETE", loc, "", "If-Match", `"3"`); r.code != 204 {
		t.Fatalf("DELETE: %d %s", r.code, r.body)
	}
	if r := e.do("GET", loc, ""); r.code != 404 {
		t.Fatalf("deleted point: %d", r.code)
	}
	es, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Action: "point."})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, x := range es {
		if x.Outcome == riskmap.OutcomeOK {
			acts = append(acts, x.Action)
		}
	}
	if strings.Join(acts, " ") != "point.delete point.update point.update point.create" || es[len(es)-1].TargetType != "monitoring_point" {
		t.Fatalf("audit: %v", acts)
	}
}

// point creates a gas point on unit and returns its id.
func (e *env) point(t *testing.T, unit, code string) string {
	t.Helper()
	r := e.do("POST", "/api/v1/monitoring-points", `{"code":"`+code+`","unit_id":`+unit+`,"kind":"gas"}`)
	if r.code != 201 {
		t.Fatalf("create point %s: %d %s", code, r.code, r.body)
	}
	return strings.TrimPrefix(r.header.Get("Location"), "/api/v1/monitoring-points/")
}

// reading is a JSON batch of one reading of point (an id or a quoted code) now.
// reading is a batch of one reading of point, taken now: each a millisecond after the one
// before at least, since the GeoPackage keeps milliseconds and two readings of a point at
// the same time are one reading and its duplicate.
func reading(point string, value float64) string {
	readingClock.Lock()
	at := time.Now().UTC().Truncate(time.Millisecond)
	if !at.After(readingClock.last) {
		at = readingClock.last.Add(time.Millisecond)
	}
	readingClock.last = at
	readingClock.Unlock()
	return fmt.Sprintf(`[{"point":%s,"time":%q,"value":%g}]`, point, at.Format(time.RFC3339Nano), value)
}

var readingClock struct {
	sync.Mutex
	last time.Time
}

func (e *env) testDeviceToken(t *testing.T) {
	e.t = t
	unit := e.monUnit(t, "MON-D")
	e.point(t, unit, "JC-D1")
	r := e.do("POST", "/api/v1/tokens", `{"name":"网关 1","scope":"readings","user":"yjj"}`)
	if r.code != 201 {
		t.Fatalf("create a device token: %d %s", r.code, r.body)
	}
	var created struct {
		Secret string `json:"secret"`
		Token  struct {
			Scope string `json:"scope"`
		} `json:"token"`
	}
	_ = json.Unmarshal(r.body, &created)
	if created.Token.Scope != "readings" {
		t.Fatalf("token scope: %s", r.body)
	}
	as := []string{"Authorization", "Bearer " + created.Secret}
	r = e.do("POST", "/api/v1/readings", reading(`"JC-D1"`, 3), as...)
	if r.code != 200 || r.json(t)["accepted"] != 1.0 {
		t.Fatalf("a device token writes readings: %d %s", r.code, r.body)
	}
	// Nothing else: not a read, not a unit write, not the points it writes.
	for _, p := range []string{"/api/v1/units", "/api/v1/units/" + unit, "/api/v1/monitoring-points", "/api/v1/alarms", "/api/v1/events"} {
		r := e.do("GET", p, "", as...)
		if r.code != 403 || !strings.Contains(string(r.body), "设备令牌") {
			t.Fatalf("GET %s with a device token: %d %s", p, r.code, r.body)
		}
	}
	if r := e.do("PUT", "/api/v1/units/"+unit, feature("MON-D", "x", 102.912, 24.671, 1, 3), append(as, "If-Match", `"1"`)...); r.code != 403 {
		t.Fatalf("a unit write with a device token: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/monitoring-points", `{"code":"JC-D2","unit_id":`+unit+`,"kind":"gas"}`, as...); r.code != 403 {
		t.Fatalf("a point write with a device token: %d %s", r.code, r.body)
	}
	// A device token of zjj writes only the points of zjj's scope: refused item by item.
	r = e.do("POST", "/api/v1/tokens", `{"name":"网关 2","scope":"readings","user":"zjj"}`)
	_ = json.Unmarshal(r.body, &created)
	r = e.do("POST", "/api/v1/readings", reading(`"JC-D1"`, 3), "Authorization", "Bearer "+created.Secret)
	if r.code != 200 || r.json(t)["accepted"] != 0.0 || len(r.json(t)["refused"].([]any)) != 1 {
		t.Fatalf("zjj's device token writes yjj's point: %d %s", r.code, r.body)
	}
	// A scrape token stays as it was.
	r = e.do("POST", "/api/v1/tokens", `{"name":"prometheus","scope":"metrics"}`)
	_ = json.Unmarshal(r.body, &created)
	if r := e.do("POST", "/api/v1/readings", reading(`"JC-D1"`, 3), "Authorization", "Bearer "+created.Secret); r.code != 403 {
		t.Fatalf("a scrape token writes readings: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/metrics", "", "Authorization", "Bearer "+created.Secret); r.code != 200 {
		t.Fatalf("a scrape token reads the metrics: %d", r.code)
	}
	// The public is asked to log in.
	if r := e.do("POST", "/api/v1/readings", reading(`"JC-D1"`, 3), "Authorization", ""); r.code != 401 {
		t.Fatalf("readings from nobody: %d %s", r.code, r.body)
	}
	// Bad bodies: not an array is 400; bad items are refused, the rest kept.
	if r := e.do("POST", "/api/v1/readings", `{"point":1}`); r.code != 400 {
		t.Fatalf("a body that is not an array: %d %s", r.code, r.body)
	}
	// Readings are not audited, but a request refused whole is.
	if es, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{}); err != nil {
		t.Fatal(err)
	} else if i := slices.IndexFunc(es, func(x *riskmap.AuditEntry) bool { return x.Path == "/api/v1/readings" && x.Status == 400 }); i < 0 {
		t.Fatalf("a refused readings request left no audit row")
	}
	mixed := fmt.Sprintf(`[{"point":"JC-D1","time":%q,"value":4},{"point":"JC-D1","time":"yesterday","value":4},{"point":"JC-NONE","time":%q,"value":1}]`,
		time.Now().UTC().Format(time.RFC3339Nano), time.Now().UTC().Format(time.RFC3339))
	r = e.do("POST", "/api/v1/readings", mixed)
	if r.code != 200 || r.json(t)["accepted"] != 1.0 || len(r.json(t)["refused"].([]any)) != 2 {
		t.Fatalf("a mixed batch: %d %s", r.code, r.body)
	}
	// The item refusals are counted for whoever watches the gateways (zjj's one, these two).
	if r := e.do("GET", "/metrics", ""); r.code != 200 || !strings.Contains(string(r.body), `riskmap_http_readings_total{result="refused",via="api"} 3`) {
		t.Fatalf("metrics of refused readings: %d %s", r.code, grepLines(string(r.body), "riskmap_http_readings_total"))
	}
	// In English when asked.
	r = e.do("POST", "/api/v1/readings", mixed, "Accept-Language", "en")
	var en struct {
		Refused []struct{ Message string }
	}
	if err := json.Unmarshal(r.body, &en); err != nil || len(en.Refused) != 2 {
		t.Fatalf("a mixed batch in English: %d %s", r.code, r.body)
	}
	for _, x := range en.Refused {
		if strings.ContainsFunc(x.Message, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) {
			t.Errorf("a refusal asked for in English: %q", x.Message)
		}
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// sseEvent is one event read from a stream.
type sseEvent struct {
	name string
	data map[string]any
}

// sseStream reads an event stream in the background.
type sseStream struct {
	res    *http.Response
	events chan sseEvent
	kept   []sseEvent
	retry  string
}

func (e *env) openEvents(t *testing.T, user string) *sseStream {
	t.Helper()
	return e.openEventsWith(t, user, "Authorization", "Bearer "+e.tokens[user])
}

// openEventsWith opens a stream with the credential header (a token, or a session's Cookie)
// of user.
func (e *env) openEventsWith(t *testing.T, user, header, value string) *sseStream {
	t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+"/api/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(header, value)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		t.Fatalf("events as %s: %d %s", user, res.StatusCode, b)
	}
	s := &sseStream{res: res, events: make(chan sseEvent, 100)}
	t.Cleanup(func() { res.Body.Close() })
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.data)
			case strings.HasPrefix(line, "retry: "):
				s.retry = strings.TrimPrefix(line, "retry: ")
			}
		}
	}()
	return s
}

// next returns the first event named name not returned yet (events of other names are
// kept for later calls, in order); within bounds the wait, so that a missing event fails
// the test rather than hanging it.
func (s *sseStream) next(t *testing.T, name string, within time.Duration) map[string]any {
	t.Helper()
	for i, ev := range s.kept {
		if ev.name == name {
			s.kept = append(s.kept[:i:i], s.kept[i+1:]...)
			return ev.data
		}
	}
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("the stream ended before a %q event", name)
			}
			if ev.name == name {
				return ev.data
			}
			s.kept = append(s.kept, ev)
		case <-deadline:
			t.Fatalf("no %q event", name)
		}
	}
}

// pending returns the events the stream has received by now.
func (s *sseStream) pending() []sseEvent {
	out := s.kept
	s.kept = nil
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return out
			}
			out = append(out, ev)
		default:
			return out
		}
	}
}

func (e *env) testAlarmLife(t *testing.T) {
	e.t = t
	unit := e.monUnit(t, "MON-A")
	pid := e.point(t, unit, "JC-A1")
	admin := e.openEvents(t, "admin")
	zjj := e.openEvents(t, "zjj")
	snap := admin.next(t, "snapshot", 10*time.Second)
	if _, ok := snap["alarmed_units"].(map[string]any); !ok {
		t.Fatalf("snapshot: %v", snap)
	}
	zjj.next(t, "snapshot", 10*time.Second)
	// A red reading: an alarm opens, the unit turns red, both on the stream at once.
	if r := e.do("POST", "/api/v1/readings", reading(`"JC-A1"`, 62), e.as("yjj")...); r.code != 200 || r.json(t)["accepted"] != 1.0 {
		t.Fatalf("red reading: %d %s", r.code, r.body)
	}
	ev := admin.next(t, "alarm", 10*time.Second)
	al := ev["alarm"].(map[string]any)
	if ev["kind"] != "open" || al["level"] != "red" || al["point_code"] != "JC-A1" || al["unit_code"] != "MON-A" || al["level_label"] != "红色预警" {
		t.Fatalf("alarm event: %v", ev)
	}
	g := admin.next(t, "grade", 10*time.Second)
	if fmt.Sprint(g["unit_id"]) != unit || g["grade"] != "red" || g["before"] != "blue" || g["code"] != "MON-A" {
		t.Fatalf("grade event: %v", g)
	}
	// The unit is red in the register too; zjj heard nothing of a unit outside its scope.
	if r := e.do("GET", "/api/v1/units/"+unit, ""); !strings.Contains(string(r.body), `"grade":"red"`) {
		t.Fatalf("the unit is not red: %s", r.body)
	}
	for _, ev := range zjj.pending() {
		if ev.name == "alarm" || ev.name == "grade" {
			t.Fatalf("zjj got an event of a unit outside its scope: %v", ev)
		}
	}
	// A new stream's snapshot names the alarmed unit.
	if s := e.openEvents(t, "yjj").next(t, "snapshot", 10*time.Second); s["alarmed_units"].(map[string]any)[unit] != "red" {
		t.Fatalf("snapshot after the alarm: %v", s)
	}
	// The alarm in the lists, the CSV and the statistics.
	r := e.do("GET", "/api/v1/alarms?open=1&point="+pid, "")
	if r.code != 200 || r.json(t)["total"] != 1.0 {
		t.Fatalf("alarms: %d %s", r.code, r.body)
	}
	id := strconv.Itoa(int(r.json(t)["items"].([]any)[0].(map[string]any)["id"].(float64)))
	for _, q := range []string{"?level=red&status=active", "?unit=" + unit + "&kind=gas&region=530481", "?from=2020-01-01&limit=5"} {
		if r := e.do("GET", "/api/v1/alarms"+q, ""); r.code != 200 || r.json(t)["total"].(float64) < 1 {
			t.Fatalf("alarms%s: %d %s", q, r.code, r.body)
		}
	}
	for _, q := range []string{"?level=purple", "?status=gone", "?open=2", "?from=yesterday", "?limit=0", "?limit=5000", "?from=2026-02-01&to=2026-01-01", "?x=1"} {
		if r := e.do("GET", "/api/v1/alarms"+q, ""); r.code != 400 {
			t.Fatalf("bad alarms%s: %d %s", q, r.code, r.body)
		}
	}
	if r := e.do("GET", "/api/v1/alarms?open=1", "", e.as("zjj")...); r.code != 200 || strings.Contains(string(r.body), "JC-A1") {
		t.Fatalf("zjj lists the alarm: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/alarms/"+id, "", e.as("zjj")...); r.code != 404 {
		t.Fatalf("zjj reads the alarm: %d %s", r.code, r.body)
	}
	r = e.do("GET", "/api/v1/alarms.csv?open=1", "")
	if r.code != 200 || !strings.HasPrefix(string(r.body), "\ufeff报警编号,监测点,监测类型") || !strings.Contains(string(r.body), "红色预警") {
		t.Fatalf("alarms.csv: %d %s", r.code, r.body)
	}
	// The CSV has every alarm the filters select unless limit says fewer (up to the newest
	// 100,000; the list pages at 1,000).
	if r := e.do("GET", "/api/v1/alarms.csv?limit=1", ""); r.code != 200 || strings.Count(string(r.body), "\r\n") != 2 {
		t.Fatalf("alarms.csv?limit=1: %d %q", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/alarms.csv?limit=5000", ""); r.code != 200 {
		t.Fatalf("alarms.csv?limit=5000: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/alarms.csv?limit=100001", ""); r.code != 400 {
		t.Fatalf("alarms.csv?limit=100001: %d %s", r.code, r.body)
	}
	r = e.do("GET", "/api/v1/alarms/stats?region=530481", "")
	if r.code != 200 || r.json(t)["total"].(float64) < 1 {
		t.Fatalf("stats: %d %s", r.code, r.body)
	}
	// The groups are named as a user reads them: the region by its name (the unit's 乡镇/街道,
	// as in the hidden dangers' statistics), the department, the kind.
	labels := func(by string) map[string]string {
		out := map[string]string{}
		for _, it := range r.json(t)[by].([]any) {
			c := it.(map[string]any)
			out[c["key"].(string)] = c["label"].(string)
		}
		return out
	}
	if l := labels("by_region"); len(l) != 1 || l["530481001"] != "凤麓街道" {
		t.Fatalf("stats by region: %v in %s", l, r.body)
	}
	if l := labels("by_department"); l["应急局"] != "应急局" {
		t.Fatalf("stats by department: %v in %s", l, r.body)
	}
	if l := labels("by_kind"); l["gas"] != "可燃气体浓度" {
		t.Fatalf("stats by kind: %v in %s", l, r.body)
	}
	// Transitions: acknowledge once; disposal needs its measures.
	r = e.do("POST", "/api/v1/alarms/"+id+"/transitions", `{"action":"acknowledge"}`, e.as("yjj")...)
	if r.code != 200 || r.json(t)["status"] != "acknowledged" || r.header.Get("ETag") == "" {
		t.Fatalf("acknowledge: %d %s", r.code, r.body)
	}
	if ev := admin.next(t, "alarm", 10*time.Second); ev["kind"] != "acknowledge" {
		t.Fatalf("acknowledge event: %v", ev)
	}
	if r := e.do("POST", "/api/v1/alarms/"+id+"/transitions", `{"action":"acknowledge"}`); r.code != 409 {
		t.Fatalf("acknowledge twice: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/alarms/"+id+"/transitions", `{"action":"dispose"}`); r.code != 400 || !strings.Contains(string(r.body), `"field":"note"`) {
		t.Fatalf("dispose without measures: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/alarms/"+id+"/transitions", `{"action":"burn"}`); r.code != 400 {
		t.Fatalf("an unknown action: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/alarms/"+id+"/transitions", `{"action":"dispose","note":"关闭阀门，通风"}`, e.as("zjj")...); r.code != 404 && r.code != 403 {
		t.Fatalf("zjj disposes: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/alarms/"+id+"/transitions", `{"action":"dispose","note":"关闭阀门，通风"}`, "If-Match", `"99"`); r.code != 412 {
		t.Fatalf("a stale disposal: %d %s", r.code, r.body)
	}
	r = e.do("POST", "/api/v1/alarms/"+id+"/transitions", `{"action":"dispose","note":"关闭阀门，通风"}`, e.as("yjj")...)
	if r.code != 200 || r.json(t)["status"] != "disposed" || r.json(t)["status_label"] != "已处置" {
		t.Fatalf("dispose: %d %s", r.code, r.body)
	}
	// Back to normal: the disposed alarm closes and the unit's grade comes back.
	if r := e.do("POST", "/api/v1/readings", reading(`"JC-A1"`, 2), e.as("yjj")...); r.code != 200 {
		t.Fatalf("normal reading: %d %s", r.code, r.body)
	}
	for {
		ev := admin.next(t, "alarm", 10*time.Second)
		if ev["kind"] == "close" {
			break
		}
	}
	if g := admin.next(t, "grade", 10*time.Second); g["grade"] != "blue" || g["before"] != "red" {
		t.Fatalf("grade back: %v", g)
	}
	// A new red alarm becomes a hidden danger in one step, and is acknowledged.
	if r := e.do("POST", "/api/v1/readings", reading(`"JC-A1"`, 70), e.as("yjj")...); r.code != 200 || r.json(t)["accepted"] != 1.0 {
		t.Fatalf("red reading: %d %s", r.code, r.body)
	}
	if ev := admin.next(t, "alarm", 10*time.Second); ev["kind"] != "open" {
		t.Fatalf("second alarm: %v", ev)
	}
	r = e.do("GET", "/api/v1/alarms?open=1&point="+pid, "")
	if r.code != 200 || r.json(t)["total"] != 1.0 {
		t.Fatalf("alarms: %d %s", r.code, r.body)
	}
	id = strconv.Itoa(int(r.json(t)["items"].([]any)[0].(map[string]any)["id"].(float64)))
	// The caller's own description need not name the alarm: the hidden danger names it.
	r = e.do("POST", "/api/v1/alarms/"+id+"/hazard", `{"description":"储罐区可燃气体浓度超标，现场核查"}`,
		append(e.as("yjj"), "Content-Type", "application/json")...)
	if r.code != 201 {
		t.Fatalf("alarm → hazard: %d %s", r.code, r.body)
	}
	hz := r.json(t)["hazard"].(map[string]any)
	if hz["source"] != "monitoring" || hz["level"] != "major" || hz["description"] != "储罐区可燃气体浓度超标，现场核查" ||
		fmt.Sprint(hz["alarm_id"]) != id || r.json(t)["alarm"].(map[string]any)["status"] != "acknowledged" {
		t.Fatalf("the hidden danger of an alarm: %s", r.body)
	}
	if ev := admin.next(t, "alarm", 10*time.Second); ev["kind"] != "acknowledge" {
		t.Fatalf("acknowledge event: %v", ev)
	}
	// One hidden danger per alarm, whatever the second click's description says.
	for _, body := range []string{"", `{"description":"另一描述"}`} {
		r := e.do("POST", "/api/v1/alarms/"+id+"/hazard", body, append(e.as("yjj"), "Content-Type", "application/json")...)
		if r.code != 409 || !strings.Contains(string(r.body), hz["code"].(string)) {
			t.Fatalf("a second hidden danger of one alarm: %d %s", r.code, r.body)
		}
	}
	es, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Action: "alarm."})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, x := range es {
		if x.Outcome == riskmap.OutcomeOK {
			acts = append(acts, x.Action)
		}
	}
	if strings.Join(acts, " ") != "alarm.acknowledge alarm.hazard alarm.dispose alarm.acknowledge" {
		t.Fatalf("audit: %v", acts)
	}
	// A point with alarms keeps its history: it cannot be deleted.
	if r := e.do("DELETE", "/api/v1/monitoring-points/"+pid, "", "If-Match", `"1"`); r.code != 409 {
		t.Fatalf("delete a point with alarms: %d %s", r.code, r.body)
	}
	if admin.retry != "3000" {
		t.Fatalf("retry: %q", admin.retry)
	}
}

func (e *env) testReadingsQuery(t *testing.T) {
	e.t = t
	unit := e.monUnit(t, "MON-R")
	pid := e.point(t, unit, "JC-R1")
	now := time.Now().UTC()
	var items []string
	for i := 1; i <= 5; i++ {
		items = append(items, fmt.Sprintf(`{"point":%s,"time":%q,"value":%d}`, pid, now.Add(-time.Duration(i)*time.Minute).Format(time.RFC3339), i))
	}
	if r := e.do("POST", "/api/v1/readings", "["+strings.Join(items, ",")+"]"); r.code != 200 || r.json(t)["accepted"] != 5.0 {
		t.Fatalf("readings: %d %s", r.code, r.body)
	}
	// Defaults: the last 24 hours, by the minute.
	r := e.do("GET", "/api/v1/monitoring-points/"+pid+"/readings", "")
	if r.code != 200 || r.json(t)["step"] != "1m" || len(r.json(t)["samples"].([]any)) != 5 || fmt.Sprint(r.json(t)["point"]) != pid {
		t.Fatalf("readings: %d %s", r.code, r.body)
	}
	for days, step := range map[int]string{3: "5m", 10: "15m", 30: "30m", 60: "1h"} {
		// A chart of days: the finest step within about 1,500 samples, the minute rollups
		// merged up to a month.
		from := now.Add(-time.Duration(days) * 24 * time.Hour).Format(time.RFC3339)
		r := e.do("GET", "/api/v1/monitoring-points/"+pid+"/readings?from="+from, "")
		if r.code != 200 || r.json(t)["step"] != step {
			t.Fatalf("%d days: %d %s, want step %s", days, r.code, r.body, step)
		}
		n := 0.0
		for _, x := range r.json(t)["samples"].([]any) {
			n += x.(map[string]any)["count"].(float64)
		}
		if n != 5 {
			t.Fatalf("%d days: the samples count %v readings, want 5: %s", days, n, r.body)
		}
	}
	from := now.Add(-time.Hour).Format(time.RFC3339)
	if r := e.do("GET", "/api/v1/monitoring-points/"+pid+"/readings?from="+from, ""); r.code != 200 || r.json(t)["step"] != "raw" || len(r.json(t)["samples"].([]any)) != 5 {
		t.Fatalf("raw: %d %s", r.code, r.body)
	}
	for _, q := range []string{"?step=2m", "?from=yesterday", "?from=2026-02-01&to=2026-01-01", "?from=2020-01-01&to=2026-01-01",
		"?from=2025-01-01&to=2025-12-01&step=1m", "?limit=3"} {
		if r := e.do("GET", "/api/v1/monitoring-points/"+pid+"/readings"+q, ""); r.code != 400 {
			t.Fatalf("bad readings query %s: %d %s", q, r.code, r.body)
		}
	}
	if r := e.do("GET", "/api/v1/monitoring-points/"+pid+"/readings", "", e.as("zjj")...); r.code != 404 {
		t.Fatalf("zjj reads the readings: %d %s", r.code, r.body)
	}
}

// testReadingsBodyLimit: a body over 10 MB gets 413 without being read, whether its
// length is declared or not.
func (e *env) testReadingsBodyLimit(t *testing.T) {
	e.t = t
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/readings HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n[",
		addr, e.tokens["admin"], 100<<20)
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a declared 100 MB body: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("a declared 100 MB body: %d", res.StatusCode)
	}
	// Chunked: read up to the limit, then refused.
	sent := &countingReader{n: 100 << 20}
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/readings", sent)
	req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err == nil {
		res.Body.Close()
		if res.StatusCode != 413 {
			t.Fatalf("a chunked 100 MB body: %d", res.StatusCode)
		}
	}
	if n := sent.read.Load(); n > 40<<20 {
		t.Fatalf("the server read %d bytes of a body over its limit", n)
	}
}

// countingReader yields n bytes of a JSON array that never ends, counting what was read.
// The client's transport may go on reading it after the answer came: the count is atomic.
type countingReader struct {
	n    int64
	read atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	read := r.read.Load()
	if read >= r.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.n-read)
	for i := range p[:k] {
		p[i] = ' '
	}
	if read == 0 && k > 0 {
		p[0] = '['
	}
	r.read.Add(k)
	return int(k), nil
}

// TestEventsShutdown: a server shutting down ends its event streams at once, so
// http.Server.Shutdown does not wait for them.
func TestEventsShutdown(t *testing.T) {
	e := newMonitoringEnv(t, gpkgStore(t))
	hs := e.api.HTTPServer(nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(httpapi.Listener(ln))
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("events: %d", res.StatusCode)
	}
	br := bufio.NewReader(res.Body)
	if line, _ := br.ReadString('\n'); !strings.HasPrefix(line, "retry:") {
		t.Fatalf("first line: %q", line)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with an open stream: %v", err)
	}
	if _, err := io.ReadAll(br); err != nil && err != io.ErrUnexpectedEOF {
		t.Fatalf("the stream did not end cleanly: %v", err)
	}
	if n := e.api.EventClients(); n != 0 {
		t.Fatalf("%d streams left open", n)
	}
}
