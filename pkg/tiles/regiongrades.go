package tiles

import (
	"sync"

	"riskmap/pkg/regiongrade"
)

// RegionGrades is the RegionSource of a register's live regional grades: the regions layer
// draws the grades the regions API answers with. Its features are rebuilt once per change
// of the grades.
type RegionGrades struct {
	live *regiongrade.Live

	mu  sync.Mutex
	seq uint64
	fs  []RegionFeature
}

// NewRegionGrades returns the regions layer's source of live grades.
func NewRegionGrades(live *regiongrade.Live) *RegionGrades { return &RegionGrades{live: live} }

// RegionFeatures gives the regions with their grades; none (version 0) while the grades
// cannot be computed, such as before the index has loaded.
func (g *RegionGrades) RegionFeatures() (uint64, []RegionFeature) {
	sums, seq, err := g.live.Summaries()
	if err != nil {
		return 0, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fs == nil || g.seq != seq {
		regions := g.live.Regions()
		fs := make([]RegionFeature, len(regions))
		for i, r := range regions {
			fs[i] = RegionFeature{Code: r.Code, Name: r.Name, Level: r.Level, Grade: sums[i].Grade,
				Counts: sums[i].Counts.Array(), Geometry: r.Geometry, Bound: r.Bound}
		}
		g.fs, g.seq = fs, seq
	}
	// Region tiles change with every unit write; +1 keeps 0 free for "never".
	return seq + 1, g.fs
}
