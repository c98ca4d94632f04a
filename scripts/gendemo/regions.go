package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"riskmap/pkg/riskmap"
)

// The demo city is 澄江市 (530481), Yunnan. Its outline and town boundaries are hand-drawn
// approximations on shared corner points (so towns tile the district exactly); only land is
// drawn: 抚仙湖 bites into the south and 阳宗海 into the north, as on a map. Communities are
// Voronoi cells of hand-placed sites clipped to their town, and grids are Voronoi cells of
// random sites clipped to their community.

const (
	districtCode = "530481"
	districtName = "澄江市"
)

// corner points, longitude/latitude.
var nodes = map[string]orb.Point{
	// outline, counter-clockwise from the south-east tip on 抚仙湖's east shore
	"A": {102.975, 24.490}, "B": {103.020, 24.500}, "C": {103.055, 24.560}, "D": {103.067, 24.640},
	"E": {103.050, 24.720}, "F": {103.030, 24.800}, "G": {103.000, 24.860},
	// 阳宗海's south shore
	"H": {102.990, 24.876}, "I": {102.968, 24.872}, "J": {102.955, 24.888}, "K": {102.948, 24.912},
	"L": {102.925, 24.905}, "M": {102.885, 24.865}, "N": {102.845, 24.805}, "P": {102.805, 24.745},
	"Q": {102.786, 24.685}, "R": {102.792, 24.625}, "S": {102.812, 24.588},
	// 抚仙湖's north shore, west to east, then its east shore going south
	"T": {102.836, 24.603}, "U": {102.858, 24.626}, "V": {102.882, 24.641}, "W": {102.905, 24.646},
	"X": {102.928, 24.637}, "Y": {102.948, 24.617}, "Z": {102.957, 24.588}, "AA": {102.960, 24.555},
	"AB": {102.962, 24.520}, "AC": {102.966, 24.492},
	// inner corners
	"n1": {102.880, 24.700}, "n2": {102.872, 24.760}, "n3": {102.915, 24.775}, "n4": {102.960, 24.770},
	"n5": {102.932, 24.690}, "n6": {102.925, 24.740}, "n7": {102.965, 24.630}, "n8": {102.975, 24.690},
	"n9": {103.010, 24.632}, "n10": {102.990, 24.790}, "n11": {103.000, 24.556},
}

var outline = []string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "P",
	"Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "AA", "AB", "AC"}

type community struct {
	code string // last three digits: 0xx 社区 (居委会), 2xx 村 (村委会), as GB/T 10114 numbers them
	name string
	site orb.Point
	pop  float64 // relative weight of the town's population
}

type town struct {
	code, name string
	ring       []string // corner names, counter-clockwise
	population int64
	comms      []community
}

