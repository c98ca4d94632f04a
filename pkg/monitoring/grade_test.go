package monitoring_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"riskmap/pkg/config"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// dynamicGrades is the dynamic_grades section the integrator adds to default.json: the
// rules in force today plus an active orange alarm raising to orange and a red one to red.
const dynamicGrades = `{"dynamic_grades": {"rules": [
  {"source": "hazard", "level": "major", "raise_to": "red"},
  {"source": "conflict", "level": "school", "grades": ["orange"], "raise_to": "red"},
  {"source": "conflict", "level": "kindergarten", "grades": ["orange"], "raise_to": "red"},
  {"source": "conflict", "level": "hospital", "grades": ["orange"], "raise_to": "red"},
  {"source": "alarm", "level": "orange", "raise_to": "orange"},
  {"source": "alarm", "level": "red", "raise_to": "red"}
]}}`

// An active orange or red alarm raises its unit's grade through the one dynamic-grade
// mechanism (grading.Grader.Raise), the explanation names the alarm, and closing it
// restores the grade.
func TestAlarmRaisesTheGrade(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(p, []byte(dynamicGrades), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		level    monitoring.Level
		status   monitoring.Status
		inherent riskmap.Grade
		want     riskmap.Grade
	}{
		{"RedRaisesBlueToRed", monitoring.LevelRed, monitoring.StatusActive, riskmap.GradeBlue, riskmap.GradeRed},
		{"OrangeRaisesYellowToOrange", monitoring.LevelOrange, monitoring.StatusDisposed, riskmap.GradeYellow, riskmap.GradeOrange},
		{"OrangeLeavesRed", monitoring.LevelOrange, monitoring.StatusActive, riskmap.GradeRed, riskmap.GradeRed},
		{"YellowRaisesNothing", monitoring.LevelYellow, monitoring.StatusActive, riskmap.GradeBlue, riskmap.GradeBlue},
		{"ClosedRestores", monitoring.LevelRed, monitoring.StatusClosed, riskmap.GradeBlue, riskmap.GradeBlue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &monitoring.Alarm{Code: "BJ-7-20261206080000", Level: tc.level, Status: tc.status, OpenedAt: opened}
			g, why := c.Grader.Raise(tc.inherent, monitoring.Conditions([]*monitoring.Alarm{a}))
			if g != tc.want {
				t.Fatalf("grade %s, want %s", g, tc.want)
			}
			if g != tc.inherent && !strings.Contains(why, "BJ-7-20261206080000") {
				t.Fatalf("the explanation %q does not name the alarm", why)
			}
		})
	}
}
