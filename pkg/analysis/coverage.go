package analysis

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"

	"riskmap/pkg/riskmap"
)

// Coverage classes.
const (
	CoverageOK     = "ok"      // meets the area per resident
	CoverageShort  = "short"   // below it, but at least half of it
	CoverageSevere = "severe"  // below half of it
	CoverageNoData = "no_data" // no population
)

// SampleStepM is the spacing of the grid that samples a region for its covered shares.
const SampleStepM = 100

// maxSamples bounds the samples of one region: a larger region is sampled more coarsely.
const maxSamples = 200_000

// Coverage is the emergency shelter coverage of one district or street.
type Coverage struct {
	Code, Name, Level string
	Geometry          orb.MultiPolygon
	Population        int64
	// Shelters counts the shelters whose representative point lies in the region; Capacity
	// and EffectiveAreaM2 sum theirs.
	Shelters        int
	Capacity        int
	EffectiveAreaM2 float64
	// PerCapitaM2 is the effective area per resident (0 without population);
	// RequiredPerCapitaM2 the config's requirement; ShortfallM2 the area missing to meet it.
	PerCapitaM2         float64
	RequiredPerCapitaM2 float64
	ShortfallM2         float64
	Meets               bool
	// CoveredPopulationShare and CoveredAreaShare (0..1) are the shares of the region's
	// population and area within some shelter's service radius.
	CoveredPopulationShare float64
	CoveredAreaShare       float64
	// Class is CoverageOK, CoverageShort, CoverageSevere or CoverageNoData.
	Class string
	// Explanation says the figures in a Chinese sentence.
	Explanation string
}

// Coverage is the shelter coverage of every region of the level (riskmap.LevelDistrict or
// LevelStreet), by code. It is computed when first asked for after the shelters changed,
// and cached.
func (e *Engine) Coverage(level string) []Coverage {
	e.mu.RLock()
	version := e.shelters.version
	states := make([]*shelterState, 0, len(e.shelters.byID))
	for _, st := range e.shelters.byID {
		states = append(states, st)
	}
	e.mu.RUnlock()
	s := &e.shelters
	s.covMu.Lock()
	defer s.covMu.Unlock()
	if c, ok := s.cov[level]; ok && c.version == version {
		return c.items
	}
	items := computeCoverage(e.regions, level, states, e.cfg)
	s.cov[level] = coverageCache{version: version, items: items}
	return items
}

// densityRegion is a populated region and its population per m².
type densityRegion struct {
	r       *riskmap.Region
	rank    int // the level's place in riskmap.RegionLevels: finer is larger
	density float64
}

func levelRank(level string) int { return slices.Index(riskmap.RegionLevels, level) }

