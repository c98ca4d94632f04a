package regiongrade

import (
	"sort"
	"strings"

	"riskmap/pkg/riskmap"
)

// Tally is one state of a register's counts per grade by the region code each unit is
// counted under and its category (a spatialindex.Snapshot).
type Tally interface {
	EachCount(fn func(regionCode, category string, n [4]int))
}

// Stat is a number of units per grade, and their total.
type Stat struct {
	Counts
	Total int
}

func (s *Stat) add(n [4]int) {
	s.Red += n[0]
	s.Orange += n[1]
	s.Yellow += n[2]
	s.Blue += n[3]
	s.Total += n[0] + n[1] + n[2] + n[3]
}

// CategoryStat is the units of one category.
type CategoryStat struct {
	Category string
	Stat
}

// RegionStat is the units of one region.
type RegionStat struct {
	Region Region
	Stat
}

// Stats are the statistics of /api/v1/stats.
type Stats struct {
	// Total and ByCategory (ordered by category) count the units f selects.
	Total      Stat
	ByCategory []CategoryStat
	// ByRegion counts, for each region one level below f's region prefix (the districts
	// when there is none), the units of f's categories and scope in it.
	ByRegion []RegionStat
}

// Statistics counts units by grade × category and by grade × child region. Of the filter
// it reads the region prefix, the categories and the scope: what counts by region code and
// category can answer (riskmap.UnitMatcher.MatchCounted).
func Statistics(t Tally, regions []Region, f *riskmap.UnitFilter) Stats {
	m := f.Matcher()
	wide := *f
	wide.RegionPrefix = "" // a child region is counted by its own code
	mw := wide.Matcher()
	var st Stats
	byCat := map[string]*CategoryStat{}
	byCode := map[string][4]int{}
	t.EachCount(func(code, category string, n [4]int) {
		if mw.MatchCounted(category, code) {
			c := byCode[code]
			for i := range c {
				c[i] += n[i]
			}
			byCode[code] = c
		}
		if !m.MatchCounted(category, code) {
			return
		}
		c := byCat[category]
		if c == nil {
			c = &CategoryStat{Category: category}
			byCat[category] = c
		}
		c.add(n)
		st.Total.add(n)
	})
	st.ByCategory = make([]CategoryStat, 0, len(byCat))
	for _, c := range byCat {
		st.ByCategory = append(st.ByCategory, *c)
	}
	sort.Slice(st.ByCategory, func(i, j int) bool { return st.ByCategory[i].Category < st.ByCategory[j].Category })

	region := f.RegionPrefix
	st.ByRegion = []RegionStat{}
	for _, r := range regions {
		if (region == "" && r.Level == riskmap.LevelDistrict) || (region != "" && r.ParentCode == region) {
			rs := RegionStat{Region: r}
			for code, n := range byCode {
				if strings.HasPrefix(code, r.Code) {
					rs.add(n)
				}
			}
			st.ByRegion = append(st.ByRegion, rs)
		}
	}
	return st
}
