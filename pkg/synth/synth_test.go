package synth_test

import (
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/synth"
)

var (
	regionsOnce sync.Once
	regions     []*riskmap.Region
	regionsErr  error
)

func mustRegions(tb testing.TB) []*riskmap.Region {
	tb.Helper()
	regionsOnce.Do(func() { regions, regionsErr = demo.LoadRegions(geodata.FS) })
	if regionsErr != nil {
		tb.Fatal(regionsErr)
	}
	return regions
}

func mustGenerator(tb testing.TB) (*synth.Generator, *config.Config) {
	tb.Helper()
	cfg := config.Default()
	g, err := synth.New(mustRegions(tb), cfg.Catalog, cfg.Grader)
	if err != nil {
		tb.Fatal(err)
	}
	return g, cfg
}

func communities(tb testing.TB) map[string]*riskmap.Region {
	out := map[string]*riskmap.Region{}
	for _, r := range mustRegions(tb) {
		if r.Level == riskmap.LevelCommunity {
			out[r.Code] = r
		}
	}
	return out
}

// vertices lists every position of a geometry.
func vertices(g orb.Geometry) []orb.Point {
	switch g := g.(type) {
	case orb.Point:
		return []orb.Point{g}
	case orb.LineString:
		return g
	case orb.Polygon:
		var out []orb.Point
		for _, r := range g {
			out = append(out, r...)
		}
		return out
	}
	return nil
}

func TestUnits(t *testing.T) {
	g, cfg := mustGenerator(t)
	comms := communities(t)
	codes := map[string]bool{}
	n := 0
	for u := range g.Units(7, 20000) {
		n++
		if err := u.Validate(cfg.Catalog); err != nil {
			t.Fatalf("unit %d: %v", n, err)
		}
		if err := cfg.Grader.Grade(u); err != nil {
			t.Fatalf("unit %s: grading: %v", u.Code, err)
		}
		if !strings.HasPrefix(u.Code, "SYN7-") || codes[u.Code] {
			t.Fatalf("code %q is not a new SYN7- code", u.Code)
		}
		codes[u.Code] = true
		if u.Status != riskmap.StatusApproved {
			t.Fatalf("unit %s: status %q, want approved", u.Code, u.Status)
		}
		c, ok := comms[u.RegionCode]
		if !ok {
			t.Fatalf("unit %s: region %q is not a community", u.Code, u.RegionCode)
		}
		for _, p := range vertices(u.Geometry) {
			if !planar.MultiPolygonContains(c.Geometry, p) {
				t.Fatalf("unit %s: vertex %v outside its community %s", u.Code, p, c.Name)
			}
		}
		if l, ok := u.Geometry.(orb.LineString); ok && (len(l) < 2 || len(l) > 30) {
			t.Fatalf("unit %s: line of %d vertices", u.Code, len(l))
		}
		cat, _ := cfg.Catalog.Category(u.Category)
		if u.ResponsibleDepartment != cat.Department {
			t.Fatalf("unit %s: department %q, want the category's %q", u.Code, u.ResponsibleDepartment, cat.Department)
		}
		if u.AssessedAt == nil || u.NextReviewDue == nil || !u.NextReviewDue.After(*u.AssessedAt) {
			t.Fatalf("unit %s: assessed %v, review due %v", u.Code, u.AssessedAt, u.NextReviewDue)
		}
	}
	if n != 20000 {
		t.Fatalf("got %d units, want 20000", n)
	}
}

// TestMix checks the proportions a user of the benchmark data would notice: grades, geometry
// kinds and every category of the catalog.
func TestMix(t *testing.T) {
	g, cfg := mustGenerator(t)
	const n = 50000
	grades := map[riskmap.Grade]int{}
	kinds := map[string]int{}
	cats := map[string]int{}
	direct := 0
	for u := range g.Units(11, n) {
		if err := cfg.Grader.Grade(u); err != nil {
			t.Fatal(err)
		}
		grades[u.Grade]++
		kinds[u.Geometry.GeoJSONType()]++
		cats[u.Category]++
		if u.DirectMajorReason != "" {
			direct++
		}
	}
	share := func(c int) float64 { return float64(c) / n }
	for _, tc := range []struct {
		name      string
		got       float64
		want, tol float64
	}{
		{"red", share(grades[riskmap.GradeRed]), 0.05, 0.015},
		{"orange", share(grades[riskmap.GradeOrange]), 0.15, 0.03},
		{"yellow", share(grades[riskmap.GradeYellow]), 0.40, 0.04},
		{"blue", share(grades[riskmap.GradeBlue]), 0.40, 0.04},
		{"Point", share(kinds["Point"]), 0.80, 0.02},
		{"LineString", share(kinds["LineString"]), 0.12, 0.02},
		{"Polygon", share(kinds["Polygon"]), 0.08, 0.02},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if math.Abs(tc.got-tc.want) > tc.tol {
				t.Errorf("share %.3f, want %.2f ± %.3f", tc.got, tc.want, tc.tol)
			}
		})
	}
	for _, c := range cfg.Catalog.Categories {
		if cats[c.Code] == 0 {
			t.Errorf("category %s never generated", c.Code)
		}
	}
	if direct == 0 {
		t.Error("no unit graded red by direct determination")
	}
}

