package riskmap

import (
	"time"

	"github.com/paulmach/orb"
)

// Region levels of the regional four-colour map.
const (
	LevelDistrict  = "district"  // 区/县, 6-digit code
	LevelStreet    = "street"    // 街道/乡镇, 9 digits
	LevelCommunity = "community" // 社区/村, 12 digits
	LevelGrid      = "grid"      // 网格, the community's code plus a grid number
)

// RegionLevels lists the levels from the coarsest.
var RegionLevels = []string{LevelDistrict, LevelStreet, LevelCommunity, LevelGrid}

// ValidRegionLevel reports whether s names a region level.
func ValidRegionLevel(s string) bool {
	for _, l := range RegionLevels {
		if s == l {
			return true
		}
	}
	return false
}

// Region is an administrative area or grid of the regional map.
type Region struct {
	Code       string
	Name       string
	Level      string
	ParentCode string
	Population int64
	Geometry   orb.MultiPolygon
}

// Validate checks a region before it is stored.
func (r *Region) Validate() error {
	var p Problems
	checkText(&p, "code", r.Code, 32, true)
	checkText(&p, "name", r.Name, MaxNameLen, true)
	if !ValidRegionLevel(r.Level) {
		p.Add("level", "应为 district（区县）、street（街道）、community（社区）或 grid（网格），收到 %q", clip(r.Level))
	}
	if r.Level != LevelGrid && r.Code != "" && !ValidRegionCode(r.Code) {
		p.Add("code", "应为 6、9 或 12 位行政区划代码，收到 %q", clip(r.Code))
	}
	if r.Population < 0 {
		p.Add("population", "不能为负数")
	}
	if len(r.Geometry) == 0 {
		p.Add("geometry", "必填（MultiPolygon）")
	} else if err := ValidateGeometry(r.Geometry); err != nil {
		p.Add("geometry", "%s", TextOf(err))
	}
	return p.Err()
}

// Protective target kinds (高敏感防护目标).
const (
	TargetSchool       = "school"
	TargetKindergarten = "kindergarten"
	TargetHospital     = "hospital"
	TargetCareHome     = "care_home"
	TargetCrowded      = "crowded_place"
)

// TargetKinds are the protective target kinds with their Chinese names, in display order.
var TargetKinds = []struct{ Code, Label string }{
	{TargetSchool, "学校"}, {TargetKindergarten, "幼儿园"}, {TargetHospital, "医院"},
	{TargetCareHome, "养老院"}, {TargetCrowded, "人员密集场所"},
}

// TargetKindLabel is the Chinese name of a protective target kind ("" for an unknown one).
func TargetKindLabel(kind string) string {
	for _, k := range TargetKinds {
		if k.Code == kind {
			return k.Label
		}
	}
	return ""
}

// ProtectiveTarget is a place that must keep a safe distance from hazardous units.
type ProtectiveTarget struct {
	ID         int64
	Name       string
	Kind       string
	RegionCode string
	Address    string
	People     int
	Geometry   orb.Geometry
	// Version counts the target's writes from 1 (its ETag); UpdatedAt is the last one's time.
	Version   int64
	UpdatedAt time.Time
}

// Shelter kinds (应急避难场所).
const (
	ShelterEmergency = "emergency" // 紧急避难场所
	ShelterFixed     = "fixed"     // 固定避难场所
	ShelterCentral   = "central"   // 中心避难场所
)

// ShelterKinds are the shelter kinds with their Chinese names, from the smallest.
var ShelterKinds = []struct{ Code, Label string }{
	{ShelterEmergency, "紧急避难场所"}, {ShelterFixed, "固定避难场所"}, {ShelterCentral, "中心避难场所"},
}

// ShelterKindLabel is the Chinese name of a shelter kind ("" for an unknown one).
func ShelterKindLabel(kind string) string {
	for _, k := range ShelterKinds {
		if k.Code == kind {
			return k.Label
		}
	}
	return ""
}

// Shelter is an emergency shelter of the public shelter layer.
type Shelter struct {
	ID              int64
	Name            string
	Kind            string
	RegionCode      string
	Address         string
	Capacity        int
	EffectiveAreaM2 float64
	ServiceRadiusM  float64
	Geometry        orb.Geometry
	// Version counts the shelter's writes from 1 (its ETag); UpdatedAt is the last one's time.
	Version   int64
	UpdatedAt time.Time
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
