package hazards

import (
	"context"
	"sync"
	"time"

	"riskmap/pkg/riskmap"
)

// DueSoonDays is how many days ahead "due soon" (临期) looks.
const DueSoonDays = 7

// MaxSupervisionItems bounds each list of the supervision view.
const MaxSupervisionItems = 200

// Board is the hidden dangers part of the supervision view (督办) for one user,
// within its scope.
type Board struct {
	Today                           time.Time
	Overdue, DueSoon, Supervised    []*Hazard
	OverdueCount, DueSoonCount, Sup int
	ByDepartment, ByRegion          []Count
}

// Stats counts the hidden dangers of the filter within the user's scope by group.
func (s *Service) Stats(ctx context.Context, by *riskmap.User, f Filter, group string) ([]Count, error) {
	switch group {
	case ByCategory, ByRegion, ByDepartment:
	default:
		return nil, riskmap.Problems{riskmap.FieldErrorf("by", "须为 category、region 或 department")}.Err()
	}
	f.Scope = scopeOf(by)
	if f.Today.IsZero() {
		f.Today = s.Today()
	}
	if f.DueWithinDays == 0 {
		f.DueWithinDays = DueSoonDays
	}
	return s.Store.CountHazards(ctx, f, group)
}

// SupervisionView assembles the supervision view's hidden dangers for a user: its five
// store reads run side by side. The counts by department and region are of the open
// hidden dangers (what is still to be supervised), not of the whole ledger.
func (s *Service) SupervisionView(ctx context.Context, by *riskmap.User) (*Board, error) {
	today := s.Today()
	scope := scopeOf(by)
	v := &Board{Today: today}
	f := Filter{Open: true, Today: today, Scope: scope, DueWithinDays: DueSoonDays}
	reads := []func() error{
		func() (err error) {
			v.Overdue, v.OverdueCount, err = s.Store.FindHazards(ctx, Filter{Overdue: true, Today: today, Scope: scope, Limit: MaxSupervisionItems})
			return err
		},
		func() (err error) {
			v.DueSoon, v.DueSoonCount, err = s.Store.FindHazards(ctx, Filter{DueWithinDays: DueSoonDays, Today: today, Scope: scope, Limit: MaxSupervisionItems})
			return err
		},
		func() (err error) {
			v.Supervised, v.Sup, err = s.Store.FindHazards(ctx, Filter{Supervised: true, Open: true, Levels: []Level{LevelMajor}, Today: today, Scope: scope, Limit: MaxSupervisionItems})
			return err
		},
		func() (err error) {
			v.ByDepartment, err = s.Store.CountHazards(ctx, f, ByDepartment)
			return err
		},
		func() (err error) {
			v.ByRegion, err = s.Store.CountHazards(ctx, f, ByRegion)
			return err
		},
	}
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, read := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = read()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return v, nil
}
