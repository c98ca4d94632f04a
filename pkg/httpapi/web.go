package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// asset is one file of the built front end, with its gzipped form made once at start.
type asset struct {
	body  []byte
	gz    []byte
	etag  string
	ctype string
}

// loadAssets reads the built front end. A missing build is not an error: the pages then say
// how to build it.
func loadAssets(fsys fs.FS) map[string]*asset {
	out := map[string]*asset{}
	if fsys == nil {
		return out
	}
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil
		}
		sum := sha256.Sum256(b)
		a := &asset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: mime.TypeByExtension(path.Ext(p))}
		if a.ctype == "" {
			a.ctype = "application/octet-stream"
		}
		if strings.HasPrefix(a.ctype, "text/") || strings.Contains(a.ctype, "javascript") || strings.Contains(a.ctype, "json") || strings.HasSuffix(p, ".svg") {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(b)
			zw.Close()
			if buf.Len() < len(b) {
				a.gz = buf.Bytes()
			}
		}
		out[p] = a
		return nil
	})
	return out
}

func (s *Server) webRoutes() {
	s.assets = loadAssets(s.cfg.Assets)
	page := func(name string) echo.HandlerFunc {
		return func(c echo.Context) error {
			if _, ok := s.assets[name]; !ok {
				return c.HTML(http.StatusServiceUnavailable, `<!doctype html><meta charset="utf-8"><title>riskmap</title>`+
					`<p>前端尚未构建。请在项目目录运行 <code>make build</code> 或 <code>make run</code>。</p>`+
					`<p>The front end has not been built: run <code>make build</code>.</p>`)
			}
			return s.serveAsset(c, name, "no-cache")
		}
	}
	s.route(http.MethodGet, "/", anyone, page("index.html"))
	s.route(http.MethodGet, "/public", anyone, page("public.html"))
	s.route(http.MethodGet, "/public/", anyone, page("public.html"))
	s.route(http.MethodGet, "/assets/*", anyone, func(c echo.Context) error {
		name := path.Clean("assets/" + c.Param("*"))
		if !strings.HasPrefix(name, "assets/") {
			return echo.ErrNotFound
		}
		if _, ok := s.assets[name]; !ok {
			return echo.ErrNotFound
		}
		// The bundler puts a content hash in every asset name.
		return s.serveAsset(c, name, "public, max-age=31536000, immutable")
	})
	s.route(http.MethodGet, "/api/v1/ui-config", anyone, func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"tianditu_key": s.cfg.TiandituKey, "public": false, "editable": true, "publisher": s.cfg.Contact,
			"basemap": s.basemapInfo()})
	})
	if s.publisher != nil {
		s.route(http.MethodGet, "/public/api/v1/ui-config", anyone, func(c echo.Context) error {
			return c.JSON(http.StatusOK, map[string]any{"tianditu_key": s.cfg.TiandituKey, "public": true, "editable": false, "publisher": s.cfg.Contact,
				"basemap": s.basemapInfo(), "tips": s.cfg.Tips})
		})
	}
}

func (s *Server) serveAsset(c echo.Context, name, cacheControl string) error {
	a := s.assets[name]
	h := c.Response().Header()
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", cacheControl)
	vary(h, "Accept-Encoding")
	if c.Request().Header.Get("If-None-Match") == a.etag {
		return c.NoContent(http.StatusNotModified)
	}
	if a.gz != nil && strings.Contains(c.Request().Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		return c.Blob(http.StatusOK, a.ctype, a.gz)
	}
	return c.Blob(http.StatusOK, a.ctype, a.body)
}
