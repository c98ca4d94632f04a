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
	"reflect"

	"riskmap/pkg/grading"
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
	RegionRule     *RegionRule                      `json:"region_rule,omitempty"`
	CategoryGroups []riskmap.CategoryGroup          `json:"category_groups,omitempty"`
	Categories     []riskmap.Category               `json:"categories,omitempty"`
	AccidentTypes  []riskmap.AccidentType           `json:"accident_types,omitempty"`
	Publisher      *Publisher                       `json:"publisher,omitempty"`
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
	return c, nil
}

func build(over *File) (*Config, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(defaultJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
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
	return c, nil
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
