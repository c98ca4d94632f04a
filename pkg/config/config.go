// Package config is the deployment's configuration: grading thresholds and colours, the
// regional aggregation rule and the category taxonomy. The defaults are built in
// (default.json); a deployment overrides any top-level section with its own JSON file.
package config

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"riskmap/pkg/analysis"
	"riskmap/pkg/grading"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

//go:embed default.json
var defaultJSON []byte

// RegionRule says how a region's grade is aggregated from its units (DOMAIN.md).
type RegionRule struct {
	// Method is weighted_index (the default), highest or count.
	Method string `json:"method"`
	// Weights per grade, for weighted_index.
	Weights map[riskmap.Grade]float64 `json:"weights,omitempty"`
	// Per is km2 or 10k_people: what the weighted sum is divided by.
	Per string `json:"per,omitempty"`
	// Thresholds: the lowest index (weighted_index) or unit count (count) that gives a grade.
	Thresholds map[riskmap.Grade]float64 `json:"thresholds,omitempty"`
}

// File is the JSON layout of a config file.
type File struct {
	Grading        *grading.Config                  `json:"grading,omitempty"`
	Colours        map[riskmap.Grade]grading.Colour `json:"colours,omitempty"`
	DynamicGrades  *grading.DynamicConfig           `json:"dynamic_grades,omitempty"`
	RegionRule     *RegionRule                      `json:"region_rule,omitempty"`
	CategoryGroups []riskmap.CategoryGroup          `json:"category_groups,omitempty"`
	Categories     []riskmap.Category               `json:"categories,omitempty"`
	AccidentTypes  []riskmap.AccidentType           `json:"accident_types,omitempty"`
	Publisher      *Publisher                       `json:"publisher,omitempty"`
	PublicTips     *PublicTips                      `json:"public_tips,omitempty"`
	Basemap        *Basemap                         `json:"basemap,omitempty"`
	Analysis       *analysis.Config                 `json:"analysis,omitempty"`
	Monitoring     *monitoring.Config               `json:"monitoring,omitempty"`
	MQTT           *MQTT                            `json:"mqtt,omitempty"`
}

// MQTT names the broker serve takes the readings of monitoring points from (issue 17;
// serve --mqtt overrides it): its URL (tcp://127.0.0.1:1883), the topic prefix (default
// "riskmap/") and this replica's client id (default riskmap-HOST-PORT). No URL, no
// subscriber.
type MQTT struct {
	URL      string `json:"url"`
	Prefix   string `json:"prefix,omitempty"`
	ClientID string `json:"client_id,omitempty"`
}

// PublicTips are the plain words of the public map's unit popup: what each grade means
// and what to do (防范提示) near a unit of each category. A config file's public_tips is
// merged into the defaults key by key, so it may change or add a single tip; an empty
// string removes one.
type PublicTips struct {
	// Grades: one sentence per grade (red, orange, yellow, blue) of what it means.
	Grades map[riskmap.Grade]string `json:"grades,omitempty"`
	// Categories: the safety advice per category code.
	Categories map[string]string `json:"categories,omitempty"`
	// Default is the advice for a category without its own.
	Default string `json:"default,omitempty"`
}

// Basemap names the offline basemap of both maps: an MBTiles file (raster or vector),
// served at /basemap/. A relative path is taken from the config file's directory. The
// serve flag --basemap overrides it.
type Basemap struct {
	MBTiles string `json:"mbtiles"`
}

// Publisher says who publishes the public map and how citizens reach them, shown on it.
type Publisher struct {
	Name         string `json:"name"`
	Hotline      string `json:"hotline"`
	HotlineLabel string `json:"hotline_label"`
}

// Config is the checked configuration in force.
type Config struct {
	Grader     *grading.Grader
	Catalog    *riskmap.Catalog
	RegionRule RegionRule
	Publisher  Publisher
	PublicTips PublicTips
	// BasemapPath is the offline basemap's MBTiles file ("" for none).
	BasemapPath string
	// Analysis configures the spatial analyses: hazardous categories, default influence
	// radii, the shelter area per resident (config "analysis", issue 16).
	Analysis analysis.Config
	// Monitoring is the taxonomy of monitoring points: kinds, units, default thresholds,
	// hysteresis, offline and escalation rules (config "monitoring", issue 17).
	Monitoring monitoring.Config
	// MQTT is the broker of readings (config "mqtt"); empty: none.
	MQTT MQTT
}

// Default returns the built-in configuration.
func Default() *Config {
	c, err := build(nil)
	if err != nil {
		panic("config: built-in default.json is invalid: " + err.Error())
	}
	return c
}

