package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/paulmach/orb"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/sites"
)

// PointCreator stores monitoring points: a monitoring.Store.
type PointCreator interface {
	CreatePointRecorded(ctx context.Context, p *monitoring.Point, rec riskmap.AccessRecordFunc) error
}

func th(v float64) *float64 { return &v }

// demoPoint is a point of the plan: its kind, an explicit thresholds (none: the kind's
// defaults) and where it sits off the unit's point (metres east, north).
type demoPoint struct {
	kind       string
	thresholds monitoring.Thresholds
	east, nor  float64
}

var (
	// A medium-pressure gas main runs at 0.2 to 0.4 MPa: too low is a leak or a failed
	// regulator, too high a regulator that no longer holds.
	pipePressure = monitoring.Thresholds{
		Upper: &monitoring.Bounds{Yellow: th(0.45), Red: th(0.5)},
		Lower: &monitoring.Bounds{Yellow: th(0.15), Orange: th(0.1), Red: th(0.05)},
	}
	// A storage tank of a major hazard source: alarm well below the flash points that
	// matter.
	tankTemperature = monitoring.Thresholds{Upper: &monitoring.Bounds{Yellow: th(40), Orange: th(50), Red: th(60)}}
	// Tailings dam (尾矿库): the phreatic line must stay deep enough under the crest, the
	// crest must not move, the dry beach must stay long enough (after AQ 2030-2010's
	// safety-monitoring practice; the values are the demo's).
	phreatic     = monitoring.Thresholds{Lower: &monitoring.Bounds{Blue: th(10), Yellow: th(8), Orange: th(6), Red: th(4)}}
	displacement = monitoring.Thresholds{Upper: &monitoring.Bounds{Blue: th(10), Yellow: th(20), Orange: th(30), Red: th(50)}}
	beach        = monitoring.Thresholds{Lower: &monitoring.Bounds{Blue: th(120), Yellow: th(100), Orange: th(70), Red: th(50)}}
)

// monitoringPlan is what the demo city monitors, by the units' sub-category (or category):
// how many units of it (0: all) and the points of each.
var monitoringPlan = []struct {
	category, sub string
	units         int
	points        []demoPoint
}{
	{"hazardous_chemicals", "加油加气站", 0, []demoPoint{{kind: "gas", east: 8}}},
	{"lifeline_gas", "燃气场站", 10, []demoPoint{{kind: "gas", east: 6}}},
	{"lifeline_gas", "燃气管线", 10, []demoPoint{{kind: "pressure", thresholds: pipePressure}}},
	{"non_coal_mines", "尾矿库", 1, []demoPoint{
		{kind: "phreatic_line", thresholds: phreatic, nor: 30},
		{kind: "displacement", thresholds: displacement, east: -40},
		{kind: "displacement", thresholds: displacement},
		{kind: "displacement", thresholds: displacement, east: 40},
		{kind: "beach_length", thresholds: beach, nor: -30},
	}},
	{"hazardous_chemicals", "储存仓库", 1, []demoPoint{{kind: "temperature", thresholds: tankTemperature, east: 10}}},
	{"waterlogging", "内涝点", 3, []demoPoint{{kind: "rainfall"}}},
	{"crowded_places", "车站", 2, []demoPoint{{kind: "crowd_density", nor: 10}}},
	{"mass_events", "", 1, []demoPoint{{kind: "crowd_density"}}},
}

// LoadMonitoring gives the demo city's approved units their monitoring points (监测点):
// combustible gas at every gas station and at gas plants, pressure on gas mains, the
// tailings dam's phreatic line, crest displacement (three points, the escalation rule's)
// and dry beach, a major hazard source's tank temperature, rainfall at flood-prone spots,
// crowd density at stations and a mass event's venue. Thresholds are the kind's defaults
// where it has them. Codes are JC-<the unit's code without CJ->-<n>. It returns how many
// points it stored; the units must be loaded first, and the points follow from them alone.
func LoadMonitoring(ctx context.Context, units UnitFinder, st PointCreator, cfg *monitoring.Config) (int, error) {
	list, _, err := units.FindUnits(ctx, riskmap.UnitFilter{Statuses: []riskmap.Status{riskmap.StatusApproved}})
	if err != nil {
		return 0, err
	}
	slices.SortFunc(list, func(a, b *riskmap.Unit) int { return strings.Compare(a.Code, b.Code) })
	n := 0
	for _, plan := range monitoringPlan {
		taken := 0
		for _, u := range list {
			if u.Category != plan.category || (plan.sub != "" && u.SubCategory != plan.sub) {
				continue
			}
			if plan.sub == "储存仓库" && u.MajorHazardSource == nil {
				continue
			}
			if plan.units > 0 && taken == plan.units {
				break
			}
			at, ok := placeOf(u.Geometry)
			if !ok {
				continue
			}
			taken++
			for i, dp := range plan.points {
				p := &monitoring.Point{Code: fmt.Sprintf("JC-%s-%02d", strings.TrimPrefix(u.Code, "CJ-"), i+1), UnitID: u.ID,
					Kind: dp.kind, Location: offset(at, dp.east, dp.nor), Thresholds: dp.thresholds}
				cfg.Prepare(p)
				if err := cfg.CheckPoint(p); err != nil {
					return n, fmt.Errorf("演示监测点 %s：%v", p.Code, riskmap.ErrorMessage(err))
				}
				if err := st.CreatePointRecorded(ctx, p, nil); err != nil {
					return n, fmt.Errorf("演示监测点 %s：%v", p.Code, riskmap.ErrorMessage(err))
				}
				n++
			}
		}
	}
	return n, nil
}

// placeOf is where a unit's points go: a vertex in the middle of a line (a gas main), else
// the unit's representative point.
func placeOf(g orb.Geometry) (orb.Point, bool) {
	switch g := g.(type) {
	case orb.LineString:
		if len(g) > 0 {
			return g[len(g)/2], true
		}
	case orb.MultiLineString:
		if len(g) > 0 && len(g[0]) > 0 {
			return g[0][len(g[0])/2], true
		}
	}
	return sites.RepresentativePoint(g)
}

// offset moves p east and north by metres (near enough at the demo city's latitude).
func offset(p orb.Point, east, north float64) orb.Point {
	const mPerDegLat = 111_320.0
	const mPerDegLon = 101_200.0 // at 24.7° N
	return orb.Point{p[0] + east/mPerDegLon, p[1] + north/mPerDegLat}
}
