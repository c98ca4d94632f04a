package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/httpapi"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// staEnv is a test server with the monitoring service over its store, one unit of
// hazardous chemicals in 530481001001 (yjj's scope, not zjj's) and one gas point on it.
func staEnv(t *testing.T, store riskmap.Store) (*env, *riskmap.Unit, *monitoring.Point) {
	t.Helper()
	var unit *riskmap.Unit
	var point *monitoring.Point
	e := newEnvWith(t, store, func(hc *httpapi.Config) {
		ctx := context.Background()
		unit = storetest.NewUnit("STA-1", orb.Point{102.912, 24.671})
		if err := store.CreateUnit(ctx, unit); err != nil {
			t.Fatal(err)
		}
		ms := store.(monitoring.Store)
		point = &monitoring.Point{Code: "JC-STA-1", UnitID: unit.ID, Kind: "gas", UnitOfMeasure: "%LEL", Location: orb.Point{102.912, 24.671},
			IntervalS: 60, Thresholds: monitoring.Thresholds{Upper: &monitoring.Bounds{Yellow: staFloat(25), Red: staFloat(50)}}}
		if err := ms.CreatePointRecorded(ctx, point, nil); err != nil {
			t.Fatal(err)
		}
		cfg := config.Default()
		svc := monitoring.NewService(ms, &cfg.Monitoring, func(id int64) (monitoring.UnitRef, bool) {
			u, err := store.GetUnit(context.Background(), id)
			if err != nil {
				return monitoring.UnitRef{}, false
			}
			return monitoring.UnitRef{ID: u.ID, Code: u.Code, Name: u.Name, Category: u.Category, RegionCode: u.RegionCode,
				Department: u.ResponsibleDepartment, Grade: u.Grade}, true
		})
		svc.Conditions = func(ctx context.Context, id int64, conds []riskmap.Condition) error {
			_, err := hc.Units.SetConditions(ctx, id, riskmap.ConditionAlarm, conds)
			return err
		}
		if err := svc.Load(ctx); err != nil {
			t.Fatal(err)
		}
		hc.Monitoring = svc
	})
	return e, unit, point
}

func staFloat(v float64) *float64 { return &v }

func TestSensorThings(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e, unit, p := staEnv(t, open(t))
			testSTA(t, e, unit, p)
		})
	}
}

