package riskmap

import (
	"fmt"
	"math"
	"strings"

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

// Limits of the sites' numbers: anything larger is a typing error, not a place.
const (
	MaxSitePeople      = 1_000_000   // people at one protective target
	MaxShelterCapacity = 10_000_000  // people one shelter takes in
	MaxShelterAreaM2   = 100_000_000 // 100 km² of effective shelter area
	MaxServiceRadiusM  = 50_000      // a shelter's service radius, as analysis.MaxRadiusM
	MaxAddressLen      = 200
)

// SiteLimits is what checking a site needs beyond the site itself: where the city is and
// how to measure a footprint. The zero value checks the site alone (coordinates in WGS 84).
type SiteLimits struct {
	// City is the bound sites must lie in (the regions' bound grown by 20 km); zero: the
	// world.
	City orb.Bound
	// AreaM2 measures a polygon's area in square metres (analysis.AreaM2); nil: shelters'
	// effective areas are not compared with their footprints.
	AreaM2 func(orb.Geometry) float64
	// MaxAreaRatio is how many times its footprint a polygon shelter's effective area may
	// be (analysis.Config.MaxAreaRatio); 0 is 1.2.
	MaxAreaRatio float64
}

// Validate checks a protective target alone (SiteLimits{}).
func (t *ProtectiveTarget) Validate() error { return t.ValidateIn(SiteLimits{}) }

// ValidateIn checks a protective target before it is stored: every problem, by JSON field
// name.
func (t *ProtectiveTarget) ValidateIn(l SiteLimits) error {
	var p Problems
	checkText(&p, "name", t.Name, MaxNameLen, true)
	if TargetKindLabel(t.Kind) == "" {
		p.Add("kind", "应为 %s 之一，收到 %q", kindList(TargetKinds), clip(t.Kind))
	}
	checkText(&p, "address", t.Address, MaxAddressLen, false)
	checkText(&p, "region_code", t.RegionCode, 32, false)
	switch {
	case t.People < 1:
		p.Add("people", "必填，防护目标的人数应大于 0")
	case t.People > MaxSitePeople:
		p.Add("people", "人数 %d 超过上限 %d", t.People, MaxSitePeople)
	}
	checkSiteGeometry(&p, t.Geometry, l)
	return p.Err()
}

// Validate checks a shelter alone (SiteLimits{}).
func (sh *Shelter) Validate() error { return sh.ValidateIn(SiteLimits{}) }

// ValidateIn checks a shelter before it is stored: every problem, by JSON field name. A
// service radius of 0 is allowed (the service fills in its kind's default first).
func (sh *Shelter) ValidateIn(l SiteLimits) error {
	var p Problems
	checkText(&p, "name", sh.Name, MaxNameLen, true)
	if ShelterKindLabel(sh.Kind) == "" {
		p.Add("kind", "应为 %s 之一，收到 %q", kindList(ShelterKinds), clip(sh.Kind))
	}
	checkText(&p, "address", sh.Address, MaxAddressLen, false)
	checkText(&p, "region_code", sh.RegionCode, 32, false)
	if sh.Capacity < 0 || sh.Capacity > MaxShelterCapacity {
		p.Add("capacity", "应在 0 到 %d 人之间，收到 %d", MaxShelterCapacity, sh.Capacity)
	}
	areaOK := checkRange(&p, "effective_area_m2", sh.EffectiveAreaM2, MaxShelterAreaM2, "有效避难面积应在 0 到 %d 平方米之间")
	checkRange(&p, "service_radius_m", sh.ServiceRadiusM, MaxServiceRadiusM, "服务半径应在 0 到 %d 米之间")
	if checkSiteGeometry(&p, sh.Geometry, l) && areaOK && l.AreaM2 != nil {
		switch sh.Geometry.(type) {
		case orb.Polygon, orb.MultiPolygon:
			ratio := l.MaxAreaRatio
			if ratio <= 0 {
				ratio = 1.2
			}
			if foot := l.AreaM2(sh.Geometry); sh.EffectiveAreaM2 > foot*ratio {
				p.Add("effective_area_m2", "有效避难面积 %.0f 平方米超过占地面积 %.0f 平方米的 %g 倍", sh.EffectiveAreaM2, foot, ratio)
			}
		}
	}
	return p.Err()
}

// checkRange adds a problem when v is not a finite number from 0 to max; format words it
// with max. It reports whether v is fine.
func checkRange(p *Problems, field string, v float64, max int, format string) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > float64(max) {
		p.Add(field, format, max)
		return false
	}
	return true
}

