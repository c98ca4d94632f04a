package tiles_test

import (
	"bytes"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/tiles"
)

// demoTile is a z14 tile of the demo city (澄江).
var demoTile = maptile.At(orb.Point{102.908, 24.675}, 14)

// fixtureUnits are units placed on demoTile by tile fractions: inside, crossing its edges,
// in its buffer and beyond it.
func fixtureUnits() []*riskmap.Unit {
	t := demoTile
	return []*riskmap.Unit{
		unit(1, riskmap.GradeRed, at(t, 0.5, 0.5)),
		unit(2, riskmap.GradeOrange, orb.LineString{at(t, 0.2, 0.2), at(t, 0.8, 0.3), at(t, 1.5, 0.4)}),
		// Counter-clockwise on the ground, as GeoJSON has it.
		unit(3, riskmap.GradeYellow, orb.Polygon{rect(t, 0.1, 0.6, 0.3, 0.9, false)}),
		// Clockwise on the ground: must come out the same way round.
		unit(4, riskmap.GradeBlue, orb.Polygon{rect(t, 0.4, 0.6, 0.6, 0.9, true)}),
		// A square with a hole, reaching across the right edge.
		unit(5, riskmap.GradeRed, orb.Polygon{
			rect(t, 0.7, 0.55, 1.6, 0.95, false),
			rect(t, 0.75, 0.6, 0.85, 0.7, true),
		}),
		// In the 64-unit buffer (1/64 of the tile), and just past it.
		unit(6, riskmap.GradeYellow, at(t, 1.01, 0.5)),
		unit(7, riskmap.GradeYellow, at(t, 1.03, 0.5)),
		// A multipolygon with one part inside and one far away.
		unit(8, riskmap.GradeOrange, orb.MultiPolygon{
			{rect(t, 0.05, 0.05, 0.1, 0.1, false)},
			{rect(t, 3, 3, 3.1, 3.1, false)},
		}),
		// A polygon whose bounding box reaches the tile but which does not.
		unit(9, riskmap.GradeBlue, orb.Polygon{{at(t, 1.2, -0.5), at(t, 1.5, -0.5), at(t, 1.5, 1.5), at(t, 1.2, -0.5)}}),
		// A line crossing the whole tile with no vertex inside it.
		unit(10, riskmap.GradeRed, orb.LineString{at(t, -1, 0.95), at(t, 2, 0.95)}),
	}
}

func TestRenderUnitsDetail(t *testing.T) {
	ix := mustIndex(t, fixtureUnits()...)
	raw, n := mustRender(t, ix.Snapshot(), demoTile, tiles.Options{})
	l := decode(t, raw)
	fs := byID(l)

	t.Run("OKLayer", func(t *testing.T) {
		if l.Name != "units" || l.Version != 2 || l.Extent != 4096 {
			t.Fatalf("layer %q version %d extent %d, want units 2 4096", l.Name, l.Version, l.Extent)
		}
		if n != len(l.Features) {
			t.Fatalf("reported %d features, tile has %d", n, len(l.Features))
		}
	})
	t.Run("OKWhichUnits", func(t *testing.T) {
		for id := int64(1); id <= 10; id++ {
			_, got := fs[id]
			want := id != 7 && id != 9
			if got != want {
				t.Errorf("unit %d in tile: %v, want %v", id, got, want)
			}
		}
	})
	t.Run("OKProperties", func(t *testing.T) {
		f := fs[1]
		want := map[string]any{"id": 1.0, "name": "测试单元1", "category": "gas_station", "grade": "red",
			"code": "FX-0001", "region_code": "530481001001"}
		for k, v := range want {
			if f.Properties[k] != v {
				t.Errorf("%s: want %v, got %v", k, v, f.Properties[k])
			}
		}
		if len(f.Properties) != len(want) {
			t.Errorf("properties %v, want exactly %v", f.Properties, want)
		}
	})
	t.Run("OKPointPosition", func(t *testing.T) {
		if p, ok := fs[1].Geometry.(orb.Point); !ok || p != (orb.Point{2048, 2048}) {
			t.Fatalf("point at %v, want [2048 2048]", fs[1].Geometry)
		}
	})
	t.Run("OKExteriorClockwiseHolesCounterClockwise", func(t *testing.T) {
		for _, id := range []int64{3, 4, 5, 8} {
			ps := polygons(fs[id].Geometry)
			if len(ps) != 1 {
				t.Fatalf("unit %d: want 1 polygon, got %d (%T)", id, len(ps), fs[id].Geometry)
			}
			for i, r := range ps[0] {
				if a := shoelace(r); i == 0 && a <= 0 || i > 0 && a >= 0 {
					t.Errorf("unit %d ring %d: signed area %v (exterior must be > 0, holes < 0)", id, i, a)
				}
			}
		}
		if len(polygons(fs[5].Geometry)[0]) != 2 {
			t.Fatalf("unit 5 lost its hole: %v", fs[5].Geometry)
		}
	})
	t.Run("OKClippedToBuffer", func(t *testing.T) {
		reached := false
		for id, f := range fs {
			for _, p := range points(f.Geometry) {
				if p[0] < -64 || p[0] > 4160 || p[1] < -64 || p[1] > 4160 {
					t.Fatalf("unit %d has %v outside the buffered tile", id, p)
				}
				if id == 5 && p[0] == 4160 {
					reached = true
				}
			}
		}
		if !reached {
			t.Fatalf("unit 5 should be cut at the buffer edge x=4160: %v", fs[5].Geometry)
		}
	})
	t.Run("OKLineWithoutInnerVertex", func(t *testing.T) {
		ls, ok := fs[10].Geometry.(orb.LineString)
		if !ok || len(ls) != 2 || ls[0][0] != -64 || ls[1][0] != 4160 {
			t.Fatalf("unit 10: want a line from x=-64 to x=4160, got %v", fs[10].Geometry)
		}
	})
}

