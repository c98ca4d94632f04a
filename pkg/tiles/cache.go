package tiles

import (
	"container/list"
	"math"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/spatialindex"
)

// Key names one cached tile.
type Key struct {
	Layer string
	Tile  maptile.Tile
}

// CacheStats are the cache's counters.
type CacheStats struct {
	Hits, Misses int64
	// Refused counts puts turned away because a newer write touched the tile.
	Refused   int64
	Evictions int64
	Entries   int
	Bytes     int64
}

// entryOverhead is what an entry costs besides its bytes: key, list element, map slots.
const entryOverhead = 160

// logLimit is how many bound invalidations a layer remembers to refuse stale puts; past it
// the oldest are folded into the layer's floor, which refuses more than it must but never
// less.
const logLimit = 4096

// Cache keeps rendered tiles, gzipped, bounded in bytes and evicting the least recently used.
// Its entries are invalidated by data version: a write drops exactly the tiles whose
// buffered bounds it touches, at every zoom, and a tile rendered from a snapshot older than
// a write that touched it is never stored. Safe for concurrent use.
type Cache struct {
	maxBytes int64
	maxZoom  int
	buffer   float64 // tile buffer as a fraction of a tile's side

	mu     sync.Mutex
	lru    list.List // of *entry, most recent first
	zooms  map[layerZoom]map[[2]uint32]*entry
	bytes  int64
	layers map[string]*invalidations

	hits, misses, refused, evictions atomic.Int64
}

type layerZoom struct {
	layer string
	z     maptile.Zoom
}

type entry struct {
	key  Key
	seq  uint64
	tile *Tile
	size int64
	elem *list.Element
}

// invalidations remembers, for one layer, the writes that may still race with renders.
type invalidations struct {
	floor uint64 // puts rendered before this seq are refused
	log   []invalidation
}

type invalidation struct {
	b   orb.Bound
	seq uint64
}

// NewCache returns an empty cache bounded by opt.CacheBytes, whose invalidation reaches
// opt.MaxZoom and matches the rendering buffer opt.Buffer.
func NewCache(opt Options) *Cache {
	opt = opt.withDefaults()
	return &Cache{
		maxBytes: opt.CacheBytes,
		maxZoom:  opt.MaxZoom,
		buffer:   opt.bufferFraction(),
		zooms:    map[layerZoom]map[[2]uint32]*entry{},
		layers:   map[string]*invalidations{},
	}
}

// Get returns the cached tile and the data version it was rendered at.
func (c *Cache) Get(k Key) (*Tile, uint64, bool) {
	c.mu.Lock()
	e := c.zooms[layerZoom{k.Layer, k.Tile.Z}][[2]uint32{k.Tile.X, k.Tile.Y}]
	if e != nil {
		c.lru.MoveToFront(e.elem)
	}
	c.mu.Unlock()
	if e == nil {
		c.misses.Add(1)
		return nil, 0, false
	}
	c.hits.Add(1)
	return e.tile, e.seq, true
}

// Put stores a tile rendered from data version seq. It refuses (and reports false) when a
// write newer than seq has touched the tile since, or when a newer rendering is already
// stored: the render started before that write and would bring back what it replaced.
func (c *Cache) Put(k Key, seq uint64, t *Tile) bool {
	size := int64(len(t.Gzip)+len(t.ETag)+len(k.Layer)) + entryOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	if size > c.maxBytes || c.stale(k, seq) {
		c.refused.Add(1)
		return false
	}
	lz, xy := layerZoom{k.Layer, k.Tile.Z}, [2]uint32{k.Tile.X, k.Tile.Y}
	if old := c.zooms[lz][xy]; old != nil {
		if old.seq > seq {
			c.lru.MoveToFront(old.elem)
			return false
		}
		c.remove(old)
	}
	m := c.zooms[lz]
	if m == nil {
		m = map[[2]uint32]*entry{}
		c.zooms[lz] = m
	}
	e := &entry{key: k, seq: seq, tile: t, size: size}
	e.elem = c.lru.PushFront(e)
	m[xy] = e
	c.bytes += size
	for c.bytes > c.maxBytes {
		last := c.lru.Back()
		if last == nil {
			break
		}
		c.remove(last.Value.(*entry))
		c.evictions.Add(1)
	}
	return true
}

// stale reports whether a write after seq touched the tile of k.
func (c *Cache) stale(k Key, seq uint64) bool {
	inv := c.layers[k.Layer]
	if inv == nil {
		return false
	}
	if seq < inv.floor {
		return true
	}
	var tb orb.Bound
	for _, w := range inv.log {
		if w.seq <= seq {
			continue
		}
		if tb.IsZero() {
			tb = k.Tile.Bound(c.buffer)
		}
		if w.b.Intersects(tb) {
			return true
		}
	}
	return false
}

