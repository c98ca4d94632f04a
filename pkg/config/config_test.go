package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"riskmap/pkg/config"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

func TestDefaultTipsCoverEveryCategoryAndGrade(t *testing.T) {
	c := config.Default()
	for _, g := range riskmap.Grades {
		if c.PublicTips.Grades[g] == "" {
			t.Errorf("no plain sentence for grade %s", g)
		}
	}
	for _, cat := range c.Catalog.Categories {
		if c.PublicTips.Categories[cat.Code] == "" {
			t.Errorf("no 防范提示 for category %s", cat.Code)
		}
	}
	if c.PublicTips.Default == "" || c.BasemapPath != "" {
		t.Fatalf("defaults: %+v %q", c.PublicTips.Default, c.BasemapPath)
	}
}

func load(t *testing.T, body string) (*config.Config, error) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "c.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return config.Load(p)
}

// A config file's public_tips change, add or remove single tips; the rest stay.
func TestTipsMergeIntoTheDefaults(t *testing.T) {
	def := config.Default().PublicTips
	c, err := load(t, `{"public_tips": {"categories": {"hazardous_chemicals": "本地的提示。", "fireworks": ""}, "grades": {"red": "红色：本地说法。"}},
		"basemap": {"mbtiles": "tiles/city.mbtiles"}}`)
	if err != nil {
		t.Fatal(err)
	}
	tips := c.PublicTips
	if tips.Categories["hazardous_chemicals"] != "本地的提示。" || tips.Grades["red"] != "红色：本地说法。" {
		t.Fatalf("overrides lost: %+v", tips)
	}
	if _, ok := tips.Categories["fireworks"]; ok {
		t.Fatal("an empty tip removes the default")
	}
	if tips.Categories["roads"] != def.Categories["roads"] || tips.Grades["blue"] != def.Grades["blue"] || tips.Default != def.Default {
		t.Fatal("the tips a file leaves out keep their defaults")
	}
	if !filepath.IsAbs(c.BasemapPath) || !strings.HasSuffix(c.BasemapPath, filepath.Join("tiles", "city.mbtiles")) {
		t.Fatalf("basemap path %q is not taken from the config file's directory", c.BasemapPath)
	}
}

func TestTipsForUnknownCodesAreRefused(t *testing.T) {
	for _, body := range []string{`{"public_tips": {"categories": {"no_such": "x"}}}`, `{"public_tips": {"grades": {"purple": "x"}}}`} {
		if _, err := load(t, body); err == nil || !strings.Contains(err.Error(), "public_tips") {
			t.Errorf("%s: %v", body, err)
		}
	}
}

// The default dynamic rule makes a unit with an open major hidden danger red; a config file
// may replace the rules, and a wrong rule is refused with its place named.
func TestDynamicGrades(t *testing.T) {
	major := []riskmap.Condition{{Source: riskmap.ConditionHazard, Ref: "YH-2026-000001", Level: "major"}}
	if g, _ := config.Default().Grader.Raise(riskmap.GradeBlue, major); g != riskmap.GradeRed {
		t.Fatalf("default rule: blue with an open major hidden danger is %s, want red", g)
	}
	c, err := load(t, `{"dynamic_grades": {"rules": [{"source": "hazard", "raise_by": 1}]}}`)
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := c.Grader.Raise(riskmap.GradeBlue, major); g != riskmap.GradeYellow {
		t.Fatalf("raise_by 1: blue becomes %s, want yellow", g)
	}
	for _, body := range []string{
		`{"dynamic_grades": {"rules": [{"source": "weather", "raise_to": "red"}]}}`,
		`{"dynamic_grades": {"rules": [{"source": "hazard", "level": "huge", "raise_to": "red"}]}}`,
		`{"dynamic_grades": {"rules": [{"source": "hazard", "raise_to": "purple"}]}}`,
		`{"dynamic_grades": {"rules": [{"source": "hazard", "raise_to": "red", "raise_by": 1}]}}`,
		`{"dynamic_grades": {"rules": [{"source": "hazard", "raise_by": 0}]}}`,
	} {
		if _, err := load(t, body); err == nil || !strings.Contains(err.Error(), "dynamic_grades.rules[0]") {
			t.Errorf("%s: %v", body, err)
		}
	}
}

// The built-in monitoring taxonomy is monitoring.Default, and an active orange or red alarm
// raises a unit to its colour under the built-in dynamic rules (issue 17).
func TestDefaultMonitoring(t *testing.T) {
	c := config.Default()
	if !reflect.DeepEqual(c.Monitoring, monitoring.Default()) {
		t.Errorf("default.json's monitoring section differs from monitoring.Default():\n%+v\n%+v", c.Monitoring, monitoring.Default())
	}
	for _, tc := range []struct {
		level string
		want  riskmap.Grade
	}{{"orange", riskmap.GradeOrange}, {"red", riskmap.GradeRed}, {"yellow", riskmap.GradeBlue}} {
		got, _ := c.Grader.Raise(riskmap.GradeBlue, []riskmap.Condition{{Source: riskmap.ConditionAlarm, Ref: "BJ-1", Level: tc.level}})
		if got != tc.want {
			t.Errorf("a blue unit with an active %s alarm is %s, want %s", tc.level, got, tc.want)
		}
	}
}
