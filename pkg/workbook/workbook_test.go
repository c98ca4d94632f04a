package workbook_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/xuri/excelize/v2"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/synth"
	"riskmap/pkg/workbook"
)

type env struct {
	cfg     *config.Config
	regions []*riskmap.Region
}

func newEnv(t testing.TB) *env {
	t.Helper()
	regions, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	return &env{cfg: config.Default(), regions: regions}
}

func (e *env) units(n int) []*riskmap.Unit {
	var us []*riskmap.Unit
	day := time.Date(2026, 3, 1, 2, 30, 0, 0, time.UTC)
	for u := range synth.Units(7, n, e.regions, e.cfg.Catalog) {
		u.Status = riskmap.StatusApproved
		res, err := e.cfg.Grader.Evaluate(u.Assessment, u.DirectMajorReason)
		if err != nil {
			panic(err)
		}
		u.Grade, u.InherentGrade, u.RiskValue = res.Grade, res.Grade, res.RiskValue
		if len(us)%3 == 0 {
			d := day.AddDate(0, 0, len(us))
			u.AssessedAt = &d
		}
		us = append(us, u)
	}
	return us
}

func (e *env) export() workbook.Export {
	colours := map[riskmap.Grade]string{}
	for g, c := range e.cfg.Grader.Config().Colours {
		colours[g] = c.Fill
	}
	return workbook.Export{Title: "澄江市城市安全风险清单", Date: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), Scope: "范围：全市",
		Colours: colours, Catalog: e.cfg.Catalog, Regions: e.regions}
}

func (e *env) write(t testing.TB, us []*riskmap.Unit, o workbook.Export) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := workbook.WriteUnits(&buf, us, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e *env) read(t testing.TB, b []byte, opts workbook.Options) ([]workbook.Row, error) {
	t.Helper()
	if opts.Catalog == nil {
		opts.Catalog, opts.Regions = e.cfg.Catalog, e.regions
	}
	book, err := workbook.Open(bytes.NewReader(b), int64(len(b)), opts)
	if err != nil {
		return nil, err
	}
	defer book.Close()
	var rows []workbook.Row
	for r, err := range book.Rows(context.Background()) {
		if err != nil {
			return rows, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// What the export writes, the reader reads back as the same units: the property h-import's
// "export the city, import it unchanged, nothing changes" rests on.
func TestRoundTrip(t *testing.T) {
	e := newEnv(t)
	us := e.units(400)
	// Text that looks like a formula stays text, and measures keep their items.
	us[0].Name = "=HYPERLINK(\"http://x\",\"点我\")"
	us[1].Address = "+86 路口"
	us[2].ContactPhone = "-123"
	us[3].Controls.Management = []string{"@每日巡查", "每周检查"}
	us[4].Geometry = orb.Polygon{{{102.9, 24.6}, {102.91, 24.6}, {102.91, 24.61}, {102.9, 24.6}}}
	for _, byGroup := range []bool{false, true} {
		o := e.export()
		o.ByGroup = byGroup
		b := e.write(t, us, o)
		rows, err := e.read(t, b, workbook.Options{GradeOK: func(u *riskmap.Unit, g riskmap.Grade) bool {
			for _, v := range us {
				if v.Code == u.Code {
					return v.Grade == g
				}
			}
			return false
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(us) {
			t.Fatalf("byGroup=%v: %d rows read back, %d written", byGroup, len(rows), len(us))
		}
		byCode := map[string]*riskmap.Unit{}
		for _, u := range us {
			byCode[u.Code] = u
		}
		for _, r := range rows {
			if len(r.Problems) > 0 {
				t.Fatalf("byGroup=%v: row %d: %s", byGroup, r.Number, r.Problems[0].Text())
			}
			want := byCode[r.Unit.Code]
			if want == nil || !workbook.Same(want, r.Unit) {
				t.Fatalf("byGroup=%v: row %d reads back as %+v, want %+v", byGroup, r.Number, r.Unit, want)
			}
			if r.Grade != want.Grade {
				t.Errorf("row %d: grade %q, want %q", r.Number, r.Grade, want.Grade)
			}
		}
	}
}

// A user opening the export sees the title, the date and scope, a frozen header with
// filters, grade cells in the grade's colour, and formula-looking text as text.
func TestExportAsUsersSeeIt(t *testing.T) {
	e := newEnv(t)
	us := e.units(50)
	us[0].Name = "=1+1"
	b := e.write(t, us, e.export())
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"风险清单"}) {
		t.Fatalf("sheets %v", got)
	}
	if v, _ := f.GetCellValue("风险清单", "A1"); v != "澄江市城市安全风险清单" {
		t.Errorf("title %q", v)
	}
	if v, _ := f.GetCellValue("风险清单", "A2"); !strings.Contains(v, "2026-12-06") || !strings.Contains(v, "范围：全市") || !strings.Contains(v, "共 50 个风险单元") {
		t.Errorf("date and scope row %q", v)
	}
	if v, _ := f.GetCellValue("风险清单", "B3"); v != "风险编号" {
		t.Errorf("header B3 %q", v)
	}
	panes, _ := f.GetPanes("风险清单")
	if !panes.Freeze || panes.YSplit != 3 {
		t.Errorf("header not frozen: %+v", panes)
	}
	name, _ := excelize.CoordinatesToCellName(3, 4)
	if v, _ := f.GetCellValue("风险清单", name); v != "=1+1" {
		t.Errorf("name cell %q", v)
	}
	if fm, _ := f.GetCellFormula("风险清单", name); fm != "" {
		t.Errorf("name cell is a formula %q", fm)
	}
	gradeCol := 0
	for i, c := range workbook.Columns {
		if c.Key == workbook.ColGrade {
			gradeCol = i + 1
		}
	}
	fills := map[riskmap.Grade]string{}
	for g, c := range e.cfg.Grader.Config().Colours {
		fills[g] = strings.ToUpper(strings.TrimPrefix(c.Fill, "#"))
	}
	for i, u := range us {
		cell, _ := excelize.CoordinatesToCellName(gradeCol, 4+i)
		if v, _ := f.GetCellValue("风险清单", cell); v != u.Grade.Label() {
			t.Fatalf("%s: %q, want %q", cell, v, u.Grade.Label())
		}
		id, _ := f.GetCellStyle("风险清单", cell)
		st, _ := f.GetStyle(id)
		if len(st.Fill.Color) == 0 || strings.ToUpper(st.Fill.Color[0]) != fills[u.Grade] {
			t.Fatalf("%s (%s) fill %v, want %s", cell, u.Grade.Label(), st.Fill.Color, fills[u.Grade])
		}
	}
}
