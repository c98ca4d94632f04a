package tiles_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/synth"
	"riskmap/pkg/tiles"
)

// The index is a UnitSource as it is: cmd/riskmap and httpapi pass it straight in.
var _ tiles.UnitSource[*spatialindex.Snapshot] = (*spatialindex.Index)(nil)

// unitsSeq streams units into Index.Load.
func unitsSeq(us []*riskmap.Unit) func(func(*riskmap.Unit, error) bool) {
	return func(yield func(*riskmap.Unit, error) bool) {
		for _, u := range us {
			if !yield(u, nil) {
				return
			}
		}
	}
}

// mustIndex loads units into a new index.
func mustIndex(tb testing.TB, us ...*riskmap.Unit) *spatialindex.Index {
	tb.Helper()
	ix := spatialindex.New(nil, nil)
	if _, err := ix.Load(context.Background(), unitsSeq(us)); err != nil {
		tb.Fatal(err)
	}
	return ix
}

// unit makes an approved unit.
func unit(id int64, g riskmap.Grade, geom orb.Geometry) *riskmap.Unit {
	return &riskmap.Unit{ID: id, Version: 1, Code: fmt.Sprintf("FX-%04d", id), Name: fmt.Sprintf("测试单元%d", id),
		Category: "gas_station", RegionCode: "530481001001", Grade: g, Status: riskmap.StatusApproved, Geometry: geom}
}

// randomPoints are n graded points spread evenly over b, from a fixed seed.
func randomPoints(n int, b orb.Bound, seed uint64) []*riskmap.Unit {
	r := rand.New(rand.NewPCG(seed, 7))
	us := make([]*riskmap.Unit, n)
	for i := range us {
		p := orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])}
		us[i] = unit(int64(i+1), riskmap.Grades[r.IntN(4)], p)
	}
	return us
}

var (
	synthMu  sync.Mutex
	synthIdx = map[int]*spatialindex.Index{}
)

// synthIndex is an index of n synthetic units of the demo city (points, lines and polygons
// placed by population), built once per size for the whole test binary.
func synthIndex(tb testing.TB, n int) *spatialindex.Index {
	tb.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if ix := synthIdx[n]; ix != nil {
		return ix
	}
	regions, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := config.Default()
	g, err := synth.New(regions, cfg.Catalog, cfg.Grader)
	if err != nil {
		tb.Fatal(err)
	}
	ix := spatialindex.New(nil, nil)
	id := int64(0)
	_, err = ix.Load(context.Background(), func(yield func(*riskmap.Unit, error) bool) {
		for u := range g.Units(1, n) {
			id++
			u.ID, u.Version = id, 1
			if err := cfg.Grader.Grade(u); err != nil {
				yield(nil, err)
				return
			}
			if !yield(u, nil) {
				return
			}
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	synthIdx[n] = ix
	return ix
}

// at is the longitude/latitude of a position inside tile t given as fractions of the tile
// (fx right, fy down, 0..1 inside; outside values reach into neighbours).
func at(t maptile.Tile, fx, fy float64) orb.Point {
	n := math.Exp2(float64(t.Z))
	x := (float64(t.X) + fx) / n
	y := (float64(t.Y) + fy) / n
	lon := x*360 - 180
	lat := math.Atan(math.Sinh(math.Pi*(1-2*y))) * 180 / math.Pi
	return orb.Point{lon, lat}
}

// rect is a closed ring through the tile fractions (x0,y0)-(x1,y1), counter-clockwise in
// longitude/latitude (as GeoJSON wants) unless cw.
func rect(t maptile.Tile, x0, y0, x1, y1 float64, cw bool) orb.Ring {
	// In tile fractions y grows southward, so this order runs counter-clockwise on the
	// ground: bottom-left, bottom-right, top-right, top-left.
	r := orb.Ring{at(t, x0, y1), at(t, x1, y1), at(t, x1, y0), at(t, x0, y0), at(t, x0, y1)}
	if cw {
		r.Reverse()
	}
	return r
}

// decode reads a raw tile back with orb's decoder, failing on anything but one layer.
func decode(tb testing.TB, raw []byte) *mvt.Layer {
	tb.Helper()
	ls, err := mvt.Unmarshal(raw)
	if err != nil {
		tb.Fatalf("decode: %v", err)
	}
	if len(ls) != 1 {
		tb.Fatalf("want 1 layer, got %d", len(ls))
	}
	return ls[0]
}

// byID indexes decoded features by their MVT id.
func byID(l *mvt.Layer) map[int64]*geojson.Feature {
	m := map[int64]*geojson.Feature{}
	for _, f := range l.Features {
		if id, ok := f.ID.(float64); ok {
			m[int64(id)] = f
		}
	}
	return m
}

// shoelace is twice the signed area of a ring in tile coordinates: positive when the ring
// runs clockwise on screen (y down), as MVT 2 wants exterior rings.
func shoelace(r orb.Ring) float64 {
	a := 0.0
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a
}

// polygons lists the polygons of a decoded geometry.
func polygons(g orb.Geometry) []orb.Polygon {
	switch g := g.(type) {
	case orb.Polygon:
		return []orb.Polygon{g}
	case orb.MultiPolygon:
		return g
	}
	return nil
}

// points lists every position of a geometry.
func points(g orb.Geometry) []orb.Point {
	var out []orb.Point
	switch g := g.(type) {
	case orb.Point:
		out = append(out, g)
	case orb.MultiPoint:
		out = append(out, g...)
	case orb.LineString:
		out = append(out, g...)
	case orb.MultiLineString:
		for _, l := range g {
			out = append(out, l...)
		}
	case orb.Polygon:
		for _, r := range g {
			out = append(out, r...)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				out = append(out, r...)
			}
		}
	}
	return out
}

// mustRender renders the units layer or fails.
func mustRender(tb testing.TB, s *spatialindex.Snapshot, t maptile.Tile, opt tiles.Options) ([]byte, int) {
	tb.Helper()
	raw, n, err := tiles.RenderUnits(s, t, opt)
	if err != nil {
		tb.Fatal(err)
	}
	return raw, n
}

// newService returns a tile service over a new, not yet loaded index.
func newService(tb testing.TB, regions tiles.RegionSource) (*tiles.Service, *spatialindex.Index) {
	tb.Helper()
	ix := spatialindex.New(nil, nil)
	return tiles.NewService(ix, regions, tiles.Options{}), ix
}

// gunzip undoes a tile's compression (nil stays nil).
func gunzip(tb testing.TB, b []byte) []byte {
	tb.Helper()
	if b == nil {
		return nil
	}
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
