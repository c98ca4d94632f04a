package imports_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/imports"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/workbook"
)

var admin = &riskmap.User{Name: "admin", Role: riskmap.RoleAdmin}

type env struct {
	store   riskmap.Store
	cfg     *config.Config
	regions []*riskmap.Region
	svc     *imports.Service
}

func stores(t *testing.T) map[string]func(t *testing.T) riskmap.Store {
	return map[string]func(t *testing.T) riskmap.Store{
		"GeoPackage": func(t *testing.T) riskmap.Store {
			s, err := gpkg.Open(context.Background(), filepath.Join(t.TempDir(), "import.gpkg"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"PostGIS": func(t *testing.T) riskmap.Store {
			dsn := pgtest.NewDatabase(t)
			s, err := postgis.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

func newEnv(t *testing.T, open func(t *testing.T) riskmap.Store, seed bool) *env {
	ctx := context.Background()
	st := open(t)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	units := register.New(st, cfg.Grader, cfg.Catalog)
	if seed {
		if _, err := demo.Load(ctx, geodata.FS, st, units); err != nil {
			t.Fatal(err)
		}
	}
	regions, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	return &env{store: st, cfg: cfg, regions: regions, svc: &imports.Service{Units: units, Catalog: cfg.Catalog, Regions: regions}}
}

// export is the register as GET /api/v1/units.xlsx writes it.
func (e *env) export(t *testing.T) ([]byte, []*riskmap.Unit) {
	us, _, err := e.store.FindUnits(context.Background(), riskmap.UnitFilter{})
	if err != nil {
		t.Fatal(err)
	}
	colours := map[riskmap.Grade]string{}
	for g, c := range e.cfg.Grader.Config().Colours {
		colours[g] = c.Fill
	}
	var buf bytes.Buffer
	if err := workbook.WriteUnits(&buf, us, workbook.Export{Title: "澄江市城市安全风险清单", Date: time.Now(), Scope: "范围：全市",
		Colours: colours, Catalog: e.cfg.Catalog, Regions: e.regions}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), us
}

// run uploads data and waits for its check.
func (e *env) check(t *testing.T, by *riskmap.User, data []byte) imports.View {
	t.Helper()
	v, err := e.svc.Start(by, data)
	if err != nil {
		t.Fatal(err)
	}
	v, err = e.svc.Wait(context.Background(), by, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *env) commit(t *testing.T, by *riskmap.User, id string) imports.View {
	t.Helper()
	if _, err := e.svc.Commit(by, id, nil, nil); err != nil {
		t.Fatal(err)
	}
	v, err := e.svc.Wait(context.Background(), by, id)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != imports.Done {
		t.Fatalf("commit: %+v", v)
	}
	return v
}

func versions(t *testing.T, st riskmap.Store) map[string]*riskmap.Unit {
	us, _, err := st.FindUnits(context.Background(), riskmap.UnitFilter{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*riskmap.Unit{}
	for _, u := range us {
		m[u.Code] = u
	}
	return m
}

// TestRoundTrip is the "Done means": the demo city exported and imported unchanged
// changes nothing; ten cells changed give exactly those ten units a new draft revision,
// their approved revisions staying in the approved register.
func TestRoundTrip(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open, true)
			data, units := e.export(t)
			before := versions(t, e.store)

			v := e.check(t, admin, data)
			if v.Status != imports.Checked || v.ProblemCount != 0 || v.Unchanged != len(units) || v.Creates+v.Updates != 0 {
				t.Fatalf("the export imported unchanged: %+v, want %d unchanged and no problem", v, len(units))
			}
			e.commit(t, admin, v.ID)
			for code, u := range versions(t, e.store) {
				if u.Version != before[code].Version {
					t.Errorf("%s: version %d → %d; an unchanged import writes nothing", code, before[code].Version, u.Version)
				}
			}

			// Ten cells changed: ten names.
			f, err := excelize.OpenReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			sheet := f.GetSheetName(0)
			changed := map[string]bool{}
			for i := range 10 {
				row := 4 + i*3 // the header is row 3
				code, _ := f.GetCellValue(sheet, "B"+strconv.Itoa(row))
				name, _ := f.GetCellValue(sheet, "C"+strconv.Itoa(row))
				if hdr, _ := f.GetCellValue(sheet, "C3"); hdr != "风险点名称" {
					t.Fatalf("column C is %q", hdr)
				}
				if err := f.SetCellValue(sheet, "C"+strconv.Itoa(row), name+"（复核）"); err != nil {
					t.Fatal(err)
				}
				changed[code] = true
			}
			var buf bytes.Buffer
			if _, err := f.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			v = e.check(t, admin, buf.Bytes())
			if v.ProblemCount != 0 || v.Updates != 10 || v.Unchanged != len(units)-10 || v.Creates != 0 {
				t.Fatalf("ten cells changed: %+v", v)
			}
			v = e.commit(t, admin, v.ID)
			approved := map[int64]int64{}
			for a, err := range e.store.ApprovedUnits(context.Background()) {
				if err != nil {
					t.Fatal(err)
				}
				approved[a.UnitID] = a.Version
			}
			for code, u := range versions(t, e.store) {
				b := before[code]
				switch {
				case changed[code]:
					if u.Version != b.Version+1 || u.Status != riskmap.StatusDraft || u.Name != b.Name+"（复核）" {
						t.Errorf("%s: version %d status %s name %q; want a new draft revision", code, u.Version, u.Status, u.Name)
					}
					if b.Status == riskmap.StatusApproved && approved[u.ID] != b.Version {
						t.Errorf("%s: the approved revision %d must stay public, got %d", code, b.Version, approved[u.ID])
					}
				case u.Version != b.Version:
					t.Errorf("%s: not changed in the file, but at version %d from %d", code, u.Version, b.Version)
				}
			}
		})
	}
}

// TestProblems: a grade typed in that the inputs do not give, and a code given twice, are
// problems of their rows; a job with problems cannot be committed, its marked copy can be
// downloaded, and a cancel lets it go with nothing written.
func TestProblems(t *testing.T) {
	e := newEnv(t, stores(t)["GeoPackage"], true)
	data, _ := e.export(t)
	before := versions(t, e.store)
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sheet := f.GetSheetName(0)
	header, _ := f.GetRows(sheet)
	gradeCol := ""
	for i, h := range header[2] {
		if h == "风险等级" {
			gradeCol, _ = excelize.ColumnNumberToName(i + 1)
		}
	}
	g, _ := f.GetCellValue(sheet, gradeCol+"5")
	other := "重大风险"
	if g == other {
		other = "低风险"
	}
	_ = f.SetCellValue(sheet, gradeCol+"5", other)
	code, _ := f.GetCellValue(sheet, "B4")
	_ = f.SetCellValue(sheet, "B6", code)
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	v := e.check(t, admin, buf.Bytes())
	if v.ProblemCount != 2 {
		t.Fatalf("problems: %+v", v.Problems)
	}
	texts := v.Problems[0].Text + "\n" + v.Problems[1].Text
	for _, want := range []string{"第 5 行「风险等级」：不接受手填等级，由评估输入计算", "第 6 行「风险编号」：风险编号 " + code + " 与第 4 行重复"} {
		if !bytes.Contains([]byte(texts), []byte(want)) {
			t.Errorf("problems %q lack %q", texts, want)
		}
	}
	if _, err := e.svc.Commit(admin, v.ID, nil, nil); riskmap.ErrorCode(err) != riskmap.ECONFLICT {
		t.Errorf("commit with problems: %v, want ECONFLICT", err)
	}
	var marked bytes.Buffer
	if err := e.svc.ErrorsXLSX(&marked, admin, v.ID); err != nil || marked.Len() == 0 {
		t.Errorf("errors.xlsx: %v", err)
	}
	if v, err := e.svc.Cancel(admin, v.ID); err != nil || v.Status != imports.Cancelled {
		t.Errorf("cancel: %v %+v", err, v)
	}
	for code, u := range versions(t, e.store) {
		if u.Version != before[code].Version {
			t.Errorf("%s written", code)
		}
	}
}

// TestCancelCommit: a cancel while the commit runs rolls it back.
func TestCancelCommit(t *testing.T) {
	e := newEnv(t, stores(t)["GeoPackage"], false)
	data, _ := newEnv(t, stores(t)["GeoPackage"], true).export(t)
	v := e.check(t, admin, data)
	if v.ProblemCount != 0 || v.Creates == 0 {
		t.Fatalf("checked: %+v", v)
	}
	if _, err := e.svc.Commit(admin, v.ID, nil, nil); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.Cancel(admin, v.ID)
	if err != nil {
		// The commit may have finished first on a fast machine.
		if riskmap.ErrorCode(err) != riskmap.ECONFLICT {
			t.Fatal(err)
		}
		t.Skip("the commit finished before the cancel")
	}
	if c.Status != imports.Cancelled {
		t.Fatalf("cancel: %+v", c)
	}
	if n, _ := e.store.CountUnits(context.Background()); n != 0 {
		t.Errorf("%d units written by a cancelled import", n)
	}
}
