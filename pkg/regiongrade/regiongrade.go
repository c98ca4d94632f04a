// Package regiongrade aggregates unit grades into region grades for the regional
// four-colour map (区域总体安全风险空间分布图), with the rule the deployment chose, and explains
// each region's colour: its counts per grade and the rule that applied.
package regiongrade

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"

	"riskmap/pkg/config"
	"riskmap/pkg/riskmap"
)

// Summary is a region with its aggregated grade.
type Summary struct {
	Code        string        `json:"code"`
	Name        string        `json:"name"`
	Level       string        `json:"level"`
	ParentCode  string        `json:"parent_code"`
	Population  int64         `json:"population"`
	AreaKm2     float64       `json:"area_km2"`
	Counts      Counts        `json:"counts"`
	Total       int           `json:"total"`
	Grade       riskmap.Grade `json:"grade"`
	GradeLabel  string        `json:"grade_label"`
	Index       *float64      `json:"index,omitempty"`
	Rule        string        `json:"rule"`
	Explanation string        `json:"explanation"`
}

// Counts is the number of units per grade.
type Counts struct {
	Red    int `json:"red"`
	Orange int `json:"orange"`
	Yellow int `json:"yellow"`
	Blue   int `json:"blue"`
}

// Array returns the counts in grade order, red first.
func (c Counts) Array() [4]int { return [4]int{c.Red, c.Orange, c.Yellow, c.Blue} }

func countsOf(a [4]int) Counts { return Counts{a[0], a[1], a[2], a[3]} }

// Region is a region with its precomputed area.
type Region struct {
	*riskmap.Region
	AreaKm2 float64
	Bound   orb.Bound
}

// Prepare computes what aggregation needs of each region once: its geodesic area.
func Prepare(rs []*riskmap.Region) []Region {
	out := make([]Region, len(rs))
	for i, r := range rs {
		out[i] = Region{Region: r, AreaKm2: geo.Area(r.Geometry) / 1e6, Bound: r.Geometry.Bound()}
	}
	return out
}