func TestRenderUnitsEdgeCases(t *testing.T) {
	t.Run("EmptyTile", func(t *testing.T) {
		ix := mustIndex(t, fixtureUnits()...)
		raw, n := mustRender(t, ix.Snapshot(), maptile.New(0, 0, 14), tiles.Options{})
		if raw != nil || n != 0 {
			t.Fatalf("want no bytes, got %d bytes, %d features", len(raw), n)
		}
	})
	t.Run("ErrZoomAboveMax", func(t *testing.T) {
		ix := mustIndex(t)
		_, _, err := tiles.RenderUnits(ix.Snapshot(), maptile.New(0, 0, 23), tiles.Options{})
		if riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatalf("want EINVALID, got %v", err)
		}
	})
	t.Run("DroppedWhenSmallerThanATileUnit", func(t *testing.T) {
		// A 20 cm square is nothing at z8 (a tile unit there is about 37 m) but shows at z20.
		c := orb.Point{102.9, 24.6}
		d := 0.000002
		sq := orb.Polygon{{{c[0], c[1]}, {c[0] + d, c[1]}, {c[0] + d, c[1] + d}, {c[0], c[1] + d}, {c[0], c[1]}}}
		ix := mustIndex(t, unit(1, riskmap.GradeRed, sq))
		if raw, _ := mustRender(t, ix.Snapshot(), maptile.At(c, 8), tiles.Options{}); raw != nil {
			t.Fatalf("z8: want an empty tile, got %d bytes", len(raw))
		}
		raw, _ := mustRender(t, ix.Snapshot(), maptile.At(c, 22), tiles.Options{})
		if raw == nil {
			t.Fatal("z22: the square is gone")
		}
		if a := shoelace(polygons(decode(t, raw).Features[0].Geometry)[0][0]); a <= 0 {
			t.Fatalf("z22: exterior ring area %v, want > 0", a)
		}
	})
	t.Run("OKSimplifiedOnlyBelowVisibility", func(t *testing.T) {
		// A line with a kink of 1 m: a tenth of a tile unit at z10 (about 9 m), some 130 at
		// z20.
		a, b := orb.Point{102.90, 24.60}, orb.Point{102.91, 24.60}
		mid := orb.Point{102.905, 24.60 + 0.00001}
		ix := mustIndex(t, unit(1, riskmap.GradeRed, orb.LineString{a, mid, b}))
		vertices := func(z maptile.Zoom) int {
			raw, _ := mustRender(t, ix.Snapshot(), maptile.At(mid, z), tiles.Options{})
			return len(points(decode(t, raw).Features[0].Geometry))
		}
		if n := vertices(10); n != 2 {
			t.Errorf("z10: want the kink simplified away (2 vertices), got %d", n)
		}
		if n := vertices(20); n != 3 {
			t.Errorf("z20: want the kink kept (3 vertices), got %d", n)
		}
	})
}

// TestRenderUnitsStable: the same units give the same bytes, whatever order they were
// indexed in and however often the tile is drawn.
func TestRenderUnitsStable(t *testing.T) {
	us := fixtureUnits()
	a := mustIndex(t, us...)
	rev := make([]*riskmap.Unit, len(us))
	for i, u := range us {
		rev[len(us)-1-i] = u
	}
	b := mustIndex(t, rev...)
	first, _ := mustRender(t, a.Snapshot(), demoTile, tiles.Options{})
	for i := 0; i < 5; i++ {
		again, _ := mustRender(t, a.Snapshot(), demoTile, tiles.Options{})
		other, _ := mustRender(t, b.Snapshot(), demoTile, tiles.Options{})
		if !bytes.Equal(first, again) || !bytes.Equal(first, other) {
			t.Fatal("tile bytes differ between runs")
		}
	}
}

