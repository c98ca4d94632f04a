package workbook

import (
	"bytes"
	"context"
	"strings"
	"testing"

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
