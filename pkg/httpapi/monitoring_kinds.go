package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// monitoringKindRoutes serve the taxonomy of monitoring points (config "monitoring.kinds"):
// the forms that add a point offer its kinds, and fill in a kind's unit of measure,
// reporting interval and default thresholds.
func (s *Server) monitoringKindRoutes() {
	s.route(http.MethodGet, "/api/v1/monitoring-kinds", loggedIn, s.monitoringKinds)
}

// monitoringKinds answers {"items": [Kind…]} in the configured order.
func (s *Server) monitoringKinds(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, map[string]any{"items": s.monConfig().Kinds})
}
