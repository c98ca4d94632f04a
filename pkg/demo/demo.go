// Package demo reads the demo city's reference layers (regions, protective targets and
// emergency shelters) from GeoJSON files such as those embedded in package geodata. The
// demo's risk units are read with pkg/featurejson, the parser of all unit input.
package demo

import (
	"encoding/json"
	"fmt"
	"io/fs"

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

type regionProps struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Level      string `json:"level"`
	ParentCode string `json:"parent_code"`
	Population int64  `json:"population"`
}

type targetProps struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	RegionCode string `json:"region_code"`
	Address    string `json:"address"`
	People     int    `json:"people"`
}

type shelterProps struct {
	Name            string  `json:"name"`
	Kind            string  `json:"kind"`
	RegionCode      string  `json:"region_code"`
	Address         string  `json:"address"`
	Capacity        int     `json:"capacity"`
	EffectiveAreaM2 float64 `json:"effective_area_m2"`
	ServiceRadiusM  float64 `json:"service_radius_m"`
}

// LoadRegions reads regions.geojson: districts, streets, communities and grids, each a
// (Multi)Polygon with code, name, level, parent_code and population. Every region is
// validated, and a parent must be listed before its children.
func LoadRegions(fsys fs.FS) ([]*riskmap.Region, error) {
	fc, err := load[regionProps](fsys, RegionsFile)
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
	fc, err := load[targetProps](fsys, TargetsFile)
	if err != nil {
		return nil, err
	}
	out := make([]*riskmap.ProtectiveTarget, 0, len(fc.Features))
	for i, f := range fc.Features {
		p := f.Properties
		switch p.Kind {
		case riskmap.TargetSchool, riskmap.TargetKindergarten, riskmap.TargetHospital,
			riskmap.TargetCareHome, riskmap.TargetCrowded:
		default:
			return nil, featureErr(TargetsFile, i, "kind", fmt.Sprintf("unknown kind %q", p.Kind))
		}
		if err := checkSite(p.Name, p.RegionCode, f.Geometry); err != nil {
			return nil, featureErr(TargetsFile, i, "", err.Error())
		}
		if p.People < 0 {
			return nil, featureErr(TargetsFile, i, "people", "must not be negative")
		}
		out = append(out, &riskmap.ProtectiveTarget{Name: p.Name, Kind: p.Kind, RegionCode: p.RegionCode,
			Address: p.Address, People: p.People, Geometry: f.Geometry})
	}
	return out, nil
}

// LoadShelters reads shelters.geojson: emergency, fixed and central shelters.
func LoadShelters(fsys fs.FS) ([]*riskmap.Shelter, error) {
	fc, err := load[shelterProps](fsys, SheltersFile)
	if err != nil {
		return nil, err
	}
	out := make([]*riskmap.Shelter, 0, len(fc.Features))
	for i, f := range fc.Features {
		p := f.Properties
		switch p.Kind {
		case riskmap.ShelterEmergency, riskmap.ShelterFixed, riskmap.ShelterCentral:
		default:
			return nil, featureErr(SheltersFile, i, "kind", fmt.Sprintf("unknown kind %q", p.Kind))
		}
		if err := checkSite(p.Name, p.RegionCode, f.Geometry); err != nil {
			return nil, featureErr(SheltersFile, i, "", err.Error())
		}
		if p.Capacity < 0 || p.EffectiveAreaM2 < 0 || p.ServiceRadiusM < 0 {
			return nil, featureErr(SheltersFile, i, "capacity", "capacity, effective_area_m2 and service_radius_m must not be negative")
		}
		out = append(out, &riskmap.Shelter{Name: p.Name, Kind: p.Kind, RegionCode: p.RegionCode,
			Address: p.Address, Capacity: p.Capacity, EffectiveAreaM2: p.EffectiveAreaM2,
			ServiceRadiusM: p.ServiceRadiusM, Geometry: f.Geometry})
	}
	return out, nil
}

func checkSite(name, region string, g orb.Geometry) error {
	if name == "" {
		return fmt.Errorf("name: is required")
	}
	if !riskmap.ValidRegionCode(region) {
		return fmt.Errorf("region_code: must be a 6-, 9- or 12-digit administrative code, got %q", region)
	}
	if err := riskmap.ValidateGeometry(g); err != nil {
		return fmt.Errorf("geometry: %v", err)
	}
	return nil
}

func load[P any](fsys fs.FS, name string) (*geojson.FeatureCollectionOf[P], error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "demo: %s: %v", name, err)
	}
	var fc geojson.FeatureCollectionOf[P]
	if err := json.Unmarshal(b, &fc); err != nil {
		return nil, riskmap.Errorf(riskmap.EINVALID, "demo: %s is not a GeoJSON FeatureCollection: %v", name, err)
	}
	for i, f := range fc.Features {
		if f == nil || f.Geometry == nil {
			return nil, featureErr(name, i, "geometry", "is required")
		}
	}
	return &fc, nil
}

func featureErr(file string, i int, field, msg string) error {
	if field != "" {
		msg = field + ": " + msg
	}
	return riskmap.Errorf(riskmap.EINVALID, "demo: %s feature %d: %s", file, i+1, msg)
}