// clusterArea is a 0.2° square well inside one z10 tile of the demo city.
func clusterArea() (maptile.Tile, orb.Bound) {
	t := maptile.At(orb.Point{102.9, 24.6}, 10)
	return t, orb.Bound{Min: at(t, 0.2, 0.8), Max: at(t, 0.8, 0.2)}
}

func TestRenderUnitsAggregate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an index of 200 000 units")
	}
	z10, area := clusterArea()
	const n = 200_000
	ix := mustIndex(t, randomPoints(n, area, 1)...)
	s := ix.Snapshot()

	t.Run("OKClustersSumToUnits", func(t *testing.T) {
		raw, k := mustRender(t, s, z10, tiles.Options{})
		l := decode(t, raw)
		if k > 64*64 || k != len(l.Features) {
			t.Fatalf("%d clusters reported, %d in tile; want at most 64×64", k, len(l.Features))
		}
		total := 0
		for _, f := range l.Features {
			p := f.Properties
			if p["cluster"] != true {
				t.Fatalf("feature without cluster=true: %v", p)
			}
			count := int(p["count"].(float64))
			byGrade := [4]int{int(p["red"].(float64)), int(p["orange"].(float64)), int(p["yellow"].(float64)), int(p["blue"].(float64))}
			if byGrade[0]+byGrade[1]+byGrade[2]+byGrade[3] != count {
				t.Fatalf("grades %v do not add up to count %d", byGrade, count)
			}
			highest := ""
			for i, c := range byGrade {
				if c > 0 {
					highest = string(riskmap.Grades[i])
					break
				}
			}
			if p["grade"] != highest {
				t.Fatalf("grade %v, want the highest present %q (%v)", p["grade"], highest, byGrade)
			}
			pt := f.Geometry.(orb.Point)
			if pt[0] < 0 || pt[0] > 4096 || pt[1] < 0 || pt[1] > 4096 {
				t.Fatalf("cluster at %v, outside the tile", pt)
			}
			total += count
		}
		if total != n {
			t.Fatalf("clusters count %d units, tile holds %d", total, n)
		}
	})
	t.Run("OKClusterAtCentroid", func(t *testing.T) {
		// A z13 tile inside the area (some 8 700 units): each cluster sits at the mean of
		// its units.
		z13 := maptile.At(area.Center(), 13)
		raw, _ := mustRender(t, s, z13, tiles.Options{})
		l := decode(t, raw)
		if len(l.Features) == 0 || l.Features[0].Properties["cluster"] != true {
			t.Fatalf("z13 tile of 200k units in 0.2°: want clusters")
		}
		sumX, sumY, count := 0.0, 0.0, 0.0
		for _, f := range l.Features {
			c := f.Properties["count"].(float64)
			p := f.Geometry.(orb.Point)
			sumX += p[0] * c
			sumY += p[1] * c
			count += c
		}
		// Evenly spread points: the weighted mean of the clusters is near the tile centre.
		if mx, my := sumX/count, sumY/count; mx < 1900 || mx > 2200 || my < 1900 || my > 2200 {
			t.Fatalf("weighted mean of clusters at (%.0f, %.0f), want near (2048, 2048)", mx, my)
		}
	})
	t.Run("OKDetailBelowThreshold", func(t *testing.T) {
		// A z17 tile (the cell zoom) is always drawn unit by unit.
		raw, k := mustRender(t, s, maptile.At(area.Center(), 17), tiles.Options{})
		l := decode(t, raw)
		if k == 0 || l.Features[0].Properties["cluster"] != nil || l.Features[0].Properties["name"] == nil {
			t.Fatalf("z17: want units, got %d features like %v", k, l.Features[0].Properties)
		}
	})
	t.Run("OKEveryTileToZ12UnderSizeLimit", func(t *testing.T) {
		for z := maptile.Zoom(0); z <= 12; z++ {
			lo := maptile.At(orb.Point{area.Min[0], area.Max[1]}, z)
			hi := maptile.At(orb.Point{area.Max[0], area.Min[1]}, z)
			for x := lo.X; x <= hi.X; x++ {
				for y := lo.Y; y <= hi.Y; y++ {
					raw, k := mustRender(t, s, maptile.New(x, y, z), tiles.Options{})
					if len(raw) > 300_000 {
						t.Errorf("z%d/%d/%d: %d bytes (%d features), over 300 KB", z, x, y, len(raw), k)
					}
				}
			}
		}
	})
}

