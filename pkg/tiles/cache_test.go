package tiles_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/tiles"
)

// apart reports whether p and q lie in tiles at zoom z that do not touch, so that neither
// is in the other's buffer.
func apart(p, q orb.Point, z maptile.Zoom) bool {
	a, b := maptile.At(p, z), maptile.At(q, z)
	d := func(u, v uint32) uint32 { return max(u, v) - min(u, v) }
	return d(a.X, b.X) > 1 || d(a.Y, b.Y) > 1
}

func tileOf(n int) *tiles.Tile {
	return &tiles.Tile{Gzip: make([]byte, n), ETag: fmt.Sprintf(`"%d"`, n), Features: 1}
}

func cached(c *tiles.Cache, layer string, t maptile.Tile) bool {
	_, _, ok := c.Get(tiles.Key{Layer: layer, Tile: t})
	return ok
}

func TestCachePutGet(t *testing.T) {
	t.Run("OKHitAndMiss", func(t *testing.T) {
		c := tiles.NewCache(tiles.Options{})
		k := tiles.Key{Layer: tiles.LayerUnits, Tile: maptile.New(1, 2, 3)}
		if _, _, ok := c.Get(k); ok {
			t.Fatal("empty cache hit")
		}
		want := tileOf(10)
		if !c.Put(k, 5, want) {
			t.Fatal("put refused")
		}
		got, seq, ok := c.Get(k)
		if !ok || got != want || seq != 5 {
			t.Fatalf("got %v at %d (%v)", got, seq, ok)
		}
		if _, _, ok := c.Get(tiles.Key{Layer: tiles.LayerRegions, Tile: k.Tile}); ok {
			t.Fatal("the other layer's tile hit")
		}
		if st := c.Stats(); st.Hits != 1 || st.Misses != 2 || st.Entries != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("OKEvictsLeastRecentlyUsed", func(t *testing.T) {
		c := tiles.NewCache(tiles.Options{CacheBytes: 10_000})
		key := func(i int) tiles.Key { return tiles.Key{Layer: tiles.LayerUnits, Tile: maptile.New(uint32(i), 0, 10)} }
		c.Put(key(0), 1, tileOf(1000))
		for i := 1; i < 50; i++ {
			c.Get(key(0)) // keep tile 0 in use
			c.Put(key(i), 1, tileOf(1000))
		}
		st := c.Stats()
		if st.Bytes > 10_000 || st.Evictions == 0 {
			t.Fatalf("stats %+v: want at most 10 000 bytes and evictions", st)
		}
		if !cached(c, tiles.LayerUnits, key(0).Tile) || !cached(c, tiles.LayerUnits, key(49).Tile) {
			t.Fatal("evicted a recently used tile")
		}
		if cached(c, tiles.LayerUnits, key(1).Tile) {
			t.Fatal("kept the least recently used tile")
		}
	})
	t.Run("RefusedLargerThanCache", func(t *testing.T) {
		c := tiles.NewCache(tiles.Options{CacheBytes: 1000})
		if c.Put(tiles.Key{Layer: tiles.LayerUnits}, 1, tileOf(2000)) {
			t.Fatal("stored a tile larger than the cache")
		}
	})
	t.Run("KeptNewerRendering", func(t *testing.T) {
		c := tiles.NewCache(tiles.Options{})
		k := tiles.Key{Layer: tiles.LayerUnits, Tile: maptile.New(0, 0, 1)}
		newer := tileOf(1)
		c.Put(k, 9, newer)
		if c.Put(k, 8, tileOf(2)) {
			t.Fatal("an older rendering replaced a newer one")
		}
		if got, _, _ := c.Get(k); got != newer {
			t.Fatal("lost the newer rendering")
		}
	})
}

func TestCacheInvalidate(t *testing.T) {
	p := orb.Point{102.9, 24.6}
	far := orb.Point{102.95, 24.65}
	fill := func(c *tiles.Cache, pts ...orb.Point) {
		for _, pt := range pts {
			for z := maptile.Zoom(0); z <= 22; z++ {
				c.Put(tiles.Key{Layer: tiles.LayerUnits, Tile: maptile.At(pt, z)}, 1, tileOf(10))
				c.Put(tiles.Key{Layer: tiles.LayerRegions, Tile: maptile.At(pt, z)}, 1, tileOf(10))
			}
		}
	}
	t.Run("OKEveryZoomOfTheBounds", func(t *testing.T) {
		c := tiles.NewCache(tiles.Options{})
		fill(c, p, far)
		c.InvalidateBounds(tiles.LayerUnits, orb.Bound{Min: p, Max: p}, 2)
		for z := maptile.Zoom(0); z <= 22; z++ {
			if cached(c, tiles.LayerUnits, maptile.At(p, z)) {
				t.Errorf("z%d: the tile holding the write is still cached", z)
			}
			if !cached(c, tiles.LayerRegions, maptile.At(p, z)) {
				t.Errorf("z%d: the other layer's tile was dropped", z)
			}
			if apart(p, far, z) && !cached(c, tiles.LayerUnits, maptile.At(far, z)) {
				t.Errorf("z%d: an unrelated tile was dropped", z)
			}
		}
		if !apart(p, far, 14) {
			t.Fatal("test points too close")
		}
	})
	t.Run("OKNeighbourWhoseBufferReaches", func(t *testing.T) {
		c := tiles.NewCache(tiles.Options{})
		tile := maptile.New(100, 100, 16)
		right := maptile.New(101, 100, 16)
		beyond := maptile.New(102, 100, 16)
		for _, tt := range []maptile.Tile{tile, right, beyond} {
			c.Put(tiles.Key{Layer: tiles.LayerUnits, Tile: tt}, 1, tileOf(10))
		}
		// A point just inside tile's right edge lies in right's buffer.
		pt := at(tile, 0.995, 0.5)
		c.InvalidateBounds(tiles.LayerUnits, orb.Bound{Min: pt, Max: pt}, 2)
		if cached(c, tiles.LayerUnits, tile) || cached(c, tiles.LayerUnits, right) {
			t.Fatal("the tile or the neighbour whose buffer holds the point is still cached")
		}
		if !cached(c, tiles.LayerUnits, beyond) {
			t.Fatal("a tile two away was dropped")
		}
	})
	t.Run("OKHugeBoundsAtHighZoom", func(t *testing.T) {
		c := tiles.NewCache(tiles.Options{})
		fill(c, p)
		c.Put(tiles.Key{Layer: tiles.LayerUnits, Tile: maptile.At(orb.Point{-120, 40}, 22)}, 1, tileOf(10))
		// 2^44 tiles at z22: must not be enumerated.
		c.InvalidateBounds(tiles.LayerUnits, orb.Bound{Min: orb.Point{-170, -80}, Max: orb.Point{170, 80}}, 2)
		if st := c.Stats(); st.Entries != 23 {
			t.Fatalf("%d entries left, want the 23 regions tiles", st.Entries)
		}
	})
	t.Run("RefusedStalePut", func(t *testing.T) {
		c := tiles.NewCache(tiles.Options{})
		k := tiles.Key{Layer: tiles.LayerUnits, Tile: maptile.At(p, 15)}
		other := tiles.Key{Layer: tiles.LayerUnits, Tile: maptile.At(far, 15)}
		// A render starts at seq 1; a write at seq 2 lands in the tile; the render ends.
		c.InvalidateBounds(tiles.LayerUnits, orb.Bound{Min: p, Max: p}, 2)
		if c.Put(k, 1, tileOf(10)) {
			t.Fatal("stored a tile rendered before a write that touched it")
		}
		if !c.Put(other, 1, tileOf(10)) {
			t.Fatal("refused a tile the write did not touch")
		}
		if !c.Put(k, 2, tileOf(10)) {
			t.Fatal("refused a tile rendered after the write")
		}
		if c.Stats().Refused != 1 {
			t.Fatalf("refused %d, want 1", c.Stats().Refused)
		}
	})
	t.Run("RefusedStalePutAfterInvalidateAll", func(t *testing.T) {
		c := tiles.NewCache(tiles.Options{})
		fill(c, p)
		c.InvalidateAll(tiles.LayerUnits, 7)
		if cached(c, tiles.LayerUnits, maptile.At(p, 10)) || !cached(c, tiles.LayerRegions, maptile.At(p, 10)) {
			t.Fatal("InvalidateAll must drop exactly the layer's tiles")
		}
		if c.Put(tiles.Key{Layer: tiles.LayerUnits, Tile: maptile.At(far, 3)}, 6, tileOf(1)) {
			t.Fatal("stored a tile rendered before the reload")
		}
	})
	t.Run("RefusedStalePutAfterLogOverflow", func(t *testing.T) {
		c := tiles.NewCache(tiles.Options{})
		for i := 0; i < 10_000; i++ {
			pt := orb.Point{-100 + float64(i)*0.001, 10}
			c.InvalidateBounds(tiles.LayerUnits, orb.Bound{Min: pt, Max: pt}, uint64(i+2))
		}
		// The first writes are forgotten one by one, but a render from before them all is
		// still refused anywhere they were.
		if c.Put(tiles.Key{Layer: tiles.LayerUnits, Tile: maptile.At(orb.Point{-100, 10}, 18)}, 1, tileOf(1)) {
			t.Fatal("stored a stale tile once the invalidation log overflowed")
		}
	})
}

// TestServiceInvalidation is the end-to-end check: a write to a unit through the index
// drops the tiles of its old and new position at every zoom and no unrelated tile, and the
// next request shows the unit where it now is.
func TestServiceInvalidation(t *testing.T) {
	a := orb.Point{102.90, 24.60}
	b := orb.Point{102.93, 24.62}
	c := orb.Point{102.99, 24.70}
	svc, ix := newService(t, nil)
	if _, err := ix.Load(context.Background(), unitsSeq([]*riskmap.Unit{
		unit(1, riskmap.GradeRed, a), unit(2, riskmap.GradeBlue, c),
	})); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for z := maptile.Zoom(0); z <= 22; z++ {
		for _, p := range []orb.Point{a, b, c} {
			if _, err := svc.Units(ctx, maptile.At(p, z)); err != nil {
				t.Fatal(err)
			}
		}
	}
	moved := unit(1, riskmap.GradeOrange, b)
	moved.Version = 2
	if _, err := ix.Apply(moved); err != nil {
		t.Fatal(err)
	}
	cache := svc.Cache()
	for z := maptile.Zoom(0); z <= 22; z++ {
		if cached(cache, tiles.LayerUnits, maptile.At(a, z)) {
			t.Errorf("z%d: the tile of the old position is still cached", z)
		}
		if cached(cache, tiles.LayerUnits, maptile.At(b, z)) {
			t.Errorf("z%d: the tile of the new position is still cached", z)
		}
		if apart(a, c, z) && apart(b, c, z) && !cached(cache, tiles.LayerUnits, maptile.At(c, z)) {
			t.Errorf("z%d: an unrelated tile was dropped", z)
		}
	}
	if !apart(a, c, 14) || !apart(b, c, 14) {
		t.Fatal("test points too close")
	}
	tile, err := svc.Units(ctx, maptile.At(b, 18))
	if err != nil || tile.Empty {
		t.Fatalf("new position: %v, %v", tile, err)
	}
	if tile, _ := svc.Units(ctx, maptile.At(a, 18)); !tile.Empty {
		t.Fatal("old position still shows the unit")
	}
}

// TestCacheConcurrentWrites runs readers against a stream of writes (with -race); once the
// writes stop, every tile the cache holds must equal a fresh rendering: no stale tile
// survived any interleaving.
func TestCacheConcurrentWrites(t *testing.T) {
	z10, area := clusterArea()
	us := randomPoints(300, area, 4)
	svc, ix := newService(t, nil)
	if _, err := ix.Load(context.Background(), unitsSeq(us)); err != nil {
		t.Fatal(err)
	}
	var requests []maptile.Tile
	for z := maptile.Zoom(10); z <= 13; z++ {
		lo, hi := z10.Range(z)
		for x := lo.X; x <= hi.X; x++ {
			for y := lo.Y; y <= hi.Y; y++ {
				requests = append(requests, maptile.New(x, y, z))
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, 1))
			for ctx.Err() == nil {
				if _, err := svc.Units(ctx, requests[rnd.IntN(len(requests))]); err != nil && ctx.Err() == nil {
					t.Error(err)
					return
				}
			}
		}(uint64(r))
	}
	rnd := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 400; i++ {
		u := *us[rnd.IntN(len(us))]
		u.Version = ix.Version(u.ID) + 1
		u.Geometry = orb.Point{area.Min[0] + rnd.Float64()*(area.Max[0]-area.Min[0]), area.Min[1] + rnd.Float64()*(area.Max[1]-area.Min[1])}
		u.Grade = riskmap.Grades[rnd.IntN(4)]
		if _, err := ix.Apply(&u); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	wg.Wait()
	s := ix.Snapshot()
	checked := 0
	for _, tt := range requests {
		tile, _, ok := svc.Cache().Get(tiles.Key{Layer: tiles.LayerUnits, Tile: tt})
		if !ok {
			continue
		}
		raw, _ := mustRender(t, s, tt, svc.Options())
		if got := gunzip(t, tile.Gzip); !bytes.Equal(got, raw) {
			t.Fatalf("%v: cached tile is stale", tt)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("nothing was cached")
	}
}
