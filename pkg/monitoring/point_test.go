package monitoring

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

func gasPoint() *Point {
	return &Point{ID: 1, Code: "JC-001", UnitID: 10, Kind: "gas", UnitOfMeasure: "%LEL", Location: orb.Point{102.7, 25.0}, IntervalS: 60,
		Thresholds: Thresholds{Upper: &Bounds{Yellow: f(25), Red: f(50)}}}
}

// fields are the fields of err's problems.
func fields(err error) []string {
	var out []string
	for _, fe := range riskmap.ErrorFields(err) {
		out = append(out, fe.Field)
	}
	return out
}

func TestPointValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(p *Point)
		field string // "" for OK
	}{
		{"OK", func(p *Point) {}, ""},
		{"OKLowerOnly", func(p *Point) { p.Thresholds = Thresholds{Lower: &Bounds{Blue: f(8), Red: f(2)}} }, ""},
		{"OKBothSides", func(p *Point) { p.Thresholds.Lower = &Bounds{Red: f(1)} }, ""},
		{"ErrCode", func(p *Point) { p.Code = "JC 001" }, "code"},
		{"ErrCodeEmpty", func(p *Point) { p.Code = "" }, "code"},
		{"ErrUnit", func(p *Point) { p.UnitID = 0 }, "unit_id"},
		{"ErrKind", func(p *Point) { p.Kind = " " }, "kind"},
		{"ErrUnitOfMeasure", func(p *Point) { p.UnitOfMeasure = "" }, "unit_of_measure"},
		{"ErrLocation", func(p *Point) { p.Location = orb.Point{200, 25} }, "location"},
		{"ErrLocationNaN", func(p *Point) { p.Location = orb.Point{math.NaN(), 25} }, "location"},
		{"ErrLocationMissing", func(p *Point) { p.Location = orb.Point{} }, "location"},
		{"ErrInterval", func(p *Point) { p.IntervalS = 0 }, "interval_s"},
		{"ErrNoThresholds", func(p *Point) { p.Thresholds = Thresholds{Upper: &Bounds{}} }, "thresholds"},
		{"ErrUpperOrder", func(p *Point) { p.Thresholds.Upper.Orange = f(60) }, "thresholds.upper.red"},
		{"ErrLowerOrder", func(p *Point) { p.Thresholds = Thresholds{Lower: &Bounds{Yellow: f(5), Orange: f(6)}} }, "thresholds.lower.orange"},
		{"ErrOverlap", func(p *Point) { p.Thresholds.Lower = &Bounds{Blue: f(30)} }, "thresholds"},
		{"ErrNaN", func(p *Point) { p.Thresholds.Upper.Blue = f(math.NaN()) }, "thresholds.upper.blue"},
		{"ErrInf", func(p *Point) { p.Thresholds.Upper.Red = f(math.Inf(1)) }, "thresholds.upper.red"},
		{"ErrHuge", func(p *Point) { p.Thresholds.Upper.Red = f(1e308) }, "thresholds.upper.red"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := gasPoint()
			tc.edit(p)
			err := p.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if riskmap.ErrorCode(err) != riskmap.EINVALID || !contains(fields(err), tc.field) {
				t.Fatalf("want a problem with %s, got %v", tc.field, err)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestCheckPoint(t *testing.T) {
	cfg := Default()
	for _, tc := range []struct {
		name  string
		edit  func(p *Point)
		field string
	}{
		{"OK", func(p *Point) {}, ""},
		{"ErrUnknownKind", func(p *Point) { p.Kind = "radiation" }, "kind"},
		{"ErrUnitOfMeasure", func(p *Point) { p.UnitOfMeasure = "ppm" }, "unit_of_measure"},
		{"ErrOutsideRange", func(p *Point) { p.Thresholds.Upper.Red = f(150) }, "thresholds.upper.red"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := gasPoint()
			tc.edit(p)
			err := cfg.CheckPoint(p)
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !contains(fields(err), tc.field) {
				t.Fatalf("want a problem with %s, got %v", tc.field, err)
			}
		})
	}
	t.Run("PrepareTakesTheKindsDefaults", func(t *testing.T) {
		p := &Point{Code: "JC-9", UnitID: 3, Kind: "gas", Location: orb.Point{102, 25}}
		cfg.Prepare(p)
		if p.UnitOfMeasure != "%LEL" || p.IntervalS != 60 || *p.Thresholds.Upper.Yellow != 25 || *p.Thresholds.Upper.Red != 50 {
			t.Fatalf("%+v", p)
		}
		*p.Thresholds.Upper.Red = 40 // a copy: the kind keeps its default
		if k, _ := cfg.Kind("gas"); *k.Thresholds.Upper.Red != 50 {
			t.Fatal("Prepare shares the kind's thresholds")
		}
		if err := cfg.CheckPoint(p); err != nil {
			t.Fatal(err)
		}
	})
}

func TestConfigCheck(t *testing.T) {
	def := Default()
	if err := def.Check(); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(def)
	var back Config
	if err := json.Unmarshal(b, &back); err != nil || back.Check() != nil {
		t.Fatalf("the default does not survive JSON: %v %v", err, back.Check())
	}
	gas, _ := def.Kind("gas")
	if *gas.Thresholds.Upper.Yellow != 25 || *gas.Thresholds.Upper.Red != 50 || gas.Unit != "%LEL" {
		t.Fatal("combustible gas should warn at 25 %LEL and alarm at 50 %LEL (GB/T 50493-2019)")
	}
	for _, tc := range []struct {
		name, want string
		edit       func(c *Config)
	}{
		{"ErrNoKinds", "monitoring.kinds", func(c *Config) { c.Kinds = nil }},
		{"ErrDuplicateCode", "monitoring.kinds[1].code", func(c *Config) { c.Kinds[1].Code = c.Kinds[0].Code }},
		{"ErrCode", "monitoring.kinds[0].code", func(c *Config) { c.Kinds[0].Code = "Gas" }},
		{"ErrLabel", "monitoring.kinds[0].label", func(c *Config) { c.Kinds[0].Label = "" }},
		{"ErrRange", "monitoring.kinds[0]", func(c *Config) { c.Kinds[0].Max = c.Kinds[0].Min }},
		{"ErrRangeNaN", "monitoring.kinds[0]", func(c *Config) { c.Kinds[0].Max = math.NaN() }},
		{"ErrInterval", "monitoring.kinds[0].interval_s", func(c *Config) { c.Kinds[0].IntervalS = 0 }},
		{"ErrDeadbandFraction", "monitoring.kinds[0].deadband_fraction", func(c *Config) { c.Kinds[0].DeadbandFraction = 0.5 }},
		{"ErrConsecutive", "monitoring.kinds[0].consecutive", func(c *Config) { c.Kinds[0].Consecutive = 0 }},
		{"ErrThresholdOrder", "monitoring.kinds[0].thresholds.upper.red", func(c *Config) { c.Kinds[0].Thresholds.Upper.Red = f(20) }},
		{"ErrThresholdRange", "monitoring.kinds[0].thresholds.upper.red", func(c *Config) { c.Kinds[0].Thresholds.Upper.Red = f(101) }},
		{"ErrOfflineAfter", "monitoring.offline_after", func(c *Config) { c.OfflineAfter = 1 }},
		{"ErrOfflineLevel", "monitoring.offline_level", func(c *Config) { c.OfflineLevel = "purple" }},
		{"ErrEscalationKind", "monitoring.escalations[0].kinds", func(c *Config) { c.Escalations[0].Kinds = []string{"weather"} }},
		{"ErrEscalationTwice", "monitoring.escalations[1].kinds", func(c *Config) {
			c.Escalations = append(c.Escalations, Escalation{Kinds: []string{"displacement"}, MinPoints: 2})
		}},
		{"ErrMinPoints", "monitoring.escalations[0].min_points", func(c *Config) { c.Escalations[0].MinPoints = 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.edit(&c)
			err := c.Check()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error naming %s, got %v", tc.want, err)
			}
		})
	}
}