func TestDeterminism(t *testing.T) {
	g, _ := mustGenerator(t)
	first := func(seed int64, n, k int) []string {
		var out []string
		for u := range g.Units(seed, n) {
			b, err := json.Marshal(struct {
				U *riskmap.Unit
				G orb.Geometry
			}{u, u.Geometry})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
			if len(out) == k {
				break
			}
		}
		return out
	}
	a := first(42, 1000, 1000)
	t.Run("SameSeedSameUnits", func(t *testing.T) {
		b := first(42, 1000, 1000)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("unit %d differs:\n%s\n%s", i+1, a[i], b[i])
			}
		}
	})
	t.Run("PrefixDoesNotDependOnN", func(t *testing.T) {
		b := first(42, 100000, 1000)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("unit %d differs when more units are asked for", i+1)
			}
		}
	})
	t.Run("OtherSeedOtherUnits", func(t *testing.T) {
		b := first(43, 1000, 1000)
		same := 0
		for i := range a {
			// Codes differ by construction; compare the rest.
			if strings.SplitN(a[i], ",", 3)[2] == strings.SplitN(b[i], ",", 3)[2] {
				same++
			}
		}
		if same > 10 {
			t.Fatalf("%d of 1000 units equal across seeds", same)
		}
	})
	t.Run("RegionOrderDoesNotMatter", func(t *testing.T) {
		rs := append([]*riskmap.Region(nil), mustRegions(t)...)
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
		cfg := config.Default()
		g2, err := synth.New(rs, cfg.Catalog, nil)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for u := range g2.Units(42, 50) {
			b, _ := json.Marshal(struct {
				U *riskmap.Unit
				G orb.Geometry
			}{u, u.Geometry})
			if string(b) != a[i] {
				t.Fatalf("unit %d differs with regions in another order", i+1)
			}
			i++
		}
	})
}

func TestNew(t *testing.T) {
	cfg := config.Default()
	empty, err := riskmap.NewCatalog(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	point := &riskmap.Region{Code: "530481", Name: "澄江市", Level: riskmap.LevelDistrict}
	for _, tc := range []struct {
		name    string
		regions []*riskmap.Region
		cat     *riskmap.Catalog
		code    string
	}{
		{"ErrNoRegions", nil, cfg.Catalog, riskmap.EINVALID},
		{"ErrRegionWithoutGeometry", []*riskmap.Region{point}, cfg.Catalog, riskmap.EINVALID},
		{"ErrEmptyCatalog", mustRegions(t), empty, riskmap.EINVALID},
		{"ErrNilCatalog", mustRegions(t), nil, riskmap.EINVALID},
		{"OK", mustRegions(t), cfg.Catalog, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := synth.New(tc.regions, tc.cat, nil)
			if got := riskmap.ErrorCode(err); got != tc.code {
				t.Fatalf("error %v (code %q), want code %q", err, got, tc.code)
			}
		})
	}
}

func TestUnitSpec(t *testing.T) {
	g, cfg := mustGenerator(t)
	r := synth.NewRand(1)
	for _, tc := range []struct {
		name string
		spec synth.Spec
		code string
		want string // geometry type, when it is fixed
	}{
		{"OKCategoryAndKind", synth.Spec{Category: "lifeline_gas", Kind: synth.KindLine}, "", "LineString"},
		{"OKKindTheCategoryLacks", synth.Spec{Category: "nine_small", Kind: synth.KindArea}, "", "Point"},
		{"OKAreaOnly", synth.Spec{Kind: synth.KindArea}, "", "Polygon"},
		{"ErrUnknownCategory", synth.Spec{Category: "no_such"}, riskmap.EINVALID, ""},
		{"ErrUnknownKind", synth.Spec{Kind: 9}, riskmap.EINVALID, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := g.Unit(r, "T-1", tc.spec)
			if got := riskmap.ErrorCode(err); got != tc.code {
				t.Fatalf("error %v, want code %q", err, tc.code)
			}
			if err != nil {
				return
			}
			if err := u.Validate(cfg.Catalog); err != nil {
				t.Fatal(err)
			}
			if tc.spec.Category != "" && u.Category != tc.spec.Category {
				t.Errorf("category %s, want %s", u.Category, tc.spec.Category)
			}
			if tc.want != "" && u.Geometry.GeoJSONType() != tc.want {
				t.Errorf("geometry %s, want %s", u.Geometry.GeoJSONType(), tc.want)
			}
		})
	}
}

