package workbook_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/xuri/excelize/v2"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/workbook"
)

// sheetOf builds an upload from a header and rows of cells (strings; a value beginning with
// "=" is set as a formula when formulas is true).
func sheetOf(t testing.TB, header []string, rows [][]any, edit func(f *excelize.File)) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	s := "Sheet1"
	_ = f.SetCellValue(s, "A1", "风险清单")
	if err := f.SetSheetRow(s, "A3", &header); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, 4+i)
		if err := f.SetSheetRow(s, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(f)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func headers() []string {
	h := make([]string, len(workbook.Columns))
	for i, c := range workbook.Columns {
		h[i] = c.Header
	}
	return h
}

// goodRow is a valid row of the layout, with changes by header.
func goodRow(change map[string]any) []any {
	base := map[string]any{"风险编号": "CJ-T-0001", "风险点名称": "测试加油站", "行政区划": "530481", "行业领域": "危险化学品",
		"评估方法": "LS", "可能性L（LS）": 3, "严重性S（LS）": 4, "经度": 102.91, "纬度": 24.67}
	for k, v := range change {
		base[k] = v
	}
	row := make([]any, len(workbook.Columns))
	for i, c := range workbook.Columns {
		row[i] = base[c.Header]
	}
	return row
}

func colRef(header string, row int) string {
	for i, c := range workbook.Columns {
		if c.Header == header {
			ref, _ := excelize.CoordinatesToCellName(i+1, row)
			return ref
		}
	}
	panic(header)
}

func messages(rows []workbook.Row) string {
	var s []string
	for _, r := range rows {
		for _, p := range r.Problems {
			s = append(s, p.Text())
		}
	}
	return strings.Join(s, "\n")
}

func TestReadRowProblems(t *testing.T) {
	e := newEnv(t)
	cat := e.cfg.Catalog
	if _, ok := cat.Category("hazardous_chemicals"); !ok {
		t.Skip("no hazardous_chemicals category")
	}
	cases := []struct {
		name   string
		change map[string]any
		want   string // in the problem's text
	}{
		{"text in a number column", map[string]any{"可能性L（LS）": "三"}, "第 4 行「可能性L（LS）」：应为数字，收到 \"三\""},
		{"an LS input out of range", map[string]any{"严重性S（LS）": 7}, "第 4 行「严重性S（LS）」：应为 1 至 5 的整数"},
		{"a grade typed in", map[string]any{"风险等级": "低风险"}, "第 4 行「风险等级」：不接受手填等级，由评估输入计算"},
		{"not a grade", map[string]any{"风险等级": "很高"}, "第 4 行「风险等级」：不接受手填等级，由评估输入计算"},
		{"unknown category", map[string]any{"行业领域": "不存在的行业"}, "第 4 行「行业领域」：未知的行业领域"},
		{"unknown region", map[string]any{"行政区划": "火星"}, "第 4 行「行政区划」：未知的行政区划"},
		{"bad date", map[string]any{"评估日期": "2026.12.6"}, "第 4 行「评估日期」：应为日期"},
		{"impossible date", map[string]any{"评估日期": "2026-02-30"}, "第 4 行「评估日期」：应为日期"},
		{"no place", map[string]any{"经度": nil, "纬度": nil}, "第 4 行「经度」：请填写经度、纬度"},
		{"both place and WKT", map[string]any{"WKT": "POINT(102.9 24.7)"}, "第 4 行「WKT」：经度、纬度与 WKT 只填一种"},
		{"bad WKT", map[string]any{"经度": nil, "纬度": nil, "WKT": "POLYGON((1 2"}, "第 4 行「WKT」：不是有效的 WKT"},
		{"bad CRS", map[string]any{"坐标系": "北京54"}, "第 4 行「坐标系」：应为 WGS84、GCJ-02 或 BD-09"},
		{"LEC inputs with LS", map[string]any{"后果C（LEC）": 7}, "第 4 行「后果C（LEC）」：评估方法为 LS，本列应留空"},
		{"bad method", map[string]any{"评估方法": "AHP"}, "第 4 行「评估方法」：应为 LS（风险矩阵法）或 LEC"},
		{"major hazard level", map[string]any{"重大危险源": "五级"}, "第 4 行「重大危险源」：应为 否、一级"},
		{"latitude", map[string]any{"纬度": 124.5}, "第 4 行「纬度」：纬度应在 -90 至 90 之间"},
		{"required name", map[string]any{"风险点名称": nil}, "第 4 行「风险点名称」：必填"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := sheetOf(t, headers(), [][]any{goodRow(c.change)}, nil)
			rows, err := e.read(t, b, workbook.Options{GradeOK: func(u *riskmap.Unit, g riskmap.Grade) bool {
				r, _ := e.cfg.Grader.Evaluate(u.Assessment, u.DirectMajorReason)
				return r.Grade == g
			}})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 || rows[0].Unit != nil || !strings.Contains(messages(rows), c.want) {
				t.Fatalf("problems %q, want %q", messages(rows), c.want)
			}
			if p := rows[0].Problems[0]; p.Row != 4 || p.Cell == "" {
				t.Errorf("problem at row %d cell %q", p.Row, p.Cell)
			}
		})
	}
}

