package register_test

import (
	"context"
	"errors"
	"testing"

	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// failingIndex refuses every unit.
type failingIndex struct{}

func (failingIndex) Apply(*riskmap.Unit) (bool, error) { return false, errors.New("encoder failed") }
func (failingIndex) ApplyAll([]*riskmap.Unit) (int, error) {
	return 0, errors.New("encoder failed")
}
func (failingIndex) Remove(int64) bool { return false }

// TestWritesReachTheIndex: every write the service stores is in its index when the method
// returns, and a unit another replica wrote comes in the same way.
func TestWritesReachTheIndex(t *testing.T) {
	svc, store := newService(t)
	ctx := context.Background()
	ix := spatialindex.New(nil, nil)
	svc.Index = ix
	expert := &riskmap.User{Name: "expert", Role: riskmap.RoleExpert}
	other := &riskmap.User{Name: "other", Role: riskmap.RoleExpert}
	u := polygonUnit(square)
	if err := svc.CreateBy(ctx, expert, u, nil); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() (register.Change, error)
	}{
		{"OKUpdate", func() (register.Change, error) {
			v := polygonUnit(square)
			v.ID, v.Version, v.Name = u.ID, ix.Version(u.ID), "储罐区（改）"
			return svc.UpdateBy(ctx, expert, v, nil)
		}},
		{"OKSubmit", func() (register.Change, error) {
			return svc.Submit(ctx, expert, u.ID, ix.Version(u.ID), register.Note{}, nil)
		}},
		{"OKApprove", func() (register.Change, error) {
			return svc.Approve(ctx, other, u.ID, ix.Version(u.ID), register.Note{}, nil)
		}},
	}
	if ix.Version(u.ID) != 1 {
		t.Fatalf("a created unit is indexed: version %d", ix.Version(u.ID))
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			ch, err := st.do()
			if err != nil {
				t.Fatal(err)
			}
			f, ok := ix.Snapshot().Get(u.ID)
			if !ok || f.Version != ch.After.Version || f.Status != ch.After.Status {
				t.Fatalf("the index must hold version %d (%s), has %+v", ch.After.Version, ch.After.Status, f)
			}
		})
	}
	t.Run("OKRetire", func(t *testing.T) {
		if _, err := svc.Retire(ctx, nil, u.ID, ix.Version(u.ID), register.Note{}, nil); err != nil { // the system retires at once
			t.Fatal(err)
		}
		if ix.Version(u.ID) != 0 {
			t.Fatalf("a retired unit leaves the index: version %d", ix.Version(u.ID))
		}
	})
	t.Run("OKAnotherReplicasWrite", func(t *testing.T) {
		w := polygonUnit(square)
		w.Code = "G-9"
		if err := svc.Prepare(ctx, w); err != nil {
			t.Fatal(err)
		}
		if err := store.CreateUnit(ctx, w); err != nil { // written without the service
			t.Fatal(err)
		}
		if changed, err := svc.ApplyStored(w); err != nil || !changed || ix.Version(w.ID) != 1 {
			t.Fatalf("a unit written elsewhere comes in: changed %v, %v, version %d", changed, err, ix.Version(w.ID))
		}
		if changed, _ := svc.ApplyStored(w); changed {
			t.Fatal("the same version again changes nothing")
		}
		if !svc.RemoveErased(w.ID) || ix.Version(w.ID) != 0 {
			t.Fatal("an erased unit leaves the index")
		}
	})
	t.Run("OKAnotherReplicasBatch", func(t *testing.T) {
		var ws []*riskmap.Unit
		for _, code := range []string{"G-11", "G-12"} {
			w := polygonUnit(square)
			w.Code = code
			if err := svc.Prepare(ctx, w); err != nil {
				t.Fatal(err)
			}
			if err := store.CreateUnit(ctx, w); err != nil { // written without the service
				t.Fatal(err)
			}
			ws = append(ws, w)
		}
		before := ix.Snapshot().Seq()
		if n, err := svc.ApplyStoredAll(ws); err != nil || n != 2 || ix.Version(ws[0].ID) != 1 || ix.Version(ws[1].ID) != 1 {
			t.Fatalf("units written elsewhere come in together: %d changed, %v", n, err)
		}
		if seq := ix.Snapshot().Seq(); seq != before+1 {
			t.Fatalf("one change of the index for the batch: seq %d → %d", before, seq)
		}
		if n, _ := svc.ApplyStoredAll(ws); n != 0 {
			t.Fatal("the same versions again change nothing")
		}
		svc.Index = failingIndex{}
		defer func() { svc.Index = ix }()
		if _, err := svc.ApplyStoredAll(ws); err == nil {
			t.Fatal("an index that refuses the units says so")
		}
	})
	t.Run("ErrNotIndexed", func(t *testing.T) {
		svc.Index = failingIndex{}
		defer func() { svc.Index = ix }()
		w := polygonUnit(square)
		w.Code = "G-10"
		err := svc.CreateBy(ctx, expert, w, nil)
		var ie *register.IndexError
		if !errors.As(err, &ie) {
			t.Fatalf("want an IndexError, got %v", err)
		}
		if _, err := store.GetUnit(ctx, w.ID); err != nil {
			t.Fatalf("the write is stored all the same: %v", err)
		}
	})
}