func testSTA(t *testing.T, e *env, unit *riskmap.Unit, p *monitoring.Point) {
	base := e.srv.URL + "/sta/v1.1"
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	at := func(i int) string { return t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339) }

	// The landing page names the entity sets and the dataArray conformance class.
	r := e.do("GET", "/sta/v1.1", "")
	if r.code != 200 || !strings.Contains(string(r.body), "data-array/create-observations") || !strings.Contains(string(r.body), base+"/Things") {
		t.Fatalf("landing %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/sta/v1.1/Things", "", "Authorization", ""); r.code != 401 {
		t.Errorf("anonymous: %d", r.code)
	}

	// CreateObservations: three rows, the middle one bad; 201 with links and an error string.
	body := fmt.Sprintf(`[{"Datastream":{"@iot.id":%d},"components":["phenomenonTime","result"],"dataArray@iot.count":3,
		"dataArray":[[%q,10],[%q,"x"],[%q,12]]}]`, p.ID, at(0), at(1), at(2))
	r = e.do("POST", "/sta/v1.1/CreateObservations", body)
	if r.code != 201 {
		t.Fatalf("CreateObservations %d %s", r.code, r.body)
	}
	var links []string
	if err := json.Unmarshal(r.body, &links); err != nil || len(links) != 3 {
		t.Fatalf("CreateObservations answer %s", r.body)
	}
	want0 := fmt.Sprintf("%s/Observations(%d-%d)", base, p.ID, t0.UnixMilli())
	if links[0] != want0 || !strings.HasPrefix(links[1], "error") || !strings.Contains(links[2], "/Observations(") {
		t.Errorf("links %q, want [0] %s", links, want0)
	}

	// A body over the bound (10 MB) is refused with 413 before it is parsed.
	if r := e.do("POST", "/sta/v1.1/CreateObservations", `[{"pad":"`+strings.Repeat("x", 11<<20)+`"}]`); r.code != 413 {
		t.Errorf("an 11 MB CreateObservations: %d %.200s", r.code, r.body)
	}

	// POST Observations: 201, Location, and the observation reads back.
	r = e.do("POST", "/sta/v1.1/Observations", fmt.Sprintf(`{"Datastream":{"@iot.id":%d},"phenomenonTime":%q,"result":13.5}`, p.ID, at(3)))
	if r.code != 201 || r.header.Get("Location") == "" {
		t.Fatalf("POST Observations %d %s", r.code, r.body)
	}
	loc := strings.TrimPrefix(r.header.Get("Location"), e.srv.URL)
	r = e.do("GET", loc, "")
	if m := r.json(t); r.code != 200 || m["result"] != 13.5 || m["phenomenonTime"] == nil || m["resultTime"] == nil ||
		!strings.HasSuffix(fmt.Sprint(m["Datastream@iot.navigationLink"]), "/Datastream") {
		t.Errorf("GET %s: %d %s", loc, r.code, r.body)
	}
	// A refused observation is 400 naming its field; nothing stored.
	r = e.do("POST", "/sta/v1.1/Observations", fmt.Sprintf(`{"Datastream":{"@iot.id":%d},"phenomenonTime":%q,"result":1000}`, p.ID, at(4)))
	if r.code != 400 || !strings.Contains(string(r.body), `"result"`) {
		t.Errorf("out of range: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/sta/v1.1/Observations", `{"Datastream":{"@iot.id":999999},"result":1}`); r.code != 400 {
		t.Errorf("unknown datastream: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/sta/v1.1/Observations", `{"Datastream":{"@iot.id":1},"result":1,"color":"red"}`); r.code != 400 {
		t.Errorf("unknown field: %d %s", r.code, r.body)
	}

	// Things, the Thing's Datastreams, the Datastream's Observations.
	r = e.do("GET", "/sta/v1.1/Things", "")
	var things struct {
		Value []map[string]any `json:"value"`
	}
	json.Unmarshal(r.body, &things)
	if r.code != 200 || len(things.Value) != 1 || things.Value[0]["@iot.id"] != float64(unit.ID) || things.Value[0]["name"] != unit.Name {
		t.Fatalf("Things %d %s", r.code, r.body)
	}
	ds := fmt.Sprint(things.Value[0]["Datastreams@iot.navigationLink"])
	r = e.do("GET", strings.TrimPrefix(ds, e.srv.URL), "")
	var dss struct {
		Value []struct {
			ID                int64             `json:"@iot.id"`
			Self              string            `json:"@iot.selfLink"`
			UnitOfMeasurement map[string]string `json:"unitOfMeasurement"`
			ObservationType   string            `json:"observationType"`
			Observations      string            `json:"Observations@iot.navigationLink"`
			Thing             string            `json:"Thing@iot.navigationLink"`
		} `json:"value"`
	}
	json.Unmarshal(r.body, &dss)
	if r.code != 200 || len(dss.Value) != 1 || dss.Value[0].ID != p.ID || dss.Value[0].UnitOfMeasurement["symbol"] != "%LEL" ||
		dss.Value[0].UnitOfMeasurement["name"] == "" || !strings.HasSuffix(dss.Value[0].ObservationType, "OM_Measurement") {
		t.Fatalf("Datastreams %d %s", r.code, r.body)
	}
	if r := e.do("GET", strings.TrimPrefix(dss.Value[0].Thing, e.srv.URL), ""); r.code != 200 || r.json(t)["@iot.id"] != float64(unit.ID) {
		t.Errorf("Datastream's Thing %d %s", r.code, r.body)
	}
	obs := strings.TrimPrefix(dss.Value[0].Observations, e.srv.URL)
	r = e.do("GET", obs+"?$count=true&$top=2", "")
	var page struct {
		Count int              `json:"@iot.count"`
		Next  string           `json:"@iot.nextLink"`
		Value []map[string]any `json:"value"`
	}
	json.Unmarshal(r.body, &page)
	if r.code != 200 || page.Count != 3 || len(page.Value) != 2 || page.Value[0]["result"] != 13.5 || page.Next == "" {
		t.Fatalf("Observations %d %s", r.code, r.body)
	}
	r = e.do("GET", strings.TrimPrefix(page.Next, e.srv.URL), "")
	page.Next = ""
	json.Unmarshal(r.body, &page)
	if r.code != 200 || len(page.Value) != 1 || page.Value[0]["result"] != 10.0 || page.Next != "" {
		t.Errorf("next page %d %s", r.code, r.body)
	}
	r = e.do("GET", obs+"?$orderby=phenomenonTime%20asc&$top=1", "")
	json.Unmarshal(r.body, &page)
	if r.code != 200 || len(page.Value) != 1 || page.Value[0]["result"] != 10.0 {
		t.Errorf("asc %d %s", r.code, r.body)
	}

	// Scope: 住建局 (zjj) does not see the unit of hazardous chemicals; 应急局 (yjj) does.
	r = e.do("GET", "/sta/v1.1/Things", "", e.as("zjj")...)
	if json.Unmarshal(r.body, &things); r.code != 200 || len(things.Value) != 0 {
		t.Errorf("zjj Things %d %s", r.code, r.body)
	}
	for _, path := range []string{fmt.Sprintf("/sta/v1.1/Datastreams(%d)", p.ID), fmt.Sprintf("/sta/v1.1/Things(%d)", unit.ID), strings.TrimPrefix(loc, "")} {
		if r := e.do("GET", path, "", e.as("zjj")...); r.code != 404 {
			t.Errorf("zjj %s: %d %s", path, r.code, r.body)
		}
		if r := e.do("GET", path, "", e.as("yjj")...); r.code != 200 {
			t.Errorf("yjj %s: %d %s", path, r.code, r.body)
		}
	}
	if r := e.do("POST", "/sta/v1.1/Observations", fmt.Sprintf(`{"Datastream":{"@iot.id":%d},"phenomenonTime":%q,"result":1}`, p.ID, at(5)), e.as("zjj")...); r.code == 201 {
		t.Errorf("zjj wrote a reading of a unit out of scope: %s", r.body)
	}

	// A device token (scope readings) of yjj writes observations and reads nothing.
	u, err := e.store.UserByName(context.Background(), "yjj")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateAPIToken(context.Background(), &riskmap.APIToken{Name: "gateway", UserID: u.ID, TokenHash: sha("rmk_sta_device"),
		CreatedBy: "test", CreatedAt: time.Now(), Scope: riskmap.TokenScopeReadings}); err != nil {
		t.Fatal(err)
	}
	device := []string{"Authorization", "Bearer rmk_sta_device"}
	if r := e.do("POST", "/sta/v1.1/Observations", fmt.Sprintf(`{"Datastream":{"@iot.id":%d},"phenomenonTime":%q,"result":2}`, p.ID, at(6)), device...); r.code != 201 {
		t.Errorf("device token POST Observations: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/sta/v1.1/CreateObservations", fmt.Sprintf(`[{"Datastream":{"@iot.id":%d},"components":["phenomenonTime","result"],"dataArray":[[%q,3]]}]`, p.ID, at(7)), device...); r.code != 201 {
		t.Errorf("device token CreateObservations: %d %s", r.code, r.body)
	}
	// A refused Observation is answered in the client's language.
	if r := e.do("POST", "/sta/v1.1/Observations", fmt.Sprintf(`{"Datastream":{"@iot.id":%d},"phenomenonTime":%q,"result":1e308}`, p.ID, at(8)),
		append(device, "Accept-Language", "en")...); r.code != 400 || !strings.Contains(string(r.body), `"message":"the value 1e+308 is outside the range`) {
		t.Errorf("a refused Observation in English: %d %s", r.code, r.body)
	}
	// A bare NaN is not JSON, but it is named for what it is.
	if r := e.do("POST", "/sta/v1.1/Observations", fmt.Sprintf(`{"Datastream":{"@iot.id":%d},"phenomenonTime":%q,"result":NaN}`, p.ID, at(9)), device...); r.code != 400 || !strings.Contains(string(r.body), "收到 NaN") {
		t.Errorf("a bare NaN: %d %s", r.code, r.body)
	}
	// Readings are not audited, whichever way they come (their refusals are).
	if es, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{}); err != nil {
		t.Fatal(err)
	} else {
		for _, x := range es {
			if strings.Contains(x.Path, "Observations") && x.Outcome == riskmap.OutcomeOK {
				t.Errorf("a reading written through SensorThings is audited: %+v", x)
			}
		}
	}
	for _, path := range []string{"/sta/v1.1/Things", "/sta/v1.1", obs} {
		if r := e.do("GET", path, "", device...); r.code != 403 {
			t.Errorf("device token GET %s: %d %s", path, r.code, r.body)
		}
	}

	// Bad paths and options.
	for path, code := range map[string]int{"/sta/v1.1/Sensors": 404, "/sta/v1.1/Things(x)": 404, "/sta/v1.1/Things(1": 404,
		"/sta/v1.1/Observations(1)": 404, "/sta/v1.1/Datastreams(999999)": 404, "/sta/v1.1/Things?$filter=name%20eq%20'x'": 400,
		"/sta/v1.1/Things?$top=-1": 400, "/sta/v1.1/Things?$top=10001": 400, obs + "?$orderby=result": 400, "/sta/v1.1/Observations": 400} {
		if r := e.do("GET", path, ""); r.code != code || !json.Valid(r.body) {
			t.Errorf("%s: %d %s, want %d", path, r.code, r.body, code)
		}
	}
	if r := e.do("POST", "/sta/v1.1/CreateObservations", `{"not":"an array"}`); r.code != 400 {
		t.Errorf("CreateObservations object: %d %s", r.code, r.body)
	}
}