// Street/town codes follow GB/T 10114 (0xx streets, 1xx towns); the community names are
// illustrative (see geodata/README.md).
var towns = []town{
	{"001", "凤麓街道", []string{"V", "W", "X", "n5", "n6", "n3", "n2", "n1"}, 62000, []community{
		{"001", "东龙社区", orb.Point{102.918, 24.672}, 3},
		{"002", "西龙社区", orb.Point{102.897, 24.668}, 3},
		{"003", "新城社区", orb.Point{102.912, 24.652}, 2.5},
		{"004", "凤山社区", orb.Point{102.905, 24.700}, 2},
		{"201", "双树村", orb.Point{102.898, 24.745}, 1},
	}},
	{"002", "龙街街道", []string{"X", "Y", "n7", "n8", "n4", "n3", "n6", "n5"}, 38000, []community{
		{"001", "龙街社区", orb.Point{102.945, 24.660}, 3},
		{"002", "广龙社区", orb.Point{102.955, 24.692}, 2},
		{"201", "小湾村", orb.Point{102.945, 24.632}, 1},
		{"202", "高西村", orb.Point{102.950, 24.733}, 1},
		{"203", "左所村", orb.Point{102.932, 24.760}, 0.8},
	}},
	{"101", "右所镇", []string{"F", "G", "H", "I", "J", "K", "L", "M", "N", "P", "Q", "R", "S", "T",
		"U", "V", "n1", "n2", "n3", "n4", "n10"}, 33000, []community{
		{"001", "右所社区", orb.Point{102.848, 24.660}, 2.5},
		{"002", "阳宗社区", orb.Point{102.965, 24.835}, 2},
		{"201", "禄充村", orb.Point{102.822, 24.615}, 1.2},
		{"202", "吉花村", orb.Point{102.808, 24.700}, 1},
		{"203", "小马沟村", orb.Point{102.845, 24.750}, 1},
		{"204", "明星村", orb.Point{102.895, 24.820}, 1},
	}},
	{"102", "路居镇", []string{"Y", "Z", "AA", "n11", "C", "D", "n9", "n7"}, 14000, []community{
		{"001", "路居社区", orb.Point{102.985, 24.600}, 2},
		{"201", "下村村", orb.Point{102.972, 24.570}, 1},
		{"202", "马房村", orb.Point{103.030, 24.598}, 1},
		{"203", "东山村", orb.Point{103.045, 24.625}, 0.8},
	}},
	{"103", "海口镇", []string{"AA", "AB", "AC", "A", "B", "C", "n11"}, 16000, []community{
		{"001", "海口社区", orb.Point{102.980, 24.540}, 2},
		{"201", "松元村", orb.Point{102.980, 24.505}, 1},
		{"202", "中所村", orb.Point{103.015, 24.525}, 1},
		{"203", "石门村", orb.Point{103.040, 24.548}, 0.8},
	}},
	{"104", "九村镇", []string{"n7", "n9", "D", "E", "F", "n10", "n4", "n8"}, 11000, []community{
		{"001", "九村社区", orb.Point{103.020, 24.700}, 2},
		{"201", "尖山村", orb.Point{103.042, 24.660}, 1},
		{"202", "广山村", orb.Point{103.002, 24.752}, 1},
		{"203", "龙潭村", orb.Point{102.990, 24.665}, 1},
	}},
}

// shores are the lake shores along the district's edge.
var shores = []struct {
	lake    string
	corners []string
}{
	{"抚仙湖", []string{"S", "T", "U", "V", "W", "X", "Y", "Z", "AA", "AB", "AC", "A"}},
	{"阳宗海", []string{"H", "I", "J", "K"}},
}

// lakeside maps the communities that touch a lake shore to the lake's name.
func lakeside(regions []*riskmap.Region) map[string]string {
	out := map[string]string{}
	for _, r := range regions {
		if r.Level != riskmap.LevelCommunity {
			continue
		}
		for _, sh := range shores {
			if touches(r.Geometry, sh.corners) {
				out[r.Code] = sh.lake
			}
		}
	}
	return out
}

func touches(mp orb.MultiPolygon, corners []string) bool {
	for _, poly := range mp {
		for _, p := range poly[0] {
			for i := 0; i+1 < len(corners); i++ {
				a, b := nodes[corners[i]], nodes[corners[i+1]]
				// p on segment ab, up to rounding
				cross := (b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])
				if math.Abs(cross)/math.Hypot(b[0]-a[0], b[1]-a[1]) < 2e-6 &&
					p[0] >= math.Min(a[0], b[0])-2e-6 && p[0] <= math.Max(a[0], b[0])+2e-6 &&
					p[1] >= math.Min(a[1], b[1])-2e-6 && p[1] <= math.Max(a[1], b[1])+2e-6 {
					return true
				}
			}
		}
	}
	return false
}

func ringOf(names []string) (orb.Ring, error) {
	ring := make(orb.Ring, 0, len(names)+1)
	for _, n := range names {
		p, ok := nodes[n]
		if !ok {
			return nil, fmt.Errorf("unknown corner %q", n)
		}
		ring = append(ring, p)
	}
	ring = append(ring, ring[0])
	if planar.Area(ring) < 0 {
		return nil, fmt.Errorf("ring %v is clockwise", names)
	}
	return ring, nil
}

