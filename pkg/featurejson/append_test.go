package featurejson_test

import (
	"bytes"
	"encoding/json"
	"iter"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/synth"
)

func sameAsMarshal(t *testing.T, u *riskmap.Unit) {
	t.Helper()
	want, err := json.Marshal(featurejson.NewFeature(u))
	if err != nil {
		t.Fatal(err)
	}
	if got := featurejson.AppendFeature(nil, u); !bytes.Equal(got, want) {
		t.Fatalf("AppendFeature differs from json.Marshal:\n got %s\nwant %s", got, want)
	}
	wantPub, _ := json.Marshal(featurejson.NewPublicFeature(u, "类<别>", "社区&"))
	if got := featurejson.AppendPublicFeature(nil, u, "类<别>", "社区&"); !bytes.Equal(got, wantPub) {
		t.Fatalf("AppendPublicFeature differs:\n got %s\nwant %s", got, wantPub)
	}
}

// synthUnits are n graded synthetic units of the demo city (seed seed).
func synthUnits(t *testing.T, seed int64, n int) iter.Seq[*riskmap.Unit] {
	t.Helper()
	cfg := config.Default()
	regions, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := synth.New(regions, cfg.Catalog, cfg.Grader)
	if err != nil {
		t.Fatal(err)
	}
	return func(yield func(*riskmap.Unit) bool) {
		for u := range gen.Units(seed, n) {
			if err := cfg.Grader.Grade(u); err != nil {
				t.Fatal(err)
			}
			if !yield(u) {
				return
			}
		}
	}
}

func TestAppendFeatureMatchesMarshal(t *testing.T) {
	i := int64(0)
	for u := range synthUnits(t, 5, 3000) {
		i++
		u.ID, u.Version = i, i%7+1
		u.CreatedAt = time.Date(2026, 1, 2, 3, 4, 5, int(i)*1000, time.UTC)
		u.UpdatedAt = u.CreatedAt.Add(time.Duration(i) * time.Second)
		if i%5 == 0 {
			u.DirectMajorReason = "直接判定 <script>&\"\\\n\t\u2028"
		}
		sameAsMarshal(t, u)
	}
	odd := &riskmap.Unit{ID: 1, Name: "bad \xff utf8 \x01 \u2029", Geometry: orb.MultiPolygon{{{{1e-7, 1e21}, {0, -0.5}, {3, 4}, {1e-7, 1e21}}}},
		Assessment: riskmap.Assessment{Method: "LEC", L: 0.1, E: 0.5, C: 100}, RiskValue: 5.000000000000001,
		Explanation: riskmap.Explanation{Inputs: map[string]float64{"l": 0.1, "e": 0.5, "c": 100}}}
	sameAsMarshal(t, odd)
	for _, g := range []orb.Geometry{orb.MultiPoint{{1, 2}, {3, 4}}, orb.MultiLineString{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}},
		orb.LineString{{-180, -90}, {180, 90}}, orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}} {
		u := *odd
		u.Geometry = g
		sameAsMarshal(t, &u)
	}
}

func BenchmarkAppendFeature(b *testing.B) {
	u, _ := featurejson.DecodeUnit([]byte(good))
	config.Default().Grader.Grade(u)
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	for i := 0; i < b.N; i++ {
		buf = featurejson.AppendFeature(buf[:0], u)
	}
}

func BenchmarkMarshalFeature(b *testing.B) {
	u, _ := featurejson.DecodeUnit([]byte(good))
	config.Default().Grader.Grade(u)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		json.Marshal(featurejson.NewFeature(u))
	}
}