func computeCoverage(regions []*riskmap.Region, level string, shelters []*shelterState, cfg Config) []Coverage {
	slices.SortFunc(shelters, func(a, b *shelterState) int { return int(a.s.ID - b.s.ID) })
	// Regions by bound, for the density at a sample.
	dtree := &rtree.RTreeG[*densityRegion]{}
	for _, r := range regions {
		if len(r.Geometry) == 0 {
			continue
		}
		if a := AreaM2(r.Geometry); a > 0 {
			b := r.Geometry.Bound()
			dtree.Insert(b.Min, b.Max, &densityRegion{r: r, rank: levelRank(r.Level), density: float64(r.Population) / a})
		}
	}
	// Shelters by bound grown by their service radius, for coverage at a sample.
	stree := &rtree.RTreeG[*shelterState]{}
	for _, st := range shelters {
		if st.radius > 0 {
			g := GrowM(st.bound, st.radius)
			stree.Insert(g.Min, g.Max, st)
		}
	}
	var out []Coverage
	for _, r := range regions {
		if r.Level != level || len(r.Geometry) == 0 {
			continue
		}
		c := Coverage{Code: r.Code, Name: r.Name, Level: r.Level, Geometry: r.Geometry,
			Population: populationOf(r, regions), RequiredPerCapitaM2: cfg.ShelterPerCapitaM2}
		for _, st := range shelters {
			if holds(r, st.s) {
				c.Shelters++
				c.Capacity += st.s.Capacity
				c.EffectiveAreaM2 += st.s.EffectiveAreaM2
			}
		}
		c.CoveredPopulationShare, c.CoveredAreaShare = sampleCoverage(r, densityLevel(r, regions), dtree, stree)
		finish(&c)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Coverage) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// densityLevel is the rank of the finest level below r whose regions under r have
// population: the level whose density weighs r's samples; -1 for none.
func densityLevel(r *riskmap.Region, regions []*riskmap.Region) int {
	best := -1
	for _, s := range regions {
		if s.Population > 0 && s.Code != r.Code && strings.HasPrefix(s.Code, r.Code) {
			best = max(best, levelRank(s.Level))
		}
	}
	return best
}

// populationOf is a region's population, or the sum of its populated sub-regions' at the
// first finer level that has any.
func populationOf(r *riskmap.Region, regions []*riskmap.Region) int64 {
	if r.Population > 0 {
		return r.Population
	}
	for _, lvl := range riskmap.RegionLevels[levelRank(r.Level)+1:] {
		var sum int64
		for _, s := range regions {
			if s.Level == lvl && strings.HasPrefix(s.Code, r.Code) && s.Code != r.Code {
				sum += s.Population
			}
		}
		if sum > 0 {
			return sum
		}
	}
	return 0
}

// holds reports whether the shelter lies in the region: its representative point inside
// the region's polygons.
func holds(r *riskmap.Region, sh *riskmap.Shelter) bool {
	p := representative(sh.Geometry)
	return r.Geometry.Bound().Contains(p) && contains(r.Geometry, p)
}

// sampleCoverage samples the region on a grid of about SampleStepM in local metres and
// returns the shares of population (each sample weighted by the density of the region of
// rank level under r holding it: the finest level with population; the region's own when
// none holds it, uniform when level is -1) and of area within some shelter's service radius.
func sampleCoverage(r *riskmap.Region, level int, dtree *rtree.RTreeG[*densityRegion], stree *rtree.RTreeG[*shelterState]) (popShare, areaShare float64) {
	b := r.Geometry.Bound()
	mid := b.Center()
	// Degrees per SampleStepM metres at the region's middle.
	dx := SampleStepM / DistanceM(mid, orb.Point{mid[0] + 0.01, mid[1]}) * 0.01
	dy := SampleStepM / DistanceM(mid, orb.Point{mid[0], mid[1] + 0.01}) * 0.01
	nx, ny := math.Ceil((b.Max[0]-b.Min[0])/dx), math.Ceil((b.Max[1]-b.Min[1])/dy)
	if nx*ny > maxSamples {
		k := math.Sqrt(nx * ny / maxSamples)
		dx, dy = dx*k, dy*k
	}
	own := 1.0
	if a := AreaM2(r.Geometry); a > 0 && r.Population > 0 {
		own = float64(r.Population) / a
	}
	var n, covered int
	var w, wCovered float64
	for y := b.Min[1] + dy/2; y < b.Max[1]; y += dy {
		for x := b.Min[0] + dx/2; x < b.Max[0]; x += dx {
			p := orb.Point{x, y}
			if !contains(r.Geometry, p) {
				continue
			}
			density, found := 1.0, level < 0
			if !found {
				dtree.Search(p, p, func(_, _ [2]float64, d *densityRegion) bool {
					if d.rank == level && strings.HasPrefix(d.r.Code, r.Code) && contains(d.r.Geometry, p) {
						density, found = d.density, true
						return false
					}
					return true
				})
			}
			if !found {
				density = own
			}
			in := false
			stree.Search(p, p, func(_, _ [2]float64, st *shelterState) bool {
				if d, _, _ := GeomDistanceM(p, st.s.Geometry); d <= st.radius {
					in = true
					return false
				}
				return true
			})
			n++
			w += density
			if in {
				covered++
				wCovered += density
			}
		}
	}
	if n == 0 {
		// A region too small for the grid: its representative point stands for it.
		p := representative(r.Geometry)
		in := false
		stree.Search(p, p, func(_, _ [2]float64, st *shelterState) bool {
			if d, _, _ := GeomDistanceM(p, st.s.Geometry); d <= st.radius {
				in = true
				return false
			}
			return true
		})
		if in {
			return 1, 1
		}
		return 0, 0
	}
	areaShare = float64(covered) / float64(n)
	if w > 0 {
		popShare = wCovered / w
	} else {
		popShare = areaShare
	}
	return popShare, areaShare
}

// finish computes the per-capita figures, the class and the explanation.
func finish(c *Coverage) {
	if c.Population > 0 {
		c.PerCapitaM2 = c.EffectiveAreaM2 / float64(c.Population)
		need := c.RequiredPerCapitaM2 * float64(c.Population)
		c.ShortfallM2 = math.Max(0, need-c.EffectiveAreaM2)
		c.Meets = c.PerCapitaM2 >= c.RequiredPerCapitaM2
	}
	switch {
	case c.Population <= 0:
		c.Class = CoverageNoData
	case c.Meets:
		c.Class = CoverageOK
	case c.PerCapitaM2 >= c.RequiredPerCapitaM2/2:
		c.Class = CoverageShort
	default:
		c.Class = CoverageSevere
	}
	var b strings.Builder
	if c.Population > 0 {
		fmt.Fprintf(&b, "常住人口 %s人，有效避难面积 %s平方米，人均 %s 平方米，", wan(float64(c.Population)), wan(c.EffectiveAreaM2), trim(c.PerCapitaM2, 2))
		if c.Meets {
			fmt.Fprintf(&b, "达到 %s 平方米的要求", trim(c.RequiredPerCapitaM2, 2))
		} else {
			fmt.Fprintf(&b, "低于 %s 平方米的要求，缺口 %s平方米", trim(c.RequiredPerCapitaM2, 2), wan(c.ShortfallM2))
		}
		fmt.Fprintf(&b, "；%s 的人口和 %s 的面积在避难场所服务半径内。", percent(c.CoveredPopulationShare), percent(c.CoveredAreaShare))
	} else {
		fmt.Fprintf(&b, "无常住人口数据，有效避难面积 %s平方米；%s 的面积在避难场所服务半径内。", wan(c.EffectiveAreaM2), percent(c.CoveredAreaShare))
	}
	c.Explanation = b.String()
}

// wan writes a count the Chinese way: "3.2 万" from ten thousand on, else the whole number
// followed by a space ("850 ").
func wan(v float64) string {
	if v >= 10000 {
		return trim(v/10000, 1) + " 万"
	}
	return fmt.Sprintf("%.0f ", v)
}

// trim formats v with at most prec decimals, without trailing zeros.
func trim(v float64, prec int) string {
	s := fmt.Sprintf("%.*f", prec, v)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func percent(share float64) string { return fmt.Sprintf("%.0f%%", share*100) }