func TestReadAcceptsDatesAndCoordinates(t *testing.T) {
	e := newEnv(t)
	var rows [][]any
	for _, d := range []any{"2026-12-06", "2026/12/6", "2026年12月6日", 46362} {
		rows = append(rows, goodRow(map[string]any{"评估日期": d}))
	}
	gx, gy := riskmap.FromWGS84(riskmap.GCJ02, 102.91, 24.67)
	rows = append(rows, goodRow(map[string]any{"经度": gx, "纬度": gy, "坐标系": "GCJ-02"}))
	bx, by := riskmap.FromWGS84(riskmap.BD09, 102.91, 24.67)
	rows = append(rows, goodRow(map[string]any{"经度": bx, "纬度": by, "坐标系": "百度"}))
	rows = append(rows, goodRow(map[string]any{"经度": nil, "纬度": nil, "坐标系": "GCJ-02",
		"WKT": fmt.Sprintf("POLYGON((%[1]v %[2]v,%[3]v %[2]v,%[3]v %[4]v,%[1]v %[2]v))", gx, gy, gx+0.01, gy+0.01)}))
	rows = append(rows, goodRow(map[string]any{"评估方法": "LEC（作业条件危险性分析法）", "可能性L（LS）": nil, "严重性S（LS）": nil,
		"可能性L（LEC）": 3, "暴露频率E（LEC）": 6, "后果C（LEC）": 15, "风险类别/可能导致的事故类型": "火灾、火药爆炸", "重大危险源": "二级",
		"工程技术措施": "安装可燃气体报警器；设置防爆电气\n加装紧急切断阀", "行政区划": "澄江市"}))
	// a date typed as a real date cell
	b := sheetOf(t, headers(), rows, func(f *excelize.File) {
		style, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
		_ = f.SetCellStyle("Sheet1", colRef("评估日期", 7), colRef("评估日期", 7), style)
	})
	got, err := e.read(t, b, workbook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if msg := messages(got); msg != "" {
		t.Fatal(msg)
	}
	for _, r := range got[:4] {
		if d := riskmap.ChinaDay(*r.Unit.AssessedAt).Format("2006-01-02"); d != "2026-12-06" {
			t.Errorf("row %d: date %s", r.Number, d)
		}
	}
	for _, r := range got[4:6] {
		p := r.Unit.Geometry.(orb.Point)
		if math.Abs(p[0]-102.91) > 1e-7 || math.Abs(p[1]-24.67) > 1e-7 {
			t.Errorf("row %d: %v, want 102.91 24.67", r.Number, p)
		}
	}
	poly := got[6].Unit.Geometry.(orb.Polygon)
	if math.Abs(poly[0][0][0]-102.91) > 1e-7 || math.Abs(poly[0][0][1]-24.67) > 1e-7 {
		t.Errorf("WKT in GCJ-02: %v", poly[0][0])
	}
	u := got[7].Unit
	if u.Assessment.Method != "LEC" || u.Assessment.E != 6 || u.MajorHazardSource == nil || u.MajorHazardSource.Level != 2 ||
		len(u.AccidentTypes) != 2 || len(u.Controls.Engineering) != 3 || u.RegionCode != "530481" {
		t.Errorf("LEC row read as %+v", u)
	}
}

func TestReadRefusesFiles(t *testing.T) {
	e := newEnv(t)
	bomb := func(name string, n int) []byte {
		var buf bytes.Buffer
		z := zip.NewWriter(&buf)
		for _, part := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
			w, _ := z.Create(part)
			w.Write([]byte("<x/>"))
		}
		w, _ := z.Create(name)
		chunk := bytes.Repeat([]byte("<si><t>a</t></si>"), 1<<16)
		for written := 0; written < n; written += len(chunk) {
			w.Write(chunk)
		}
		z.Close()
		return buf.Bytes()
	}
	h := headers()
	without := func(drop string) []string {
		var out []string
		for _, x := range h {
			if x != drop {
				out = append(out, x)
			}
		}
		return out
	}
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"not a zip", []byte("编号,名称\nCJ-1,加油站\n"), "文件不是 Excel 工作簿（.xlsx）"},
		{"an old xls", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 600)...), "Excel 97-2003"},
		{"a zip bomb", bomb("xl/worksheets/sheet1.xml", 40<<20), "疑似压缩炸弹"},
		{"millions of shared strings", bomb("xl/sharedStrings.xml", 80<<20), "共享文本表"},
		{"a wrong template", sheetOf(t, []string{"隐患编号", "隐患描述"}, nil, nil), "不是风险清单"},
		{"a missing required column", sheetOf(t, without("评估方法"), nil, nil), "缺少必填列：「评估方法」"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.read(t, c.file, workbook.Options{})
			if riskmap.ErrorCode(err) != riskmap.EINVALID || !strings.Contains(riskmap.ErrorMessage(err), c.want) {
				t.Fatalf("error %v, want EINVALID with %q", err, c.want)
			}
		})
	}
}

