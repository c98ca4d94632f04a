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
