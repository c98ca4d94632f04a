package workbook

import (
	"archive/zip"
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"riskmap/pkg/config"
	"riskmap/pkg/riskmap"
)

// FuzzParseRow: any cells in a row of the layout give a unit or problems, never a panic;
// a unit read is one CheckFields accepts, with a WGS 84 geometry.
func FuzzParseRow(f *testing.F) {
	cfg := config.Default()
	regions := []*riskmap.Region{{Code: "530481", Name: "澄江市"}, {Code: "530481001", Name: "凤麓街道"}}
	b := &Book{opts: Options{Catalog: cfg.Catalog, Regions: regions}, limits: DefaultLimits.withDefaults()}
	s := &sheet{name: UnitsSheet, headerRow: 3, cols: map[string]int{}, marks: &sheetMarks{formulas: map[int][]int{}}}
	for i, c := range Columns {
		s.cols[c.Key] = i
		s.headers = append(s.headers, c.Header)
	}
	seed := func(m map[string]string) string {
		cells := make([]string, len(Columns))
		for i, c := range Columns {
			cells[i] = m[c.Key]
		}
		return strings.Join(cells, "\x1f")
	}
	f.Add(seed(map[string]string{ColCode: "CJ-1", ColName: "加油站", ColRegion: "530481 澄江市", ColCategory: "危险化学品",
		ColMethod: "LS", ColLSL: "3", ColLSS: "4", ColLon: "102.9", ColLat: "24.6", ColAssessedAt: "2026年12月6日", ColGrade: "较大风险"}))
	f.Add(seed(map[string]string{ColCode: "CJ-2", ColName: "=1+1", ColRegion: "凤麓街道", ColCategory: "hazardous_chemicals",
		ColMethod: "LEC（作业条件危险性分析法）", ColLECL: "3", ColLECE: "6", ColLECC: "15", ColWKT: "POLYGON((102.9 24.6,103 24.6,103 24.7,102.9 24.6))",
		ColCRS: "BD-09", ColAccidentTypes: "火灾、滑坡、崩塌、泥石流", ColMajorHazard: "二级", ColEngineering: "一；二\n三", ColAssessedAt: "46362"}))
	f.Add(seed(map[string]string{ColMethod: "", ColLSL: "NaN", ColLon: "1e400", ColLat: "-0", ColAssessedAt: "2026/2/30"}))
	f.Fuzz(func(t *testing.T, row string) {
		cells := strings.Split(row, "\x1f")
		r := b.parseRow(s, 4, cells)
		if r.Unit == nil && len(r.Problems) == 0 {
			t.Fatal("neither a unit nor problems")
		}
		for _, p := range r.Problems {
			if p.Row != 4 || p.Text() == "" {
				t.Fatalf("problem %+v", p)
			}
		}
		if u := r.Unit; u != nil {
			if p := u.CheckFields(cfg.Catalog); len(p) > 0 {
				t.Fatalf("unit read has problems %v", p)
			}
		}
	})
}

// FuzzOpen: any bytes as an upload are refused with a clear error or read, never a panic.
func FuzzOpen(f *testing.F) {
	cfg := config.Default()
	var buf bytes.Buffer
	_ = Template(&buf, Export{Catalog: cfg.Catalog, Title: "风险清单"})
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		book, err := Open(bytes.NewReader(data), int64(len(data)), Options{Catalog: cfg.Catalog, Limits: Limits{MaxRows: 100}})
		if err != nil {
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		defer book.Close()
		for _, err := range book.Rows(context.Background()) {
			if err != nil && riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
		}
	})
}

// TestFastRowsAsExcelize: the rows read straight from the XML are excelize's, cell for cell,
// for an export (inline strings, numbers, dates, merged title), an upload written as Excel
// writes it (shared strings, rich text, formulas, booleans) and the template.
func TestFastRowsAsExcelize(t *testing.T) {
	cfg := config.Default()
	var files [][]byte
	var buf bytes.Buffer
	_ = Template(&buf, Export{Catalog: cfg.Catalog, Title: "风险清单"})
	files = append(files, append([]byte(nil), buf.Bytes()...))
	f := excelize.NewFile()
	_ = f.SetSheetRow("Sheet1", "A3", &[]any{"序号", "风险编号", "风险点名称", "经度", "纬度", "评估日期"})
	_ = f.SetSheetRow("Sheet1", "A4", &[]any{1, "CJ-1", "加油站 <&> \"甲\"", 102.912345678901, 24.6, 46362})
	_ = f.SetSheetRow("Sheet1", "B6", &[]any{"CJ-2", "=1+1", true, false, 1e-7})
	_ = f.SetCellFormula("Sheet1", "D6", "1+2")
	_ = f.SetCellRichText("Sheet1", "C7", []excelize.RichTextRun{{Text: "富"}, {Text: "文本", Font: &excelize.Font{Bold: true}}})
	_ = f.SetCellValue("Sheet1", "AZ9", "  前后空格  ")
	buf.Reset()
	_, _ = f.WriteTo(&buf)
	files = append(files, append([]byte(nil), buf.Bytes()...))
	u := &riskmap.Unit{Code: "=CJ", Name: "x\n<y>", Category: "hazardous_chemicals", RegionCode: "530481",
		Assessment: riskmap.Assessment{Method: "LS", Likelihood: 2, Severity: 3}, Grade: riskmap.GradeYellow}
	buf.Reset()
	_ = WriteUnits(&buf, []*riskmap.Unit{u, u}, Export{Catalog: cfg.Catalog, Title: "清单", ByGroup: true})
	files = append(files, append([]byte(nil), buf.Bytes()...))
	for i, data := range files {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		xf, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		paths := sheetPaths(zr)
		sst, err := readSharedStrings(zr)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range xf.GetSheetList() {
			var want [][]string
			rows, _ := xf.Rows(name)
			for rows.Next() {
				c, _ := rows.Columns(excelize.Options{RawCellValue: true})
				want = append(want, trimEnd(c))
			}
			rows.Close()
			var got [][]string
			if err := fastRows(zr, paths[name], sst, func(n int, cells []string) bool {
				if n != len(got)+1 {
					t.Fatalf("file %d sheet %s: row %d after %d", i, name, n, len(got))
				}
				got = append(got, trimEnd(slices.Clone(cells)))
				return true
			}); err != nil {
				t.Fatal(err)
			}
			for len(want) > 0 && len(want[len(want)-1]) == 0 {
				want = want[:len(want)-1]
			}
			for len(got) > 0 && len(got[len(got)-1]) == 0 {
				got = got[:len(got)-1]
			}
			if len(got) != len(want) {
				t.Fatalf("file %d sheet %s: %d rows, excelize %d", i, name, len(got), len(want))
			}
			for r := range want {
				if !slices.Equal(got[r], want[r]) {
					t.Errorf("file %d sheet %s row %d:\n got %q\nwant %q", i, name, r+1, got[r], want[r])
				}
			}
		}
		xf.Close()
	}
}

func trimEnd(c []string) []string {
	for len(c) > 0 && c[len(c)-1] == "" {
		c = c[:len(c)-1]
	}
	return c
}
