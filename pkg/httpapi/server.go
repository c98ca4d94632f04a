// Package httpapi is the HTTP face of riskmap: the REST API of API.md, vector tiles, OGC API
// Features, health, readiness and metrics, built on Echo. Reads are served from the
// in-memory spatial index; writes go through the register service to the store and reach
// the index before their response returns. Every route goes through one error handler that
// maps application error codes to HTTP status codes and never shows internal detail, and
// through one middleware chain where authentication, the access rule of the route, CSRF
// protection and the audit log wrap every route.
package httpapi

import (
	"context"
	"errors"
	"io/fs"
	"iter"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb/maptile"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"riskmap/pkg/accounts"
	"riskmap/pkg/analysis"
	"riskmap/pkg/config"
	"riskmap/pkg/grading"
	"riskmap/pkg/hazards"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/publishing"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/sites"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/tiles"
	"riskmap/pkg/webauth"
)

// Config is what the server is built from.
type Config struct {
	Store riskmap.Store
	// StandbyLag, when reads come from a hot standby (serve --read-db), says how many bytes
	// of the primary's write-ahead log the standby has yet to replay, or why it cannot be
	// asked; /readyz reports it. nil: no standby.
	StandbyLag func(ctx context.Context) (int64, error)
	// Units writes units; its Index is where the writes go (Index when it has none).
	Units *register.Service
	// Index is the index reads are served from (a *spatialindex.Index).
	Index Index
	// Publisher publishes (POST /api/v1/publications) and loads the latest publication for
	// the public view, in indexes it makes (public fields only); nil turns the /public
	// endpoints off.
	Publisher  *publishing.Service
	Catalog    *riskmap.Catalog
	Grader     *grading.Grader
	RegionRule config.RegionRule
	// Assets is the built front end (index.html, public.html, assets/); nil serves none.
	Assets fs.FS
	// TiandituKey is the browser key of 天地图 basemaps, handed to the pages; "" hides them.
	TiandituKey string
	// Publisher says who publishes the public map and its hotline (config "publisher").
	Contact config.Publisher
	// Tips are the public map's plain words per grade and safety advice per category
	// (config "public_tips").
	Tips config.PublicTips
	// Basemap is the offline basemap served at /basemap/ (--basemap); nil serves none.
	Basemap Basemap
	// Regions are the regions of the regional map, loaded once at start.
	Regions []*riskmap.Region
	// TileOptions tune the vector tiles (zero: defaults).
	TileOptions tiles.Options
	Logger      *slog.Logger
	// MaxBodyBytes bounds request bodies; larger ones get 413.
	MaxBodyBytes int64
	// Registry collects the metrics served at /metrics; nil makes a new one.
	Registry *prometheus.Registry
	// Auth tunes sessions, tokens and login throttling.
	Auth AuthConfig
	// DeviceKey signs device cookies (see device.go); every replica must have the same.
	// Empty: a random key for this process.
	DeviceKey []byte
	// Timeouts bound how long a client may take to send a request and read its answer.
	Timeouts Timeouts
	// PublicURL is where clients reach the server (https://riskmap.example.gov.cn), used for
	// every absolute link (OGC API, next pages, TileJSON). Empty: links name the host the
	// client asked for if it is a loopback name or the address it connected to, and that
	// address otherwise; never a Host header an outsider chose.
	PublicURL string
	// Now is the clock (tests may set it); nil is time.Now.
	Now func() time.Time
	// Hazards is the service of hidden dangers and public reports; nil serves none of their
	// routes.
	Hazards *hazards.Service
	// Analysis is the spatial analysis engine (issue 16: conflicts, shelter coverage, the
	// nearest shelter); nil serves none of its routes.
	Analysis *analysis.Engine
	// Sites are the protective targets and shelters (issue 16), loaded; nil serves none of
	// their routes.
	Sites *sites.Service
	// Monitoring is the monitoring service (issue 17: points, readings, alarms); nil serves
	// none of its routes (the event stream then carries grade changes only).
	Monitoring *monitoring.Service
	// ReportFont is the TrueType CJK font of the assessment report (issue 15; --report-font);
	// "" is reportdoc.DefaultFontPath (Debian's fonts-droid-fallback).
	ReportFont string
}

// Index is what the server needs of the spatial index (*spatialindex.Index, wired by
// cmd/riskmap): its snapshots, whether it has loaded, its loading (an empty public view),
// the change feed its tile cache hears, and the writes of register.Indexer. The snapshots
// are *spatialindex.Snapshot: the API walks their features and counts.
type Index interface {
	Loaded() bool
	// Loads counts the full loads, the first included (/metrics).
	Loads() int
	Snapshot() *spatialindex.Snapshot
	Load(ctx context.Context, units iter.Seq2[*riskmap.Unit, error]) (int, error)
	OnChange(fn func(spatialindex.Change))
	register.Indexer
}

