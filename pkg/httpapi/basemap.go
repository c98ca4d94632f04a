package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/riskmap"
)

// Basemap is an offline basemap served at /basemap/ (*basemap.MBTiles, wired by
// cmd/riskmap from --basemap): its tiles by XYZ address and its TileJSON.
type Basemap interface {
	// Get returns the tile at z/x/y ("N.ext"): EINVALID for a bad address, ENOTFOUND for
	// a tile the file does not hold.
	Get(ctx context.Context, z, x, y string) (*BasemapTile, error)
	// TileJSON describes the basemap with its tiles at tilesURL.
	TileJSON(tilesURL string) map[string]any
	// Extension is the extension of its tile URLs (png, jpg, webp or pbf).
	Extension() string
}

// BasemapTile is one tile of the basemap.
type BasemapTile struct {
	Data []byte
	// ContentType is the media type; Encoding is "gzip" when Data is gzipped (vector tiles).
	ContentType, Encoding string
	ETag                  string
}

// basemapCache: a basemap changes only when the server restarts with another file, and
// the ETag answers then.
const basemapCache = "public, max-age=86400"

// basemapRoutes serves the offline basemap to anyone: it is a map of streets, not the
// register. Without --basemap they answer 404.
func (s *Server) basemapRoutes() {
	s.route(http.MethodGet, "/basemap/tilejson.json", anyone, s.basemapTileJSON)
	s.route(http.MethodGet, "/basemap/:z/:x/:y", anyone, s.basemapTile)
}

func (s *Server) noBasemap() error {
	return riskmap.Errorf(riskmap.ENOTFOUND, "本服务没有配置离线底图（serve --basemap 文件.mbtiles）")
}

// basemapInfo is the basemap's TileJSON for the pages (ui-config), with a relative tile
// URL; nil without a basemap.
func (s *Server) basemapInfo() map[string]any {
	if s.cfg.Basemap == nil {
		return nil
	}
	return s.cfg.Basemap.TileJSON("/basemap/{z}/{x}/{y}." + s.cfg.Basemap.Extension())
}

func (s *Server) basemapTileJSON(c echo.Context) error {
	if s.cfg.Basemap == nil {
		return s.noBasemap()
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.JSON(http.StatusOK, s.cfg.Basemap.TileJSON(s.baseURL(c)+"/basemap/{z}/{x}/{y}."+s.cfg.Basemap.Extension()))
}

func (s *Server) basemapTile(c echo.Context) error {
	if s.cfg.Basemap == nil {
		return s.noBasemap()
	}
	t, err := s.cfg.Basemap.Get(c.Request().Context(), c.Param("z"), c.Param("x"), c.Param("y"))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", basemapCache)
	data, etag := t.Data, t.ETag
	if t.Encoding == "gzip" {
		vary(h, "Accept-Encoding")
		if acceptsGzip(c.Request()) {
			h.Set("Content-Encoding", "gzip")
		} else if raw, err := gunzip(data); err == nil {
			data, etag = raw, strings.TrimSuffix(etag, `"`)+`-identity"`
		} else {
			return riskmap.Errorf(riskmap.ENOTFOUND, "底图瓦片 %s/%s/%s 已损坏", c.Param("z"), c.Param("x"), clip(c.Param("y")))
		}
	}
	h.Set("ETag", etag)
	if inm := c.Request().Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		h.Del("Content-Encoding")
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, t.ContentType, data)
}

// acceptsGzip reports whether the client takes gzip.
func acceptsGzip(r *http.Request) bool { return acceptQ(r, "gzip") > 0 }

func etagMatches(header, etag string) bool {
	for _, e := range strings.Split(header, ",") {
		e = strings.TrimPrefix(strings.TrimSpace(e), "W/")
		if e == etag || e == "*" {
			return true
		}
	}
	return false
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(zr, 64<<20))
}
