package httpapi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"riskmap/pkg/riskmap"
)

// The hidden dangers (隐患) API on both stores: the closed loop with photos and the unit's
// current grade, who sees what, hostile input, and citizens' reports.

func TestHazards(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			if e.api.AccessRules()["GET /api/v1/hazards"] == "" {
				t.Skip("this store keeps no hidden dangers yet")
			}
			t.Run("Loop", e.testHazardLoop)
			t.Run("Access", e.testHazardAccess)
			t.Run("Hostile", e.testHazardHostile)
			t.Run("Reports", e.testReports)
		})
	}
}

// unitOf creates a unit of category in region graded by l × s, as user.
func (e *env) unitOf(t *testing.T, as, code, category, region string, lon, lat float64, l, s int) string {
	t.Helper()
	body := strings.NewReplacer(`"category":"hazardous_chemicals"`, fmt.Sprintf(`"category":%q`, category),
		`"region_code":"530481001001"`, fmt.Sprintf(`"region_code":%q`, region)).Replace(feature(code, "隐患测试单元 "+code, lon, lat, l, s))
	r := e.do("POST", "/api/v1/units", body, e.as(as)...)
	if r.code != 201 {
		t.Fatalf("create %s as %s: %d %s", code, as, r.code, r.body)
	}
	return strings.TrimPrefix(r.header.Get("Location"), "/api/v1/units/")
}

// hazardBody is the JSON of a new hidden danger of unit, with fields changed by extra.
func hazardBody(unit, level, found, deadline string, extra map[string]any) string {
	m := map[string]any{"unit_id": json.Number(unit), "level": level, "description": "储罐区可燃气体报警器失效",
		"location": "储罐区东侧", "found_at": found, "source": "inspection", "responsible_unit": "某化工有限公司",
		"responsible_person": "王五", "measures": "更换报警器并校验", "deadline": deadline}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

var five = map[string]any{"responsibility": "厂长王五", "measures": "更换报警器", "funds": "2 万元", "time_limit": "30 日", "plan": "泄漏应急预案"}

func (e *env) newHazard(t *testing.T, as, body string) map[string]any {
	t.Helper()
	r := e.do("POST", "/api/v1/hazards", body, e.as(as)...)
	if r.code != 201 {
		t.Fatalf("create hazard as %s: %d %s", as, r.code, r.body)
	}
	return r.json(t)
}

func idOf(v map[string]any) string { return fmt.Sprint(int64(v["id"].(float64))) }

func (e *env) unitProps(t *testing.T, id string) map[string]any {
	t.Helper()
	r := e.do("GET", "/api/v1/units/"+id, "")
	if r.code != 200 {
		t.Fatalf("unit %s: %d %s", id, r.code, r.body)
	}
	return r.json(t)["properties"].(map[string]any)
}

func (e *env) move(as, id, to, note string) resp {
	b, _ := json.Marshal(map[string]string{"to": to, "note": note})
	return e.do("POST", "/api/v1/hazards/"+id+"/transitions", string(b), e.as(as)...)
}

// jpegWithGPS is a real JPEG carrying an EXIF segment with a GPS position and a serial.
func jpegWithGPS(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, nil)
	j := b.Bytes()
	payload := []byte("Exif\x00\x00GPSLatitude 24.671 GPSLongitude 102.912 BodySerialNumber CAM-998877")
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append(append(append([]byte{}, j[:2]...), seg...), payload...)
	return append(out, j[2:]...)
}