// TileService is what the server needs of the tiles of a view (*tiles.Service).
type TileService interface {
	Options() tiles.Options
	ParseZXY(z, x, y string) (maptile.Tile, error)
	Units(ctx context.Context, t maptile.Tile) (*tiles.Tile, error)
	UnitsWhere(ctx context.Context, t maptile.Tile, keep func(*spatialindex.Feature) bool) (*tiles.Tile, error)
	Regions(ctx context.Context, t maptile.Tile) (*tiles.Tile, error)
}

// Server is the HTTP handler.
type Server struct {
	cfg     Config
	echo    *echo.Echo
	regions []regiongrade.Region
	metrics *metrics
	// publisher is nil when the server has no public map.
	publisher *publishing.Service

	rules     map[string]rule
	bodyRules map[string]bodyRule
	auth      *webauth.Auth
	accounts  *accounts.Service
	folds     auditFolds

	internal *view
	public   atomic.Pointer[view]
	pubLoad  sync.Mutex // one publication load at a time
	// releasing is set while the release of a replaced publication's memory is pending
	// (replacePublic).
	releasing atomic.Bool
	assets    map[string]*asset
	// hub fans the event stream out (events.go).
	hub *eventHub
}

// view is one audience's window on the register: the internal one (every active unit,
// every field) or the public one (the latest publication, public fields). Each has its own
// index, whose features carry the GeoJSON encoded for that audience.
type view struct {
	s      *Server
	ix     Index
	public bool
	tiles  TileService
	// publication is what a public view serves; nil before the first publication.
	publication *riskmap.Publication
	// grades are the regional grades of the view's units (the regions API and the regions
	// layer of its tiles).
	grades *regiongrade.Live
}

func (s *Server) newView(ix Index, public bool, p *riskmap.Publication) *view {
	v := &view{s: s, ix: ix, public: public, publication: p}
	v.grades = regiongrade.NewLive(s.regions, s.cfg.RegionRule, func() (regiongrade.Counted, error) {
		snap, err := v.snapshot()
		if err != nil {
			return nil, err
		}
		return snap, nil
	})
	if ix != nil {
		opt := s.cfg.TileOptions
		opt.Status = !public // the internal map tells draft, submitted and approved apart
		v.tiles = tiles.NewService(ix, tiles.NewRegionGrades(v.grades), opt)
	}
	return v
}

