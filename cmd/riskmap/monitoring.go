package main

import (
	"context"
	"fmt"
	"time"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// newMonitoring makes the monitoring service (issue 17) over the store, its units read
// from the index (a unit not in it, or retired, has none), its alarm conditions written
// through the register. nil when the store keeps no monitoring. Load it with
// startMonitoring once the index has loaded.
func (m *Main) newMonitoring(ix *spatialindex.Index, svc *register.Service) *monitoring.Service {
	st, ok := m.store.(monitoring.Store)
	if !ok {
		return nil
	}
	cfg := m.cfg.Monitoring
	ms := monitoring.NewService(st, &cfg, unitRef(ix))
	ms.Logger = m.logger
	ms.Retention = time.Duration(cfg.RetentionDays) * 24 * time.Hour
	ms.Shared = isPostgres(m.DB)
	if _, ok := m.store.(riskmap.ConditionStore); ok {
		ms.Conditions = func(ctx context.Context, id int64, conds []riskmap.Condition) error {
			_, err := svc.SetConditions(ctx, id, riskmap.ConditionAlarm, conds)
			return err
		}
	}
	return ms
}

// unitRef reads a unit from the index's snapshot of the moment.
func unitRef(ix *spatialindex.Index) func(int64) (monitoring.UnitRef, bool) {
	return func(id int64) (monitoring.UnitRef, bool) {
		f, ok := ix.Snapshot().Get(id)
		if !ok || f.Status == riskmap.StatusRetired {
			return monitoring.UnitRef{}, false
		}
		return monitoring.UnitRef{ID: id, Code: f.Code, Name: f.Name, Category: f.Category, RegionCode: f.RegionCode,
			Department: f.Department, Grade: f.Grade}, true
	}
}

// startMonitoring loads the points, their latest readings and the open alarms, brings the
// stored alarm conditions of the units in line with the open alarms, and runs the service
// (offline checks, replica sync, partitions and retention) until ctx is done; the returned
// channel closes when it has stopped.
func (m *Main) startMonitoring(ctx context.Context, ms *monitoring.Service, svc *register.Service) (<-chan struct{}, error) {
	done := make(chan struct{})
	if ms == nil {
		close(done)
		return done, nil
	}
	start := time.Now()
	if err := ms.Load(ctx); err != nil {
		return nil, fmt.Errorf("载入监测点与报警：%v", err)
	}
	if err := m.reconcileConditions(ctx, svc, riskmap.ConditionAlarm, ms.WantedConditions()); err != nil {
		return nil, fmt.Errorf("更新报警条件：%v", err)
	}
	m.logger.Info("monitoring loaded", "seconds", time.Since(start).Seconds())
	go func() {
		defer close(done)
		ms.Run(ctx)
	}()
	return done, nil
}