func TestReadRefusesFormulasAndMergedCells(t *testing.T) {
	e := newEnv(t)
	b := sheetOf(t, headers(), [][]any{goodRow(nil), goodRow(map[string]any{"风险编号": "CJ-T-0002"}), goodRow(map[string]any{"风险编号": "CJ-T-0003"})}, func(f *excelize.File) {
		_ = f.SetCellFormula("Sheet1", colRef("可能性L（LS）", 4), "1+2")
		_ = f.MergeCell("Sheet1", colRef("责任单位", 5), colRef("责任单位", 6))
	})
	rows, err := e.read(t, b, workbook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	msg := messages(rows)
	for _, want := range []string{"第 4 行「可能性L（LS）」：不接受公式", "第 5 行「责任单位」：数据区不能有合并单元格"} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems %q lack %q", msg, want)
		}
	}
	if rows[0].Unit != nil || rows[1].Unit != nil {
		t.Error("a row with a formula or a merge gave a unit")
	}
}

func TestReadRowLimit(t *testing.T) {
	e := newEnv(t)
	var rows [][]any
	for i := range 11 {
		rows = append(rows, goodRow(map[string]any{"风险编号": fmt.Sprintf("CJ-T-%04d", i)}))
	}
	b := sheetOf(t, headers(), rows, nil)
	_, err := e.read(t, b, workbook.Options{Limits: workbook.Limits{MaxRows: 10}})
	if riskmap.ErrorCode(err) != riskmap.EINVALID || !strings.Contains(riskmap.ErrorMessage(err), "数据超过 10 行") {
		t.Fatalf("error %v", err)
	}
}

