package tiles_test

import (
	"fmt"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"riskmap/geodata"
	"riskmap/pkg/demo"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/tiles"
)

// fixtureRegions are a district covering demoTile and its neighbours, a street with a
// hole (clockwise on the ground), a community inside the tile, a grid far away and a
// region with no geometry.
func fixtureRegions() []tiles.RegionFeature {
	t := demoTile
	return []tiles.RegionFeature{
		{Code: "530481001001", Name: "东龙社区", Level: riskmap.LevelCommunity, Grade: riskmap.GradeYellow,
			Counts:   [4]int{0, 0, 5, 9},
			Geometry: orb.MultiPolygon{{rect(t, 0.3, 0.3, 0.45, 0.45, false)}}},
		{Code: "530481", Name: "澄江市", Level: riskmap.LevelDistrict, Grade: riskmap.GradeOrange,
			Counts:   [4]int{0, 3, 40, 70},
			Geometry: orb.MultiPolygon{{rect(t, -2, -2, 3, 3, false)}}},
		{Code: "530481001", Name: "凤麓街道", Level: riskmap.LevelStreet, Grade: riskmap.GradeRed,
			Counts: [4]int{1, 2, 30, 50},
			Geometry: orb.MultiPolygon{{
				rect(t, 0.1, 0.1, 1.5, 0.9, true),
				rect(t, 0.2, 0.2, 0.25, 0.25, false),
			}}},
		{Code: "530481001001-03", Name: "东龙社区第三网格", Level: riskmap.LevelGrid,
			Geometry: orb.MultiPolygon{{rect(t, 5, 5, 5.5, 5.5, false)}}},
		{Code: "530481002", Name: "无边界", Level: riskmap.LevelStreet},
	}
}

func TestRenderRegions(t *testing.T) {
	raw, n, err := tiles.RenderRegions(fixtureRegions(), demoTile, tiles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := decode(t, raw)
	t.Run("OKLayer", func(t *testing.T) {
		if l.Name != "regions" || l.Version != 2 || l.Extent != 4096 || n != 3 || len(l.Features) != 3 {
			t.Fatalf("layer %q v%d extent %d with %d (reported %d) features; want regions v2 4096 with 3",
				l.Name, l.Version, l.Extent, len(l.Features), n)
		}
	})
	t.Run("OKCoarsestFirst", func(t *testing.T) {
		var codes []string
		for _, f := range l.Features {
			codes = append(codes, f.Properties["code"].(string))
		}
		if codes[0] != "530481" || codes[1] != "530481001" || codes[2] != "530481001001" {
			t.Fatalf("order %v, want district, street, community", codes)
		}
	})
	t.Run("OKProperties", func(t *testing.T) {
		f := l.Features[1]
		want := map[string]any{"code": "530481001", "name": "凤麓街道", "level": "street", "grade": "red",
			"red": 1.0, "orange": 2.0, "yellow": 30.0, "blue": 50.0}
		for k, v := range want {
			if f.Properties[k] != v {
				t.Errorf("%s: want %v, got %v", k, v, f.Properties[k])
			}
		}
		if f.ID != 530481001.0 {
			t.Errorf("feature id %v, want the code 530481001", f.ID)
		}
	})
	t.Run("OKWindingAndClipping", func(t *testing.T) {
		for _, f := range l.Features {
			ps := polygons(f.Geometry)
			if len(ps) != 1 {
				t.Fatalf("%v: want 1 polygon, got %d", f.Properties["code"], len(ps))
			}
			for i, r := range ps[0] {
				if a := shoelace(r); i == 0 && a <= 0 || i > 0 && a >= 0 {
					t.Errorf("%v ring %d: signed area %v", f.Properties["code"], i, a)
				}
				for _, p := range r {
					if p[0] < -64 || p[0] > 4160 || p[1] < -64 || p[1] > 4160 {
						t.Fatalf("%v: %v outside the buffered tile", f.Properties["code"], p)
					}
				}
			}
		}
		if len(polygons(l.Features[1].Geometry)[0]) != 2 {
			t.Errorf("the street lost its hole")
		}
		if want := (orb.Bound{Min: orb.Point{-64, -64}, Max: orb.Point{4160, 4160}}); l.Features[0].Geometry.Bound() != want {
			t.Errorf("district covers %v, want the whole buffered tile %v", l.Features[0].Geometry.Bound(), want)
		}
	})
	t.Run("EmptyElsewhere", func(t *testing.T) {
		raw, n, err := tiles.RenderRegions(fixtureRegions(), maptile.New(0, 0, 14), tiles.Options{})
		if err != nil || raw != nil || n != 0 {
			t.Fatalf("want an empty tile, got %d bytes, %d features, %v", len(raw), n, err)
		}
	})
}

// demoRegions are the regions of the demo city as the regions layer would get them.
func demoRegions(tb testing.TB) []tiles.RegionFeature {
	tb.Helper()
	rs, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]tiles.RegionFeature, len(rs))
	for i, r := range rs {
		out[i] = tiles.RegionFeature{Code: r.Code, Name: r.Name, Level: r.Level, Grade: riskmap.Grades[i%4],
			Geometry: r.Geometry, Bound: r.Geometry.Bound()}
	}
	return out
}

