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