// A sheet of 1,048,576 rows (the most Excel has) is refused with a clear message.
func TestReadAMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a million rows")
	}
	e := newEnv(t)
	f := excelize.NewFile()
	sw, _ := f.NewStreamWriter("Sheet1")
	h := headers()
	hs := make([]any, len(h))
	for i := range h {
		hs[i] = h[i]
	}
	_ = sw.SetRow("A3", hs)
	for n := 4; n <= excelize.TotalRows; n++ {
		cell, _ := excelize.CoordinatesToCellName(2, n)
		_ = sw.SetRow(cell, []any{n})
	}
	_ = sw.Flush()
	var buf bytes.Buffer
	_, _ = f.WriteTo(&buf)
	_, err := e.read(t, buf.Bytes(), workbook.Options{})
	if riskmap.ErrorCode(err) != riskmap.EINVALID || !strings.Contains(riskmap.ErrorMessage(err), "数据超过 200000 行") &&
		!strings.Contains(riskmap.ErrorMessage(err), "压缩") {
		t.Fatalf("error %v", err)
	}
	t.Log(riskmap.ErrorMessage(err))
}

// The marked copy: the bad cells red with a comment saying what is wrong, every row's
// problems in 问题说明, and the good rows as they were.
func TestMarkedCopy(t *testing.T) {
	e := newEnv(t)
	b := sheetOf(t, headers(), [][]any{goodRow(nil), goodRow(map[string]any{"风险编号": "CJ-T-0002", "可能性L（LS）": "三", "评估日期": "2026/12/6"})}, nil)
	rows, err := e.read(t, b, workbook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var problems []workbook.Problem
	for _, r := range rows {
		problems = append(problems, r.Problems...)
	}
	if len(problems) != 1 {
		t.Fatalf("problems %v", problems)
	}
	var out bytes.Buffer
	if err := workbook.Mark(&out, bytes.NewReader(b), int64(len(b)), problems, workbook.Options{Catalog: e.cfg.Catalog, Regions: e.regions}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bad := colRef("可能性L（LS）", 5)
	id, _ := f.GetCellStyle("Sheet1", bad)
	st, _ := f.GetStyle(id)
	if len(st.Fill.Color) == 0 || !strings.EqualFold(st.Fill.Color[0], "FF0000") {
		t.Errorf("bad cell %s fill %v", bad, st.Fill.Color)
	}
	if v, _ := f.GetCellValue("Sheet1", bad); v != "三" {
		t.Errorf("bad cell keeps its value: %q", v)
	}
	cs, _ := f.GetComments("Sheet1")
	if len(cs) != 1 || cs[0].Cell != bad || !strings.Contains(cs[0].Paragraph[0].Text+cs[0].Text, "应为数字") {
		t.Errorf("comments %+v", cs)
	}
	rs, _ := f.GetRows("Sheet1")
	head, last := rs[2], rs[4]
	if head[len(head)-1] != "问题说明" || !strings.Contains(last[len(last)-1], "第 5 行「可能性L（LS）」：应为数字") {
		t.Errorf("问题说明: %q / %q", head[len(head)-1], last[len(last)-1])
	}
	if v, _ := f.GetCellValue("Sheet1", colRef("评估日期", 5)); v != "2026-12-06" {
		t.Errorf("date %q", v)
	}
	// the marked copy, fixed, reads clean
	_ = f.SetCellValue("Sheet1", bad, 3)
	var fixed bytes.Buffer
	_, _ = f.WriteTo(&fixed)
	rows, err = e.read(t, fixed.Bytes(), workbook.Options{})
	if err != nil || messages(rows) != "" || len(rows) != 2 {
		t.Fatalf("the fixed copy: %v %s (%d rows)", err, messages(rows), len(rows))
	}
}