// TestCatalogOfADeployment: a deployment's own categories and accident types still give
// valid units, named after the category.
func TestCatalogOfADeployment(t *testing.T) {
	cat, err := riskmap.NewCatalog(
		[]riskmap.CategoryGroup{{Code: "x", Label: "其他"}},
		[]riskmap.Category{{Code: "tailings_pond", Label: "尾矿坝", Group: "x", Department: "应急局"},
			{Code: "hazardous_chemicals", Label: "危险化学品", Group: "x", Department: "应急局"}},
		[]riskmap.AccidentType{{Code: "fire", Label: "火灾"}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := synth.New(mustRegions(t), cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for u := range g.Units(3, 2000) {
		if err := u.Validate(cat); err != nil {
			t.Fatalf("%s: %v", u.Code, err)
		}
		seen[u.Category] = true
		if u.Category == "tailings_pond" && !strings.Contains(u.Name, "尾矿坝") {
			t.Fatalf("generic unit name %q does not say its category", u.Name)
		}
	}
	if !seen["tailings_pond"] || !seen["hazardous_chemicals"] {
		t.Fatalf("categories generated: %v", seen)
	}
}

func TestPlacement(t *testing.T) {
	g, _ := mustGenerator(t)
	comms := communities(t)
	r := synth.NewRand(5)
	if got, want := len(g.Places()), len(comms); got != want {
		t.Fatalf("%d places, want the %d communities", got, want)
	}
	for _, code := range g.Places() {
		t.Run(code, func(t *testing.T) {
			p, err := g.PointIn(r, code)
			if err != nil {
				t.Fatal(err)
			}
			if !planar.MultiPolygonContains(comms[code].Geometry, p) {
				t.Fatalf("point %v outside", p)
			}
			poly, err := g.AreaIn(r, code, 100)
			if err != nil {
				t.Fatal(err)
			}
			if err := riskmap.ValidateGeometry(poly); err != nil {
				t.Fatal(err)
			}
			if planar.Area(poly[0]) <= 0 {
				t.Fatal("outer ring is not counter-clockwise")
			}
		})
	}
	t.Run("ErrUnknownPlace", func(t *testing.T) {
		if _, err := g.PointIn(r, "999"); riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
			t.Fatalf("error %v, want not_found", err)
		}
	})
}

func TestCodePrefix(t *testing.T) {
	cfg := config.Default()
	seen := map[string]string{}
	for _, c := range cfg.Catalog.Categories {
		p := synth.CodePrefix(c.Code)
		if p == "" {
			t.Errorf("%s: empty prefix", c.Code)
		}
		if other, dup := seen[p]; dup {
			t.Errorf("%s and %s share prefix %s", c.Code, other, p)
		}
		seen[p] = c.Code
	}
}

// BenchmarkUnits measures one unit; ns/op × 1e6 is the time for a million.
func BenchmarkUnits(b *testing.B) {
	g, _ := mustGenerator(b)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for u := range g.Units(1, b.N) {
		n += len(u.Name)
	}
	if n == 0 {
		b.Fatal("no units")
	}
}

// BenchmarkUnits1M generates a million units per operation, streamed.
func BenchmarkUnits1M(b *testing.B) {
	g, _ := mustGenerator(b)
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for range g.Units(1, 1_000_000) {
			n++
		}
		if n != 1_000_000 {
			b.Fatalf("%d units", n)
		}
	}
}

// TestConcurrentUse: one generator serves several sequences at once (run with -race).
func TestConcurrentUse(t *testing.T) {
	g, _ := mustGenerator(t)
	var wg sync.WaitGroup
	codes := make([][]string, 4)
	for i := range codes {
		wg.Go(func() {
			for u := range g.Units(int64(i%2), 500) {
				codes[i] = append(codes[i], u.Name)
			}
		})
	}
	wg.Wait()
	for i := 2; i < 4; i++ {
		if strings.Join(codes[i], ",") != strings.Join(codes[i-2], ",") {
			t.Fatalf("sequence %d differs from sequence %d of the same seed", i, i-2)
		}
	}
}

func TestUnitsFunc(t *testing.T) {
	cfg := config.Default()
	t.Run("OK", func(t *testing.T) {
		g, _ := mustGenerator(t)
		var a, b []string
		for u := range synth.Units(9, 100, mustRegions(t), cfg.Catalog) {
			a = append(a, u.Name)
		}
		for u := range g.Units(9, 100) {
			b = append(b, u.Name)
		}
		if len(a) != 100 || strings.Join(a, ",") != strings.Join(b, ",") {
			t.Fatalf("Units gave %d units, not those of New(...).Units", len(a))
		}
	})
	t.Run("NothingWithoutRegions", func(t *testing.T) {
		for range synth.Units(9, 100, nil, cfg.Catalog) {
			t.Fatal("a unit without regions")
		}
	})
}
