package reportdoc_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/mapimage"
	"riskmap/pkg/reportdoc"
	"riskmap/pkg/riskmap"
)

// font loads the report font, or skips when it is missing outside CI (in CI, where
// scripts/install-deps.sh ran, it must be there).
func font(t testing.TB) *reportdoc.Font {
	t.Helper()
	f, err := reportdoc.LoadFont("")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the report font is missing in CI: %v", err)
		}
		t.Skipf("no report font: %v", err)
	}
	return f
}

// tool finds a program, or skips when it is missing outside CI.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing in CI (scripts/install-deps.sh installs it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func sample(t testing.TB) *reportdoc.Data {
	d := &reportdoc.Data{
		City: "澄江市", Publisher: "澄江市安全生产委员会办公室", Date: time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC),
		Scope: "全市（第 3 期发布）", Total: [4]int{2, 3, 10, 25},
		ByCategory: []reportdoc.CountRow{{Label: "危险化学品", Counts: [4]int{2, 1, 3, 5}}, {Label: "城市燃气 & <管网>", Counts: [4]int{0, 2, 7, 20}}},
		ByRegion:   []reportdoc.CountRow{{Label: "澄江市城区", Counts: [4]int{2, 3, 10, 25}}},
		Major: []reportdoc.RiskRow{
			{Code: "WH-001", Name: "化工储罐区", Category: "危险化学品", Region: "凤麓街道", Grade: riskmap.GradeRed,
				Controls: "工程技术：设置可燃气体报警装置；紧急切断阀\n管理：每班巡检两次", Department: "应急管理局", Unit: "某化工有限公司"},
			{Code: "RQ-002", Name: "燃气调压站", Category: "城市燃气", Region: "龙街街道", Grade: riskmap.GradeOrange, Controls: "管理：定期检测", Department: "住房城乡建设局"},
		},
		Regions: []reportdoc.RegionRow{{Name: "凤麓街道", Level: "街道", Counts: [4]int{2, 1, 0, 3}, Grade: riskmap.GradeRed, Explanation: "含重大风险单元 2 个，按规则定为重大。"}},
		Hazards: &reportdoc.HazardPart{
			ByCategory: []reportdoc.HazardRow{{Label: "危险化学品", Total: 12, Closed: 8, Open: 4, OpenMajor: 1, Overdue: 1}},
			Total:      reportdoc.HazardRow{Label: "合计", Total: 12, Closed: 8, Open: 4, OpenMajor: 1, Overdue: 1},
			OpenMajor:  []reportdoc.HazardItem{{Code: "YH-2026-0001", Unit: "化工储罐区", Description: "储罐区防火堤破损", Deadline: "2026-12-20", Department: "应急管理局", Status: "整改中"}},
		},
	}
	pal := map[riskmap.Grade]string{riskmap.GradeRed: "#E53935", riskmap.GradeOrange: "#FB8C00", riskmap.GradeYellow: "#FDD835", riskmap.GradeBlue: "#1E88E5"}
	for i, g := range riskmap.Grades {
		d.Grades[i] = reportdoc.GradeInfo{Grade: g, Label: g.Label(), Short: g.ShortLabel(), Fill: pal[g]}
	}
	box := orb.Bound{Min: orb.Point{102.9, 24.6}, Max: orb.Point{103.0, 24.7}}
	shapes := []mapimage.Shape{{ID: 1, Grade: riskmap.GradeRed, Geometry: orb.Point{102.95, 24.65}},
		{ID: 2, Grade: riskmap.GradeBlue, Geometry: orb.Polygon{{{102.91, 24.61}, {102.93, 24.61}, {102.93, 24.63}, {102.91, 24.61}}}}}
	png, err := mapimage.Encode(mapimage.Render(shapes, mapimage.Options{BBox: box, Width: 800, Height: 600, Legend: true}))
	if err != nil {
		t.Fatal(err)
	}
	d.UnitMap, d.RegionMap, d.MapAspect = png, png, 0.75
	d.Conflicts = &reportdoc.ConflictPart{
		Rows: []reportdoc.ConflictRow{
			{UnitCode: "CJ-WHP-0171", UnitName: "凤麓恒达加油加气站", Grade: riskmap.GradeRed, Target: "新城幼儿园", Kind: "幼儿园", People: 320, DistanceM: 90.4, RadiusM: 1520},
			{UnitCode: "CJ-RQ-0008", UnitName: "环湖东路中压燃气管线", Grade: riskmap.GradeOrange, Target: "澄江市第四小学", Kind: "学校", People: 1440, DistanceM: 73.6, RadiusM: 100, DefaultRadius: true},
		},
		More: 3, Units: 4, Targets: 5, People: 4321, Raised: 1, RaisedRule: "较大风险单元的影响范围内有学校、幼儿园或医院的，上调为重大",
		Maps: []reportdoc.Figure{{Caption: "图 1 全市安全距离冲突分布", PNG: png, Aspect: 0.75}},
	}
	d.Coverage = &reportdoc.CoveragePart{RequiredM2: 1.5, Shelters: 30,
		Districts: []reportdoc.CoverageRow{{Name: "澄江市", Population: 174000, Shelters: 30, EffectiveAreaM2: 286130, PerCapitaM2: 1.644, CoveredPopulation: 0.873, CoveredArea: 0.412, Class: reportdoc.CoverageOK}},
		Streets: []reportdoc.CoverageRow{
			{Name: "凤麓街道", Population: 62000, Shelters: 8, EffectiveAreaM2: 96100, PerCapitaM2: 1.55, CoveredPopulation: 0.95, CoveredArea: 0.6, Class: reportdoc.CoverageOK},
			{Name: "路居镇", Population: 14000, Shelters: 3, EffectiveAreaM2: 17320, PerCapitaM2: 1.237, ShortfallM2: 3680, CoveredPopulation: 0.51, CoveredArea: 0.2, Class: reportdoc.CoverageShort},
		},
		Map: &reportdoc.Figure{Caption: "图 7-1  各街道人均有效避难面积", PNG: png, Aspect: 0.75}}
	return d
}

