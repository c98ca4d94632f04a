package httpapi_test

import (
	"encoding/csv"
	"strings"
	"testing"
)

// readCSV checks the byte-order mark and reads the rows of a CSV answer.
func readCSV(t *testing.T, r resp) [][]string {
	t.Helper()
	if r.code != 200 {
		t.Fatalf("CSV: %d %s", r.code, r.body)
	}
	body, ok := strings.CutPrefix(string(r.body), "\ufeff")
	if !ok {
		t.Fatalf("the CSV has no byte-order mark: %q", clipb(r.body))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestUnitsCSVLanguage: the CSV export is Chinese by default — the register table's columns,
// Chinese headers, grade, status and category labels, region names — and keeps the English
// machine columns and values existing clients read when English is asked for (?lang=en or
// Accept-Language).
func TestUnitsCSVLanguage(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	for _, f := range []string{feature("CSV-1", "液化气站甲", 102.912, 24.671, 5, 5), feature("CSV-2", "=HYPERLINK(1)", 102.913, 24.672, 1, 1)} {
		if r := e.do("POST", "/api/v1/units", f); r.code != 201 {
			t.Fatalf("create: %d %s", r.code, r.body)
		}
	}

	zh := e.do("GET", "/api/v1/units.csv?q=CSV-", "")
	if !strings.Contains(string(zh.body), "\r\n") {
		t.Errorf("the Chinese CSV's lines end in CRLF, as the table's own export")
	}
	if zh.header.Get("Content-Language") != "zh-CN" {
		t.Errorf("Content-Language: %q", zh.header.Get("Content-Language"))
	}
	rows := readCSV(t, zh)
	want := []string{"编号", "名称", "行业领域", "风险等级", "风险值", "所属区域", "监管部门", "责任单位", "状态", "下次复核", "地址"}
	if strings.Join(rows[0], ",") != strings.Join(want, ",") {
		t.Fatalf("Chinese header: %q", rows[0])
	}
	if len(rows) != 3 {
		t.Fatalf("want 2 units, got %q", rows)
	}
	red := rows[1]
	if red[0] != "CSV-1" || red[1] != "液化气站甲" || red[2] != "危险化学品" || red[3] != "重大风险" || red[4] != "25" || red[8] != "草稿" {
		t.Errorf("Chinese row: %q", red)
	}
	if red[5] == "" || strings.Trim(red[5], "0123456789") == "" {
		t.Errorf("the region is named, not coded: %q", red[5])
	}
	if rows[2][1] != "'=HYPERLINK(1)" || rows[2][3] != "低风险" {
		t.Errorf("second row (a formula is defused): %q", rows[2])
	}

	machine := "id,code,category,category_label,region_code,grade,grade_label,name,status,responsible_department,version"
	for _, en := range []resp{
		e.do("GET", "/api/v1/units.csv?q=CSV-&lang=en", ""),
		e.do("GET", "/api/v1/units.csv?q=CSV-", "", "Accept-Language", "en-US,en;q=0.9"),
	} {
		rows := readCSV(t, en)
		if strings.Join(rows[0], ",") != machine {
			t.Fatalf("English header: %q", rows[0])
		}
		if r := rows[1]; r[1] != "CSV-1" || r[2] != "hazardous_chemicals" || r[5] != "red" || r[8] != "draft" || r[10] != "1" {
			t.Errorf("English row: %q", r)
		}
	}
	// ?lang wins over the header.
	if rows := readCSV(t, e.do("GET", "/api/v1/units.csv?q=CSV-&lang=zh-CN", "", "Accept-Language", "en")); rows[0][0] != "编号" {
		t.Errorf("?lang=zh-CN: %q", rows[0])
	}
	bad := e.do("GET", "/api/v1/units.csv?lang=fr", "")
	if bad.code != 400 {
		t.Fatalf("?lang=fr: %d %s", bad.code, bad.body)
	}
	// Filters still apply.
	if rows := readCSV(t, e.do("GET", "/api/v1/units.csv?q=CSV-&grade=blue", "")); len(rows) != 2 || rows[1][0] != "CSV-2" {
		t.Errorf("grade=blue: %q", rows)
	}
}

// TestPublicCSVLanguage: the public export is Chinese by default with the public columns.
func TestPublicCSVLanguage(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	f := strings.Replace(feature("PUB-1", "内部名称", 102.912, 24.671, 5, 5), `"code":`, `"public_label":"某加油站","code":`, 1)
	r := e.do("POST", "/api/v1/units", f)
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	var id string
	if loc := r.header.Get("Location"); loc != "" {
		id = loc[strings.LastIndexByte(loc, '/')+1:]
	}
	etag := r.header.Get("ETag")
	if s := e.do("POST", "/api/v1/units/"+id+"/submit", "", "If-Match", etag); s.code != 200 {
		t.Fatalf("submit: %d %s", s.code, s.body)
	}
	etag = e.do("GET", "/api/v1/units/"+id, "").header.Get("ETag")
	if a := e.do("POST", "/api/v1/units/"+id+"/approve", "", append(e.as("expert1"), "If-Match", etag)...); a.code != 200 {
		t.Fatalf("approve: %d %s", a.code, a.body)
	}
	if p := e.do("POST", "/api/v1/publications", `{"note":"测试"}`); p.code != 201 {
		t.Fatalf("publish: %d %s", p.code, p.body)
	}
	rows := readCSV(t, e.do("GET", "/public/api/v1/units.csv", "", "Authorization", ""))
	if strings.Join(rows[0], ",") != "编号,名称,行业领域,风险等级,所属区域" || len(rows) != 2 {
		t.Fatalf("public Chinese CSV: %q", rows)
	}
	if r := rows[1]; r[0] != "PUB-1" || r[1] != "某加油站" || r[3] != "重大风险" || strings.Contains(strings.Join(r, ","), "内部名称") {
		t.Errorf("public row: %q", r)
	}
	rows = readCSV(t, e.do("GET", "/public/api/v1/units.csv?lang=en", "", "Authorization", ""))
	if strings.Join(rows[0], ",") != "id,code,category,category_label,region_code,grade,grade_label" {
		t.Errorf("public English CSV: %q", rows[0])
	}
}
