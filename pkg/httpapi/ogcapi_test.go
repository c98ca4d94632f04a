package httpapi

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestOpenAPIDescribesEveryOGCRoute: the API definition is made from the routes, and a GET
// route under /ogc that ogcOps does not describe makes it fail.
func TestOpenAPIDescribesEveryOGCRoute(t *testing.T) {
	s := New(Config{Logger: slog.New(slog.DiscardHandler)})
	doc, err := s.openAPI("http://example.cn")
	if err != nil {
		t.Fatalf("every /ogc route must be described: %v", err)
	}
	paths := doc["paths"].(map[string]any)
	for _, rp := range s.ogcRoutePaths() {
		for _, d := range ogcCollectionDefs {
			if p := openAPIPath(rp, d.id); paths[p] == nil {
				t.Errorf("route %s: no path %s in the API definition", rp, p)
			}
		}
	}
	t.Run("ErrUndescribedRoute", func(t *testing.T) {
		s.route(http.MethodGet, "/ogc/collections/:cid/queryables", anyone, func(c echo.Context) error { return nil })
		if _, err := s.openAPI("http://example.cn"); err == nil || !strings.Contains(err.Error(), "/ogc/collections/:cid/queryables") {
			t.Fatalf("an undescribed OGC route must make the API definition fail: %v", err)
		}
	})
}