func TestRenderUnitsUngradedStillBounded(t *testing.T) {
	// Units with no grade are not in the aggregate cells; a tile full of them must still
	// not draw them all one by one.
	z10, area := clusterArea()
	us := randomPoints(20_000, area, 2)
	for _, u := range us {
		u.Grade = ""
	}
	ix := mustIndex(t, us...)
	raw, _ := mustRender(t, ix.Snapshot(), z10, tiles.Options{MaxDetailFeatures: 1000})
	if raw != nil {
		t.Fatalf("z10 with 20 000 ungraded units: want no unit drawn, got %d bytes", len(raw))
	}
}

func TestRenderUnitsClusterCentroid(t *testing.T) {
	z10 := maptile.At(orb.Point{102.9, 24.6}, 10)
	fx := []float64{0.101, 0.102, 0.1035}
	fy := []float64{0.101, 0.103, 0.1052}
	var us []*riskmap.Unit
	for i := range fx {
		us = append(us, unit(int64(i+1), riskmap.Grades[i+1], at(z10, fx[i], fy[i])))
	}
	ix := mustIndex(t, us...)
	raw, k := mustRender(t, ix.Snapshot(), z10, tiles.Options{MaxDetailFeatures: 2})
	if k != 1 {
		t.Fatalf("want one cluster, got %d features", k)
	}
	f := decode(t, raw).Features[0]
	wantX := (fx[0] + fx[1] + fx[2]) / 3 * 4096
	wantY := (fy[0] + fy[1] + fy[2]) / 3 * 4096
	p := f.Geometry.(orb.Point)
	if dx, dy := p[0]-wantX, p[1]-wantY; dx*dx+dy*dy > 1 {
		t.Fatalf("cluster at %v, want the centroid (%.1f, %.1f)", p, wantX, wantY)
	}
	want := map[string]any{"cluster": true, "count": 3.0, "red": 0.0, "orange": 1.0, "yellow": 1.0, "blue": 1.0, "grade": "orange"}
	for key, v := range want {
		if f.Properties[key] != v {
			t.Errorf("%s: want %v, got %v", key, v, f.Properties[key])
		}
	}
}

// Writers are reused from tile to tile: nothing of one tile reaches the next. Every z16
// tile of 20,000 units drawn in turn, then again in the reverse order, gives the same bytes.
func TestReusedWritersLeaveNothingBehind(t *testing.T) {
	s := synthIndex(t, 20_000).Snapshot()
	lo, hi := s.Bounds()
	a, b := maptile.At(orb.Point{lo[0], hi[1]}, 16), maptile.At(orb.Point{hi[0], lo[1]}, 16)
	var ts []maptile.Tile
	for x := a.X; x <= b.X; x++ {
		for y := a.Y; y <= b.Y; y++ {
			ts = append(ts, maptile.New(x, y, 16))
		}
	}
	first := map[maptile.Tile]string{}
	for _, tl := range ts {
		raw, _, err := tiles.RenderUnits(s, tl, tiles.Options{})
		if err != nil {
			t.Fatal(err)
		}
		first[tl] = string(raw)
	}
	drawn := 0
	for i := len(ts) - 1; i >= 0; i-- {
		raw, _, _ := tiles.RenderUnits(s, ts[i], tiles.Options{})
		if string(raw) != first[ts[i]] {
			t.Fatalf("tile %v drawn after another differs from its first drawing", ts[i])
		}
		if raw != nil {
			drawn++
		}
	}
	if drawn < 100 {
		t.Fatalf("only %d non-empty tiles: the test draws too little", drawn)
	}
}

func TestRenderUnitsCountsTheBufferBeforeDrawing(t *testing.T) {
	// Three units in the tile and three more just past its edge, in its buffer: six to
	// draw, more than MaxDetailFeatures, so the tile is clusters (of its own three), decided
	// from the count before anything is drawn; and the map with a filter that keeps every
	// unit shows the same tile.
	z10 := maptile.At(orb.Point{102.9, 24.6}, 10)
	var us []*riskmap.Unit
	for i, fx := range []float64{0.2, 0.5, 0.8, 1.002, 1.004, 1.006} {
		us = append(us, unit(int64(i+1), riskmap.GradeBlue, at(z10, fx, 0.5)))
	}
	s := mustIndex(t, us...).Snapshot()
	opt := tiles.Options{MaxDetailFeatures: 4}
	raw, _ := mustRender(t, s, z10, opt)
	where, _, err := tiles.RenderUnitsWhere(s, z10, opt, func(*spatialindex.Feature) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"RenderUnits": raw, "RenderUnitsWhere": where} {
		count := 0
		for _, f := range decode(t, b).Features {
			if f.Properties["cluster"] != true {
				t.Fatalf("%s: want clusters for six units to draw with a limit of four, got %v", name, f.Properties)
			}
			count += int(f.Properties["count"].(float64))
		}
		if count != 3 {
			t.Errorf("%s: the clusters count %d units, want the tile's own 3", name, count)
		}
	}
}
