package demo_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"math"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"

	"riskmap/geodata"
	"riskmap/pkg/analysis"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

// tolerance is how far, in degrees, a shared boundary may wander after coordinates are
// rounded to six decimals.
const tolerance = 2e-6

func mustRegions(t *testing.T) []*riskmap.Region {
	t.Helper()
	rs, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestLoadRegions(t *testing.T) {
	rs := mustRegions(t)
	levels := map[string]int{}
	byCode := map[string]*riskmap.Region{}
	for _, r := range rs {
		levels[r.Level]++
		byCode[r.Code] = r
	}
	if levels[riskmap.LevelDistrict] != 1 || levels[riskmap.LevelStreet] != 6 ||
		levels[riskmap.LevelCommunity] < 18 || levels[riskmap.LevelGrid] < 3*levels[riskmap.LevelCommunity] {
		t.Fatalf("levels %v", levels)
	}
	for code, name := range map[string]string{
		"530481": "澄江市", "530481001": "凤麓街道", "530481002": "龙街街道", "530481101": "右所镇",
		"530481102": "路居镇", "530481103": "海口镇", "530481104": "九村镇",
	} {
		if r := byCode[code]; r == nil || r.Name != name {
			t.Errorf("region %s: got %+v, want %s", code, r, name)
		}
	}
	parentLevel := map[string]string{riskmap.LevelStreet: riskmap.LevelDistrict,
		riskmap.LevelCommunity: riskmap.LevelStreet, riskmap.LevelGrid: riskmap.LevelCommunity}
	codeLen := map[string]int{riskmap.LevelDistrict: 6, riskmap.LevelStreet: 9, riskmap.LevelCommunity: 12, riskmap.LevelGrid: 15}
	var pop int64
	children := map[string]int64{}
	for _, r := range rs {
		if len(r.Code) != codeLen[r.Level] {
			t.Errorf("%s %s: code has %d digits", r.Level, r.Code, len(r.Code))
		}
		if r.Population <= 0 {
			t.Errorf("%s: population %d", r.Code, r.Population)
		}
		if r.Level == riskmap.LevelDistrict {
			pop = r.Population
			continue
		}
		p := byCode[r.ParentCode]
		if p == nil || p.Level != parentLevel[r.Level] || !strings.HasPrefix(r.Code, p.Code) {
			t.Errorf("%s %s: bad parent %q", r.Level, r.Code, r.ParentCode)
			continue
		}
		children[p.Code] += r.Population
	}
	for code, sum := range children {
		if byCode[code].Population != sum {
			t.Errorf("%s: population %d, its children add up to %d", code, byCode[code].Population, sum)
		}
	}
	if pop < 100000 {
		t.Errorf("district population %d", pop)
	}
}

// TestRegionsTile: every region's children lie inside it and cover it without gaps or
// overlaps, up to the rounding of coordinates.
func TestRegionsTile(t *testing.T) {
	rs := mustRegions(t)
	kids := map[string][]*riskmap.Region{}
	for _, r := range rs {
		if r.ParentCode != "" {
			kids[r.ParentCode] = append(kids[r.ParentCode], r)
		}
	}
	for _, parent := range rs {
		cs := kids[parent.Code]
		if len(cs) == 0 {
			continue
		}
		t.Run(parent.Code, func(t *testing.T) {
			var sum float64
			for _, c := range cs {
				sum += planar.Area(c.Geometry)
				if planar.Area(c.Geometry[0][0]) <= 0 {
					t.Errorf("%s: outer ring is not counter-clockwise", c.Code)
				}
				for _, poly := range c.Geometry {
					for _, ring := range poly {
						for _, p := range ring {
							if !insideOrNear(parent.Geometry, p) {
								t.Fatalf("%s: vertex %v is outside its parent", c.Code, p)
							}
						}
					}
				}
			}
			whole := planar.Area(parent.Geometry)
			if math.Abs(sum-whole) > whole*1e-4 {
				t.Errorf("children cover %.9f of %.9f square degrees", sum, whole)
			}
			// Sample the parent: each point well away from boundaries is in exactly one child.
			b := parent.Geometry.Bound()
			const steps = 60
			for i := 1; i < steps; i++ {
				for j := 1; j < steps; j++ {
					p := orb.Point{b.Min[0] + (b.Max[0]-b.Min[0])*float64(i)/steps, b.Min[1] + (b.Max[1]-b.Min[1])*float64(j)/steps}
					if !planar.MultiPolygonContains(parent.Geometry, p) || nearBoundary(parent.Geometry, p) {
						continue
					}
					n := 0
					for _, c := range cs {
						if nearBoundary(c.Geometry, p) {
							n = -1
							break
						}
						if planar.MultiPolygonContains(c.Geometry, p) {
							n++
						}
					}
					if n >= 0 && n != 1 {
						t.Fatalf("point %v lies in %d children", p, n)
					}
				}
			}
		})
	}
}

func insideOrNear(mp orb.MultiPolygon, p orb.Point) bool {
	return planar.MultiPolygonContains(mp, p) || nearBoundary(mp, p)
}

func nearBoundary(mp orb.MultiPolygon, p orb.Point) bool {
	for _, poly := range mp {
		for _, ring := range poly {
			for i := 0; i+1 < len(ring); i++ {
				if segDist(p, ring[i], ring[i+1]) <= tolerance {
					return true
				}
			}
		}
	}
	return false
}

func segDist(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}

// unitKeys are the properties a demo unit carries: those of API.md a client sends, and not
// the ones the server computes.
var unitKeys = []string{"code", "name", "public_label", "category", "sub_category", "region_code", "address",
	"accident_types", "major_hazard_source", "major_risk_factors", "assessment",
	"direct_major_reason", "controls", "responsible_department", "responsible_unit",
	"contact_person", "contact_phone", "influence_radius_m", "status", "assessed_by",
	"assessed_at", "next_review_due", "identified_at"}

func TestUnits(t *testing.T) {
	cfg := config.Default()
	byCode := map[string]*riskmap.Region{}
	for _, r := range mustRegions(t) {
		byCode[r.Code] = r
	}
	data, err := fs.ReadFile(geodata.FS, demo.UnitsFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 5<<20 {
		t.Errorf("units.geojson is %d bytes; keep it under 5 MiB", len(data))
	}

	var raw struct {
		Features []struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for i, f := range raw.Features {
		if len(f.Properties) != len(unitKeys) {
			t.Fatalf("feature %d has %d properties, want %d", i+1, len(f.Properties), len(unitKeys))
		}
		for _, k := range unitKeys {
			if _, ok := f.Properties[k]; !ok {
				t.Fatalf("feature %d lacks %q", i+1, k)
			}
		}
	}

	codes := map[string]bool{}
	grades := map[riskmap.Grade]int{}
	groups := map[string]int{}
	cats := map[string]int{}
	kinds := map[string]int{}
	statuses := map[riskmap.Status]int{}
	direct, mhs, n, neverReviewed := 0, 0, 0, 0
	for u, err := range featurejson.DecodeUnits(bytes.NewReader(data)) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if err := u.Validate(cfg.Catalog); err != nil {
			t.Fatalf("%s: %v", u.Code, err)
		}
		if err := cfg.Grader.Grade(u); err != nil {
			t.Fatalf("%s: %v", u.Code, err)
		}
		if codes[u.Code] || !strings.HasPrefix(u.Code, "CJ-") {
			t.Fatalf("code %q repeated or not a CJ- code", u.Code)
		}
		codes[u.Code] = true
		reg := byCode[u.RegionCode]
		if reg == nil || reg.Level != riskmap.LevelCommunity {
			t.Fatalf("%s: region %q is not a community", u.Code, u.RegionCode)
		}
		for _, p := range vertices(u.Geometry) {
			if !planar.MultiPolygonContains(reg.Geometry, p) {
				t.Fatalf("%s: vertex %v outside %s", u.Code, p, reg.Name)
			}
		}
		if l, ok := u.Geometry.(orb.LineString); ok && (len(l) < 3 || len(l) > 30) {
			t.Errorf("%s: line of %d vertices, want 3–30", u.Code, len(l))
		}
		cat, _ := cfg.Catalog.Category(u.Category)
		if u.ResponsibleDepartment != cat.Department {
			t.Errorf("%s: department %q, want %q", u.Code, u.ResponsibleDepartment, cat.Department)
		}
		if u.ContactPerson == "" || u.ResponsibleUnit == "" || u.Address == "" {
			t.Errorf("%s: missing contact, unit or address", u.Code)
		}
		// A few drafts were never reviewed (从未复核): no assessment date yet.
		if u.AssessedAt == nil {
			neverReviewed++
			if u.Status != riskmap.StatusDraft {
				t.Errorf("%s: a %s unit without an assessment date", u.Code, u.Status)
			}
		}
		if u.MajorHazardSource != nil {
			mhs++
		}
		if u.DirectMajorReason != "" {
			direct++
		}
		grades[u.Grade]++
		groups[cat.Group]++
		cats[u.Category]++
		kinds[u.Geometry.GeoJSONType()]++
		statuses[u.Status]++
	}
	if n < 2500 || n > 3500 {
		t.Errorf("%d units, want about 3000", n)
	}
	for _, c := range cfg.Catalog.Categories {
		if cats[c.Code] == 0 {
			t.Errorf("no unit of category %s", c.Code)
		}
	}
	for _, g := range cfg.Catalog.Groups {
		if groups[g.Code] == 0 {
			t.Errorf("no unit of group %s", g.Code)
		}
	}
	share := func(c int) float64 { return float64(c) / float64(n) }
	for g, want := range map[riskmap.Grade]float64{riskmap.GradeRed: 0.05, riskmap.GradeOrange: 0.15,
		riskmap.GradeYellow: 0.40, riskmap.GradeBlue: 0.40} {
		if got := share(grades[g]); math.Abs(got-want) > want/4 {
			t.Errorf("grade %s: share %.3f, want about %.2f", g, got, want)
		}
	}
	for k, want := range map[string]float64{"Point": 0.80, "LineString": 0.12, "Polygon": 0.08} {
		if got := share(kinds[k]); math.Abs(got-want) > 0.03 {
			t.Errorf("%s: share %.3f, want about %.2f", k, got, want)
		}
	}
	if direct == 0 || mhs == 0 || statuses[riskmap.StatusDraft] == 0 || statuses[riskmap.StatusSubmitted] == 0 ||
		statuses[riskmap.StatusApproved] < n*3/4 {
		t.Errorf("direct %d, major hazard sources %d, statuses %v", direct, mhs, statuses)
	}
	if neverReviewed == 0 || neverReviewed > n/50 {
		t.Errorf("a few drafts never reviewed, got %d of %d", neverReviewed, n)
	}
	t.Logf("%d units; grades %v; groups %v; geometry %v; statuses %v; direct %d; major hazard sources %d",
		n, grades, groups, kinds, statuses, direct, mhs)
}

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

func TestSites(t *testing.T) {
	byCode := map[string]*riskmap.Region{}
	for _, r := range mustRegions(t) {
		byCode[r.Code] = r
	}
	inRegion := func(code string, g orb.Geometry) bool {
		r := byCode[code]
		if r == nil || r.Level != riskmap.LevelCommunity {
			return false
		}
		for _, p := range vertices(g) {
			if !planar.MultiPolygonContains(r.Geometry, p) {
				return false
			}
		}
		return true
	}
	t.Run("Targets", func(t *testing.T) {
		ts, err := demo.LoadTargets(geodata.FS)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, x := range ts {
			kinds[x.Kind]++
			if !inRegion(x.RegionCode, x.Geometry) || x.People <= 0 || x.Address == "" {
				t.Errorf("target %s: region %s, people %d, address %q", x.Name, x.RegionCode, x.People, x.Address)
			}
		}
		if len(ts) < 50 || len(kinds) != 5 {
			t.Errorf("%d targets of kinds %v", len(ts), kinds)
		}
	})
	t.Run("Shelters", func(t *testing.T) {
		ss, err := demo.LoadShelters(geodata.FS)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		var area float64
		for _, s := range ss {
			kinds[s.Kind]++
			area += s.EffectiveAreaM2
			if !inRegion(s.RegionCode, s.Geometry) || s.Capacity <= 0 || s.ServiceRadiusM <= 0 {
				t.Errorf("shelter %s: region %s, capacity %d, radius %v", s.Name, s.RegionCode, s.Capacity, s.ServiceRadiusM)
			}
		}
		if len(ss) < 25 || len(kinds) != 3 {
			t.Errorf("%d shelters of kinds %v", len(ss), kinds)
		}
		// The district meets the 1.5 m² per resident check, so the demo shows a pass.
		rs := mustRegions(t)
		if per := area / float64(rs[0].Population); per < 1.5 {
			t.Errorf("%.2f m² of shelter per resident, want ≥ 1.5", per)
		}
		// Exactly one street, 路居镇, is short of it (a shelter counts for the street of its
		// community), so the coverage map and the report show one shortfall.
		byStreet := map[string]float64{}
		for _, s := range ss {
			byStreet[byCode[s.RegionCode].ParentCode] += s.EffectiveAreaM2
			if _, ok := s.Geometry.(orb.Point); !ok {
				if fp := geo.Area(s.Geometry); s.EffectiveAreaM2 > fp {
					t.Errorf("shelter %s: effective area %.0f m² over its footprint %.0f m²", s.Name, s.EffectiveAreaM2, fp)
				}
			}
		}
		var short []string
		for _, r := range rs {
			if r.Level == riskmap.LevelStreet && byStreet[r.Code]/float64(r.Population) < 1.5 {
				short = append(short, r.Name)
			}
		}
		if len(short) != 1 || short[0] != "路居镇" {
			t.Errorf("streets short of 1.5 m² per resident: %v, want [路居镇]", short)
		}
	})
}

func TestLoadErrors(t *testing.T) {
	square := `{"type":"MultiPolygon","coordinates":[[[[102.9,24.6],[103,24.6],[103,24.7],[102.9,24.7],[102.9,24.6]]]]}`
	region := func(code, level, parent string) string {
		return `{"type":"Feature","geometry":` + square + `,"properties":{"code":"` + code + `","name":"x","level":"` +
			level + `","parent_code":"` + parent + `","population":1}}`
	}
	fc := func(feats ...string) []byte {
		return []byte(`{"type":"FeatureCollection","features":[` + strings.Join(feats, ",") + `]}`)
	}
	point := `{"type":"Point","coordinates":[102.9,24.6]}`
	for _, tc := range []struct {
		name string
		file string
		data []byte
		load func(fs.FS) error
		code string
	}{
		{"OK", demo.RegionsFile, fc(region("530481", "district", ""), region("530481001", "street", "530481")), loadRegions, ""},
		{"ErrMissingFile", "other.geojson", nil, loadRegions, riskmap.ENOTFOUND},
		{"ErrNotJSON", demo.RegionsFile, []byte("{"), loadRegions, riskmap.EINVALID},
		{"ErrChildBeforeParent", demo.RegionsFile, fc(region("530481001", "street", "530481"), region("530481", "district", "")), loadRegions, riskmap.EINVALID},
		{"ErrDuplicateCode", demo.RegionsFile, fc(region("530481", "district", ""), region("530481", "district", "")), loadRegions, riskmap.EINVALID},
		{"ErrBadLevel", demo.RegionsFile, fc(region("530481", "county", "")), loadRegions, riskmap.EINVALID},
		{"ErrRegionIsAPoint", demo.RegionsFile, fc(`{"type":"Feature","geometry":` + point + `,"properties":{"code":"530481","name":"x","level":"district"}}`), loadRegions, riskmap.EINVALID},
		{"ErrNoGeometry", demo.RegionsFile, fc(`{"type":"Feature","geometry":null,"properties":{"code":"530481","name":"x","level":"district"}}`), loadRegions, riskmap.EINVALID},
		{"OKTarget", demo.TargetsFile, fc(`{"type":"Feature","geometry":` + point + `,"properties":{"name":"小学","kind":"school","region_code":"530481001001","people":5}}`), loadTargets, ""},
		{"ErrTargetKind", demo.TargetsFile, fc(`{"type":"Feature","geometry":` + point + `,"properties":{"name":"小学","kind":"zoo","region_code":"530481001001"}}`), loadTargets, riskmap.EINVALID},
		{"ErrTargetRegion", demo.TargetsFile, fc(`{"type":"Feature","geometry":` + point + `,"properties":{"name":"小学","kind":"school","region_code":"x"}}`), loadTargets, riskmap.EINVALID},
		{"OKShelter", demo.SheltersFile, fc(`{"type":"Feature","geometry":` + point + `,"properties":{"name":"广场","kind":"fixed","region_code":"530481001001","capacity":10}}`), loadShelters, ""},
		{"ErrShelterKind", demo.SheltersFile, fc(`{"type":"Feature","geometry":` + point + `,"properties":{"name":"广场","kind":"tent","region_code":"530481001001"}}`), loadShelters, riskmap.EINVALID},
		{"ErrShelterNegative", demo.SheltersFile, fc(`{"type":"Feature","geometry":` + point + `,"properties":{"name":"广场","kind":"fixed","region_code":"530481001001","capacity":-1}}`), loadShelters, riskmap.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{tc.file: {Data: tc.data}}
			err := tc.load(fsys)
			if got := riskmap.ErrorCode(err); got != tc.code {
				t.Fatalf("error %v (code %q), want code %q", err, got, tc.code)
			}
		})
	}
}

func loadRegions(f fs.FS) error  { _, err := demo.LoadRegions(f); return err }
func loadTargets(f fs.FS) error  { _, err := demo.LoadTargets(f); return err }
func loadShelters(f fs.FS) error { _, err := demo.LoadShelters(f); return err }

// FuzzLoad: a deployment may point the loaders at its own files; no input may crash them.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{demo.RegionsFile, demo.TargetsFile, demo.SheltersFile} {
		b, err := fs.ReadFile(geodata.FS, name)
		if err != nil {
			f.Fatal(err)
		}
		// The first two features are enough of a seed.
		lines := strings.SplitN(string(b), "\n", 4)
		f.Add([]byte(lines[0] + lines[1] + strings.TrimSuffix(lines[2], ",") + "]}"))
	}
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]},"properties":{}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{demo.RegionsFile: {Data: data}, demo.TargetsFile: {Data: data}, demo.SheltersFile: {Data: data}}
		for _, load := range []func(fs.FS) error{loadRegions, loadTargets, loadShelters} {
			if err := load(fsys); err != nil && riskmap.ErrorCode(err) == riskmap.EINTERNAL {
				t.Fatalf("uncoded error: %v", err)
			}
		}
	})
}

