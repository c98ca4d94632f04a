package featurejson_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

const good = `{"type":"Feature","geometry":{"type":"Point","coordinates":[102.91,24.67]},
"properties":{"code":"CJ-001","name":"凤麓加油站","category":"hazardous_chemicals","region_code":"530481001001",
"accident_types":["fire","vessel_explosion"],"major_hazard_source":{"level":3},
"assessment":{"method":"LS","likelihood":4,"severity":5},"direct_major_reason":null,
"controls":{"engineering":["防爆电气"],"management":[],"training":[],"ppe":[],"emergency":["应急预案"]},
"influence_radius_m":300,"next_review_due":"2026-09-01","assessed_at":"2026-03-01T08:00:00+08:00",
"grade":"blue","risk_value":1,"version":7}}`

func TestDecodeUnitOK(t *testing.T) {
	u, err := featurejson.DecodeUnit([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if u.Code != "CJ-001" || u.Name != "凤麓加油站" || u.MajorHazardSource.Level != 3 || len(u.AccidentTypes) != 2 ||
		u.Assessment != (riskmap.Assessment{Method: "LS", Likelihood: 4, Severity: 5}) || u.Controls.Emergency[0] != "应急预案" ||
		u.InfluenceRadiusM != 300 || u.NextReviewDue.Format("2006-01-02") != "2026-09-01" || u.AssessedAt.Hour() != 0 {
		t.Fatalf("decoded wrong: %+v", u)
	}
	if u.Grade != "" || u.RiskValue != 0 || u.Version != 0 {
		t.Fatalf("computed properties from the client must be ignored, got grade %q value %v version %d", u.Grade, u.RiskValue, u.Version)
	}
	if err := u.Validate(config.Default().Catalog); err != nil {
		t.Fatalf("the decoded unit must be valid: %v", err)
	}
}

func TestDecodeUnitErrors(t *testing.T) {
	withProps := func(props string) string {
		return `{"type":"Feature","geometry":{"type":"Point","coordinates":[102.9,24.6]},"properties":` + props + `}`
	}
	withGeom := func(g string) string {
		return `{"type":"Feature","geometry":` + g + `,"properties":{"name":"x"}}`
	}
	cases := []struct {
		name, body, field, msg string
	}{
		{"ErrNotJSON", `{"type":`, "", "不是 GeoJSON Feature"},
		{"ErrArray", `[1,2]`, "", "不是 GeoJSON Feature"},
		{"ErrTrailing", good + `{}`, "", "不是 GeoJSON Feature"},
		{"ErrType", `{"type":"FeatureCollection","geometry":null,"properties":{}}`, "type", "Feature"},
		{"ErrNoGeometry", `{"type":"Feature","properties":{}}`, "geometry", "必填"},
		{"ErrNoProperties", `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}`, "properties", "必填"},
		{"ErrGeometryCollection", withGeom(`{"type":"GeometryCollection","geometries":[]}`), "geometry", "不支持"},
		{"ErrPointWrongDepth", withGeom(`{"type":"Point","coordinates":[[1,2]]}`), "geometry", "经度和纬度"},
		{"ErrPositionOneNumber", withGeom(`{"type":"LineString","coordinates":[[1],[2,3]]}`), "geometry", "经度和纬度"},
		{"ErrPositionStrings", withGeom(`{"type":"Point","coordinates":["1","2"]}`), "geometry", "坐标应为数值"},
		{"ErrHugeCoordinate", withGeom(`{"type":"Point","coordinates":[1e308,24]}`), "geometry", "经度"},
		{"ErrOverflowCoordinate", withGeom(`{"type":"Point","coordinates":[1e999,24]}`), "geometry", ""},
		{"ErrLatitude", withGeom(`{"type":"Point","coordinates":[102,95]}`), "geometry", "纬度"},
		{"ErrUnclosedRing", withGeom(`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`), "geometry", "未闭合"},
		{"ErrShortRing", withGeom(`{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`), "geometry", "至少需要 4 个坐标"},
		{"ErrBowtie", withGeom(`{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,1],[0,0]]]}`), "geometry", "自相交"},
		{"ErrEmptyLine", withGeom(`{"type":"LineString","coordinates":[]}`), "geometry", "为空"},
		{"ErrNoCoordinates", withGeom(`{"type":"Point"}`), "geometry", "coordinates"},
		{"ErrUnknownProperty", withProps(`{"nmae":"x"}`), "nmae", "不是风险单元的属性"},
		{"ErrNameNumber", withProps(`{"name":5}`), "name", "应为文本（字符串）"},
		{"ErrAssessmentMethod", withProps(`{"assessment":{"method":"XYZ"}}`), "assessment", "LS"},
		{"ErrAssessmentMissingInput", withProps(`{"assessment":{"method":"LEC","l":3,"e":6}}`), "assessment", `"c"`},
		{"ErrAssessmentWrongInput", withProps(`{"assessment":{"method":"LS","likelihood":3,"severity":2,"c":7}}`), "assessment", "不是 LS 法的输入"},
		{"ErrAssessmentFraction", withProps(`{"assessment":{"method":"LS","likelihood":2.5,"severity":2}}`), "assessment", "1 至 5 的整数"},
		{"ErrMajorHazard", withProps(`{"major_hazard_source":{"grade":2}}`), "major_hazard_source", "level"},
		{"ErrControlsShape", withProps(`{"controls":{"engineering":"one"}}`), "controls", "文本列表"},
		{"ErrDate", withProps(`{"next_review_due":"next year"}`), "next_review_due", "日期"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := featurejson.DecodeUnit([]byte(tc.body))
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("want EINVALID, got %v", err)
			}
			if tc.field != "" {
				fs := riskmap.ErrorFields(err)
				found := false
				for _, f := range fs {
					if f.Field == tc.field && strings.Contains(f.Message, tc.msg) {
						found = true
					}
				}
				if !found {
					t.Fatalf("want a problem with %s mentioning %q, got %+v", tc.field, tc.msg, fs)
				}
			} else if !strings.Contains(riskmap.ErrorMessage(err), tc.msg) {
				t.Fatalf("want message with %q, got %q", tc.msg, riskmap.ErrorMessage(err))
			}
			if strings.Contains(err.Error(), "json:") || strings.Contains(err.Error(), "riskmap.") {
				t.Fatalf("messages must not leak Go internals: %v", err)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	u, err := featurejson.DecodeUnit([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	u.ID, u.Version, u.Grade = 42, 3, riskmap.GradeRed
	b, err := json.Marshal(featurejson.NewFeature(u))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	props := m["properties"].(map[string]any)
	if m["id"].(float64) != 42 || props["grade"] != "red" || props["grade_label"] != "重大风险" || props["direct_major_reason"] != nil {
		t.Fatalf("encoded feature: %s", b)
	}
	if props["next_review_due"] != "2026-09-01" {
		t.Fatalf("dates are written as YYYY-MM-DD, got %v", props["next_review_due"])
	}
	back, err := featurejson.DecodeUnit(b)
	if err != nil {
		t.Fatalf("a Feature the server wrote must be accepted back (GET, edit, PUT): %v", err)
	}
	if back.Name != u.Name || !orb.Equal(back.Geometry, u.Geometry) || back.Assessment != u.Assessment {
		t.Fatalf("round trip lost data: %+v", back)
	}
}

func FuzzDecodeUnit(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]},"properties":{}}`))
	f.Add([]byte(`{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]},"properties":{"assessment":{"method":"LEC","l":1,"e":1,"c":1}}}`))
	f.Add([]byte(`{"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,0,0],[1e400,1]]},"properties":null}`))
	cat := config.Default().Catalog
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := featurejson.DecodeUnit(data)
		if err != nil {
			if riskmap.ErrorCode(err) == riskmap.EINTERNAL {
				t.Fatalf("a client's bad input must never be an internal error: %v", err)
			}
			return
		}
		if err := riskmap.ValidateGeometry(u.Geometry); err != nil {
			t.Fatalf("DecodeUnit accepted an invalid geometry: %v", err)
		}
		if u.Validate(cat) != nil {
			return
		}
		b, err := json.Marshal(featurejson.NewFeature(u))
		if err != nil {
			t.Fatalf("an accepted unit must encode: %v", err)
		}
		if _, err := featurejson.DecodeUnit(b); err != nil {
			t.Fatalf("an encoded unit must decode again: %v\n%s", err, b)
		}
	})
}