// Compute aggregates per-region-code counts (by exact unit region code) into every region:
// a region holds the units whose region code starts with its code. Grids have codes that
// extend their community's, so they hold units only if units carry grid codes.
func Compute(regions []Region, counts map[string][4]int, rule config.RegionRule) []Summary {
	codes := make([]string, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	out := make([]Summary, len(regions))
	for i, r := range regions {
		var sum [4]int
		// Codes sharing the prefix are contiguous in sorted order.
		j := sort.SearchStrings(codes, r.Code)
		for ; j < len(codes) && strings.HasPrefix(codes[j], r.Code); j++ {
			c := counts[codes[j]]
			for g := range sum {
				sum[g] += c[g]
			}
		}
		out[i] = summarize(r, sum, rule)
	}
	return out
}

func summarize(r Region, c [4]int, rule config.RegionRule) Summary {
	s := Summary{Code: r.Code, Name: r.Name, Level: r.Level, ParentCode: r.ParentCode, Population: r.Population,
		AreaKm2: math.Round(r.AreaKm2*1000) / 1000, Counts: countsOf(c), Total: c[0] + c[1] + c[2] + c[3]}
	countText := fmt.Sprintf("重大 %d、较大 %d、一般 %d、低 %d 个风险单元", c[0], c[1], c[2], c[3])
	switch rule.Method {
	case "highest":
		s.Grade = riskmap.GradeBlue
		for i, n := range c {
			if n > 0 {
				s.Grade = riskmap.Grades[i]
				break
			}
		}
		s.Rule = "highest unit grade"
		if s.Total == 0 {
			s.Explanation = "区域内没有风险单元，判定为低风险（蓝）。"
		} else {
			s.Explanation = fmt.Sprintf("区域内有%s；按最高单元等级规则，判定为%s（%s）。", countText, s.Grade.Label(), s.Grade.ColourName())
		}
	case "count":
		s.Grade = riskmap.GradeBlue
		s.Rule = "count"
		words := "未达到任何等级的数量门槛"
		for i, g := range riskmap.Grades[:3] {
			min := rule.Thresholds[g]
			// Units of grade g or higher count towards g.
			n := 0
			for k := 0; k <= i; k++ {
				n += c[k]
			}
			if min > 0 && float64(n) >= min {
				s.Grade = g
				s.Rule = fmt.Sprintf("≥ %s units of %s or higher → %s", num(min), g, g)
				words = fmt.Sprintf("%s及以上单元不少于 %s 个", g.ShortLabel(), num(min))
				break
			}
		}
		s.Explanation = fmt.Sprintf("区域内有%s；按数量规则（%s），判定为%s（%s）。", countText, words, s.Grade.Label(), s.Grade.ColourName())
	default: // weighted_index
		w := rule.Weights
		weighted := w[riskmap.GradeRed]*float64(c[0]) + w[riskmap.GradeOrange]*float64(c[1]) +
			w[riskmap.GradeYellow]*float64(c[2]) + w[riskmap.GradeBlue]*float64(c[3])
		denom, unit := r.AreaKm2, "km²"
		if rule.Per == "10k_people" {
			denom, unit = float64(r.Population)/10000, "万人"
		}
		idx := 0.0
		if denom > 0 {
			idx = math.Round(weighted/denom*100) / 100
		}
		s.Index = &idx
		s.Grade = riskmap.GradeBlue
		s.Rule = fmt.Sprintf("index < %s → blue", num(rule.Thresholds[riskmap.GradeYellow]))
		for _, g := range riskmap.Grades[:3] {
			if t := rule.Thresholds[g]; idx >= t {
				s.Grade = g
				s.Rule = fmt.Sprintf("index ≥ %s → %s", num(t), g)
				break
			}
		}
		s.Explanation = fmt.Sprintf("区域内有%s；加权指数 = (%s×%d + %s×%d + %s×%d + %s×%d) ÷ %s %s = %s，%s，判定为%s（%s）。",
			countText, num(w[riskmap.GradeRed]), c[0], num(w[riskmap.GradeOrange]), c[1], num(w[riskmap.GradeYellow]), c[2],
			num(w[riskmap.GradeBlue]), c[3], num(math.Round(denom*1000)/1000), unit, num(idx), zhRule(s.Rule), s.Grade.Label(), s.Grade.ColourName())
	}
	s.GradeLabel = s.Grade.Label()
	return s
}

func zhRule(rule string) string {
	if i := strings.Index(rule, " →"); i >= 0 {
		return strings.Replace(rule[:i], "index", "指数", 1)
	}
	return rule
}

func num(v float64) string { return fmt.Sprintf("%g", v) }

// Locator finds the grid that holds a point, for counting units by grid. It needs only
// the grids' outlines, not the areas Prepare computes.
func Locator(regions []*riskmap.Region) func(orb.Point) string {
	var grids []*riskmap.Region
	for _, r := range regions {
		if r.Level == riskmap.LevelGrid {
			grids = append(grids, r)
		}
	}
	// Grids do not overlap: the finest region holding the point is its one grid.
	return Containing(grids)
}

// Containing returns a function that gives the code of the finest region (of any level)
// whose area holds a point, or "" when none does.
func Containing(regions []*riskmap.Region) func(orb.Point) string {
	type area struct {
		code  string
		bound orb.Bound
		geom  orb.MultiPolygon
	}
	as := make([]area, 0, len(regions))
	for _, r := range regions {
		as = append(as, area{r.Code, r.Geometry.Bound(), r.Geometry})
	}
	return func(p orb.Point) string {
		best := ""
		for _, a := range as {
			if len(a.code) > len(best) && a.bound.Contains(p) && planar.MultiPolygonContains(a.geom, p) {
				best = a.code
			}
		}
		return best
	}
}

// GridKey names the grids Locator counts units in, by their codes and boundaries: unit
// counts made under another key were made in other grids and cannot be carried forward.
func GridKey(regions []*riskmap.Region) string {
	h := sha256.New()
	var b [8]byte
	for _, r := range regions {
		if r.Level != riskmap.LevelGrid {
			continue
		}
		h.Write([]byte(r.Code))
		h.Write([]byte{0})
		for _, poly := range r.Geometry {
			for _, ring := range poly {
				for _, p := range ring {
					binary.LittleEndian.PutUint64(b[:], math.Float64bits(p[0]))
					h.Write(b[:])
					binary.LittleEndian.PutUint64(b[:], math.Float64bits(p[1]))
					h.Write(b[:])
				}
				h.Write([]byte{1})
			}
			h.Write([]byte{2})
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
