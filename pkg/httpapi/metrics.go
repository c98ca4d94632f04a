package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"riskmap/pkg/monitoring"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	readings *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, s *Server) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riskmap_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "riskmap_http_request_duration_seconds", Help: "HTTP request duration by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		readings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riskmap_http_readings_total",
			Help: "Readings received over HTTP (via api: POST /api/v1/readings, sta: SensorThings), by result (accepted, late among the accepted, duplicate, refused).",
		}, []string{"via", "result"}),
	}
	for _, via := range []string{"api", "sta"} {
		for _, r := range []string{"accepted", "duplicate", "late", "refused"} {
			m.readings.WithLabelValues(via, r)
		}
	}
	reg.MustRegister(m.requests, m.duration, m.readings,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "riskmap_index_units", Help: "Units in the spatial index."},
			func() float64 {
				if s.cfg.Index == nil {
					return 0
				}
				return float64(s.cfg.Index.Snapshot().Len())
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "riskmap_index_seq", Help: "Changes applied to the spatial index."},
			func() float64 {
				if s.cfg.Index == nil {
					return 0
				}
				return float64(s.cfg.Index.Snapshot().Seq())
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "riskmap_index_loads_total",
			Help: "Full loads of the spatial index, the first included: a reload follows only a change too big to apply unit by unit (a bulk load, or more than 10,000 units changed while this replica could not listen), never steady writes."},
			func() float64 {
				if s.cfg.Index == nil {
					return 0
				}
				return float64(s.cfg.Index.Loads())
			}),
	)
	return m
}

// middleware counts requests by route pattern (never by raw path, which would let clients
// create unbounded label values).
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		if err != nil {
			c.Error(err)
			status = c.Response().Status
		}
		m.requests.WithLabelValues(route, methodLabel(c.Request().Method), strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		return nil
	}
}

// methodLabel is the method as a metrics label: a client may send any token as its method,
// and every new label value would be a new series kept for ever.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// Registry is where the server's metrics are registered (Config.Registry or its own):
// other parts of the process (the MQTT subscriber) add theirs to it, served at /metrics.
func (s *Server) Registry() *prometheus.Registry { return s.cfg.Registry }

// countReadings counts what a request's readings came to (via "api" or "sta"): the item
// refusals are in the answer, and here for whoever watches the gateways.
func (m *metrics) countReadings(via string, res *monitoring.IngestResult) {
	m.readings.WithLabelValues(via, "accepted").Add(float64(res.Accepted))
	m.readings.WithLabelValues(via, "late").Add(float64(res.Late))
	m.readings.WithLabelValues(via, "duplicate").Add(float64(res.Duplicates))
	m.readings.WithLabelValues(via, "refused").Add(float64(len(res.Refused)))
}