// Load reads a config file whose top-level sections replace the defaults' sections. An
// empty path means the defaults.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("配置文件：%w", err)
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("配置文件 %s 不是有效的配置：%v", path, err)
	}
	c, err := build(&f)
	if err != nil {
		return nil, fmt.Errorf("配置文件 %s：%v", path, err)
	}
	if c.BasemapPath != "" && !filepath.IsAbs(c.BasemapPath) {
		c.BasemapPath = filepath.Join(filepath.Dir(path), c.BasemapPath)
	}
	return c, nil
}

func build(over *File) (*Config, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(defaultJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	defTips := f.PublicTips
	if over != nil {
		// Each section the file sets replaces the default one whole. Every field of File is
		// a pointer, map or slice, nil when the file leaves it out.
		dst, src := reflect.ValueOf(&f).Elem(), reflect.ValueOf(over).Elem()
		for i := range src.NumField() {
			if v := src.Field(i); !v.IsNil() {
				dst.Field(i).Set(v)
			}
		}
	}
	gc := *f.Grading
	gc.Colours = f.Colours
	if f.DynamicGrades != nil {
		gc.Dynamic = *f.DynamicGrades
	}
	g, err := grading.New(gc)
	if err != nil {
		return nil, err
	}
	cat, err := riskmap.NewCatalog(f.CategoryGroups, f.Categories, f.AccidentTypes)
	if err != nil {
		return nil, err
	}
	if err := checkRule(f.RegionRule); err != nil {
		return nil, err
	}
	c := &Config{Grader: g, Catalog: cat, RegionRule: *f.RegionRule}
	if f.Publisher != nil {
		c.Publisher = *f.Publisher
	}
	if over != nil && over.PublicTips != nil {
		f.PublicTips = mergeTips(defTips, over.PublicTips)
	}
	if f.PublicTips != nil {
		if err := checkTips(f.PublicTips, cat); err != nil {
			return nil, err
		}
		c.PublicTips = *f.PublicTips
	}
	if f.Basemap != nil {
		c.BasemapPath = f.Basemap.MBTiles
	}
	if err := f.Analysis.Check(cat); err != nil {
		return nil, err
	}
	c.Analysis = *f.Analysis
	if err := f.Monitoring.Check(); err != nil {
		return nil, err
	}
	c.Monitoring = *f.Monitoring
	if f.MQTT != nil {
		c.MQTT = *f.MQTT
	}
	return c, nil
}

// mergeTips lays over's tips on def's: a key over sets replaces def's, an empty one
// removes it.
func mergeTips(def, over *PublicTips) *PublicTips {
	out := &PublicTips{Grades: map[riskmap.Grade]string{}, Categories: map[string]string{}}
	for _, t := range []*PublicTips{def, over} {
		if t == nil {
			continue
		}
		for k, v := range t.Grades {
			out.Grades[k] = v
		}
		for k, v := range t.Categories {
			out.Categories[k] = v
		}
		if t.Default != "" {
			out.Default = t.Default
		}
	}
	for k, v := range out.Grades {
		if v == "" {
			delete(out.Grades, k)
		}
	}
	for k, v := range out.Categories {
		if v == "" {
			delete(out.Categories, k)
		}
	}
	return out
}

// checkTips refuses tips for grades or categories the configuration does not have: a
// misspelt code would otherwise never show.
func checkTips(t *PublicTips, cat *riskmap.Catalog) error {
	for g := range t.Grades {
		if !slices.Contains(riskmap.Grades, g) {
			return fmt.Errorf("public_tips.grades：没有等级 %q（应为 red、orange、yellow 或 blue）", g)
		}
	}
	for code := range t.Categories {
		if _, ok := cat.Category(code); !ok {
			return fmt.Errorf("public_tips.categories：没有行业领域 %q", code)
		}
	}
	return nil
}

func checkRule(r *RegionRule) error {
	if r == nil {
		return fmt.Errorf("缺少 region_rule（区域等级规则）")
	}
	switch r.Method {
	case "highest":
		return nil
	case "weighted_index":
		if r.Per != "km2" && r.Per != "10k_people" {
			return fmt.Errorf("region_rule.per 应为 km2（每平方千米）或 10k_people（每万人）")
		}
		for _, g := range riskmap.Grades {
			if w, ok := r.Weights[g]; !ok || w < 0 {
				return fmt.Errorf("region_rule.weights.%s 应为不小于 0 的数", g)
			}
		}
	case "count":
	default:
		return fmt.Errorf("region_rule.method 应为 weighted_index（加权指数）、highest（最高等级）或 count（计数）")
	}
	for _, g := range riskmap.Grades[:3] {
		if _, ok := r.Thresholds[g]; !ok {
			return fmt.Errorf("method 为 %[2]s 时须有 region_rule.thresholds.%[1]s", g, r.Method)
		}
	}
	return nil
}
