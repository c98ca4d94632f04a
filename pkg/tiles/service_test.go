package tiles_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/tiles"
)

// regionSource is a RegionSource whose regions and version the test sets.
type regionSource struct {
	mu  sync.Mutex
	seq uint64
	fs  []tiles.RegionFeature
}

func (r *regionSource) RegionFeatures() (uint64, []tiles.RegionFeature) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq, r.fs
}

func (r *regionSource) set(seq uint64, fs []tiles.RegionFeature) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq, r.fs = seq, fs
}

func TestServiceUnits(t *testing.T) {
	ctx := context.Background()
	svc, ix := newService(t, nil)
	t.Run("ErrStillLoading", func(t *testing.T) {
		if _, err := svc.Units(ctx, demoTile); riskmap.ErrorCode(err) != riskmap.EUNAVAILABLE {
			t.Fatalf("want EUNAVAILABLE before the index loads, got %v", err)
		}
	})
	if _, err := ix.Load(ctx, unitsSeq(fixtureUnits())); err != nil {
		t.Fatal(err)
	}
	t.Run("OKTile", func(t *testing.T) {
		tile, err := svc.Units(ctx, demoTile)
		if err != nil {
			t.Fatal(err)
		}
		raw, n := mustRender(t, ix.Snapshot(), demoTile, tiles.Options{})
		if !bytes.Equal(gunzip(t, tile.Gzip), raw) || tile.Features != n || tile.Empty {
			t.Fatalf("served tile differs from the rendering (%d features, want %d)", tile.Features, n)
		}
		if len(tile.ETag) != 34 || !strings.HasPrefix(tile.ETag, `"`) || !strings.HasSuffix(tile.ETag, `"`) {
			t.Fatalf("ETag %s: want a quoted 32-digit hash", tile.ETag)
		}
	})
	t.Run("OKSecondRequestFromCache", func(t *testing.T) {
		first, _ := svc.Units(ctx, demoTile)
		hits := svc.Cache().Stats().Hits
		again, err := svc.Units(ctx, demoTile)
		if err != nil || again != first || svc.Cache().Stats().Hits != hits+1 {
			t.Fatalf("second request was not a cache hit (%v)", err)
		}
	})
	t.Run("EmptyTile", func(t *testing.T) {
		tile, err := svc.Units(ctx, maptile.New(0, 0, 10))
		if err != nil || !tile.Empty || tile.Gzip != nil || tile.ETag != "" || tile.Features != 0 {
			t.Fatalf("want an empty tile, got %+v (%v)", tile, err)
		}
	})
	t.Run("ErrOffTheGrid", func(t *testing.T) {
		for _, tt := range []maptile.Tile{maptile.New(0, 0, 23), maptile.New(16, 0, 4), maptile.New(0, 16, 4)} {
			if _, err := svc.Units(ctx, tt); riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Errorf("%v: want EINVALID, got %v", tt, err)
			}
		}
	})
	t.Run("OKConcurrentRequests", func(t *testing.T) {
		tt := maptile.New(demoTile.X>>1, demoTile.Y>>1, 13)
		var wg sync.WaitGroup
		etags := make([]string, 8)
		for i := range etags {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tile, err := svc.Units(ctx, tt)
				if err != nil {
					t.Error(err)
					return
				}
				etags[i] = tile.ETag
			}()
		}
		wg.Wait()
		for _, e := range etags {
			if e != etags[0] || e == "" {
				t.Fatalf("concurrent requests got different tiles: %v", etags)
			}
		}
	})
}

func TestServiceRegions(t *testing.T) {
	ctx := context.Background()
	src := &regionSource{}
	src.set(1, fixtureRegions())
	svc, _ := newService(t, src)
	grade := func(tile *tiles.Tile) any {
		return decode(t, gunzip(t, tile.Gzip)).Features[1].Properties["grade"]
	}
	first, err := svc.Regions(ctx, demoTile)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OKTile", func(t *testing.T) {
		if first.Features != 3 || grade(first) != "red" {
			t.Fatalf("%d features, street grade %v", first.Features, grade(first))
		}
	})
	t.Run("OKCachedWhileSameVersion", func(t *testing.T) {
		again, _ := svc.Regions(ctx, demoTile)
		if again != first {
			t.Fatal("same regions version rendered again")
		}
	})
	t.Run("OKNewVersionRendered", func(t *testing.T) {
		fs := fixtureRegions()
		fs[2].Grade = riskmap.GradeBlue
		src.set(2, fs)
		tile, err := svc.Regions(ctx, demoTile)
		if err != nil || grade(tile) != "blue" {
			t.Fatalf("after the regions changed the tile still says %v (%v)", grade(tile), err)
		}
	})
	t.Run("EmptyWithoutSource", func(t *testing.T) {
		svc, _ := newService(t, nil)
		tile, err := svc.Regions(ctx, demoTile)
		if err != nil || !tile.Empty {
			t.Fatalf("got %+v (%v)", tile, err)
		}
	})
}
