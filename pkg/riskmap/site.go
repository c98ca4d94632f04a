package riskmap

import (
	"fmt"

	"github.com/paulmach/orb"
)

// Site is a place the register keeps beside its units, which a store writes alike whatever
// its kind: a region, a protective target or a shelter.
type Site interface {
	// SiteLabel names the site in a message: its kind and its code or name.
	SiteLabel() string
	// SiteGeometry returns the site's geometry, and whether it has one at all.
	SiteGeometry() (orb.Geometry, bool)
}

// SiteLabel names the region by its code.
func (r *Region) SiteLabel() string { return fmt.Sprintf("region %q", r.Code) }

// SiteGeometry returns the region's MultiPolygon; a region without polygons has none.
func (r *Region) SiteGeometry() (orb.Geometry, bool) { return r.Geometry, len(r.Geometry) > 0 }

// SiteLabel names the target by its name.
func (t *ProtectiveTarget) SiteLabel() string { return fmt.Sprintf("protective target %q", t.Name) }

// SiteGeometry returns the target's geometry.
func (t *ProtectiveTarget) SiteGeometry() (orb.Geometry, bool) { return t.Geometry, t.Geometry != nil }

// SiteLabel names the shelter by its name.
func (sh *Shelter) SiteLabel() string { return fmt.Sprintf("shelter %q", sh.Name) }

// SiteGeometry returns the shelter's geometry.
func (sh *Shelter) SiteGeometry() (orb.Geometry, bool) { return sh.Geometry, sh.Geometry != nil }
