// Package httpapi is the HTTP face of riskmap: the REST API of API.md, vector tiles, OGC API
// Features, health, readiness and metrics, built on Echo. Reads are served from the
// in-memory spatial index; writes go through the register service to the store and reach
// the index before their response returns. Every route goes through one error handler that
// maps application error codes to HTTP status codes and never shows internal detail, and
// through one middleware chain where authorisation will wrap every route.
package httpapi

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"riskmap/pkg/config"
	"riskmap/pkg/grading"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/tiles"
)

// Config is what the server is built from.
type Config struct {
	Store riskmap.Store
	Units *register.Service
	Index *spatialindex.Index
	// Public is the index of what the public sees (approved units, public fields); nil
	// turns the /public endpoints off.
	Public     *spatialindex.Index
	Catalog    *riskmap.Catalog
	Grader     *grading.Grader
	RegionRule config.RegionRule
	// Assets is the built front end (index.html, public.html, assets/); nil serves none.
	Assets fs.FS
	// TiandituKey is the browser key of 天地图 basemaps, handed to the pages; "" hides them.
	TiandituKey string
	// Regions are the regions of the regional map, loaded once at start.
	Regions []*riskmap.Region
	// TileOptions tune the vector tiles (zero: defaults).
	TileOptions tiles.Options
	Logger      *slog.Logger
	// MaxBodyBytes bounds request bodies; larger ones get 413.
	MaxBodyBytes int64
	// Registry collects the metrics served at /metrics; nil makes a new one.
	Registry *prometheus.Registry
}

// Server is the HTTP handler.
type Server struct {
	cfg     Config
	echo    *echo.Echo
	regions []regiongrade.Region
	metrics *metrics

	internal *view
	public   *view
	assets   map[string]*asset
}

// view is one audience's window on the register: the internal one (every active unit,
// every field) or the public one (approved units, public fields). Each has its own index,
// whose features carry the GeoJSON encoded for that audience.
type view struct {
	s      *Server
	ix     *spatialindex.Index
	public bool
	tiles  *tiles.Service

	mu     sync.Mutex // guards the region summaries cached for one index state
	seq    uint64
	sums   []regiongrade.Summary
	byCode map[string]*regiongrade.Summary

	tileRegions    []tiles.RegionFeature
	tileRegionsSeq uint64
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 8 << 20
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{cfg: cfg, echo: e, regions: regiongrade.Prepare(cfg.Regions)}
	s.internal = &view{s: s, ix: cfg.Index}
	s.public = &view{s: s, ix: cfg.Public, public: true}
	for _, v := range []*view{s.internal, s.public} {
		if v.ix != nil {
			v.tiles = tiles.NewService(v.ix, v, cfg.TileOptions)
		}
	}
	s.metrics = newMetrics(cfg.Registry, s)
	e.HTTPErrorHandler = s.handleError
	e.Use(s.recoverPanics, s.metrics.middleware)

	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", s.ready)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})))

	api := e.Group("/api/v1")
	api.GET("/units", s.internal.listUnits)
	api.POST("/units", s.createUnit)
	api.GET("/units/:id", s.internal.getUnit)
	api.PUT("/units/:id", s.updateUnit)
	api.DELETE("/units/:id", s.retireUnit)
	api.GET("/categories", s.categories)
	api.GET("/grading", s.gradingConfig)
	api.POST("/grading/evaluate", s.evaluate)
	api.GET("/regions", s.internal.listRegions)
	api.GET("/regions/:code", s.internal.getRegion)
	api.GET("/stats", s.internal.stats)
	s.internal.tileRoutes(e.Group("/tiles"))
	s.ogcRoutes(e.Group("/ogc"))
	s.webRoutes()

	// The public map: read-only, approved units, public fields.
	if cfg.Public != nil {
		pub := e.Group("/public/api/v1")
		pub.GET("/units", s.public.listUnits)
		pub.GET("/units/:id", s.public.getUnit)
		pub.GET("/categories", s.categories)
		pub.GET("/grading", s.publicGrading)
		pub.GET("/regions", s.public.listRegions)
		pub.GET("/regions/:code", s.public.getRegion)
		pub.GET("/stats", s.public.stats)
		s.public.tileRoutes(e.Group("/public/tiles"))
	}
	return s
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

func (s *Server) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.cfg.Logger.Warn("readiness: store does not answer", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "store unavailable"})
	}
	if (s.cfg.Index != nil && !s.cfg.Index.Loaded()) || (s.cfg.Public != nil && !s.cfg.Public.Loaded()) {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "loading the spatial index"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// recoverPanics turns a panic into a logged internal error: a bug must never take the
// process down or show a stack trace.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.cfg.Logger.Error("panic serving request", "method", c.Request().Method, "path", c.Path(), "panic", r)
				err = errors.New("panic")
			}
		}()
		return next(c)
	}
}

// ErrorBody is the JSON of every error response.
type ErrorBody struct {
	Error struct {
		Code    string               `json:"code"`
		Message string               `json:"message"`
		Fields  []riskmap.FieldError `json:"fields,omitempty"`
	} `json:"error"`
}

// statusOf maps an application error code to an HTTP status.
func statusOf(code string) int {
	switch code {
	case riskmap.EINVALID:
		return http.StatusBadRequest
	case riskmap.ENOTFOUND:
		return http.StatusNotFound
	case riskmap.ECONFLICT:
		return http.StatusConflict
	case riskmap.EPRECONDITION:
		return http.StatusPreconditionFailed
	case riskmap.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case riskmap.EFORBIDDEN:
		return http.StatusForbidden
	case riskmap.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case riskmap.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// httpError is an error with its own status, for conditions that have no application code
// (a missing If-Match is 428).
type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.message }

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var body ErrorBody
	status := http.StatusInternalServerError
	var he *echo.HTTPError
	var own *httpError
	switch {
	case errors.As(err, &own):
		status, body.Error.Code, body.Error.Message = own.status, own.code, own.message
	case errors.As(err, &he):
		// Echo's own errors: unknown routes, wrong methods.
		status = he.Code
		body.Error.Code = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
		switch status {
		case http.StatusNotFound:
			body.Error.Message = "no such resource: " + clip(c.Request().URL.Path)
		case http.StatusMethodNotAllowed:
			body.Error.Message = "method " + c.Request().Method + " is not allowed here"
		default:
			body.Error.Message = http.StatusText(status)
		}
	default:
		code := riskmap.ErrorCode(err)
		status = statusOf(code)
		body.Error.Code = code
		body.Error.Message = riskmap.ErrorMessage(err)
		body.Error.Fields = riskmap.ErrorFields(err)
	}
	if status >= 500 && status != http.StatusServiceUnavailable {
		s.cfg.Logger.Error("request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
		body.Error.Code, body.Error.Message, body.Error.Fields = riskmap.EINTERNAL, "internal error", nil
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, body)
}

func clip(s string) string {
	r := []rune(s)
	if len(r) > 100 {
		return string(r[:100]) + "…"
	}
	return s
}