// buildRegions makes the district, its towns, their communities and the communities' grids.
func buildRegions(r *rand.Rand) ([]*riskmap.Region, error) {
	out, err := ringOf(outline)
	if err != nil {
		return nil, err
	}
	var total int64
	for _, t := range towns {
		total += t.population
	}
	regions := []*riskmap.Region{{Code: districtCode, Name: districtName, Level: riskmap.LevelDistrict,
		Population: total, Geometry: orb.MultiPolygon{{out}}}}
	for _, t := range towns {
		ring, err := ringOf(t.ring)
		if err != nil {
			return nil, err
		}
		tcode := districtCode + t.code
		regions = append(regions, &riskmap.Region{Code: tcode, Name: t.name, Level: riskmap.LevelStreet,
			ParentCode: districtCode, Population: t.population, Geometry: orb.MultiPolygon{{ring}}})
		sites := make([]orb.Point, len(t.comms))
		weights := make([]float64, len(t.comms))
		for i, c := range t.comms {
			sites[i], weights[i] = c.site, c.pop
		}
		cells, err := partition(ring, sites)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", t.name, err)
		}
		pops := split(t.population, weights)
		for i, c := range t.comms {
			ccode := tcode + c.code
			regions = append(regions, &riskmap.Region{Code: ccode, Name: c.name, Level: riskmap.LevelCommunity,
				ParentCode: tcode, Population: pops[i], Geometry: orb.MultiPolygon{{cells[i]}}})
			grids, err := gridsOf(r, ccode, cells[i], pops[i], c.code[0] == '0')
			if err != nil {
				return nil, fmt.Errorf("%s: %v", c.name, err)
			}
			regions = append(regions, grids...)
		}
	}
	for _, reg := range regions {
		if err := reg.Validate(); err != nil {
			return nil, fmt.Errorf("region %s %s: %v", reg.Code, reg.Name, err)
		}
	}
	return regions, nil
}

// gridsOf divides a community into 2–7 grids (more in urban 社区) around random sites,
// drawing new sites until every cell is valid and not a sliver.
func gridsOf(r *rand.Rand, code string, ring orb.Ring, pop int64, urban bool) ([]*riskmap.Region, error) {
	n := 2 + r.IntN(3)
	if urban {
		n = 4 + r.IntN(4)
	}
	area := planar.Area(ring)
	for attempt := 0; attempt < 200; attempt++ {
		sites := make([]orb.Point, n)
		b := ring.Bound()
		for i := range sites {
			for {
				p := orb.Point{b.Min[0] + (b.Max[0]-b.Min[0])*r.Float64(), b.Min[1] + (b.Max[1]-b.Min[1])*r.Float64()}
				if planar.RingContains(ring, p) {
					sites[i] = p
					break
				}
			}
		}
		cells, err := partition(ring, sites)
		if err != nil {
			continue
		}
		ok := true
		for _, c := range cells {
			if planar.Area(c) < area/float64(n)/4 {
				ok = false
			}
		}
		if !ok {
			continue
		}
		weights := make([]float64, n)
		for i := range weights {
			weights[i] = 0.6 + 0.8*r.Float64()
		}
		pops := split(pop, weights)
		out := make([]*riskmap.Region, n)
		for i, c := range cells {
			out[i] = &riskmap.Region{Code: fmt.Sprintf("%s%03d", code, i+1), Name: fmt.Sprintf("第%d网格", i+1),
				Level: riskmap.LevelGrid, ParentCode: code, Population: pops[i], Geometry: orb.MultiPolygon{{c}}}
		}
		return out, nil
	}
	return nil, fmt.Errorf("could not divide into %d grids", n)
}