// pub is the public view of the latest publication loaded.
func (s *Server) pub() *view { return s.public.Load() }

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now().UTC()
	}
	return time.Now().UTC()
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
	cfg.Timeouts.defaults()
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Units != nil && cfg.Units.Index == nil && cfg.Index != nil {
		// Writes reach the index through the register service: a service given without
		// one writes to the server's.
		units := *cfg.Units
		units.Index = cfg.Index
		cfg.Units = &units
	}
	if cfg.Hazards != nil {
		// A hazard write brings the unit it changed into the index the unit writes go to,
		// and counts days by the server's clock.
		hz := *cfg.Hazards
		if hz.Index == nil && cfg.Units != nil {
			hz.Index = cfg.Units
		}
		if hz.Now == nil {
			hz.Now = cfg.Now
		}
		cfg.Hazards = &hz
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{cfg: cfg, echo: e, regions: regiongrade.Prepare(cfg.Regions), rules: map[string]rule{}, bodyRules: map[string]bodyRule{},
		auth: webauth.New(cfg.Auth, cfg.Store, cfg.DeviceKey, cfg.Logger, cfg.Now)}
	s.accounts = &accounts.Service{Store: cfg.Store, Catalog: cfg.Catalog, Hash: s.auth.HashPassword, Forget: s.auth.Forget, Now: s.now}
	// The client address is the socket's unless the request came through a trusted proxy.
	e.IPExtractor = echo.ExtractIPDirect()
	if len(cfg.Auth.TrustedProxies) > 0 {
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range cfg.Auth.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	s.internal = s.newView(cfg.Index, false, nil)
	if cfg.Publisher != nil {
		s.publisher = cfg.Publisher
		s.public.Store(s.newView(s.publisher.NewIndex(), true, nil))
	}
	s.metrics = newMetrics(cfg.Registry, s)
	e.HTTPErrorHandler = s.handleError
	e.Pre(s.audit, s.secureHeaders, s.guardPath)
	e.Use(s.recoverPanics, s.metrics.middleware, s.limitBody, s.varyByCaller, s.authenticate, compress)

	s.route(http.MethodGet, "/healthz", anyone, func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	s.route(http.MethodGet, "/readyz", anyone, s.ready)
	// The metrics count the whole register, drafts included, and every route's traffic: for
	// admins, and for scrape tokens (scope "metrics"), which can read nothing else.
	s.route(http.MethodGet, "/metrics", scrape, echo.WrapHandler(promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})))

	const api = "/api/v1"
	s.route(http.MethodPost, api+"/session", anyone, s.login)
	// A login is a name and a password: anyone may send one, so its body is small.
	s.bodyRules["POST "+api+"/session"] = bodyRule{types: []string{"application/json"}, maxBytes: 4 << 10,
		read: cfg.Timeouts.Body, write: cfg.Timeouts.Write}
	s.route(http.MethodGet, api+"/session", anyone, s.whoami)
	s.route(http.MethodDelete, api+"/session", anyone, s.logout)

	s.route(http.MethodGet, api+"/units", loggedIn, s.internal.listUnits)
	s.route(http.MethodGet, api+"/units.csv", loggedIn, s.internal.unitsCSV)
	s.route(http.MethodPost, api+"/units", editor, s.createUnit)
	s.route(http.MethodGet, api+"/units/:id", loggedIn, s.internal.getUnit)
	s.route(http.MethodPut, api+"/units/:id", editor, s.updateUnit)
	s.route(http.MethodDelete, api+"/units/:id", editor, s.transition("unit.retire", s.cfg.Units.Retire))
	s.route(http.MethodGet, api+"/units/:id/review", loggedIn, s.review)
	s.route(http.MethodPost, api+"/units/:id/submit", editor, s.transition("unit.submit", s.cfg.Units.Submit))
	s.route(http.MethodPost, api+"/units/:id/approve", reviewer, s.transition("unit.approve", s.cfg.Units.Approve))
	s.route(http.MethodPost, api+"/units/:id/reject", reviewer, s.transition("unit.reject", s.cfg.Units.Reject))
	s.route(http.MethodPost, api+"/units/:id/retire", editor, s.transition("unit.retire", s.cfg.Units.Retire))
	s.route(http.MethodGet, api+"/categories", anyone, s.categories)
	s.route(http.MethodGet, api+"/grading", anyone, s.gradingConfig)
	s.route(http.MethodPost, api+"/grading/evaluate", loggedIn, s.evaluate)
	s.route(http.MethodGet, api+"/regions", loggedIn, s.internal.listRegions)
	s.route(http.MethodGet, api+"/regions/:code", loggedIn, s.internal.getRegion)
	s.route(http.MethodGet, api+"/stats", loggedIn, s.internal.stats)
	s.internal.tileRoutes("/tiles", loggedIn)
	// The offline basemap (--basemap FILE.mbtiles): streets for both maps, to anyone.
	s.basemapRoutes()
	s.ogcRoutes()
	s.adminRoutes()
	if cfg.Hazards != nil {
		s.hazardRoutes()
	}
	if cfg.Sites != nil {
		s.siteRoutes()
	}
	// The Excel 风险清单 (issue 15): the register and the hidden-danger list as workbooks,
	// and the import template (xlsx.go); scoped like units.csv and hazards.csv.
	s.route(http.MethodGet, api+"/units.xlsx", loggedIn, s.internal.unitsXLSX)
	s.route(http.MethodGet, api+"/templates/units.xlsx", loggedIn, s.unitsTemplate)
	if cfg.Hazards != nil {
		s.route(http.MethodGet, api+"/hazards.xlsx", loggedIn, s.hazardsXLSX)
	}
	// Issue 15: the assessment report (PDF, DOCX) and the map as an image (reports_doc.go).
	s.reportRoutes()
	// Issue 16: conflicts, shelter coverage and the nearest shelter (analysis.go).
	if cfg.Analysis != nil {
		s.analysisRoutes()
	}
	// Excel import jobs (issue 15, imports.go): POST /api/v1/imports, its job, errors.xlsx,
	// commit and cancel; for editors, each job its uploader's.
	s.importRoutes()
	// Issue 17: monitoring points, readings, alarms (monitoring.go), the event stream
	// (events.go) and the SensorThings API subset (sta.go).
	if cfg.Monitoring != nil {
		s.monitoringRoutes()
		s.staRoutes()
		s.monitoringKindRoutes() // monitoring_kinds.go: the taxonomy for the point forms
	}
	s.eventRoutes()
	s.webRoutes()

	// The public map: read-only, the latest publication, public fields.
	if s.publisher != nil {
		s.publicRoutes()
	}
	s.checkRules()
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
	if (s.cfg.Index != nil && !s.cfg.Index.Loaded()) || (s.pub() != nil && !s.pub().ix.Loaded()) {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "loading the spatial index"})
	}
	if s.cfg.StandbyLag == nil {
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	}
	// Reads go to the primary while the standby lags or is down: still ready, and said.
	out := map[string]any{"status": "ready", "standby": "streaming"}
	if lag, err := s.cfg.StandbyLag(ctx); err != nil {
		s.cfg.Logger.Warn("readiness: the hot standby does not answer; reads go to the primary", "err", err)
		out["standby"] = "unavailable"
	} else {
		out["standby_lag_bytes"] = lag
	}
	return c.JSON(http.StatusOK, out)
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