// form is a multipart body of fields and, if file is not nil, a "photo" part.
func form(fields map[string]string, filename, ctype string, file []byte) (string, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if file != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="photo"; filename=%q`, filename))
		h.Set("Content-Type", ctype)
		p, _ := w.CreatePart(h)
		_, _ = p.Write(file)
	}
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

func (e *env) testHazardLoop(t *testing.T) {
	e.t = t
	u := e.unitOf(t, "expert1", "HZ-LOOP", "hazardous_chemicals", "530481001001", 102.912, 24.671, 2, 2)
	if g := e.unitProps(t, u)["grade"]; g != "yellow" {
		t.Fatalf("the unit starts yellow: %v", g)
	}
	h := e.newHazard(t, "expert1", hazardBody(u, "major", daysAgo(5), "2099-12-31", nil))
	id := idOf(h)
	if h["status"] != "registered" || h["level_label"] != "重大隐患" || !strings.HasPrefix(h["code"].(string), "YH-") ||
		h["unit_code"] != "HZ-LOOP" || h["overdue"] != false || !strings.Contains(fmt.Sprint(h["actions"]), "reported") {
		t.Fatalf("a new hidden danger: %v", h)
	}
	code := h["code"].(string)
	props := e.unitProps(t, u)
	if props["grade"] != "red" || !strings.Contains(fmt.Sprint(props["dynamic_explanation"]), code) {
		t.Errorf("an open major hidden danger makes the unit red and says why: grade %v, %v", props["grade"], props["dynamic_explanation"])
	}
	// The unit is red on the map at once: the list (the index) says so.
	if l := e.do("GET", "/api/v1/units?q=HZ-LOOP&grade=red", ""); l.json(t)["numberMatched"].(float64) != 1 {
		t.Errorf("the index must hold the raised grade before the answer: %s", l.body)
	}

	if r := e.move("expert1", id, "closed", "复查合格"); r.code != 409 || !strings.Contains(string(r.body), "登记") {
		t.Fatalf("closing one never accepted: %d %s", r.code, r.body)
	}
	if r := e.move("expert1", id, "reported", ""); r.code != 200 {
		t.Fatalf("report: %d %s", r.code, r.body)
	}
	if r := e.move("expert1", id, "rectifying", ""); r.code != 409 || !strings.Contains(string(r.body), "五落实") {
		t.Fatalf("a major one without its five: %d %s", r.code, r.body)
	}
	cur := e.do("GET", "/api/v1/hazards/"+id, "")
	b, _ := json.Marshal(map[string]any{"five": five})
	if r := e.do("PATCH", "/api/v1/hazards/"+id, string(b), append(e.as("expert1"), "If-Match", cur.header.Get("ETag"))...); r.code != 200 {
		t.Fatalf("patch five: %d %s", r.code, r.body)
	}
	if r := e.move("expert1", id, "rectifying", "开始整改"); r.code != 200 {
		t.Fatalf("rectify: %d %s", r.code, r.body)
	}
	// Photos before and after: the stored one keeps no EXIF.
	body, ct := form(map[string]string{"stage": "after"}, "after.jpg", "image/jpeg", jpegWithGPS(64, 48))
	r := e.do("POST", "/api/v1/hazards/"+id+"/photos", body, append(e.as("expert1"), "Content-Type", ct)...)
	if r.code != 201 {
		t.Fatalf("photo: %d %s", r.code, r.body)
	}
	url := r.json(t)["url"].(string)
	img := e.do("GET", url, "", e.as("expert2")...)
	if img.code != 200 || img.header.Get("Content-Type") != "image/jpeg" || bytes.Contains(img.body, []byte("Exif")) || bytes.Contains(img.body, []byte("GPS")) {
		t.Fatalf("the photo served: %d %s, EXIF %v", img.code, img.header.Get("Content-Type"), bytes.Contains(img.body, []byte("Exif")))
	}
	// A retried upload with its Idempotency-Key stores the photo once.
	body, ct = form(map[string]string{"stage": "before"}, "before.jpg", "image/jpeg", jpegWithGPS(40, 30))
	first := e.do("POST", "/api/v1/hazards/"+id+"/photos", body, append(e.as("expert1"), "Content-Type", ct, "Idempotency-Key", "ph-1")...)
	again := e.do("POST", "/api/v1/hazards/"+id+"/photos", body, append(e.as("expert1"), "Content-Type", ct, "Idempotency-Key", "ph-1")...)
	if first.code != 201 || again.code != 201 || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a retried upload: %d %d %s", first.code, again.code, again.body)
	}
	if l := e.do("GET", "/api/v1/hazards/"+id+"/photos", ""); len(l.json(t)["items"].([]any)) != 2 {
		t.Fatalf("photos: %s", l.body)
	}
	if r := e.move("expert1", id, "accepted", "整改完成，申请验收"); r.code != 200 {
		t.Fatalf("accept: %d %s", r.code, r.body)
	}
	if r := e.move("expert1", id, "closed", "复查合格"); r.code != 409 {
		t.Fatalf("the rectifier closes: %d %s", r.code, r.body)
	}
	if r := e.move("expert2", id, "closed", ""); r.code != 400 {
		t.Fatalf("closing without the re-inspection's note: %d %s", r.code, r.body)
	}
	if r := e.move("expert2", id, "rectifying", ""); r.code != 400 {
		t.Fatalf("a failed acceptance without its reason: %d %s", r.code, r.body)
	}
	if g := e.unitProps(t, u)["grade"]; g != "red" {
		t.Errorf("still open: %v", g)
	}
	r = e.move("expert2", id, "closed", "复查合格，同意销号")
	if r.code != 200 || r.json(t)["closed_by"] != "expert2" || r.json(t)["status_label"] != "销号" {
		t.Fatalf("close: %d %s", r.code, r.body)
	}
	if g := e.unitProps(t, u)["grade"]; g != "yellow" {
		t.Errorf("closing the major hidden danger gives the unit its grade back: %v", g)
	}
	if l := e.do("GET", "/api/v1/units?q=HZ-LOOP&grade=yellow", ""); l.json(t)["numberMatched"].(float64) != 1 {
		t.Errorf("the index follows the closing: %s", l.body)
	}
	if r := e.move("expert2", id, "rectifying", "再整改"); r.code != 409 {
		t.Fatalf("a closed one moves: %d %s", r.code, r.body)
	}
	// Every write left its audit row, with the hidden danger before and after.
	rows, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Action: "hazard.", TargetType: "hazard", TargetID: id, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, a := range rows {
		if a.Outcome == riskmap.OutcomeOK {
			actions[a.Action]++
			if a.Action == "hazard.transition" && (len(a.Before) == 0 || len(a.After) == 0) {
				t.Errorf("a transition's row lacks before or after: %+v", a)
			}
		}
	}
	if actions["hazard.create"] != 1 || actions["hazard.transition"] != 4 || actions["hazard.update"] != 1 || actions["hazard.photo"] != 2 {
		t.Errorf("audit rows: %v", actions)
	}
	hist := e.do("GET", "/api/v1/hazards/"+id+"/history", "").json(t)["items"].([]any)
	last := hist[len(hist)-1].(map[string]any)
	if len(hist) < 7 || last["to_label"] != "销号" || last["note"] != "复查合格，同意销号" || last["by_label"] == "" {
		t.Fatalf("history: %d events, last %v", len(hist), last)
	}

	t.Run("IdempotencyKey", func(t *testing.T) {
		e.t = t
		body := hazardBody(u, "general", daysAgo(5), "2099-12-31", map[string]any{"description": "重试的登记"})
		first := e.do("POST", "/api/v1/hazards", body, "Idempotency-Key", "hz-retry-1")
		again := e.do("POST", "/api/v1/hazards", body, "Idempotency-Key", "hz-retry-1")
		if first.code != 201 || again.code != 201 || again.header.Get("Idempotent-Replayed") != "true" ||
			again.header.Get("Location") != first.header.Get("Location") {
			t.Fatalf("a retried create: %d %d %v", first.code, again.code, again.header)
		}
		if n := e.do("GET", "/api/v1/hazards?q="+urlq("重试的登记"), "").json(t)["numberMatched"].(float64); n != 1 {
			t.Fatalf("the retry wrote again: %v hidden dangers", n)
		}
	})

	t.Run("Extension", func(t *testing.T) {
		e.t = t
		h := e.newHazard(t, "expert1", hazardBody(u, "general", daysAgo(5), "2099-12-31", nil))
		id := idOf(h)
		if r := e.do("POST", "/api/v1/hazards/"+id+"/extension", `{"deadline":"2099-01-01","reason":"设备到货延迟"}`, e.as("expert1")...); r.code != 400 {
			t.Fatalf("an earlier deadline: %d %s", r.code, r.body)
		}
		if r := e.do("POST", "/api/v1/hazards/"+id+"/extension", `{"deadline":"2100-03-01","reason":"设备到货延迟"}`, e.as("expert1")...); r.code != 200 {
			t.Fatalf("request: %d %s", r.code, r.body)
		}
		if r := e.do("POST", "/api/v1/hazards/"+id+"/extension/decision", `{"approve":true}`, e.as("expert1")...); r.code != 409 {
			t.Fatalf("the requester decides: %d %s", r.code, r.body)
		}
		r := e.do("POST", "/api/v1/hazards/"+id+"/extension/decision", `{"approve":true,"note":"同意"}`, e.as("expert2")...)
		if r.code != 200 || r.json(t)["deadline"] != "2100-03-01" || r.json(t)["extension"] != nil {
			t.Fatalf("approval moves the deadline: %d %s", r.code, r.body)
		}
		cur := e.do("GET", "/api/v1/hazards/"+id, "")
		if r := e.do("PATCH", "/api/v1/hazards/"+id, `{"deadline":"2200-01-01"}`, append(e.as("expert1"), "If-Match", cur.header.Get("ETag"))...); r.code != 422 {
			t.Fatalf("patching the deadline: %d %s", r.code, r.body)
		}
		if r := e.do("POST", "/api/v1/hazards/"+id+"/supervision", `{"by":"city"}`, e.as("expert1")...); r.code != 409 {
			t.Fatalf("a general one under supervision: %d %s", r.code, r.body)
		}
	})
}

func (e *env) testHazardHostile(t *testing.T) {
	e.t = t
	u := e.unitOf(t, "expert1", "HZ-BAD", "hazardous_chemicals", "530481001001", 102.912, 24.671, 2, 2)
	count := func() float64 {
		return e.do("GET", "/api/v1/hazards?unit="+u, "").json(t)["numberMatched"].(float64)
	}
	if r := e.do("POST", "/api/v1/hazards", hazardBody(u, "general", daysAgo(5), daysAgo(10), nil)); r.code != 400 ||
		!strings.Contains(string(r.body), `"field":"deadline"`) {
		t.Fatalf("a deadline before the date found: %d %s", r.code, r.body)
	}
	if count() != 0 {
		t.Fatal("a refused hidden danger was stored")
	}
	h := e.newHazard(t, "expert1", hazardBody(u, "general", daysAgo(5), "2099-01-01", nil))
	id := idOf(h)
	tag := e.do("GET", "/api/v1/hazards/"+id, "").header.Get("ETag")
	for _, to := range []string{"closed", "accepted", "registered", "nonsense"} {
		if r := e.move("expert1", id, to, "x"); r.code != 409 && r.code != 400 {
			t.Errorf("registered → %s: %d %s", to, r.code, r.body)
		}
	}
	for name, f := range map[string][]byte{
		"html": []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
		"zip":  append([]byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), bytes.Repeat([]byte{7}, 500)...),
	} {
		body, ct := form(map[string]string{"stage": "before"}, "photo.jpg", "image/jpeg", f)
		if r := e.do("POST", "/api/v1/hazards/"+id+"/photos", body, append(e.as("expert1"), "Content-Type", ct)...); r.code != 400 {
			t.Errorf("%s disguised as a photo: %d %s", name, r.code, r.body)
		}
	}
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	resp, _ := rawExchange(t, addr, "POST /api/v1/hazards/"+id+"/photos HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "+e.tokens["admin"]+
		"\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 52428800\r\n\r\n--x\r\n", 5*time.Second)
	if statusOf(resp) != 413 {
		t.Errorf("a 50 MB upload: %q", clipb([]byte(resp)))
	}
	big, ct := form(map[string]string{"stage": "before"}, "big.jpg", "image/jpeg", append(jpegWithGPS(8, 8), make([]byte, 11<<20)...))
	if r := e.do("POST", "/api/v1/hazards/"+id+"/photos", big, append(e.as("expert1"), "Content-Type", ct)...); r.code != 413 {
		t.Errorf("an 11 MB photo: %d %s", r.code, clipb(r.body))
	}
	if l := e.do("GET", "/api/v1/hazards/"+id+"/photos", ""); len(l.json(t)["items"].([]any)) != 0 {
		t.Errorf("a refused photo was stored: %s", l.body)
	}
	if after := e.do("GET", "/api/v1/hazards/"+id, ""); after.header.Get("ETag") != tag || after.json(t)["status"] != "registered" {
		t.Errorf("refused writes changed the hidden danger: %s → %s", tag, after.header.Get("ETag"))
	}
	// Paging as /api/v1/units: numberMatched, a next link, every one once.
	for i := 0; i < 4; i++ {
		e.newHazard(t, "expert1", hazardBody(u, "general", daysAgo(5), "2099-01-01", map[string]any{"description": fmt.Sprintf("分页隐患%d", i)}))
	}
	seen := map[string]bool{}
	next := "/api/v1/hazards?q=" + urlq("分页隐患") + "&limit=3"
	for pages := 0; next != ""; pages++ {
		m := e.do("GET", strings.TrimPrefix(next, e.srv.URL), "").json(t)
		if m["numberMatched"].(float64) != 4 || pages > 2 {
			t.Fatalf("page %d: %v", pages, m["numberMatched"])
		}
		for _, f := range m["features"].([]any) {
			id := fmt.Sprint(f.(map[string]any)["id"])
			if seen[id] {
				t.Fatalf("%s listed twice", id)
			}
			seen[id] = true
		}
		next, _ = m["next"].(string)
	}
	if len(seen) != 4 {
		t.Fatalf("paging listed %d of 4", len(seen))
	}
	for _, q := range []string{"status=open", "level=huge", "overdue=maybe", "due_within=0", "colour=red", "unit=x", "bbox=1,2"} {
		if r := e.do("GET", "/api/v1/hazards?"+q, ""); r.code != 400 {
			t.Errorf("?%s: %d", q, r.code)
		}
	}
	if r := e.do("POST", "/api/v1/hazards", `{"unit_id":"1"`); r.code != 400 {
		t.Errorf("broken JSON: %d", r.code)
	}
	if r := e.do("GET", "/api/v1/hazards/99999999", ""); r.code != 404 {
		t.Errorf("unknown id: %d", r.code)
	}
}

func (e *env) testReports(t *testing.T) {
	e.t = t
	u := e.unitOf(t, "expert1", "HZ-REP", "hazardous_chemicals", "530481001001", 102.912, 24.671, 2, 2)
	anon := []string{"Authorization", ""}
	markup := `<script>alert(1)</script><img src=x onerror=alert(2)> 仓库门口堆放液化气罐`
	body, ct := form(map[string]string{"lon": "102.912", "lat": "24.671", "category": "hazardous_chemicals", "description": markup, "contact": "13800000000"},
		"report.jpg", "image/jpeg", jpegWithGPS(30, 30))
	r := e.do("POST", "/public/api/v1/reports", body, append(anon, "Content-Type", ct)...)
	if r.code != 201 {
		t.Fatalf("report: %d %s", r.code, r.body)
	}
	tracking := r.json(t)["tracking_number"].(string)
	if !strings.HasPrefix(tracking, "JB") || len(tracking) != 18 || strings.Contains(string(r.body), "液化气") {
		t.Fatalf("the answer: %s", r.body)
	}
	pub := e.do("GET", "/public/api/v1/reports/"+tracking, "", anon...)
	if pub.code != 200 || pub.json(t)["status"] != "received" || strings.Contains(string(pub.body), "液化气") || strings.Contains(string(pub.body), "138") {
		t.Fatalf("tracking shows the status only: %d %s", pub.code, pub.body)
	}
	if r := e.do("GET", "/public/api/v1/reports/JB20261206AAAAAAAA", "", anon...); r.code != 404 {
		t.Fatalf("a guessed number: %d", r.code)
	}
	// Staff in scope see it, as text: the markup is a JSON string, never HTML.
	l := e.do("GET", "/api/v1/reports?status=received", "", e.as("yjj")...)
	if l.code != 200 || !strings.HasPrefix(l.header.Get("Content-Type"), "application/json") || bytes.Contains(l.body, []byte("<script")) {
		t.Fatalf("reports for staff: %d %s %s", l.code, l.header.Get("Content-Type"), l.body)
	}
	items := l.json(t)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["description"] != markup {
		t.Fatalf("the report's text comes back as it was sent: %v", items)
	}
	rid := fmt.Sprint(int64(items[0].(map[string]any)["id"].(float64)))
	if n := len(e.do("GET", "/api/v1/reports", "", e.as("zjj")...).json(t)["items"].([]any)); n != 0 {
		t.Fatalf("another department sees the report: %d", n)
	}
	if r := e.do("GET", "/api/v1/reports/"+rid, "", e.as("zjj")...); r.code != 404 {
		t.Fatalf("another department reads the report: %d", r.code)
	}
	// Nothing of it reaches the public map.
	if p := e.do("GET", "/public/api/v1/units?limit=1000", "", anon...); bytes.Contains(p.body, []byte("液化气")) {
		t.Fatal("the report reached the public map")
	}
	conv := e.do("POST", "/api/v1/reports/"+rid+"/convert", fmt.Sprintf(`{"unit_id":%s,"level":"general","deadline":"2099-06-30","responsible_unit":"某化工有限公司","responsible_person":"王五","measures":"清理液化气罐"}`, u), e.as("yjj")...)
	if conv.code != 201 || conv.json(t)["source"] != "public_report" || conv.json(t)["description"] != markup {
		t.Fatalf("convert: %d %s", conv.code, conv.body)
	}
	hcode := conv.json(t)["code"].(string)
	if r := e.do("POST", "/api/v1/reports/"+rid+"/dismiss", `{"reason":"重复举报"}`, e.as("yjj")...); r.code != 409 {
		t.Fatalf("a handled report handled again: %d %s", r.code, r.body)
	}
	if res := e.do("GET", "/public/api/v1/reports/"+tracking, "", anon...).json(t)["result"]; !strings.Contains(fmt.Sprint(res), hcode) {
		t.Fatalf("the citizen reads what became of it: %v", res)
	}
	hid := fmt.Sprint(int64(conv.json(t)["id"].(float64)))
	if ps := e.do("GET", "/api/v1/hazards/"+hid+"/photos", "", e.as("yjj")...).json(t)["items"].([]any); len(ps) != 1 || ps[0].(map[string]any)["stage"] != "report" {
		t.Fatalf("the report's photo goes with the hidden danger: %v", ps)
	}
	// A second report (JSON), dismissed with a reason.
	r = e.do("POST", "/public/api/v1/reports", `{"lon":102.912,"lat":24.671,"category":"hazardous_chemicals","description":"疑似重复"}`, anon...)
	if r.code != 201 {
		t.Fatalf("JSON report: %d %s", r.code, r.body)
	}
	t2 := r.json(t)["tracking_number"].(string)
	var id2 string
	for _, it := range e.do("GET", "/api/v1/reports?status=received", "").json(t)["items"].([]any) {
		if it.(map[string]any)["tracking_number"] == t2 {
			id2 = fmt.Sprint(int64(it.(map[string]any)["id"].(float64)))
		}
	}
	if r := e.do("POST", "/api/v1/reports/"+id2+"/dismiss", `{"reason":"经核查不属实"}`, e.as("yjj")...); r.code != 200 {
		t.Fatalf("dismiss: %d %s", r.code, r.body)
	}
	if res := e.do("GET", "/public/api/v1/reports/"+t2, "", anon...).json(t)["result"]; res != "不予立案：经核查不属实" {
		t.Fatalf("dismissal reason: %v", res)
	}
	// Bad reports: outside the city, no description, too long.
	for _, bad := range []string{
		`{"lon":116.4,"lat":39.9,"category":"hazardous_chemicals","description":"北京"}`,
		`{"lon":102.912,"lat":24.671,"category":"hazardous_chemicals","description":""}`,
		`{"lon":102.912,"lat":24.671,"category":"nope","description":"x"}`,
	} {
		if r := e.do("POST", "/public/api/v1/reports", bad, anon...); r.code != 400 {
			t.Errorf("%s: %d %s", bad, r.code, r.body)
		}
	}
	// 100 reports a minute from one address: the limit (5 a minute) holds; this address
	// has sent 5 already.
	ok, throttled := 0, 0
	for i := 0; i < 100; i++ {
		r := e.do("POST", "/public/api/v1/reports", `{"lon":102.912,"lat":24.671,"category":"hazardous_chemicals","description":"洪水"}`, anon...)
		switch r.code {
		case 201:
			ok++
		case 429:
			throttled++
			if r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "举报过于频繁") {
				t.Fatalf("429 without Retry-After or its message: %v %s", r.header, r.body)
			}
		default:
			t.Fatalf("report %d: %d %s", i, r.code, r.body)
		}
	}
	if ok != 0 || throttled != 100 {
		t.Errorf("100 more reports in the minute: %d accepted, %d throttled", ok, throttled)
	}
}

// daysAgo is the date n days before today (a date in the past for found_at and overdue
// deadlines, whatever day the tests run).
func daysAgo(n int) string { return time.Now().UTC().AddDate(0, 0, -n).Format(time.DateOnly) }