// TestRenderRegionsDemoCity draws every tile of the demo city's real boundaries from z8 to
// z16 and checks what a renderer relies on: rings wound as MVT 2 says, inside the buffer,
// and every region drawn somewhere at every zoom.
func TestRenderRegionsDemoCity(t *testing.T) {
	fs := demoRegions(t)
	var all orb.Bound
	for i, f := range fs {
		if i == 0 {
			all = f.Bound
		}
		all = all.Union(f.Bound)
	}
	for z := maptile.Zoom(8); z <= 16; z += 2 {
		t.Run(fmt.Sprintf("OKz%d", z), func(t *testing.T) {
			lo := maptile.At(orb.Point{all.Min[0], all.Max[1]}, z)
			hi := maptile.At(orb.Point{all.Max[0], all.Min[1]}, z)
			seen := map[string]bool{}
			for x := lo.X; x <= hi.X; x++ {
				for y := lo.Y; y <= hi.Y; y++ {
					raw, _, err := tiles.RenderRegions(fs, maptile.New(x, y, z), tiles.Options{})
					if err != nil {
						t.Fatal(err)
					}
					if raw == nil {
						continue
					}
					for _, f := range decode(t, raw).Features {
						code := f.Properties["code"].(string)
						seen[code] = true
						for _, p := range polygons(f.Geometry) {
							for i, r := range p {
								if a := shoelace(r); i == 0 && a <= 0 || i > 0 && a >= 0 {
									t.Fatalf("%d/%d/%d %s ring %d: signed area %v", z, x, y, code, i, a)
								}
								for _, q := range r {
									if q[0] < -64 || q[0] > 4160 || q[1] < -64 || q[1] > 4160 {
										t.Fatalf("%d/%d/%d %s: %v outside the buffer", z, x, y, code, q)
									}
								}
							}
						}
					}
				}
			}
			if z >= 12 && len(seen) != len(fs) {
				t.Fatalf("%d of %d regions drawn at z%d", len(seen), len(fs), z)
			}
		})
	}
}

func BenchmarkRenderRegions(b *testing.B) {
	fs := demoRegions(b)
	for _, z := range []maptile.Zoom{10, 14} {
		b.Run(fmt.Sprintf("demo/z%d", z), func(b *testing.B) {
			t := maptile.At(orb.Point{102.908, 24.675}, z)
			b.ReportAllocs()
			var size int
			for b.Loop() {
				raw, _, err := tiles.RenderRegions(fs, t, tiles.Options{})
				if err != nil {
					b.Fatal(err)
				}
				size = len(raw)
			}
			b.ReportMetric(float64(size), "bytes/tile")
		})
	}
}
