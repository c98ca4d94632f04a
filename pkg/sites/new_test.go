package sites_test

import (
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/sites"
)

// TestNew: the service of the demo city locates a site in its finest region, names it from
// the street down and knows the city's bound, 20 km beyond its regions.
func TestNew(t *testing.T) {
	regions, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	svc := sites.New(nil, config.Default().Analysis, regions)
	code := svc.Locate(orb.Point{102.9292, 24.6759})
	if !strings.HasPrefix(code, "530481001") || len(code) <= 12 {
		t.Fatalf("finest region: %q", code)
	}
	name := svc.Name(code)
	if !strings.HasSuffix(name, "网格") || !strings.Contains(name, "街道") || strings.Contains(name, "澄江市") {
		t.Fatalf("region name %q", name)
	}
	if !svc.Bound.Contains(orb.Point{102.9292, 24.6759}) || svc.Bound.Contains(orb.Point{102.0, 24.6759}) {
		t.Fatalf("city bound %v", svc.Bound)
	}
}
