package httpapi_test

import (
	"strings"
	"testing"
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
			for code, due := range map[string]string{"OD-PAST": "2020-01-01", "OD-FUTURE": "2099-01-01"} {
				body := feature(code, "复核测试 "+code, 102.912, 24.671, 4, 5)
				body = strings.Replace(body, `"properties":{`, `"properties":{"next_review_due":"`+due+`",`, 1)
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