// checkSiteGeometry adds the problem of a site's geometry: a point or a polygon (or
// several polygons), valid, inside the city. It reports whether the geometry is fine.
func checkSiteGeometry(p *Problems, g orb.Geometry, l SiteLimits) bool {
	switch g.(type) {
	case nil:
		p.Add("geometry", "必填（GeoJSON 的 Point、Polygon 或 MultiPolygon）")
		return false
	case orb.Point, orb.Polygon, orb.MultiPolygon:
	default:
		p.Add("geometry", "应为 Point、Polygon 或 MultiPolygon，收到 %s", g.GeoJSONType())
		return false
	}
	if err := ValidateGeometry(g); err != nil {
		p.Add("geometry", "%s", TextOf(err))
		return false
	}
	if l.City != (orb.Bound{}) {
		b := g.Bound()
		if !l.City.Contains(b.Min) || !l.City.Contains(b.Max) {
			p.Add("geometry", "位置不在本市范围内")
			return false
		}
	}
	return true
}

// kindList is the codes of kinds, for a message: "school、kindergarten …".
func kindList(kinds []struct{ Code, Label string }) string {
	codes := make([]string, len(kinds))
	for i, k := range kinds {
		codes[i] = k.Code + "（" + k.Label + "）"
	}
	return strings.Join(codes, "、")
}

// TargetNotFound: no protective target has the id.
func TargetNotFound(id int64) error {
	return Errorf(ENOTFOUND, "没有编号为 %d 的防护目标", id)
}

// ShelterNotFound: no shelter has the id.
func ShelterNotFound(id int64) error {
	return Errorf(ENOTFOUND, "没有编号为 %d 的避难场所", id)
}

// StaleTarget: a write named version of protective target id, which is at current now.
func StaleTarget(id, version, current int64) error {
	return Errorf(EPRECONDITION, "防护目标 %d 已是第 %d 版而非第 %d 版：已被他人修改；请重新加载后再修改", id, current, version)
}

// StaleShelter: a write named version of shelter id, which is at current now.
func StaleShelter(id, version, current int64) error {
	return Errorf(EPRECONDITION, "避难场所 %d 已是第 %d 版而非第 %d 版：已被他人修改；请重新加载后再修改", id, current, version)
}

// SiteRecordFunc builds the records of a write of a site (its audit row, the answer for
// an Idempotency-Key) from the site before and after it: before is nil for a creation,
// after nil for a deletion. The store calls it inside the write's transaction, after the
// write, with ID, Version and UpdatedAt set; an error rolls the write back. A nil
// SiteRecordFunc records nothing.
type SiteRecordFunc[T any] func(before, after T) (*WriteRecords, error)

// Keep hands what f builds for before and after to keep, a store's writer of records in
// the write's transaction; nil f keeps nothing.
func (f SiteRecordFunc[T]) Keep(before, after T, keep func(*WriteRecords) error) error {
	if f == nil {
		return nil
	}
	r, err := f(before, after)
	if err != nil || r == nil {
		return err
	}
	return keep(r)
}

// SiteID is the target's id.
func (t *ProtectiveTarget) SiteID() int64 { return t.ID }

// SiteID is the shelter's id.
func (sh *Shelter) SiteID() int64 { return sh.ID }
