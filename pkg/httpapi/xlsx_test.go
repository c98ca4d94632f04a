package httpapi_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"riskmap/pkg/workbook"
)

// openXLSX checks an xlsx answer and opens it with excelize.
func openXLSX(t *testing.T, r resp) *excelize.File {
	t.Helper()
	if r.code != 200 {
		t.Fatalf("xlsx: %d %s", r.code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.Contains(r.header.Get("Content-Disposition"), ".xlsx") {
		t.Errorf("Content-Disposition %q", r.header.Get("Content-Disposition"))
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// codes lists the 风险编号 column of a sheet's data rows.
func codes(t *testing.T, f *excelize.File, sheet string) []string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows[3:] {
		out = append(out, r[1])
	}
	return out
}

// The export as each user sees it: the map's filters, the department's scope, one sheet per
// 行业大类, the 双清单 with the hidden dangers, and clear refusals of unknown options.
func TestUnitsXLSX(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	for _, f := range []string{feature("XL-1", "液化气站甲", 102.912, 24.671, 5, 5), feature("XL-2", "=HYPERLINK(\"http://x\")", 102.913, 24.672, 1, 1),
		strings.Replace(feature("XL-3", "在建工地", 102.914, 24.673, 3, 3), "hazardous_chemicals", "construction", 1)} {
		if r := e.do("POST", "/api/v1/units", f); r.code != 201 {
			t.Fatalf("create: %d %s", r.code, r.body)
		}
	}
	f := openXLSX(t, e.do("GET", "/api/v1/units.xlsx?q=XL-", ""))
	if got := codes(t, f, "风险清单"); !slices.Equal(got, []string{"XL-1", "XL-2", "XL-3"}) {
		t.Errorf("admin's rows %v", got)
	}
	if v, _ := f.GetCellValue("风险清单", "A1"); !strings.HasSuffix(v, "城市安全风险清单") {
		t.Errorf("title %q", v)
	}
	if v, _ := f.GetCellValue("风险清单", "A2"); !strings.Contains(v, "范围：全部") || !strings.Contains(v, "q=XL-") {
		t.Errorf("scope row %q", v)
	}
	if v, _ := f.GetCellValue("风险清单", "C5"); v != "=HYPERLINK(\"http://x\")" {
		t.Errorf("formula-looking name %q", v)
	}
	if fm, _ := f.GetCellFormula("风险清单", "C5"); fm != "" {
		t.Errorf("a name became the formula %q", fm)
	}
	// the map's filters, as units.csv
	if got := codes(t, openXLSX(t, e.do("GET", "/api/v1/units.xlsx?q=XL-&grade=red", "")), "风险清单"); !slices.Equal(got, []string{"XL-1"}) {
		t.Errorf("grade=red: %v", got)
	}
	// a department sees its scope only: zjj has construction in 530481
	zf := openXLSX(t, e.do("GET", "/api/v1/units.xlsx?q=XL-", "", e.as("zjj")...))
	if got := codes(t, zf, "风险清单"); !slices.Equal(got, []string{"XL-3"}) {
		t.Errorf("zjj's rows %v", got)
	}
	if v, _ := zf.GetCellValue("风险清单", "A2"); !strings.Contains(v, "住建局管辖范围") {
		t.Errorf("zjj's scope row %q", v)
	}
	// one sheet per 行业大类, and the hidden dangers
	bf := openXLSX(t, e.do("GET", "/api/v1/units.xlsx?q=XL-&sheets=category&with=hazards", ""))
	sheets := bf.GetSheetList()
	if len(sheets) < 2 || sheets[len(sheets)-1] != workbook.HazardsSheet || sheets[0] == workbook.UnitsSheet {
		t.Errorf("sheets %v", sheets)
	}
	n := 0
	for _, s := range sheets[:len(sheets)-1] {
		n += len(codes(t, bf, s))
	}
	if n != 3 {
		t.Errorf("%d units in the sheets by 行业大类, want 3", n)
	}
	if v, _ := bf.GetCellValue(workbook.HazardsSheet, "A3"); v != "隐患编号" {
		t.Errorf("隐患清单 header %q", v)
	}
	for _, q := range []string{"sheets=all", "with=photos", "lang=en", "colour=red"} {
		r := e.do("GET", "/api/v1/units.xlsx?"+q, "")
		if r.code != 400 || !strings.ContainsAny(string(r.body), "应不") {
			t.Errorf("?%s: %d %s", q, r.code, r.body)
		}
	}
	if r := e.do("GET", "/api/v1/units.xlsx", "", "Authorization", ""); r.code != 401 {
		t.Errorf("anonymous: %d", r.code)
	}
	h := openXLSX(t, e.do("GET", "/api/v1/hazards.xlsx", ""))
	if got := h.GetSheetList(); !slices.Equal(got, []string{workbook.HazardsSheet}) {
		t.Errorf("hazards.xlsx sheets %v", got)
	}
	if r := e.do("GET", "/api/v1/hazards.xlsx?level=huge", ""); r.code != 400 {
		t.Errorf("hazards.xlsx?level=huge: %d", r.code)
	}

	checkWithOpenpyxl(t, e.do("GET", "/api/v1/units.xlsx?q=XL-", "").body, e.do("GET", "/api/v1/templates/units.xlsx", "").body)
	checkZipXML(t, e.do("GET", "/api/v1/units.xlsx?q=XL-", "").body)
}

// The template: the layout's header, dropdowns, the instructions, and nothing an import
// would take for a unit.
func TestUnitsTemplate(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	f := openXLSX(t, e.do("GET", "/api/v1/templates/units.xlsx", "", e.as("zjj")...))
	if got := f.GetSheetList(); !slices.Contains(got, workbook.UnitsSheet) || !slices.Contains(got, workbook.NotesSheet) {
		t.Fatalf("sheets %v", got)
	}
	dvs, err := f.GetDataValidations(workbook.UnitsSheet)
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string]string{}
	for _, dv := range dvs {
		col := strings.TrimRight(strings.SplitN(dv.Sqref, ":", 2)[0], "0123456789")
		n, _ := excelize.ColumnNameToNumber(col)
		lists[workbook.Columns[n-1].Header] = dv.Formula1
	}
	for _, h := range []string{"行业领域", "行政区划", "风险类别/可能导致的事故类型", "评估方法", "坐标系", "重大危险源"} {
		if lists[h] == "" {
			t.Errorf("no dropdown on %s (%v)", h, lists)
		}
	}
	if !strings.Contains(lists["评估方法"], "LEC") {
		t.Errorf("评估方法 list %q", lists["评估方法"])
	}
	rows, _ := f.GetRows(workbook.NotesSheet)
	text := ""
	for _, r := range rows {
		text += strings.Join(r, " ") + "\n"
	}
	if !strings.Contains(text, "风险编号") || !strings.Contains(text, "不接受手填") {
		t.Errorf("说明 %q", text)
	}
}

// checkWithOpenpyxl reads the export and the template with openpyxl (python3-openpyxl), a
// reader independent of excelize, and checks what a user sees.
func checkWithOpenpyxl(t *testing.T, export, template []byte) {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import openpyxl").Run(); err != nil {
		t.Log("python3-openpyxl is not installed: the independent reader is skipped")
		return
	}
	dir := t.TempDir()
	ep, tp := filepath.Join(dir, "export.xlsx"), filepath.Join(dir, "template.xlsx")
	_ = os.WriteFile(ep, export, 0o600)
	_ = os.WriteFile(tp, template, 0o600)
	script := `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb["风险清单"]
head = [c.value for c in ws[3]]
gi = head.index("风险等级") + 1
out = {"title": ws["A1"].value, "freeze": ws.freeze_panes, "filter": ws.auto_filter.ref, "header": head,
  "names": [(ws.cell(row=r, column=3).value, ws.cell(row=r, column=3).data_type) for r in range(4, ws.max_row + 1)],
  "grades": [(ws.cell(row=r, column=gi).value, ws.cell(row=r, column=gi).fill.fgColor.rgb) for r in range(4, ws.max_row + 1)]}
tw = openpyxl.load_workbook(sys.argv[2])
out["template_sheets"] = tw.sheetnames
out["validations"] = [(str(dv.sqref), dv.formula1) for dv in tw["风险清单"].data_validations.dataValidation]
print(json.dumps(out, ensure_ascii=False))
`
	b, err := exec.Command(py, "-c", script, ep, tp).CombinedOutput()
	if err != nil {
		t.Fatalf("openpyxl: %v\n%s", err, b)
	}
	var got struct {
		Title, Freeze, Filter string
		Header                []string
		Names, Grades         [][2]string
		TemplateSheets        []string `json:"template_sheets"`
		Validations           [][2]string
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if !strings.HasSuffix(got.Title, "城市安全风险清单") || got.Freeze != "D4" || !strings.HasPrefix(strings.ReplaceAll(got.Filter, "$", ""), "A3:") || got.Header[1] != "风险编号" {
		t.Errorf("openpyxl sees title %q, frozen at %q, filter %q, header %v", got.Title, got.Freeze, got.Filter, got.Header)
	}
	for _, n := range got.Names {
		if n[1] == "f" {
			t.Errorf("openpyxl reads a formula in %q", n[0])
		}
	}
	if got.Names[1][0] != "=HYPERLINK(\"http://x\")" {
		t.Errorf("openpyxl reads the name %q", got.Names[1][0])
	}
	fills := map[string]string{"重大风险": "FFE60012", "低风险": "", "一般风险": ""}
	for _, g := range got.Grades {
		if want := fills[g[0]]; want != "" && !strings.EqualFold(g[1], want) {
			t.Errorf("openpyxl sees %s filled %s, want %s", g[0], g[1], want)
		}
		if g[1] == "00000000" || g[1] == "" {
			t.Errorf("grade %s has no fill", g[0])
		}
	}
	if !slices.Contains(got.TemplateSheets, "说明") || len(got.Validations) < 6 {
		t.Errorf("openpyxl sees template sheets %v, validations %v", got.TemplateSheets, got.Validations)
	}
}

// checkZipXML reads the export's parts with archive/zip and checks the worksheet's XML: a
// frozen pane, the filter, and no formula anywhere.
func checkZipXML(t *testing.T, b []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name != "xl/worksheets/sheet1.xml" {
			continue
		}
		rc, _ := f.Open()
		x, _ := io.ReadAll(rc)
		rc.Close()
		s := string(x)
		for _, want := range []string{`state="frozen"`, `ySplit="3"`, `<autoFilter ref="`} {
			if !strings.Contains(s, want) {
				t.Errorf("sheet1.xml lacks %s", want)
			}
		}
		if strings.Contains(s, "<f>") || strings.Contains(s, "<f ") {
			t.Error("sheet1.xml has a formula")
		}
		return
	}
	t.Error("no xl/worksheets/sheet1.xml")
}
