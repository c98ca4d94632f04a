package httpapi_test

import (
	"regexp"
	"strings"
	"testing"
)

var hanText = regexp.MustCompile(`\p{Han}`)

// errorOf is the code and message of an error answer and the messages of its fields.
func errorOf(t *testing.T, r resp) (code, message string, fields []string) {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("not an error answer: %d %s", r.code, r.body)
	}
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	fs, _ := e["fields"].([]any)
	for _, f := range fs {
		m, _ := f.(map[string]any)["message"].(string)
		fields = append(fields, m)
	}
	return code, message, fields
}

// TestErrorLanguage: every kind of error answer — the router's 404 and 405, the log-in
// layer's 401, CSRF's 403, a body over its limit, field problems, a conflict — says its
// message in Chinese by default and in English when Accept-Language prefers English; the
// machine code is the same in both.
func TestErrorLanguage(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	ck := e.login(t, "admin")
	big := `{"note":"` + strings.Repeat("x", 2<<20) + `"}`
	cases := []struct {
		name           string
		method, path   string
		body           string
		hdr            []string
		status         int
		code, en       string
		enField, zhSub string
	}{
		{name: "unknown route", method: "GET", path: "/api/v1/nothing", status: 404, code: "not_found", en: "no such resource: /api/v1/nothing", zhSub: "没有这个资源"},
		{name: "wrong method", method: "PATCH", path: "/api/v1/units", status: 405, code: "method_not_allowed", en: "method PATCH is not allowed here", zhSub: "不允许"},
		{name: "not logged in", method: "GET", path: "/api/v1/units", hdr: []string{"Authorization", ""}, status: 401, code: "unauthorized", zhSub: "登录"},
		{name: "bad token", method: "GET", path: "/api/v1/units", hdr: []string{"Authorization", "Bearer rmk_nope"}, status: 401, code: "unauthorized", en: "the API token does not exist or has been revoked"},
		{name: "CSRF", method: "POST", path: "/api/v1/units", body: feature("L-1", "甲", 100.2, 23.7, 3, 3), hdr: []string{"Authorization", "", "Cookie", ck}, status: 403, code: "forbidden", zhSub: "请求头"},
		{name: "body too large", method: "POST", path: "/api/v1/units", body: big, status: 413, code: "too_large", zhSub: "请求体过大"},
		{name: "field problems", method: "POST", path: "/api/v1/units", body: `{"type":"Feature","geometry":null,"properties":{}}`, status: 400, code: "invalid", enField: "is required (a GeoJSON Point, LineString, Polygon or their Multi- types)", zhSub: "必填"},
		{name: "bad bbox", method: "GET", path: "/api/v1/units?bbox=1,2,3", status: 400, code: "invalid", en: "bbox: must be four numbers: min longitude,min latitude,max longitude,max latitude; got 3",
			enField: "must be four numbers: min longitude,min latitude,max longitude,max latitude; got 3", zhSub: "bbox：应为四个数"},
		{name: "no such unit", method: "GET", path: "/api/v1/units/999999", status: 404, code: "not_found", en: "no risk unit with id 999999", zhSub: "没有编号为 999999 的风险单元"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var zhCode, enCode string
			for _, lang := range []string{"", "zh-CN,zh;q=0.9,en;q=0.8", "en-US,en;q=0.9,zh-CN;q=0.5"} {
				hdr := append(append([]string{}, tc.hdr...), "Accept-Language", lang)
				r := e.do(tc.method, tc.path, tc.body, hdr...)
				if r.code != tc.status {
					t.Fatalf("%q: want %d, got %d %s", lang, tc.status, r.code, r.body)
				}
				code, msg, fields := errorOf(t, r)
				if !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Accept-Language") {
					t.Errorf("%q: the answer does not vary by Accept-Language: %v", lang, r.header)
				}
				if strings.HasPrefix(lang, "en") {
					enCode = code
					if hanText.MatchString(msg) || msg == "" {
						t.Errorf("English asked for, got %q", msg)
					}
					if tc.en != "" && msg != tc.en {
						t.Errorf("English: want %q, got %q", tc.en, msg)
					}
					if tc.enField != "" && !contains(fields, tc.enField) {
						t.Errorf("English fields: want %q among %q", tc.enField, fields)
					}
					for _, f := range fields {
						if hanText.MatchString(f) {
							t.Errorf("English asked for, a field says %q", f)
						}
					}
					continue
				}
				zhCode = code
				if !hanText.MatchString(msg) || (tc.zhSub != "" && !strings.Contains(msg+strings.Join(fields, " "), tc.zhSub)) {
					t.Errorf("Accept-Language %q: want Chinese (%q), got %q %q", lang, tc.zhSub, msg, fields)
				}
			}
			if zhCode != tc.code || enCode != tc.code {
				t.Errorf("the code must not change with the language: want %q, got %q and %q", tc.code, zhCode, enCode)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