// split shares total out in proportion to weights, exactly.
func split(total int64, weights []float64) []int64 {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	out := make([]int64, len(weights))
	var given int64
	for i, w := range weights {
		out[i] = int64(math.Round(float64(total) * w / sum))
		given += out[i]
	}
	out[len(out)-1] += total - given
	return out
}

// partition cuts ring into the Voronoi cells of sites: each cell is the ring clipped by the
// half-planes nearer its site than the others (Sutherland–Hodgman). Clipping a non-convex
// ring that way is exact while each cell stays in one piece; a cell that would fall apart
// shows up as a ring touching itself, which validation rejects. Distances are measured in
// local metres so that cells are not stretched east–west.
func partition(ring orb.Ring, sites []orb.Point) ([]orb.Ring, error) {
	k := math.Cos(ring.Bound().Center()[1] * math.Pi / 180)
	toXY := func(p orb.Point) orb.Point { return orb.Point{p[0] * k, p[1]} }
	base := make([]orb.Point, len(ring)-1)
	for i := range base {
		base[i] = toXY(ring[i])
	}
	cells := make([]orb.Ring, len(sites))
	var sum float64
	for i, s := range sites {
		poly := base
		si := toXY(s)
		for j, o := range sites {
			if i == j {
				continue
			}
			oj := toXY(o)
			// nearer si than oj: 2(oj-si)·x ≤ |oj|² − |si|²
			a := orb.Point{2 * (oj[0] - si[0]), 2 * (oj[1] - si[1])}
			c := oj[0]*oj[0] + oj[1]*oj[1] - si[0]*si[0] - si[1]*si[1]
			poly = clip(poly, a, c)
			if len(poly) < 3 {
				return nil, fmt.Errorf("site %d has an empty cell", i+1)
			}
		}
		cell := make(orb.Ring, 0, len(poly)+1)
		for _, p := range poly {
			q := orb.Point{round6(p[0] / k), round6(p[1])}
			if len(cell) > 0 && cell[len(cell)-1] == q {
				continue
			}
			cell = append(cell, q)
		}
		if len(cell) > 1 && cell[0] == cell[len(cell)-1] {
			cell = cell[:len(cell)-1]
		}
		if len(cell) < 3 {
			return nil, fmt.Errorf("site %d has a degenerate cell", i+1)
		}
		cell = append(cell, cell[0])
		if !planar.RingContains(cell, s) {
			return nil, fmt.Errorf("site %d lies outside its cell", i+1)
		}
		if err := riskmap.ValidateGeometry(orb.Polygon{cell}); err != nil {
			return nil, fmt.Errorf("site %d: %v", i+1, err)
		}
		sum += planar.Area(cell)
		cells[i] = cell
	}
	if whole := planar.Area(ring); math.Abs(sum-whole) > whole*1e-4 {
		return nil, fmt.Errorf("cells cover %.9f of %.9f square degrees", sum, whole)
	}
	return cells, nil
}

// clip keeps the part of polygon poly (open ring) where a·x ≤ c.
func clip(poly []orb.Point, a orb.Point, c float64) []orb.Point {
	inside := func(p orb.Point) bool { return a[0]*p[0]+a[1]*p[1] <= c }
	cross := func(p, q orb.Point) orb.Point {
		fp := a[0]*p[0] + a[1]*p[1] - c
		fq := a[0]*q[0] + a[1]*q[1] - c
		t := fp / (fp - fq)
		return orb.Point{p[0] + t*(q[0]-p[0]), p[1] + t*(q[1]-p[1])}
	}
	var out []orb.Point
	for i, cur := range poly {
		prev := poly[(i+len(poly)-1)%len(poly)]
		switch ci, pi := inside(cur), inside(prev); {
		case ci && pi:
			out = append(out, cur)
		case ci && !pi:
			out = append(out, cross(prev, cur), cur)
		case !ci && pi:
			out = append(out, cross(prev, cur))
		}
	}
	return out
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