func write(t *testing.T, name string, b []byte) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPDFReadableByPoppler(t *testing.T) {
	f := font(t)
	d := sample(t)
	raw, err := reportdoc.PDF(d, f)
	if err != nil {
		t.Fatal(err)
	}
	// Go's maps iterate in random order: write it a few times.
	for range 5 {
		if again, _ := reportdoc.PDF(sample(t), f); !bytes.Equal(raw, again) {
			t.Fatal("the same report written twice differs")
		}
	}
	if len(raw) > 2<<20 {
		t.Errorf("the PDF is %d bytes: the font is not subset", len(raw))
	}
	path := write(t, "report.pdf", raw)
	out, err := exec.Command(tool(t, "pdftotext"), path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"澄江市城市安全风险评估报告", "2026年12月6日", "重大和较大风险清单", "化工储罐区", "设置可燃气体报警装置", "区域风险等级", "储罐区防火堤破损", "城市燃气 & <管网>", "重大风险 2 个（5.0%）",
		"六、安全距离分析", "安全距离冲突分布图", "图 1 全市安全距离冲突分布", "凤麓恒达加油加气站", "新城幼儿园", "共 5 处安全距离不足", "4,321 人", "1520", "100（默认）", "另有 3 处冲突未列出",
		"七、应急避难场所覆盖", "按街道统计", "路居镇", "17,320", "1.24", "3,680", "87.3%", "不足", "未达到要求的街道 1 个", "图 7-1 各街道人均有效避难面积", "严重不足", "应急避难场所"} {
		if !strings.Contains(strings.NewReplacer("\f", "", "\n", "").Replace(text), want) {
			t.Errorf("pdftotext does not find %q", want)
		}
	}
	if t.Failed() {
		t.Logf("text:\n%s", text)
	}
	// Page 1 renders (the cover).
	prefix := filepath.Join(t.TempDir(), "page")
	if out, err := exec.Command(tool(t, "pdftoppm"), "-png", "-r", "40", "-f", "1", "-l", "2", path, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	matches, _ := filepath.Glob(prefix + "*.png")
	if len(matches) != 2 {
		t.Fatalf("pdftoppm made %v", matches)
	}
}

func TestDOCXReadableByPythonDocxAndLibreOffice(t *testing.T) {
	f := font(t)
	raw, err := reportdoc.DOCX(sample(t), f)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if again, _ := reportdoc.DOCX(sample(t), f); !bytes.Equal(raw, again) {
			t.Fatal("the same report written twice differs")
		}
	}
	path := write(t, "report.docx", raw)
	// python3-docx is Debian's: prefer Debian's interpreter to another python3 on PATH.
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		py = tool(t, "python3")
	}
	script := `
import sys, docx
d = docx.Document(sys.argv[1])
texts = [p.text for p in d.paragraphs]
print("TITLE" if "澄江市城市安全风险评估报告" in texts else "NOTITLE")
print("HEADINGS", "|".join(p.text for p in d.paragraphs if p.style.name == "Heading 1"))
print("TABLES", len(d.tables))
print("CELL", d.tables[3].cell(1, 2).text)
print("IMAGES", len(d.inline_shapes))
print("CONFLICT", "|".join(c.text for c in d.tables[7].rows[1].cells))
print("STREET", "|".join(c.text for c in d.tables[9].rows[2].cells))
`
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "No module named 'docx'") && os.Getenv("CI") == "" {
			t.Skip("python3-docx is not installed")
		}
		t.Fatalf("python-docx: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{"TITLE\n", "HEADINGS 一、风险单元总体情况|二、红橙黄蓝四色安全风险空间分布图|三、重大和较大风险清单|四、区域风险等级|五、隐患排查治理情况|六、安全距离分析|七、应急避难场所覆盖",
		"TABLES 10", "CELL 化工储罐区", "IMAGES 6",
		"CONFLICT 1|CJ-WHP-0171\n凤麓恒达加油加气站|重大|新城幼儿园|幼儿园|320|90|1520\n",
		"STREET 路居镇|14,000|3|17,320|1.24|1.5|3,680|51.0%|20.0%|不足\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("python-docx: want %q in\n%s", want, s)
		}
	}

	soffice, err := exec.LookPath("soffice")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("soffice is missing in CI (libreoffice-writer-nogui)")
		}
		t.Skip("soffice is not installed")
	}
	dir := t.TempDir()
	cmd := exec.Command(soffice, "--headless", "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--convert-to", "pdf", "--outdir", dir, path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	pdf := filepath.Join(dir, "report.pdf")
	out, err = exec.Command(tool(t, "pdftotext"), pdf, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("LibreOffice made no readable PDF: %v\n%s", err, out)
	}
	for _, want := range []string{"澄江市城市安全风险评估报告", "化工储罐区"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("LibreOffice's PDF lacks %q", want)
		}
	}
}

func TestFontMissingNamesThePackage(t *testing.T) {
	_, err := reportdoc.LoadFont("/nonexistent/font.ttf")
	code, msg, _ := riskmap.ClientError(err, riskmap.Chinese)
	if code != riskmap.EUNAVAILABLE || !strings.Contains(msg, "fonts-droid-fallback") {
		t.Fatalf("%s %q", code, msg)
	}
}

func TestCity(t *testing.T) {
	for in, want := range map[string]string{"澄江市安全生产委员会办公室（演示）": "澄江市", "": "本市", "某某县应急局": "某某县"} {
		if got := reportdoc.City(in); got != want {
			t.Errorf("City(%q) = %q, want %q", in, got, want)
		}
	}
}
