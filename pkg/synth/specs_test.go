package synth

import (
	"testing"

	"riskmap/pkg/config"
)

// TestSpecs: the built-in words match the default catalog, so no category of it falls back to
// generic names and no accident type is silently dropped.
func TestSpecs(t *testing.T) {
	cat := config.Default().Catalog
	have := map[string]bool{}
	for i := range specs {
		s := &specs[i]
		t.Run(s.code, func(t *testing.T) {
			if have[s.code] {
				t.Fatal("spec listed twice")
			}
			have[s.code] = true
			c, ok := cat.Category(s.code)
			if !ok {
				t.Fatal("not a category of the default catalog")
			}
			if families[s.family] == nil {
				t.Errorf("unknown family %q", s.family)
			}
			for _, a := range s.acc {
				if _, ok := cat.AccidentType(a); !ok {
					t.Errorf("unknown accident type %q", a)
				}
			}
			if s.radius[0] <= 0 || s.radius[1] < s.radius[0] || len(s.factors) == 0 {
				t.Errorf("radius %v, %d factors", s.radius, len(s.factors))
			}
			for k, list := range [3][]tmpl{s.points, s.lines, s.areas} {
				if (s.weight[k] > 0) != (len(list) > 0) {
					t.Errorf("kind %d: weight %v but %d templates", k, s.weight[k], len(list))
				}
				for _, tp := range list {
					if _, err := compileTemplate(tp.name); err != nil {
						t.Error(err)
					}
					if _, err := compileTemplate(tp.unit); err != nil {
						t.Error(err)
					}
					if tp.sub != "" && len(c.SubCategories) > 0 && !contains(c.SubCategories, tp.sub) {
						t.Errorf("sub-category %q is not one the catalog suggests", tp.sub)
					}
				}
			}
			if s.weight[kLine] > 0 && !(s.lineLen[0] > 0 && s.lineLen[1] >= s.lineLen[0]) {
				t.Errorf("lines without a length range")
			}
			if s.weight[kArea] > 0 && !(s.areaR[0] > 0 && s.areaR[1] >= s.areaR[0]) {
				t.Errorf("areas without a radius range")
			}
		})
	}
	for _, c := range cat.Categories {
		if !have[c.Code] {
			t.Errorf("category %s has no spec", c.Code)
		}
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

func TestCompileTemplate(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"OK", "{city}{brand}化工有限公司", true},
		{"OKLiteral", "澄江客运站", true},
		{"ErrUnknownSlot", "{nope}站", false},
		{"ErrUnclosed", "{city站", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compileTemplate(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("error %v", err)
			}
		})
	}
}
