package httpapi

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"

	monitor "riskmap/pkg/monitoring" // "monitoring" is the rule of /metrics (server.go)
	"riskmap/pkg/reportdoc"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// openAlarmsListed is how many alarms not closed the report lists.
const openAlarmsListed = 100

// reportMonitoring is the report's chapter 监测预警 (issue 17), from the monitoring service:
// the points of the units the report covers (fs: its filters and the caller's scope
// applied), the alarm statistics of the report's region in the caller's scope
// (Service.Stats), and the alarms not closed of the units covered. nil (no chapter) when
// there is no monitoring service or the units have no points.
func (s *Server) reportMonitoring(ctx context.Context, u *riskmap.User, fs []*spatialindex.Feature, region string) (*reportdoc.MonitoringPart, error) {
	svc := s.cfg.Monitoring
	if svc == nil {
		return nil, nil
	}
	in := make(map[int64]bool, len(fs))
	for _, f := range fs {
		in[f.ID] = true
	}
	points, err := svc.Points(ctx, u, monitor.PointFilter{Region: region})
	if err != nil {
		return nil, err
	}
	part := &reportdoc.MonitoringPart{}
	district := s.districtOf()
	byKind, byRegion := map[string]*reportdoc.PointRow{}, map[string]*reportdoc.PointRow{}
	count := func(m map[string]*reportdoc.PointRow, label string, p *monitor.PointView) {
		r := m[label]
		if r == nil {
			r = &reportdoc.PointRow{Label: label}
			m[label] = r
		}
		r.Points++
		if p.Online {
			r.Online++
		}
		if p.Alarmed {
			r.Alarmed++
		}
	}
	for _, p := range points {
		if !in[p.UnitID] {
			continue
		}
		part.Points++
		if p.Online {
			part.Online++
		}
		if p.Alarmed {
			part.Alarmed++
		}
		count(byKind, cmp.Or(p.KindLabel, p.Kind), p)
		count(byRegion, district(p.RegionCode), p)
	}
	if part.Points == 0 {
		return nil, nil
	}
	part.ByKind, part.ByRegion = pointRows(byKind), pointRows(byRegion)

	st, err := svc.Stats(ctx, u, monitor.AlarmQuery{Region: region})
	if err != nil {
		return nil, err
	}
	part.Alarms = reportdoc.AlarmSummary{Total: st.Total, Open: st.Open, Closed: st.Closed, Disposed: st.Disposed, DisposalRate: st.DisposalRate,
		AckN: st.AckSeconds.N, AckMean: st.AckSeconds.Mean, AckMedian: st.AckSeconds.Median,
		DisposeN: st.DisposeSeconds.N, DisposeMean: st.DisposeSeconds.Mean, DisposeMedian: st.DisposeSeconds.Median}
	// Stats reads the newest MaxScan alarms of the system, then keeps those of the region and
	// the scope.
	part.StatsNote = "报警统计的范围为本报告的区域和用户的职责范围（系统中最近 " + strconv.Itoa(monitor.MaxScan) + " 次报警之内），不受行业领域、风险等级等单元筛选条件的影响。"
	for _, c := range st.ByLevel {
		part.ByLevel = append(part.ByLevel, reportdoc.AlarmRow{Label: cmp.Or(c.Label, monitor.Level(c.Key).Label()), Grade: monitor.Level(c.Key).Grade(),
			Total: c.Total, Open: c.Open, Disposed: c.Disposed, DisposalRate: c.DisposalRate})
	}
	for _, c := range st.ByKind {
		part.ByAlarmKind = append(part.ByAlarmKind, reportdoc.AlarmRow{Label: cmp.Or(c.Label, c.Key), Total: c.Total, Open: c.Open,
			Disposed: c.Disposed, DisposalRate: c.DisposalRate})
	}
	for _, c := range st.ByDepartment {
		part.ByAlarmDepartment = append(part.ByAlarmDepartment, reportdoc.AlarmRow{Label: cmp.Or(c.Label, c.Key), Total: c.Total, Open: c.Open,
			Disposed: c.Disposed, DisposalRate: c.DisposalRate})
	}
	// The statistics count by 乡镇/街道 (monitoring.RegionGroup): summed here by district, as
	// the report's other tables. When the report groups finer than the street (a city of one
	// street), a street is named itself.
	regions := map[string]*reportdoc.AlarmRow{}
	var order []string
	names := s.regionNames()
	for _, c := range st.ByRegion {
		label := district(c.Key)
		if n := names.short(c.Key); label == "其他区域" && n != c.Key {
			label = n
		}
		r := regions[label]
		if r == nil {
			r = &reportdoc.AlarmRow{Label: label}
			regions[label] = r
			order = append(order, label)
		}
		r.Total, r.Open, r.Disposed = r.Total+c.Total, r.Open+c.Open, r.Disposed+c.Disposed
	}
	for _, label := range order {
		r := regions[label]
		r.DisposalRate = 1
		if r.Total > 0 {
			r.DisposalRate = float64(r.Disposed) / float64(r.Total)
		}
		part.ByAlarmRegion = append(part.ByAlarmRegion, *r)
	}
	slices.SortStableFunc(part.ByAlarmRegion, func(a, b reportdoc.AlarmRow) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(a.Label, b.Label))
	})

	open, err := svc.Alarms(ctx, u, monitor.AlarmQuery{Open: true, Region: region})
	if err != nil {
		return nil, err
	}
	open = slices.DeleteFunc(open, func(a *monitor.AlarmView) bool { return !in[a.UnitID] })
	// The most severe first, then the oldest.
	slices.SortStableFunc(open, func(a, b *monitor.AlarmView) int {
		return cmp.Or(cmp.Compare(b.Level.Rank(), a.Level.Rank()), a.OpenedAt.Compare(b.OpenedAt), cmp.Compare(a.ID, b.ID))
	})
	for _, a := range open[:min(len(open), openAlarmsListed)] {
		peak := strconv.FormatFloat(a.Peak, 'f', -1, 64)
		if a.UnitOfMeasure != "" {
			peak += " " + a.UnitOfMeasure
		}
		part.Open = append(part.Open, reportdoc.OpenAlarm{Code: a.Code, Unit: cmp.Or(a.UnitName, a.UnitCode), Point: a.PointCode,
			Kind: cmp.Or(a.KindLabel, a.Kind), Level: a.Level.Label(), Grade: a.Level.Grade(), Peak: peak, OpenedAt: a.OpenedAt,
			Status: a.Status.Label()})
	}
	part.OpenMore = max(0, len(open)-openAlarmsListed)
	return part, nil
}

// districtOf names the region of a unit's region code at the report's grouping level (the
// districts), as countUnits groups the units; "其他区域" for none.
func (s *Server) districtOf() func(code string) string {
	level := s.regionLevelOf()
	type group struct{ code, name string }
	var groups []group
	for _, r := range s.regions {
		if r.Level == level {
			groups = append(groups, group{r.Code, r.Name})
		}
	}
	slices.SortFunc(groups, func(a, b group) int { return cmp.Compare(len(b.code), len(a.code)) })
	return func(code string) string {
		for _, g := range groups {
			if strings.HasPrefix(code, g.code) {
				return g.name
			}
		}
		return "其他区域"
	}
}

// pointRows are the rows of m, the most points first.
func pointRows(m map[string]*reportdoc.PointRow) []reportdoc.PointRow {
	out := make([]reportdoc.PointRow, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b reportdoc.PointRow) int {
		return cmp.Or(cmp.Compare(b.Points, a.Points), cmp.Compare(a.Label, b.Label))
	})
	return out
}
