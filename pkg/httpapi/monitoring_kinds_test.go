package httpapi_test

import "testing"

// TestMonitoringKinds: the point forms get the taxonomy in the configured order, with each
// kind's unit and default thresholds; nobody logged out does.
func TestMonitoringKinds(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newMonitoringEnv(t, open(t))
			r := e.do("GET", "/api/v1/monitoring-kinds", "", e.as("zjj")...)
			if r.code != 200 {
				t.Fatalf("GET /api/v1/monitoring-kinds: %d %s", r.code, r.body)
			}
			items, _ := r.json(t)["items"].([]any)
			if len(items) == 0 {
				t.Fatalf("no kinds: %s", r.body)
			}
			gas, _ := items[0].(map[string]any)
			if gas["code"] != "gas" || gas["unit"] != "%LEL" || gas["label"] != "可燃气体浓度" {
				t.Fatalf("the first kind is %v, want gas 可燃气体浓度 %%LEL", gas)
			}
			upper, _ := gas["thresholds"].(map[string]any)["upper"].(map[string]any)
			if upper["yellow"] != 25.0 || upper["red"] != 50.0 {
				t.Fatalf("gas thresholds %v, want yellow 25 and red 50", upper)
			}
			if r := e.do("GET", "/api/v1/monitoring-kinds", "", e.asRole("")...); r.code != 401 {
				t.Fatalf("logged out: %d, want 401", r.code)
			}
		})
	}
}
