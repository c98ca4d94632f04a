package httpapi

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/tiles"
)

const mvtType = "application/vnd.mapbox-vector-tile"

// tileFilters are the query parameters a units tile takes.
var tileFilters = map[string]bool{"grade": true, "category": true, "region": true, "department": true, "status": true, "overdue": true, "open_hazards": true}

// publicTileFilters are those the public may use: review dates are internal.
var publicTileFilters = map[string]bool{"grade": true, "category": true, "region": true, "department": true, "status": true}

// tileRoutes serves an internal view's tiles under prefix.
func (v *view) tileRoutes(prefix string, r rule) {
	if v.tiles == nil {
		return
	}
	s := v.s
	s.route(http.MethodGet, prefix+"/units.json", r, v.tileJSON(tiles.LayerUnits))
	s.route(http.MethodGet, prefix+"/regions.json", r, v.tileJSON(tiles.LayerRegions))
	// GDAL's MVT driver reads {tileroot}/metadata.json.
	s.route(http.MethodGet, prefix+"/units/metadata.json", r, v.metadataJSON(tiles.LayerUnits))
	s.route(http.MethodGet, prefix+"/regions/metadata.json", r, v.metadataJSON(tiles.LayerRegions))
	s.route(http.MethodGet, prefix+"/units/:z/:x/:y", r, v.tile(tiles.LayerUnits))
	s.route(http.MethodGet, prefix+"/regions/:z/:x/:y", r, v.tile(tiles.LayerRegions))
}

// publicTileRoutes serves the latest publication's tiles. Under /public/tiles/{n}/ a tile
// never changes (a publication is immutable), so it is cacheable forever; the TileJSON
// points there. The unnumbered paths serve the latest publication, revalidated.
func (s *Server) publicTileRoutes() {
	pub := func(h func(*view) echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { return h(s.pub())(c) }
	}
	numbered := func(h func(*view) echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			v := s.pub()
			n, err := strconv.ParseInt(c.Param("pub"), 10, 64)
			if err != nil || v.publication == nil || n != v.publication.Number {
				c.Response().Header().Set("Cache-Control", "no-store")
				latest := int64(0)
				if v.publication != nil {
					latest = v.publication.Number
				}
				return riskmap.Errorf(riskmap.ENOTFOUND, "第 %q 期不是当前提供的一期；最新为第 %d 期（见 /public/tiles/units.json）", clip(c.Param("pub")), latest)
			}
			c.Set(ctxImmutable, true)
			return h(v)(c)
		}
	}
	tile := func(layer string) func(*view) echo.HandlerFunc {
		return func(v *view) echo.HandlerFunc { return v.tile(layer) }
	}
	tj := func(layer string) func(*view) echo.HandlerFunc {
		return func(v *view) echo.HandlerFunc { return v.tileJSON(layer) }
	}
	md := func(layer string) func(*view) echo.HandlerFunc {
		return func(v *view) echo.HandlerFunc { return v.metadataJSON(layer) }
	}
	const p = "/public/tiles"
	s.route(http.MethodGet, p+"/units.json", anyone, pub(tj(tiles.LayerUnits)))
	s.route(http.MethodGet, p+"/regions.json", anyone, pub(tj(tiles.LayerRegions)))
	s.route(http.MethodGet, p+"/units/metadata.json", anyone, pub(md(tiles.LayerUnits)))
	s.route(http.MethodGet, p+"/regions/metadata.json", anyone, pub(md(tiles.LayerRegions)))
	s.route(http.MethodGet, p+"/units/:z/:x/:y", anyone, pub(tile(tiles.LayerUnits)))
	s.route(http.MethodGet, p+"/regions/:z/:x/:y", anyone, pub(tile(tiles.LayerRegions)))
	s.route(http.MethodGet, p+"/:pub/units/:z/:x/:y", anyone, numbered(tile(tiles.LayerUnits)))
	s.route(http.MethodGet, p+"/:pub/regions/:z/:x/:y", anyone, numbered(tile(tiles.LayerRegions)))
}

const ctxImmutable = "riskmap.immutable"

func (v *view) tilesBase(c echo.Context) string {
	if v.public {
		return v.s.baseURL(c) + "/public"
	}
	return v.s.baseURL(c)
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

// fields are the attributes this view's tiles of layer carry: the public index keeps no
// names, so its unit tiles have none.
func (v *view) fields(layer string) map[string]string {
	if layer == tiles.LayerRegions {
		return tiles.RegionFields()
	}
	return v.tiles.Options().UnitFields()
}

func (v *view) tileJSON(layer string) echo.HandlerFunc {
	return func(c echo.Context) error {
		opt := v.tiles.Options()
		c.Response().Header().Set("Cache-Control", "no-cache")
		tj := tiles.TileJSON(v.tilesBase(c), layer, v.fields(layer), v.layerBounds(layer), 0, opt.MaxZoom)
		if v.public && v.publication != nil {
			n := strconv.FormatInt(v.publication.Number, 10)
			tj["tiles"] = []string{v.s.baseURL(c) + "/public/tiles/" + n + "/" + layer + "/{z}/{x}/{y}.pbf"}
			tj["version"] = n + ".0.0"
		}
		return c.JSON(http.StatusOK, tj)
	}
}

func (v *view) metadataJSON(layer string) echo.HandlerFunc {
	return func(c echo.Context) error {
		opt := v.tiles.Options()
		geom := "Polygon"
		if layer == tiles.LayerUnits {
			geom = ""
		}
		return c.JSON(http.StatusOK, tiles.MetadataJSON(layer, v.fields(layer), v.layerBounds(layer), 0, opt.MaxZoom, geom))
	}
}

func (v *view) tile(layer string) echo.HandlerFunc {
	return func(c echo.Context) error {
		v := v
		y := c.Param("y")
		if !strings.HasSuffix(y, ".pbf") && !strings.HasSuffix(y, ".mvt") {
			return &httpError{status: http.StatusNotFound, code: "not_found", message: "瓦片的地址为 /{z}/{x}/{y}.pbf"}
		}
		t, err := v.tiles.ParseZXY(c.Param("z"), c.Param("x"), strings.TrimSuffix(strings.TrimSuffix(y, ".pbf"), ".mvt"))
		if err != nil {
			return err
		}
		var tl *tiles.Tile
		q := c.QueryParams()
		q.Del("_") // a client's cache-buster
		dept := !v.public && scoped(c) != nil
		if layer == tiles.LayerRegions && dept {
			// A department sees the regional map as the public does: the regional grades
			// of the whole register are outside its scope.
			v = v.s.pub()
		}
		if layer == tiles.LayerUnits && (len(q) > 0 || dept) {
			// The map's filters: grade, category, region, department, status; and a department's scope.
			allowed := tileFilters
			if v.public {
				allowed = publicTileFilters
			}
			p, err := v.parseList(c, q, allowed)
			if err != nil {
				return err
			}
			m := p.Matcher()
			tl, err = v.tiles.UnitsWhere(c.Request().Context(), t, func(f *spatialindex.Feature) bool { return m.Match(&f.UnitFacts) })
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
		if v.public {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Cache-Control", "private, no-cache")
			vary(h, "Cookie", "Authorization")
		}
		if c.Get(ctxImmutable) == true {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		if tl.Empty {
			return c.NoContent(http.StatusNoContent)
		}
		h.Set("ETag", tl.ETag)
		vary(h, "Accept-Encoding")
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
