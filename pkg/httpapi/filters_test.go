package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"riskmap/pkg/riskmap"
)

// TestListFiltersAreHonouredOrRefused checks that no filter of the unit list is ignored:
// status selects, and an unknown parameter or value is refused in Chinese.
func TestListFiltersAreHonouredOrRefused(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			e.createShape(t, "ST-APPROVED", `{"type":"Point","coordinates":[102.912,24.671]}`, true)
			e.createShape(t, "ST-DRAFT", `{"type":"Point","coordinates":[102.913,24.672]}`, false)
			count := func(query string) float64 {
				t.Helper()
				r := e.do("GET", "/api/v1/units?"+query, "")
				if r.code != 200 {
					t.Fatalf("%s: %d %s", query, r.code, r.body)
				}
				return r.json(t)["numberMatched"].(float64)
			}
			all := count("q=ST-")
			if all != 2 || count("q=ST-&status=draft") != 1 || count("q=ST-&status=approved") != 1 ||
				count("q=ST-&status=submitted") != 0 || count("q=ST-&status=draft,approved") != 2 {
				t.Errorf("status filter not honoured (all %v)", all)
			}
			for _, path := range []string{"/api/v1/units?status=submited", "/api/v1/units?status=retired",
				"/api/v1/units?catgory=hazardous_chemicals", "/api/v1/units.csv?grade=red&sort=name"} {
				r := e.do("GET", path, "")
				if r.code != 400 || !strings.Contains(string(r.body), "可") {
					t.Errorf("%s: %d %s, want 400 with a Chinese message", path, r.code, r.body)
				}
			}
		})
	}
}

// TestOverdueFilter: overdue=true keeps the units whose 下次复核 date has passed, on the
// list, its count, the CSV and the tiles; any other value is refused in Chinese.
func TestOverdueFilter(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			// 下次复核 is computed from the last review (评估/复核时间) and the grade (red: 3
			// months): a next_review_due the client sends is ignored.
			for code, reviewed := range map[string]string{"OD-PAST": "2020-01-01", "OD-FUTURE": "2099-01-01"} {
				body := feature(code, "复核测试 "+code, 102.912, 24.671, 4, 5)
				body = strings.Replace(body, `"assessed_at":"2026-03-01T00:00:00Z"`, `"assessed_at":"`+reviewed+`T00:00:00Z"`, 1)
				body = strings.Replace(body, `"properties":{`, `"properties":{"next_review_due":"2000-01-01",`, 1)
				if r := e.do("POST", "/api/v1/units", body, e.as("expert1")...); r.code != 201 {
					t.Fatalf("create %s: %d %s", code, r.code, r.body)
				}
			}
			r := e.do("GET", "/api/v1/units?q=OD-&overdue=true", "")
			if r.code != 200 {
				t.Fatalf("overdue list: %d %s", r.code, r.body)
			}
			got := r.json(t)
			if got["numberMatched"].(float64) != 1 || !strings.Contains(string(r.body), "OD-PAST") {
				t.Errorf("overdue=true must select only OD-PAST: %s", r.body)
			}
			if r := e.do("GET", "/api/v1/units?q=OD-&overdue=false", ""); r.json(t)["numberMatched"].(float64) != 2 {
				t.Errorf("overdue=false must not filter: %s", r.body)
			}
			if r := e.do("GET", "/api/v1/units.csv?q=OD-&overdue=1", ""); r.code != 200 || !strings.Contains(string(r.body), "OD-PAST") || strings.Contains(string(r.body), "OD-FUTURE") {
				t.Errorf("CSV overdue=1: %d %s", r.code, r.body)
			}
			if r := e.do("GET", "/api/v1/units?overdue=yes", ""); r.code != 400 || !strings.Contains(string(r.body), "逾期") {
				t.Errorf("overdue=yes: %d %s, want 400 in Chinese", r.code, r.body)
			}
			if r := e.do("GET", "/tiles/units/10/826/441.pbf?overdue=true", ""); r.code != 200 && r.code != 204 {
				t.Errorf("tile with overdue: %d %s", r.code, r.body)
			}
			// Review dates are internal: the public may not filter by them.
			if r := e.do("GET", "/public/tiles/units/10/826/441.pbf?overdue=true", "", "Authorization", ""); r.code != 400 {
				t.Errorf("public tile with overdue: %d %s, want 400", r.code, r.body)
			}
		})
	}
}

// TestOpenHazardsFilter: open_hazards=true keeps the units with hidden dangers not yet
// closed, on the list served by the index and on the CSV; any other value is refused in
// Chinese.
func TestOpenHazardsFilter(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			for _, code := range []string{"OH-OPEN", "OH-NONE"} {
				if r := e.do("POST", "/api/v1/units", feature(code, "隐患测试 "+code, 102.912, 24.671, 2, 3), e.as("expert1")...); r.code != 201 {
					t.Fatalf("create %s: %d %s", code, r.code, r.body)
				}
			}
			// A hidden danger opens at OH-OPEN: its write changes the unit's dynamics and
			// the index follows.
			units, _, err := e.store.FindUnits(context.Background(), riskmap.UnitFilter{Q: "OH-OPEN"})
			if err != nil || len(units) != 1 {
				t.Fatalf("find: %v %d", err, len(units))
			}
			u := units[0]
			u.OpenHazards = 1
			if err := e.store.UpdateUnit(context.Background(), u); err != nil {
				t.Fatal(err)
			}
			if _, err := e.ix.Apply(u); err != nil {
				t.Fatal(err)
			}
			r := e.do("GET", "/api/v1/units?q=OH-&open_hazards=true", "")
			if r.code != 200 || r.json(t)["numberMatched"].(float64) != 1 || !strings.Contains(string(r.body), "OH-OPEN") {
				t.Errorf("open_hazards=true must select only OH-OPEN: %d %s", r.code, r.body)
			}
			if r := e.do("GET", "/api/v1/units?q=OH-&open_hazards=false", ""); r.json(t)["numberMatched"].(float64) != 2 {
				t.Errorf("open_hazards=false must not filter: %s", r.body)
			}
			if r := e.do("GET", "/api/v1/units.csv?q=OH-&open_hazards=1", ""); r.code != 200 || !strings.Contains(string(r.body), "OH-OPEN") || strings.Contains(string(r.body), "OH-NONE") {
				t.Errorf("CSV open_hazards=1: %d %s", r.code, r.body)
			}
			if r := e.do("GET", "/api/v1/units?open_hazards=yes", ""); r.code != 400 || !strings.Contains(string(r.body), "未销号隐患") {
				t.Errorf("open_hazards=yes: %d %s, want 400 in Chinese", r.code, r.body)
			}
		})
	}
}
