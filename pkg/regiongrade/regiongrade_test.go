package regiongrade

import (
	"regexp"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/riskmap"
)

// englishWord finds a word of three or more Latin letters (km² is a unit, not a word).
var englishWord = regexp.MustCompile(`[A-Za-z]{3,}`)

func TestRules(t *testing.T) {
	// A 0.01° square near 澄江 is about 1.13 km².
	sq := orb.MultiPolygon{{{{102.9, 24.6}, {102.91, 24.6}, {102.91, 24.61}, {102.9, 24.61}, {102.9, 24.6}}}}
	regions := Prepare([]*riskmap.Region{
		{Code: "530481001", Name: "凤麓街道", Level: riskmap.LevelStreet, Population: 20000, Geometry: sq},
		{Code: "530481002", Name: "龙街街道", Level: riskmap.LevelStreet, Population: 20000, Geometry: sq},
	})
	counts := map[string][4]int{
		"530481001001":    {1, 0, 2, 3}, // one red unit
		"530481001002001": {0, 2, 0, 0}, // a grid code under the same street
		"530481002001":    {0, 0, 1, 4},
	}
	def := config.Default().RegionRule
	cases := []struct {
		name  string
		rule  config.RegionRule
		want  [2]riskmap.Grade
		words string
	}{
		{"WeightedIndexDefault", def, [2]riskmap.Grade{riskmap.GradeOrange, riskmap.GradeYellow}, "加权指数"},
		{"Highest", config.RegionRule{Method: "highest"}, [2]riskmap.Grade{riskmap.GradeRed, riskmap.GradeYellow}, "最高单元等级"},
		{"Count", config.RegionRule{Method: "count", Thresholds: map[riskmap.Grade]float64{"red": 2, "orange": 3, "yellow": 5}},
			[2]riskmap.Grade{riskmap.GradeOrange, riskmap.GradeBlue}, "数量规则"},
		{"PerPeople", config.RegionRule{Method: "weighted_index", Per: "10k_people", Weights: def.Weights,
			Thresholds: map[riskmap.Grade]float64{"red": 20, "orange": 10, "yellow": 3}}, [2]riskmap.Grade{riskmap.GradeOrange, riskmap.GradeYellow}, "万人"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Compute(regions, counts, tc.rule)
			if tc.name == "Count" && !strings.Contains(got[0].Explanation, "按数量规则（较大及以上单元不少于 3 个）") {
				t.Errorf("the count rule in words: %s", got[0].Explanation)
			}
			if got[0].Total != 8 || got[0].Counts.Red != 1 || got[0].Counts.Orange != 2 {
				t.Fatalf("凤麓街道 sums its communities and grids: %+v", got[0].Counts)
			}
			for i := range got {
				if got[i].Grade != tc.want[i] {
					t.Fatalf("%s: want %s, got %s (%s)", got[i].Name, tc.want[i], got[i].Grade, got[i].Explanation)
				}
				if !strings.Contains(got[i].Explanation, tc.words) || got[i].GradeLabel != got[i].Grade.Label() {
					t.Fatalf("the explanation must name the rule (%s): %s", tc.words, got[i].Explanation)
				}
				// Chinese throughout: full-width punctuation, no English words.
				if strings.ContainsAny(got[i].Explanation, ";,:") || englishWord.MatchString(got[i].Explanation) {
					t.Errorf("the explanation is not plain Chinese: %s", got[i].Explanation)
				}
			}
		})
	}
}