func (c *Cache) remove(e *entry) {
	lz := layerZoom{e.key.Layer, e.key.Tile.Z}
	m := c.zooms[lz]
	delete(m, [2]uint32{e.key.Tile.X, e.key.Tile.Y})
	if len(m) == 0 {
		delete(c.zooms, lz)
	}
	c.lru.Remove(e.elem)
	c.bytes -= e.size
}

// InvalidateBounds drops every cached tile of the layer, at every zoom from 0 to the
// maximum, whose buffered bounds overlap b (a write at data version seq changed what lies
// in b), and remembers the write so that a render from before it is not stored.
func (c *Cache) InvalidateBounds(layer string, b orb.Bound, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	inv := c.invalidations(layer)
	if len(inv.log) >= logLimit {
		// Forget the older half; their seqs become the floor.
		half := len(inv.log) / 2
		for _, w := range inv.log[:half] {
			inv.floor = max(inv.floor, w.seq)
		}
		inv.log = append(inv.log[:0], inv.log[half:]...)
	}
	inv.log = append(inv.log, invalidation{b: b, seq: seq})
	for z := 0; z <= c.maxZoom; z++ {
		m := c.zooms[layerZoom{layer, maptile.Zoom(z)}]
		if len(m) == 0 {
			continue
		}
		x0, y0, x1, y1 := c.tileRange(b, maptile.Zoom(z))
		if n := (x1 - x0 + 1) * (y1 - y0 + 1); n > uint64(len(m)) {
			// More tiles in range than cached at this zoom: test the cached ones.
			for xy, e := range m {
				if uint64(xy[0]) >= x0 && uint64(xy[0]) <= x1 && uint64(xy[1]) >= y0 && uint64(xy[1]) <= y1 {
					c.remove(e)
				}
			}
			continue
		}
		for x := x0; x <= x1; x++ {
			for y := y0; y <= y1; y++ {
				if e := m[[2]uint32{uint32(x), uint32(y)}]; e != nil {
					c.remove(e)
				}
			}
		}
	}
}

// tileRange is the range of tiles at zoom z whose buffered bounds overlap b, a little wide
// rather than a little narrow.
func (c *Cache) tileRange(b orb.Bound, z maptile.Zoom) (x0, y0, x1, y1 uint64) {
	const eps = 1e-9
	lo := maptile.Fraction(orb.Point{b.Min[0], b.Max[1]}, z) // top left
	hi := maptile.Fraction(orb.Point{b.Max[0], b.Min[1]}, z) // bottom right
	n := float64(uint64(1) << z)
	clamp := func(v float64) uint64 { return uint64(math.Max(0, math.Min(n-1, v))) }
	return clamp(math.Ceil(lo[0] - 1 - c.buffer - eps)), clamp(math.Ceil(lo[1] - 1 - c.buffer - eps)),
		clamp(math.Floor(hi[0] + c.buffer + eps)), clamp(math.Floor(hi[1] + c.buffer + eps))
}

// InvalidateAll drops every cached tile of the layer and refuses any render from before seq.
func (c *Cache) InvalidateAll(layer string, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	inv := c.invalidations(layer)
	inv.floor = max(inv.floor, seq)
	kept := inv.log[:0]
	for _, w := range inv.log {
		if w.seq > inv.floor {
			kept = append(kept, w)
		}
	}
	inv.log = kept
	for lz, m := range c.zooms {
		if lz.layer != layer {
			continue
		}
		for _, e := range m {
			c.remove(e)
		}
	}
}

func (c *Cache) invalidations(layer string) *invalidations {
	inv := c.layers[layer]
	if inv == nil {
		inv = &invalidations{}
		c.layers[layer] = inv
	}
	return inv
}

// OnChange invalidates the units layer for one change of the index: where the unit was and
// where it is now; a reload (neither) invalidates the whole layer.
func (c *Cache) OnChange(ch spatialindex.Change) {
	if ch.Before == nil && ch.After == nil {
		c.InvalidateAll(LayerUnits, ch.Seq)
		return
	}
	if ch.Before != nil {
		c.InvalidateBounds(LayerUnits, ch.Before.Bound, ch.Seq)
	}
	if ch.After != nil && (ch.Before == nil || ch.After.Bound != ch.Before.Bound) {
		c.InvalidateBounds(LayerUnits, ch.After.Bound, ch.Seq)
	}
}

// Hook makes the cache hear every change of the units (the index). Call it before they load.
func (c *Cache) Hook(src ChangeSource) { src.OnChange(c.OnChange) }

// Stats returns the counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	entries, bytes := c.lru.Len(), c.bytes
	c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Refused: c.refused.Load(),
		Evictions: c.evictions.Load(), Entries: entries, Bytes: bytes}
}