// TestConflicts: the demo city shows safe-distance conflicts (安全距离不足) — schools,
// kindergartens and hospitals inside the influence range of gas stations and chemical
// stores, one of them of an orange unit, which the default conflict rule raises to red.
func TestConflicts(t *testing.T) {
	cfg := config.Default()
	data, err := fs.ReadFile(geodata.FS, demo.UnitsFile)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := demo.LoadTargets(geodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	vulnerable := map[string]bool{riskmap.TargetSchool: true, riskmap.TargetKindergarten: true, riskmap.TargetHospital: true}
	var all, gasNearVulnerable, orangeNearVulnerable int
	for u, err := range featurejson.DecodeUnits(bytes.NewReader(data)) {
		if err != nil {
			t.Fatal(err)
		}
		if !cfg.Analysis.Hazardous(u.Category) {
			continue
		}
		if err := cfg.Grader.Grade(u); err != nil {
			t.Fatal(err)
		}
		radius, _ := cfg.Analysis.Radius(u.Category, u.InfluenceRadiusM)
		for _, x := range targets {
			if d, _, _ := analysis.GeomDistanceM(u.Geometry, x.Geometry); d > radius {
				continue
			}
			all++
			if !vulnerable[x.Kind] {
				continue
			}
			if u.SubCategory == "加油加气站" || u.SubCategory == "燃气场站" {
				gasNearVulnerable++
			}
			if u.Grade == riskmap.GradeOrange && u.Status == riskmap.StatusApproved {
				orangeNearVulnerable++
			}
		}
	}
	t.Logf("%d conflicts; %d of gas stations with schools, kindergartens or hospitals; %d of approved orange units with them",
		all, gasNearVulnerable, orangeNearVulnerable)
	if all < 10 || gasNearVulnerable < 3 || orangeNearVulnerable < 1 {
		t.Errorf("%d conflicts, %d of gas stations, %d of orange units; want real conflicts", all, gasNearVulnerable, orangeNearVulnerable)
	}
}
