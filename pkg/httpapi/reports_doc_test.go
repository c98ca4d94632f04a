package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"riskmap/pkg/config"
	"riskmap/pkg/httpapi"
	"riskmap/pkg/mapimage"
	"riskmap/pkg/reportdoc"
	"riskmap/pkg/riskmap"
)

// reportEnv is a server whose publisher names the city.
func reportEnv(t *testing.T, store riskmap.Store, tune func(*httpapi.Config)) *env {
	return newEnvWith(t, store, func(c *httpapi.Config) {
		c.Contact = config.Publisher{Name: "澄江市安全生产委员会办公室"}
		if tune != nil {
			tune(c)
		}
	})
}

// createGraded creates a hazardous-chemical point unit with the LS inputs l, s and returns
// its id and grade.
func (e *env) createGraded(t *testing.T, code, name string, lon, lat float64, l, s int) (string, riskmap.Grade) {
	t.Helper()
	r := e.do("POST", "/api/v1/units", feature(code, name, lon, lat, l, s), e.as("expert1")...)
	if r.code != 201 {
		t.Fatalf("create %s: %d %s", code, r.code, r.body)
	}
	var f struct {
		Properties struct {
			Grade riskmap.Grade `json:"grade"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(r.body, &f); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(r.header.Get("Location"), "/api/v1/units/"), f.Properties.Grade
}

// gradePixels counts the pixels of each grade's fill (config colours), red first.
func gradePixels(t *testing.T, raw []byte) [4]int {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not a PNG: %v (%.200s)", err, raw)
	}
	pal := mapimage.Palettes(config.Default().Grader.Config().Colours)
	var n [4]int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			for i, p := range pal {
				if c == p.Fill {
					n[i]++
				}
			}
		}
	}
	return n
}

func TestMapImage(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) { testMapImage(t, reportEnv(t, open(t), nil)) })
	}
}

func testMapImage(t *testing.T, e *env) {
	// Two red units, one orange, one blue, well apart.
	want := [4]int{}
	for i, u := range []struct{ l, s int }{{4, 5}, {5, 5}, {2, 5}, {1, 2}} {
		_, g := e.createGraded(t, fmt.Sprintf("IMG-%d", i), "图片测试单元", 102.90+0.01*float64(i), 24.66+0.005*float64(i%2), u.l, u.s)
		want[g.Rank()-1]++
	}
	if want != [4]int{2, 1, 0, 1} {
		t.Fatalf("the test's units are graded %v", want)
	}
	r := e.do("GET", "/api/v1/map.png?width=600&height=400&legend=0", "")
	if r.code != 200 || r.header.Get("Content-Type") != "image/png" {
		t.Fatalf("map.png: %d %s %.300s", r.code, r.header.Get("Content-Type"), r.body)
	}
	n := gradePixels(t, r.body)
	if n[2] != 0 || n[0] == 0 || n[1] == 0 || n[3] == 0 {
		t.Fatalf("pixels by grade %v for units by grade %v", n, want)
	}
	// Points are the same size: the pixels stand as the counts.
	for i := range 4 {
		if want[i] == 0 {
			continue
		}
		per := float64(n[i]) / float64(want[i])
		if ref := float64(n[3]); per < 0.9*ref || per > 1.1*ref {
			t.Errorf("grade %d: %v pixels per unit, the blue unit %v", i, per, ref)
		}
	}
	// The filters of the map: grade=red leaves the others out.
	if n := gradePixels(t, e.do("GET", "/api/v1/map.png?width=600&height=400&legend=0&grade=red", "").body); n[1] != 0 || n[3] != 0 || n[0] == 0 {
		t.Errorf("grade=red: %v", n)
	}
	// A department sees only its scope: 住建局 has no hazardous chemicals.
	if n := gradePixels(t, e.do("GET", "/api/v1/map.png?legend=0&width=300&height=300", "", e.as("zjj")...).body); n != [4]int{} {
		t.Errorf("a department outside the units' scope sees %v", n)
	}
	// The public map has nothing until a unit is approved and published.
	pub := e.do("GET", "/public/api/v1/map.png?legend=0&width=300&height=300", "", "Authorization", "")
	if pub.code != 200 || gradePixels(t, pub.body) != [4]int{} {
		t.Errorf("public map before publication: %d %v", pub.code, gradePixels(t, pub.body))
	}
	// The regional map: every region in some colour.
	reg := e.do("GET", "/api/v1/map.png?layer=regions&legend=0&width=400&height=300", "")
	if n := gradePixels(t, reg.body); reg.code != 200 || n[0]+n[1]+n[2]+n[3] < 400*300/10 {
		t.Errorf("regions: %d %v", reg.code, n)
	}
	// Bad input: 400 in Chinese, never an image.
	for _, q := range []string{"width=5000", "height=-1", "layer=tiles", "bbox=1,2,3", "grade=purple", "colour=red", "legend=maybe"} {
		r := e.do("GET", "/api/v1/map.png?"+q, "")
		if r.code != 400 || !strings.Contains(string(r.body), `"message"`) || !containsHan(string(r.body)) {
			t.Errorf("%s: %d %.200s", q, r.code, r.body)
		}
	}
	if r := e.do("GET", "/api/v1/map.png", "", "Authorization", ""); r.code != 401 {
		t.Errorf("anonymous internal map: %d", r.code)
	}
}

func containsHan(s string) bool {
	for _, r := range s {
		if r >= 0x4E00 && r <= 0x9FFF {
			return true
		}
	}
	return false
}

// needFont skips the report tests without the font outside CI.
func needFont(t *testing.T) {
	t.Helper()
	if _, err := reportdoc.LoadFont(""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

func pdfText(t *testing.T, raw []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is missing in CI (poppler-utils)")
		}
		t.Skip("pdftotext is not installed")
	}
	p := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, p, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, out)
	}
	// Table cells wrap: read the text as one line.
	return strings.NewReplacer("\n", "", "\f", "").Replace(string(out))
}

func TestReport(t *testing.T) {
	needFont(t)
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) { testReport(t, reportEnv(t, open(t), nil)) })
	}
}

func testReport(t *testing.T, e *env) {
	id, g := e.createGraded(t, "REP-1", "报告测试液氨罐区", 102.91, 24.67, 4, 5)
	if g != riskmap.GradeRed {
		t.Fatalf("grade %s", g)
	}
	e.createGraded(t, "REP-2", "报告测试仓库", 102.92, 24.66, 1, 2)
	r := e.do("GET", "/api/v1/report.pdf", "")
	if r.code != 200 || r.header.Get("Content-Type") != "application/pdf" || !strings.Contains(r.header.Get("Content-Disposition"), "report.pdf") {
		t.Fatalf("report.pdf: %d %s %.300s", r.code, r.header.Get("Content-Type"), r.body)
	}
	text := pdfText(t, r.body)
	// No protective target and no shelter: no conflict, and every street short of shelter.
	for _, want := range []string{"澄江市城市安全风险评估报告", "报告测试液氨罐区", "可燃气体报警", "重大和较大风险清单", "隐患排查治理情况",
		"六、安全距离分析在本报告范围内，没有防护目标", "七、应急避难场所覆盖", "未达到要求的街道 6 个", "严重不足"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// A department's report covers its scope: 住建局 has no hazardous chemicals.
	zjj := pdfText(t, e.do("GET", "/api/v1/report.pdf", "", e.as("zjj")...).body)
	if strings.Contains(zjj, "报告测试液氨罐区") || !strings.Contains(zjj, "住建局") {
		t.Errorf("住建局's report shows a unit outside its scope, or does not name its scope")
	}
	// Filters: grade=blue leaves the red unit out.
	if blue := pdfText(t, e.do("GET", "/api/v1/report.pdf?grade=blue", "").body); strings.Contains(blue, "报告测试液氨罐区") || !strings.Contains(blue, "风险等级 低风险") {
		t.Errorf("grade=blue: the red unit is listed or the filter is not said")
	}
	docx := e.do("GET", "/api/v1/report.docx", "")
	if docx.code != 200 || !strings.HasPrefix(string(docx.body), "PK") {
		t.Fatalf("report.docx: %d %.200s", docx.code, docx.body)
	}
	// Publication n's report: the same bytes every time, even after later changes.
	e.do("POST", "/api/v1/units/"+id+"/submit", "", append(e.as("expert1"), "If-Match", `"1"`)...)
	if r := e.do("POST", "/api/v1/units/"+id+"/approve", "", append(e.as("expert2"), "If-Match", `"2"`)...); r.code != 200 {
		t.Fatalf("approve: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
		t.Fatalf("publish: %d", r.code)
	}
	p1 := e.do("GET", "/api/v1/report.pdf?publication=1", "")
	d1 := e.do("GET", "/api/v1/report.docx?publication=1", "")
	if p1.code != 200 || d1.code != 200 {
		t.Fatalf("publication 1: %d %d", p1.code, d1.code)
	}
	text = pdfText(t, p1.body)
	if !strings.Contains(text, "第 1 期发布") || strings.Contains(text, "报告测试仓库") {
		t.Errorf("publication 1's report: wrong scope or an unpublished unit")
	}
	if !strings.Contains(text, "安全距离分析为实时数据，不属于发布内容") || !strings.Contains(text, "应急避难场所覆盖为实时数据") {
		t.Errorf("publication 1's report does not say the spatial analyses are live data")
	}
	e.createGraded(t, "REP-3", "发布之后的单元", 102.93, 24.67, 4, 5)
	if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
		t.Fatalf("publish 2: %d", r.code)
	}
	if again := e.do("GET", "/api/v1/report.pdf?publication=1", ""); !bytes.Equal(again.body, p1.body) {
		t.Error("publication 1's PDF differs the second time")
	}
	if again := e.do("GET", "/api/v1/report.docx?publication=1", ""); !bytes.Equal(again.body, d1.body) {
		t.Error("publication 1's DOCX differs the second time")
	}
	// The public map shows the published unit.
	if n := gradePixels(t, e.do("GET", "/public/api/v1/map.png?legend=0&width=300&height=300", "", "Authorization", "").body); n[0] == 0 {
		t.Errorf("the public map lacks the published red unit: %v", n)
	}
	for q, code := range map[string]int{"publication=abc": 400, "publication=0": 400, "publication=99": 404, "page=2": 400, "grade=purple": 400} {
		if r := e.do("GET", "/api/v1/report.pdf?"+q, ""); r.code != code || !containsHan(string(r.body)) {
			t.Errorf("%s: %d (want %d) %.200s", q, r.code, code, r.body)
		}
	}
}

// Without the analysis engine the report's chapters of the spatial analyses say so.
func TestReportWithoutAnalysis(t *testing.T) {
	needFont(t)
	e := reportEnv(t, stores(t)["GeoPackage"](t), func(c *httpapi.Config) { c.Analysis = nil })
	r := e.do("GET", "/api/v1/report.pdf", "")
	if r.code != 200 {
		t.Fatalf("%d %.300s", r.code, r.body)
	}
	text := pdfText(t, r.body)
	for _, want := range []string{"六、安全距离分析本系统未启用空间分析功能。", "七、应急避难场所覆盖本系统未启用空间分析功能。"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

func TestReportWithoutFont(t *testing.T) {
	e := reportEnv(t, stores(t)["GeoPackage"](t), func(c *httpapi.Config) { c.ReportFont = "/nonexistent/font.ttf" })
	for _, p := range []string{"/api/v1/report.pdf", "/api/v1/report.docx"} {
		r := e.do("GET", p, "")
		if r.code != 503 || !strings.Contains(string(r.body), "fonts-droid-fallback") {
			t.Errorf("%s without the font: %d %s", p, r.code, r.body)
		}
	}
	// The map image needs no font.
	if r := e.do("GET", "/api/v1/map.png?width=100&height=100", ""); r.code != 200 {
		t.Errorf("map.png without the font: %d", r.code)
	}
}
