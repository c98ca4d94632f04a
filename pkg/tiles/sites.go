package tiles

import (
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// The layers of the protective targets and the shelters (issue 16).
const (
	LayerTargets  = "protective_targets"
	LayerShelters = "shelters"
)

// SiteProp is one attribute of a site in a tile: a text, or else an integer.
type SiteProp struct {
	Key  string
	Text string
	Int  int64
	// IsText tells a text from an integer.
	IsText bool
}

// SiteFeature is a protective target or a shelter to draw.
type SiteFeature struct {
	ID       int64
	Geometry orb.Geometry
	Props    []SiteProp
}

// RenderSites draws the sites of layer that reach tile t (the caller picks them, with a
// search of the buffered tile's bound), in the order given, clipped, with their properties
// and their ids. A nil result is an empty tile.
func RenderSites(layer string, fs []SiteFeature, t maptile.Tile, opt Options) ([]byte, int, error) {
	opt = opt.withDefaults()
	if err := opt.checkTile(t); err != nil {
		return nil, 0, err
	}
	p := newProjector(t, opt)
	w := newLayerWriter(layer, opt.Extent)
	defer w.release()
	for i := range fs {
		f := &fs[i]
		p.next()
		g := p.geometry(f.Geometry)
		if g == nil {
			continue
		}
		for _, pr := range f.Props {
			if pr.IsText {
				w.str(pr.Key, pr.Text)
			} else {
				w.int(pr.Key, pr.Int)
			}
		}
		w.feature(uint64(f.ID), f.ID > 0, g)
	}
	if w.count == 0 {
		return nil, 0, nil
	}
	return w.bytes(), w.count, nil
}

// SiteTile is RenderSites as a tile to serve: gzip-compressed with its ETag.
func SiteTile(layer string, fs []SiteFeature, t maptile.Tile, opt Options) (*Tile, error) {
	raw, n, err := RenderSites(layer, fs, t, opt)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return &Tile{Empty: true}, nil
	}
	return newTile(raw, n)
}

// TileBound is the longitude/latitude bound of tile t with its buffer: where the sites it
// draws may lie.
func TileBound(t maptile.Tile, opt Options) orb.Bound {
	opt = opt.withDefaults()
	return t.Bound(opt.bufferFraction())
}

// ParseSiteZXY reads a site tile's address ({y} may end in .pbf or .mvt) up to the
// options' deepest zoom.
func ParseSiteZXY(z, x, y string, opt Options) (maptile.Tile, error) {
	opt = opt.withDefaults()
	return ParseZXYMax(z, x, strings.TrimSuffix(y, ".mvt"), opt.MaxZoom)
}
