package httpapi_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"riskmap/pkg/riskmap"
)

// lostCommit is a store whose next CreateUnitRecorded commits and then answers as if the
// database had gone away before the commit's answer arrived: what a cut connection does.
type lostCommit struct {
	riskmap.Store
	lose atomic.Bool
}

func (s *lostCommit) CreateUnitRecorded(ctx context.Context, u *riskmap.Unit, rec riskmap.RecordFunc) error {
	if err := s.Store.CreateUnitRecorded(ctx, u, rec); err != nil || !s.lose.CompareAndSwap(true, false) {
		return err
	}
	return riskmap.Errorf(riskmap.EUNAVAILABLE, "数据库暂时不可用")
}

// TestLostCommitAnswerOneAuditRow: a create whose commit lands but whose answer is lost is
// answered 503; the retry with the same Idempotency-Key returns the unit; the unit has
// exactly one unit.create row (the 201 kept with it), and the refused request's row names
// no unit (it once named the unit the transaction wrote: two unit.create rows for one unit,
// seen in TestWritesSurviveDatabaseOutage).
func TestLostCommitAnswerOneAuditRow(t *testing.T) {
	store := &lostCommit{Store: gpkgStore(t)}
	e := newEnv(t, store)
	body := feature("LOST-1", "丢失提交应答", 102.91, 24.67, 2, 2)
	key := []string{"Idempotency-Key", "lost-commit-1"}
	store.lose.Store(true)
	first := e.do("POST", "/api/v1/units", body, append(e.as("expert1"), key...)...)
	if first.code != 503 {
		t.Fatalf("the lost answer: want 503, got %d %s", first.code, first.body)
	}
	again := e.do("POST", "/api/v1/units", body, append(e.as("expert1"), key...)...)
	if again.code != 201 || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %v %s", again.code, again.header, again.body)
	}
	ctx := context.Background()
	us, _, err := store.FindUnits(ctx, riskmap.UnitFilter{Q: "LOST-1"})
	if err != nil || len(us) != 1 {
		t.Fatalf("one unit, got %d (%v)", len(us), err)
	}
	id := strconv.FormatInt(us[0].ID, 10)
	es, err := store.AuditEntries(ctx, riskmap.AuditFilter{Action: "unit.create", TargetType: "unit", TargetID: id})
	if err != nil || len(es) != 1 || es[0].Status != 201 {
		t.Fatalf("want one unit.create row with status 201 for unit %s, got %d (%v): %+v", id, len(es), err, es)
	}
	all, err := store.AuditEntries(ctx, riskmap.AuditFilter{Action: "unit.create"})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, a := range all {
		if a.Status == 503 {
			refused++
			if a.TargetID != "" || a.After != nil {
				t.Errorf("the refused request's row names what it was not told it wrote: %+v", a)
			}
		}
	}
	if refused != 1 {
		t.Errorf("the refused request keeps its own row (503): got %d", refused)
	}
}
