package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// RegionSource gives the regions layer its features. seq is the version of what it returns
// and must grow whenever any region's geometry, grade or counts change; tiles are cached per
// seq. It is called for every regions tile request, so it should hand back a slice it keeps
// rather than build one.
type RegionSource interface {
	RegionFeatures() (seq uint64, fs []RegionFeature)
}

// Service serves the tiles of both layers through one cache.
type Service struct {
	ix      *spatialindex.Index
	regions RegionSource
	opt     Options
	cache   *Cache

	mu       sync.Mutex
	inflight map[Key]*call
	// regionsSeq is the newest regions version seen; older cached regions tiles are gone.
	regionsSeq uint64
}

// call is one render in progress; requests for the same tile at the same or an older data
// version wait for it instead of rendering again.
type call struct {
	seq  uint64
	done chan struct{}
	tile *Tile
	err  error
}

// NewService returns the tile service for an index and a source of regions (nil: the
// regions layer is always empty). Its cache registers with ix.OnChange; the service may be
// made before or after the index loads.
func NewService(ix *spatialindex.Index, regions RegionSource, opt Options) *Service {
	opt = opt.withDefaults()
	s := &Service{ix: ix, regions: regions, opt: opt, cache: NewCache(opt), inflight: map[Key]*call{}}
	s.cache.Hook(ix)
	return s
}

// Options returns the options in force, defaults filled in.
func (s *Service) Options() Options { return s.opt }

// Cache returns the service's cache, for its counters.
func (s *Service) Cache() *Cache { return s.cache }

// ParseZXY is ParseZXY for the service's deepest zoom.
func (s *Service) ParseZXY(z, x, y string) (maptile.Tile, error) {
	return ParseZXYMax(z, x, y, s.opt.MaxZoom)
}

// Units returns a tile of the units layer. Until the index has loaded it is EUNAVAILABLE
// rather than an empty tile a client would keep.
func (s *Service) Units(ctx context.Context, t maptile.Tile) (*Tile, error) {
	if err := s.opt.checkTile(t); err != nil {
		return nil, err
	}
	if !s.ix.Loaded() {
		return nil, riskmap.Errorf(riskmap.EUNAVAILABLE, "the map is still loading; try again shortly")
	}
	k := Key{LayerUnits, t}
	if tile, _, ok := s.cache.Get(k); ok {
		return tile, nil
	}
	snap := s.ix.Snapshot()
	return s.render(ctx, k, snap.Seq(), func() ([]byte, int, error) { return RenderUnits(snap, t, s.opt) })
}

// UnitsWhere returns a tile of the units layer with only the units keep accepts (the map's
// filters). Filtered tiles are rendered on every request, not cached.
func (s *Service) UnitsWhere(ctx context.Context, t maptile.Tile, keep func(*spatialindex.Feature) bool) (*Tile, error) {
	if err := s.opt.checkTile(t); err != nil {
		return nil, err
	}
	if !s.ix.Loaded() {
		return nil, riskmap.Errorf(riskmap.EUNAVAILABLE, "the map is still loading; try again shortly")
	}
	raw, n, err := RenderUnitsWhere(s.ix.Snapshot(), t, s.opt, keep)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return &Tile{Empty: true}, nil
	}
	return newTile(raw, n)
}

// Regions returns a tile of the regions layer.
func (s *Service) Regions(ctx context.Context, t maptile.Tile) (*Tile, error) {
	if err := s.opt.checkTile(t); err != nil {
		return nil, err
	}
	if s.regions == nil {
		return &Tile{Empty: true}, nil
	}
	seq, fs := s.regions.RegionFeatures()
	s.mu.Lock()
	newer := seq > s.regionsSeq
	if newer {
		s.regionsSeq = seq
	}
	s.mu.Unlock()
	if newer {
		s.cache.InvalidateAll(LayerRegions, seq)
	}
	k := Key{LayerRegions, t}
	if tile, at, ok := s.cache.Get(k); ok && at >= seq {
		return tile, nil
	}
	return s.render(ctx, k, seq, func() ([]byte, int, error) { return RenderRegions(fs, t, s.opt) })
}

// render draws a missing tile once however many ask for it at once, gzips it and caches it
// unless a write overtook it.
func (s *Service) render(ctx context.Context, k Key, seq uint64, draw func() ([]byte, int, error)) (*Tile, error) {
	s.mu.Lock()
	if c := s.inflight[k]; c != nil && c.seq >= seq {
		s.mu.Unlock()
		select {
		case <-c.done:
			return c.tile, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &call{seq: seq, done: make(chan struct{})}
	s.inflight[k] = c
	s.mu.Unlock()

	c.tile, c.err = build(draw)
	if c.err == nil {
		s.cache.Put(k, seq, c.tile)
	}
	s.mu.Lock()
	if s.inflight[k] == c {
		delete(s.inflight, k)
	}
	s.mu.Unlock()
	close(c.done)
	return c.tile, c.err
}

// gzipWriters compress at BestSpeed: on a full 250 KB tile it is about a quarter of the
// time of the default level for 8% more bytes, and the time is spent on a cache miss, while
// the user waits.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// build renders a tile and makes it ready to serve: gzipped once, with its entity tag.
func build(draw func() ([]byte, int, error)) (*Tile, error) {
	raw, n, err := draw()
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return &Tile{Empty: true}, nil
	}
	return newTile(raw, n)
}

func newTile(raw []byte, n int) (*Tile, error) {
	var buf bytes.Buffer
	buf.Grow(len(raw)/2 + 64)
	w := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	return &Tile{Gzip: buf.Bytes(), ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, Features: n}, nil
}
