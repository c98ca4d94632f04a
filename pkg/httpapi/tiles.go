package httpapi

import "github.com/labstack/echo/v4"

// TileService renders and caches vector tiles.
type TileService interface{}

func (v *view) tileRoutes(g *echo.Group) {}
