package reportdoc_test

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"riskmap/pkg/reportdoc"
	"riskmap/pkg/riskmap"
)

// monitoringSample is sample with the chapter 监测预警.
func monitoringSample(t testing.TB) *reportdoc.Data {
	d := sample(t)
	opened := time.Date(2026, 12, 5, 6, 30, 0, 0, time.UTC)
	d.Monitoring = &reportdoc.MonitoringPart{
		Points: 14, Online: 13, Alarmed: 2,
		ByKind:   []reportdoc.PointRow{{Label: "可燃气体浓度", Points: 9, Online: 8, Alarmed: 2}, {Label: "位移", Points: 5, Online: 5}},
		ByRegion: []reportdoc.PointRow{{Label: "凤麓街道", Points: 10, Online: 9, Alarmed: 2}, {Label: "路居镇", Points: 4, Online: 4}},
		Alarms: reportdoc.AlarmSummary{Total: 8, Open: 2, Closed: 6, Disposed: 6, DisposalRate: 0.75, AckN: 7, AckMean: 150, AckMedian: 90,
			DisposeN: 6, DisposeMean: 5400, DisposeMedian: 3000},
		StatsNote: "统计范围：系统记录的报警。",
		ByLevel: []reportdoc.AlarmRow{{Label: "红色预警", Grade: riskmap.GradeRed, Total: 3, Open: 1, Disposed: 2, DisposalRate: 2.0 / 3},
			{Label: "黄色预警", Grade: riskmap.GradeYellow, Total: 5, Open: 1, Disposed: 4, DisposalRate: 0.8}},
		ByAlarmKind: []reportdoc.AlarmRow{{Label: "可燃气体浓度", Total: 8, Open: 2, Disposed: 6, DisposalRate: 0.75}},
		ByAlarmDepartment: []reportdoc.AlarmRow{{Label: "应急局", Total: 5, Open: 2, Disposed: 3, DisposalRate: 0.6},
			{Label: "市场监管局", Total: 3, Disposed: 3, DisposalRate: 1}},
		ByAlarmRegion: []reportdoc.AlarmRow{{Label: "凤麓街道", Total: 8, Open: 2, Disposed: 6, DisposalRate: 0.75}},
		Open: []reportdoc.OpenAlarm{{Code: "BJ-1-20261205063000.5", Unit: "凤麓恒达加油加气站", Point: "JC-0001", Kind: "可燃气体浓度",
			Level: "红色预警", Grade: riskmap.GradeRed, Peak: "62.5 %LEL", OpenedAt: opened, Status: "已确认"}},
		OpenMore: 1,
	}
	return d
}

func TestMonitoringChapterPDF(t *testing.T) {
	f := font(t)
	raw, err := reportdoc.PDF(monitoringSample(t), f)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := reportdoc.PDF(monitoringSample(t), f); !bytes.Equal(raw, again) {
		t.Fatal("the same report written twice differs")
	}
	out, err := exec.Command(tool(t, "pdftotext"), write(t, "report.pdf", raw), "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := strings.NewReplacer("\f", "", "\n", "").Replace(string(out))
	for _, want := range []string{"八、监测预警", "共设监测点 14 个（可燃气体浓度 9 个、位移 5 个）", "当前在线 13 个", "监测点分布", "凤麓街道", "路居镇",
		"报警统计", "共发生报警 8 次", "75.0%。平均确认时间", "平均确认时间 2.5 分钟（中位数 1.5 分钟，7 次）", "平均处置时间 1.5 小时（中位数 50.0 分钟，6 次）",
		"红色预警", "66.7%", "未关闭的报警", "BJ-1-2026", "凤麓恒达加油加气站", "62.5 %LEL", "2026-12-05 14:30", "已确认",
		"另有 1 条未关闭的报警未列出"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext does not find %q", want)
		}
	}
	// The table of the alarms by department (监管部门), in the chapter (pdftotext reads its
	// cells out of order).
	chapter := text[max(0, strings.Index(text, "八、监测预警")):]
	for _, want := range []string{"监管部门", "应急局", "市场监管局", "60.0%"} {
		if !strings.Contains(chapter, want) {
			t.Errorf("pdftotext does not find %q in the chapter 监测预警", want)
		}
	}
	if t.Failed() {
		t.Logf("text:\n%s", out)
	}
	// Without points there is no chapter.
	d := monitoringSample(t)
	d.Monitoring.Points = 0
	raw, err = reportdoc.PDF(d, f)
	if err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(tool(t, "pdftotext"), write(t, "none.pdf", raw), "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "监测预警") {
		t.Error("a report without monitoring points has the chapter 监测预警")
	}
}

func TestMonitoringChapterDOCX(t *testing.T) {
	f := font(t)
	raw, err := reportdoc.DOCX(monitoringSample(t), f)
	if err != nil {
		t.Fatal(err)
	}
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		py = tool(t, "python3")
	}
	script := `
import sys, docx
d = docx.Document(sys.argv[1])
print("HEADINGS", "|".join(p.text for p in d.paragraphs if p.style.name == "Heading 1"))
print("SUB", "|".join(p.text for p in d.paragraphs if p.style.name == "Heading 2" and p.text.startswith("（")))
print("TEXT", "\n".join(p.text for p in d.paragraphs))
for t in d.tables[-7:]:
    print("ROW", "|".join(c.text for c in t.rows[0].cells), "/", "|".join(c.text for c in t.rows[1].cells))
`
	out, err := exec.Command(py, "-c", script, write(t, "report.docx", raw)).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "No module named 'docx'") && os.Getenv("CI") == "" {
			t.Skip("python3-docx is not installed")
		}
		t.Fatalf("python-docx: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{"|七、应急避难场所覆盖|八、监测预警\n", "（一）监测点分布|（二）报警统计|（三）未关闭的报警",
		"共发生报警 8 次，其中未关闭 2 次、已关闭 6 次；已处置 6 次，报警处置率 75.0%。",
		"ROW 监测类型|监测点|在线|有未关闭报警 / 可燃气体浓度|9|8|2\n",
		"ROW 区域|监测点|在线|有未关闭报警 / 凤麓街道|10|9|2\n",
		"ROW 预警级别|报警次数|未关闭|已处置|报警处置率 / 红色预警|3|1|2|66.7%\n",
		"ROW 监测类型|报警次数|未关闭|已处置|报警处置率 / 可燃气体浓度|8|2|6|75.0%\n",
		"ROW 监管部门|报警次数|未关闭|已处置|报警处置率 / 应急局|5|2|3|60.0%\n",
		"ROW 区域|报警次数|未关闭|已处置|报警处置率 / 凤麓街道|8|2|6|75.0%\n",
		"ROW 报警编号|风险单元|监测点|监测类型|预警级别|峰值|发生时间|状态 / BJ-1-20261205063000.5|凤麓恒达加油加气站|JC-0001|可燃气体浓度|红色预警|62.5 %LEL|2026-12-05 14:30|已确认\n",
		"另有 1 条未关闭的报警未列出"} {
		if !strings.Contains(s, want) {
			t.Errorf("python-docx: want %q in\n%s", want, s)
		}
	}
	// Without points there is no chapter.
	d := monitoringSample(t)
	d.Monitoring = &reportdoc.MonitoringPart{}
	raw, err = reportdoc.DOCX(d, f)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := zr.Open("word/document.xml")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(doc)
	if err != nil || !bytes.Contains(body, []byte("七、应急避难场所覆盖")) {
		t.Fatalf("document.xml: %v", err)
	}
	if bytes.Contains(body, []byte("监测预警")) {
		t.Error("a report without monitoring points has the chapter 监测预警")
	}
}
