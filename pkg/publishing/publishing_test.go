package publishing_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/publishing"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

func TestCheckNote(t *testing.T) {
	for _, tc := range []struct {
		name string
		note string
		ok   bool
	}{
		{"OK", "", true},
		{"OKAtTheLimit", strings.Repeat("长", publishing.MaxNoteLen), true},
		{"ErrTooLong", strings.Repeat("长", publishing.MaxNoteLen+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := publishing.CheckNote(tc.note)
			if tc.ok != (err == nil) || (err != nil && riskmap.ErrorCode(err) != riskmap.EINVALID) {
				t.Fatalf("CheckNote of %d characters: %v", len([]rune(tc.note)), err)
			}
		})
	}
}

// TestPublish: a publication carries the approved register and is what Latest serves; a
// refused note publishes nothing.
func TestPublish(t *testing.T) {
	ctx := context.Background()
	store, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "pub.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	u := &riskmap.Unit{Code: "P-1", Name: "加油站", Category: "hazardous_chemicals", RegionCode: "530481001001",
		Status: riskmap.StatusApproved, Assessment: riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: 2, Severity: 3},
		Geometry: orb.Point{102.91, 24.67}}
	if err := register.New(store, cfg.Grader, cfg.Catalog).Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	svc := publishing.New(store, nil, cfg.RegionRule, func() *spatialindex.Index { return spatialindex.NewPublic(nil, nil) })

	if _, _, err := svc.Latest(ctx, 0, nil); riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
		t.Fatalf("nothing published yet: want ENOTFOUND, got %v", err)
	}
	t.Run("ErrNoteTooLong", func(t *testing.T) {
		p := &riskmap.Publication{CreatedBy: "test", Note: strings.Repeat("长", publishing.MaxNoteLen+1)}
		if _, err := svc.Publish(ctx, p, nil); riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatalf("want EINVALID, got %v", err)
		}
		if _, _, err := svc.Latest(ctx, 0, nil); riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
			t.Fatalf("a refused note publishes nothing, got %v", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		p := &riskmap.Publication{CreatedBy: "test", Note: "首期"}
		ch, err := svc.Publish(ctx, p, nil)
		if err != nil || p.Number != 1 || p.UnitCount != 1 || len(ch.Added) != 1 {
			t.Fatalf("want publication 1 of 1 unit, got %+v, %v", p, err)
		}
		latest, lix, err := svc.Latest(ctx, 0, nil)
		if err != nil || latest.Number != 1 || lix.Snapshot().Len() != 1 {
			t.Fatalf("Latest serves publication 1: %+v %v", latest, err)
		}
		if f, ok := lix.Snapshot().Get(u.ID); !ok || f.Name != "" {
			t.Fatalf("the public index holds the unit without its name: %+v", f)
		}
		if latest, lix, err := svc.Latest(ctx, 1, lix); latest != nil || lix != nil || err != nil {
			t.Fatalf("nothing newer than what is served: %+v %v", latest, err)
		}
	})
}