// statusOfCode maps an application error code to an HTTP status; any other is 500.
var statusOfCode = map[string]int{
	riskmap.EINVALID:      http.StatusBadRequest,
	riskmap.ENOTFOUND:     http.StatusNotFound,
	riskmap.ECONFLICT:     http.StatusConflict,
	riskmap.EPRECONDITION: http.StatusPreconditionFailed,
	riskmap.EUNAUTHORIZED: http.StatusUnauthorized,
	riskmap.EFORBIDDEN:    http.StatusForbidden,
	riskmap.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	riskmap.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

// statusOf maps an application error code to an HTTP status.
func statusOf(code string) int {
	if st, ok := statusOfCode[code]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// httpError is an error with its own status, for conditions that have no application code
// (a missing If-Match is 428). Its message is a fixed Chinese text or, with args, a format
// (the key of its translations, as riskmap.Errorf's).
type httpError struct {
	status  int
	code    string
	message string
	args    []any
}

func (e *httpError) Error() string { return riskmap.Render(riskmap.Chinese, e.message, e.args...) }

// langOf is the language the client asked for with Accept-Language (riskmap.NegotiateLang):
// Chinese unless it prefers English.
func langOf(c echo.Context) riskmap.Lang {
	return riskmap.NegotiateLang(c.Request().Header.Get("Accept-Language"))
}

// echoMessage is the message of a status Echo answers itself (other than 404 and 405).
func echoMessage(lang riskmap.Lang, status int) string {
	switch status {
	case http.StatusBadRequest:
		return riskmap.Render(lang, "请求无效")
	case http.StatusUnauthorized:
		return riskmap.Render(lang, "请先登录")
	case http.StatusForbidden:
		return riskmap.Render(lang, "无权访问")
	case http.StatusRequestEntityTooLarge:
		return riskmap.Render(lang, "请求体过大")
	case http.StatusUnsupportedMediaType:
		return riskmap.Render(lang, "不支持的请求体类型")
	case http.StatusTooManyRequests:
		return riskmap.Render(lang, "请求过多，请稍后再试")
	case http.StatusServiceUnavailable:
		return riskmap.Render(lang, "服务暂不可用，请稍后再试")
	}
	return riskmap.Render(lang, "请求未能完成")
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	auditOf(c).err = err
	if hidden := (*hazards.Hidden)(nil); errors.As(err, &hidden) {
		auditOf(c).denied = true // a hiding 404: a refusal, as checkRead's
	}
	lang := langOf(c)
	h := c.Response().Header()
	vary(h, "Accept-Language")
	h.Set("Content-Language", string(lang))
	var body ErrorBody
	status := http.StatusInternalServerError
	var he *echo.HTTPError
	var own *httpError
	switch {
	case errors.As(err, &own):
		status, body.Error.Code, body.Error.Message = own.status, own.code, riskmap.Render(lang, own.message, own.args...)
	case errors.As(err, &he):
		// Echo's own errors: unknown routes, wrong methods.
		status = he.Code
		body.Error.Code = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
		switch status {
		case http.StatusNotFound:
			body.Error.Message = riskmap.Render(lang, "没有这个资源：%s", clip(c.Request().URL.Path))
		case http.StatusMethodNotAllowed:
			body.Error.Message = riskmap.Render(lang, "此处不允许 %s 方法", clip(c.Request().Method))
		default:
			body.Error.Message = echoMessage(lang, status)
		}
	default:
		body.Error.Code, body.Error.Message, body.Error.Fields = riskmap.ClientError(err, lang)
		status = statusOf(body.Error.Code)
	}
	if errors.Is(err, webauth.ErrBusy) {
		retryAfter(c, time.Second) // no slot for a password hash: soon
	}
	if status == http.StatusServiceUnavailable && c.Response().Header().Get("Retry-After") == "" {
		retryAfter(c, 2*time.Second)
	}
	if status >= 500 && status != http.StatusServiceUnavailable {
		s.cfg.Logger.Error("request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
		body.Error.Code, body.Error.Message, body.Error.Fields = riskmap.EINTERNAL, riskmap.InternalError(lang), nil
	}
	if r := c.Request(); r.ContentLength != 0 && status >= 400 {
		// A body the handler never read is not waited for: the answer goes out at once and
		// the connection closes (net/http would otherwise read what is left of the body
		// before answering, for as long as the client takes to send it).
		c.Response().Header().Set("Connection", "close")
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
