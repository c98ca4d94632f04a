package httpapi

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"riskmap/pkg/tiles"
)

const mvtType = "application/vnd.mapbox-vector-tile"

// tileFilters are the query parameters a units tile takes.
var tileFilters = map[string]bool{"grade": true, "category": true, "region": true, "department": true}

// RegionFeatures gives the regions layer the regions with this audience's grades. It is
// rebuilt once per index change.
func (v *view) RegionFeatures() (uint64, []tiles.RegionFeature) {
	sums, _, seq, err := v.summaries()
	if err != nil {
		return 0, nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tileRegions == nil || v.tileRegionsSeq != seq {
		fs := make([]tiles.RegionFeature, len(v.s.regions))
		for i, r := range v.s.regions {
			fs[i] = tiles.RegionFeature{Code: r.Code, Name: r.Name, Level: r.Level, Grade: sums[i].Grade,
				Counts: sums[i].Counts.Array(), Geometry: r.Geometry, Bound: r.Bound}
		}
		v.tileRegions, v.tileRegionsSeq = fs, seq
	}
	// Region tiles change with every unit write; +1 keeps 0 free for "never".
	return seq + 1, v.tileRegions
}

func (v *view) tileRoutes(g *echo.Group) {
	if v.tiles == nil {
		return
	}
	g.GET("/units.json", v.tileJSON(tiles.LayerUnits))
	g.GET("/regions.json", v.tileJSON(tiles.LayerRegions))
	// GDAL's MVT driver reads {tileroot}/metadata.json.
	g.GET("/units/metadata.json", v.metadataJSON(tiles.LayerUnits))
	g.GET("/regions/metadata.json", v.metadataJSON(tiles.LayerRegions))
	g.GET("/units/:z/:x/:y", v.tile(tiles.LayerUnits))
	g.GET("/regions/:z/:x/:y", v.tile(tiles.LayerRegions))
}

func (v *view) tilesBase(c echo.Context) string {
	if v.public {
		return baseURL(c) + "/public"
	}
	return baseURL(c)
}

func (v *view) layerBounds(layer string) orb.Bound {
	var b orb.Bound
	if layer == tiles.LayerRegions || v.ix == nil || v.ix.Snapshot().Len() == 0 {
		for i, r := range v.s.regions {
			if i == 0 {
				b = r.Bound
			} else {
				b = b.Union(r.Bound)
			}
		}
		return b
	}
	min, max := v.ix.Snapshot().Bounds()
	return orb.Bound{Min: min, Max: max}
}

func fields(layer string) map[string]string {
	if layer == tiles.LayerRegions {
		return tiles.RegionFields()
	}
	return tiles.UnitFields()
}

func (v *view) tileJSON(layer string) echo.HandlerFunc {
	return func(c echo.Context) error {
		opt := v.tiles.Options()
		c.Response().Header().Set("Cache-Control", "no-cache")
		return c.JSON(http.StatusOK, tiles.TileJSON(v.tilesBase(c), layer, fields(layer), v.layerBounds(layer), 0, opt.MaxZoom))
	}
}

func (v *view) metadataJSON(layer string) echo.HandlerFunc {
	return func(c echo.Context) error {
		opt := v.tiles.Options()
		geom := "Polygon"
		if layer == tiles.LayerUnits {
			geom = ""
		}
		return c.JSON(http.StatusOK, tiles.MetadataJSON(layer, fields(layer), v.layerBounds(layer), 0, opt.MaxZoom, geom))
	}
}

func (v *view) tile(layer string) echo.HandlerFunc {
	return func(c echo.Context) error {
		y := c.Param("y")
		if !strings.HasSuffix(y, ".pbf") && !strings.HasSuffix(y, ".mvt") {
			return &httpError{status: http.StatusNotFound, code: "not_found", message: "tiles are at /{z}/{x}/{y}.pbf"}
		}
		t, err := v.tiles.ParseZXY(c.Param("z"), c.Param("x"), strings.TrimSuffix(strings.TrimSuffix(y, ".pbf"), ".mvt"))
		if err != nil {
			return err
		}
		var tl *tiles.Tile
		q := c.QueryParams()
		q.Del("_") // a client's cache-buster
		if layer == tiles.LayerUnits && len(q) > 0 {
			// The map's filters: grade, category, region, department.
			p, err := v.s.parseList(q, tileFilters)
			if err != nil {
				return err
			}
			tl, err = v.tiles.UnitsWhere(c.Request().Context(), t, p.matches)
			if err != nil {
				return err
			}
		} else if layer == tiles.LayerUnits {
			tl, err = v.tiles.Units(c.Request().Context(), t)
		} else {
			tl, err = v.tiles.Regions(c.Request().Context(), t)
		}
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("Access-Control-Allow-Origin", "*")
		if tl.Empty {
			return c.NoContent(http.StatusNoContent)
		}
		h.Set("ETag", tl.ETag)
		h.Set("Vary", "Accept-Encoding")
		if match := c.Request().Header.Get("If-None-Match"); match != "" && match == tl.ETag {
			return c.NoContent(http.StatusNotModified)
		}
		if strings.Contains(c.Request().Header.Get("Accept-Encoding"), "gzip") {
			h.Set("Content-Encoding", "gzip")
			return c.Blob(http.StatusOK, mvtType, tl.Gzip)
		}
		// A client that cannot take gzip gets the tile inflated.
		zr, err := gzip.NewReader(bytes.NewReader(tl.Gzip))
		if err != nil {
			return err
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, mvtType, raw)
	}
}
