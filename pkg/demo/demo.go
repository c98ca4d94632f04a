// Package demo reads the demo city's reference layers (regions, protective targets and
// emergency shelters) from GeoJSON files such as those embedded in package geodata. The
// demo's risk units are read with pkg/featurejson, the parser of all unit input.
package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"riskmap/pkg/riskmap"
)

// File names inside the file system.
const (
	RegionsFile  = "regions.geojson"
	UnitsFile    = "units.geojson"
	TargetsFile  = "protective_targets.geojson"
	SheltersFile = "shelters.geojson"
)

// RegionProperties are the properties of a feature of regions.geojson.
type RegionProperties struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Level      string `json:"level"`
	ParentCode string `json:"parent_code"`
	Population int64  `json:"population"`
}

// SiteProperties are the properties a protective target and a shelter share.
type SiteProperties struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	RegionCode string `json:"region_code"`
	Address    string `json:"address"`
}

// TargetProperties are the properties of a feature of protective_targets.geojson.
type TargetProperties struct {
	SiteProperties
	People int `json:"people"`
}

// ShelterProperties are the properties of a feature of shelters.geojson.
type ShelterProperties struct {
	SiteProperties
	Capacity        int     `json:"capacity"`
	EffectiveAreaM2 float64 `json:"effective_area_m2"`
	ServiceRadiusM  float64 `json:"service_radius_m"`
}

// LoadRegions reads regions.geojson: districts, streets, communities and grids, each a
// (Multi)Polygon with code, name, level, parent_code and population. Every region is
// validated, and a parent must be listed before its children.
func LoadRegions(fsys fs.FS) ([]*riskmap.Region, error) {
	fc, err := load[RegionProperties](fsys, RegionsFile)
	if err != nil {
		return nil, err
	}
	out := make([]*riskmap.Region, 0, len(fc.Features))
	seen := map[string]bool{}
	for i, f := range fc.Features {
		p := f.Properties
		r := &riskmap.Region{Code: p.Code, Name: p.Name, Level: p.Level, ParentCode: p.ParentCode,
			Population: p.Population}
		switch g := f.Geometry.(type) {
		case orb.MultiPolygon:
			r.Geometry = g
		case orb.Polygon:
			r.Geometry = orb.MultiPolygon{g}
		default:
			return nil, featureErr(RegionsFile, i, "geometry", "must be a Polygon or MultiPolygon")
		}
		if err := r.Validate(); err != nil {
			return nil, featureErr(RegionsFile, i, "", err.Error())
		}
		if seen[r.Code] {
			return nil, featureErr(RegionsFile, i, "code", fmt.Sprintf("%q appears twice", r.Code))
		}
		if r.ParentCode != "" && !seen[r.ParentCode] {
			return nil, featureErr(RegionsFile, i, "parent_code", fmt.Sprintf("%q is not listed before it", r.ParentCode))
		}
		seen[r.Code] = true
		out = append(out, r)
	}
	return out, nil
}

// LoadTargets reads protective_targets.geojson: schools, kindergartens, hospitals, care homes
// and crowded places.
func LoadTargets(fsys fs.FS) ([]*riskmap.ProtectiveTarget, error) {
	kinds := []string{riskmap.TargetSchool, riskmap.TargetKindergarten, riskmap.TargetHospital,
		riskmap.TargetCareHome, riskmap.TargetCrowded}
	return loadSites(fsys, TargetsFile, kinds, func(p TargetProperties, g orb.Geometry) (*riskmap.ProtectiveTarget, error) {
		if p.People < 0 {
			return nil, errors.New("people: must not be negative")
		}
		return &riskmap.ProtectiveTarget{Name: p.Name, Kind: p.Kind, RegionCode: p.RegionCode,
			Address: p.Address, People: p.People, Geometry: g}, nil
	})
}

// LoadShelters reads shelters.geojson: emergency, fixed and central shelters.
func LoadShelters(fsys fs.FS) ([]*riskmap.Shelter, error) {
	kinds := []string{riskmap.ShelterEmergency, riskmap.ShelterFixed, riskmap.ShelterCentral}
	return loadSites(fsys, SheltersFile, kinds, func(p ShelterProperties, g orb.Geometry) (*riskmap.Shelter, error) {
		if p.Capacity < 0 || p.EffectiveAreaM2 < 0 || p.ServiceRadiusM < 0 {
			return nil, errors.New("capacity: capacity, effective_area_m2 and service_radius_m must not be negative")
		}
		return &riskmap.Shelter{Name: p.Name, Kind: p.Kind, RegionCode: p.RegionCode,
			Address: p.Address, Capacity: p.Capacity, EffectiveAreaM2: p.EffectiveAreaM2,
			ServiceRadiusM: p.ServiceRadiusM, Geometry: g}, nil
	})
}

// site is the properties of a target or a shelter.
type site interface{ site() SiteProperties }

func (p SiteProperties) site() SiteProperties { return p }

// loadSites reads a file of sites whose kind is one of kinds and whose name, region code
// and geometry are valid; build checks the rest of a site's properties and makes it.
func loadSites[P site, T any](fsys fs.FS, file string, kinds []string, build func(p P, g orb.Geometry) (T, error)) ([]T, error) {
	fc, err := load[P](fsys, file)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(fc.Features))
	for i, f := range fc.Features {
		s := f.Properties.site()
		if !slices.Contains(kinds, s.Kind) {
			return nil, featureErr(file, i, "kind", fmt.Sprintf("unknown kind %q", s.Kind))
		}
		if err := checkSite(s.Name, s.RegionCode, f.Geometry); err != nil {
			return nil, featureErr(file, i, "", err.Error())
		}
		t, err := build(f.Properties, f.Geometry)
		if err != nil {
			return nil, featureErr(file, i, "", err.Error())
		}
		out = append(out, t)
	}
	return out, nil
}

func checkSite(name, region string, g orb.Geometry) error {
	if name == "" {
		return fmt.Errorf("name：必填")
	}
	if !riskmap.ValidRegionCode(region) {
		return fmt.Errorf("region_code：应为 6、9 或 12 位行政区划代码，收到 %q", region)
	}
	if err := riskmap.ValidateGeometry(g); err != nil {
		return fmt.Errorf("geometry：%v", err)
	}
	return nil
}

func load[P any](fsys fs.FS, name string) (*geojson.FeatureCollectionOf[P], error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "演示数据 %s：%v", name, err)
	}
	var fc geojson.FeatureCollectionOf[P]
	if err := json.Unmarshal(b, &fc); err != nil {
		return nil, riskmap.Errorf(riskmap.EINVALID, "演示数据 %s 不是 GeoJSON FeatureCollection：%v", name, err)
	}
	for i, f := range fc.Features {
		if f == nil || f.Geometry == nil {
			return nil, featureErr(name, i, "geometry", "必填")
		}
	}
	return &fc, nil
}

func featureErr(file string, i int, field, msg string) error {
	if field != "" {
		msg = field + ": " + msg
	}
	return riskmap.Errorf(riskmap.EINVALID, "演示数据 %s 第 %d 个要素：%s", file, i+1, msg)
}
