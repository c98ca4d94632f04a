package main

import (
	"context"
	"fmt"
	"time"

	"riskmap/pkg/analysis"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// newAnalysis makes the analysis engine of the regions and has it hear every change of the
// index (call before the index loads), and has the register compute the conflict
// conditions of every unit it writes from it.
func (m *Main) newAnalysis(regions []*riskmap.Region, ix *spatialindex.Index, svc *register.Service) *analysis.Engine {
	eng := analysis.New(m.cfg.Analysis, regions)
	eng.Watch(ix)
	svc.Conflicts = eng.ConditionsFor
	return eng
}

// startAnalysis computes every conflict once the index has loaded, from the targets and
// shelters as the sites service holds them (site writes heard meanwhile are applied after),
// then writes the
// conflict conditions of the units whose stored ones differ (a target changed while no
// server ran, or the config's radii or hazardous categories changed).
func (m *Main) startAnalysis(ctx context.Context, eng *analysis.Engine, ix *spatialindex.Index, svc *register.Service,
	targets []*riskmap.ProtectiveTarget, shelters []*riskmap.Shelter) error {
	start := time.Now()
	snap := ix.Snapshot()
	eng.Load(snap, targets, shelters)
	m.logger.Info("conflicts computed", "conflicts", eng.Count(), "targets", len(targets), "shelters", len(shelters),
		"seconds", time.Since(start).Seconds())
	// Shelter coverage is computed when first asked for (and again after a shelter
	// changes); compute it now, in the background, so the first request need not wait.
	go func() {
		eng.Coverage(riskmap.LevelStreet)
		eng.Coverage(riskmap.LevelDistrict)
	}()
	if err := m.reconcileConditions(ctx, svc, riskmap.ConditionConflict, eng.WantedConditions()); err != nil {
		return fmt.Errorf("更新安全距离冲突条件：%v", err)
	}
	return nil
}

// reconcileConditions brings the stored conditions of source (conflicts, alarms) in line
// with want at start, on a store that keeps conditions (register.ReconcileConditions).
func (m *Main) reconcileConditions(ctx context.Context, svc *register.Service, source string, want map[int64][]riskmap.Condition) error {
	if _, ok := m.store.(riskmap.ConditionStore); !ok {
		return nil
	}
	res, err := svc.ReconcileConditions(ctx, source, want)
	if err != nil {
		return err
	}
	if res.Changed > 0 {
		m.logger.Info("stored conditions brought up to date", "source", source, "units", res.Changed)
	}
	return nil
}

// targetListener is the sites service's OnTarget: the engine takes the target's write, then
// every unit whose conflicts it changed gets its conflict conditions written (and its grade
// raised or lowered by them) before the target's write is answered.
func (m *Main) targetListener(eng *analysis.Engine, svc *register.Service) func(before, after *riskmap.ProtectiveTarget) {
	return func(before, after *riskmap.ProtectiveTarget) {
		for _, id := range eng.ApplyTarget(before, after) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err := svc.SetConditions(ctx, id, riskmap.ConditionConflict, eng.ConditionsOf(id))
			cancel()
			if err != nil && riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
				// The next start's Reconcile repairs what failed here.
				m.logger.Error("writing a unit's conflict conditions after a target changed", "unit", id, "err", err)
			}
		}
	}
}

// storeConflicts writes the conflict conditions of every unit of the store (its conflicts
// with the stored protective targets), without a server: after the demo city is loaded, so
// that its first publication carries the grades they raise.
func (m *Main) storeConflicts(ctx context.Context, regions []*riskmap.Region) error {
	if _, ok := m.store.(riskmap.ConditionStore); !ok {
		return nil
	}
	targets, err := m.store.ProtectiveTargets(ctx)
	if err != nil {
		return fmt.Errorf("读取防护目标：%v", err)
	}
	ix := spatialindex.New(nil, nil)
	if _, err := ix.Load(ctx, m.store.Units(ctx)); err != nil {
		return fmt.Errorf("读取风险单元：%v", err)
	}
	eng := analysis.New(m.cfg.Analysis, regions)
	eng.Load(ix.Snapshot(), targets, nil)
	if _, err := m.service().ReconcileConditions(ctx, riskmap.ConditionConflict, eng.WantedConditions()); err != nil {
		return fmt.Errorf("更新安全距离冲突条件：%v", err)
	}
	return nil
}