func FuzzDecodeGeometry(f *testing.F) {
	for _, s := range []string{`{"type":"Point","coordinates":[1,2]}`, `{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[0,2],[0,0]],[[0.5,0.5],[1,0.5],[1,1],[0.5,0.5]]]}`,
		`{"type":"MultiLineString","coordinates":[[[0,0],[1,1]],[[2,2],[2,2]]]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := featurejson.DecodeGeometry(data)
		if err == nil && riskmap.ValidateGeometry(g) != nil {
			t.Fatal("accepted an invalid geometry")
		}
	})
}

func TestDecodeUnits(t *testing.T) {
	fc := `{"type":"FeatureCollection","name":"demo","features":[` + good + `,` + good + `]}`
	n := 0
	for u, err := range featurejson.DecodeUnits(strings.NewReader(fc)) {
		if err != nil {
			t.Fatal(err)
		}
		if u.Code != "CJ-001" {
			t.Fatalf("unit %d: %+v", n, u)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("want 2 units, got %d", n)
	}
	bad := `{"type":"FeatureCollection","features":[` + good + `,{"type":"Feature","geometry":null,"properties":{}}]}`
	n = 0
	var last error
	for _, err := range featurejson.DecodeUnits(strings.NewReader(bad)) {
		n++
		last = err
	}
	if n != 2 || last == nil || !strings.HasPrefix(riskmap.ErrorMessage(last), "第 2 个要素：") {
		t.Fatalf("a bad feature must be named by its position, got %d items, %v", n, last)
	}
	for _, s := range []string{`[]`, `{"type":"Feature"}`, `{"type":"FeatureCollection","features":{}}`, `{"features":[1]}`} {
		for _, err := range featurejson.DecodeUnits(strings.NewReader(s)) {
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("%s: want EINVALID, got %v", s, err)
			}
		}
	}
}

// TestDecodeTooManyPositions: a geometry of more than riskmap.MaxVertices positions is
// refused, with the count, before its coordinates are decoded.
func TestDecodeTooManyPositions(t *testing.T) {
	line := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"type":"Feature","geometry":{"type":"LineString","coordinates":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "[102.%06d,24.6]", i)
		}
		b.WriteString(`]},"properties":{}}`)
		return b.String()
	}
	if _, err := featurejson.DecodeUnit([]byte(line(riskmap.MaxVertices))); err != nil {
		t.Fatalf("%d positions are allowed: %v", riskmap.MaxVertices, err)
	}
	_, err := featurejson.DecodeUnit([]byte(line(riskmap.MaxVertices + 1)))
	fs := riskmap.ErrorFields(err)
	if riskmap.ErrorCode(err) != riskmap.EINVALID || len(fs) != 1 || fs[0].Field != "geometry" ||
		fs[0].Message != fmt.Sprintf("顶点过多（共 %d 个，上限 %d 个）", riskmap.MaxVertices+1, riskmap.MaxVertices) {
		t.Fatalf("want geometry: 顶点过多, got %v", err)
	}
	// Brackets inside strings are not positions; the strings are refused as they were.
	_, err = featurejson.DecodeGeometry([]byte(`{"type":"LineString","coordinates":[["[[[\"[",1],[2,3]]}`))
	if err == nil || !strings.Contains(err.Error(), "坐标应为数值") {
		t.Fatalf("want positions must be numbers, got %v", err)
	}
}

func TestDecodeUnitDeferBoundaries(t *testing.T) {
	bowtie := `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,1],[0,0]]]},"properties":{}}`
	if _, err := featurejson.DecodeUnit([]byte(bowtie)); err == nil {
		t.Fatal("DecodeUnit must check boundaries")
	}
	u, err := featurejson.DecodeUnitDeferBoundaries([]byte(bowtie))
	if err != nil {
		t.Fatalf("the boundaries are left to the caller: %v", err)
	}
	if riskmap.ValidateBoundaries(context.Background(), u.Geometry) == nil {
		t.Fatal("the bowtie crosses itself")
	}
	unclosed := `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,1]]]},"properties":{}}`
	if _, err := featurejson.DecodeUnitDeferBoundaries([]byte(unclosed)); err == nil {
		t.Fatal("the shape is still checked")
	}
}
