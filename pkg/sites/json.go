package sites

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

// TargetProperties are the properties of a protective target's Feature.
type TargetProperties struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	KindLabel  string    `json:"kind_label"`
	RegionCode string    `json:"region_code"`
	RegionName string    `json:"region_name"`
	Address    string    `json:"address"`
	People     int       `json:"people"`
	Version    int64     `json:"version"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ShelterProperties are the properties of a shelter's Feature; the public one has neither
// version nor updated_at.
type ShelterProperties struct {
	ID              int64      `json:"id"`
	Name            string     `json:"name"`
	Kind            string     `json:"kind"`
	KindLabel       string     `json:"kind_label"`
	RegionCode      string     `json:"region_code"`
	RegionName      string     `json:"region_name"`
	Address         string     `json:"address"`
	Capacity        int        `json:"capacity"`
	EffectiveAreaM2 float64    `json:"effective_area_m2"`
	ServiceRadiusM  float64    `json:"service_radius_m"`
	FootprintAreaM2 *float64   `json:"footprint_area_m2"`
	Version         *int64     `json:"version,omitempty"`
	UpdatedAt       *time.Time `json:"updated_at,omitempty"`
}

// Feature is a site as a GeoJSON Feature.
type Feature[P any] struct {
	Type       string            `json:"type"`
	ID         int64             `json:"id"`
	Geometry   *geojson.Geometry `json:"geometry"`
	Properties P                 `json:"properties"`
}

// TargetFeature is the Feature of a protective target.
func (s *Service) TargetFeature(t *riskmap.ProtectiveTarget) Feature[TargetProperties] {
	return Feature[TargetProperties]{Type: "Feature", ID: t.ID, Geometry: geojson.NewGeometry(t.Geometry),
		Properties: TargetProperties{ID: t.ID, Name: t.Name, Kind: t.Kind, KindLabel: riskmap.TargetKindLabel(t.Kind),
			RegionCode: t.RegionCode, RegionName: s.Name(t.RegionCode), Address: t.Address, People: t.People,
			Version: t.Version, UpdatedAt: t.UpdatedAt.UTC()}}
}

// ShelterFeature is the Feature of a shelter; the public one (public) has neither version
// nor updated_at.
func (s *Service) ShelterFeature(sh *riskmap.Shelter, public bool) Feature[ShelterProperties] {
	p := ShelterProperties{ID: sh.ID, Name: sh.Name, Kind: sh.Kind, KindLabel: riskmap.ShelterKindLabel(sh.Kind),
		RegionCode: sh.RegionCode, RegionName: s.Name(sh.RegionCode), Address: sh.Address, Capacity: sh.Capacity,
		EffectiveAreaM2: sh.EffectiveAreaM2, ServiceRadiusM: sh.ServiceRadiusM}
	if a, ok := FootprintM2(sh.Geometry); ok {
		a = math.Round(a*10) / 10
		p.FootprintAreaM2 = &a
	}
	if !public {
		v, at := sh.Version, sh.UpdatedAt.UTC()
		p.Version, p.UpdatedAt = &v, &at
	}
	return Feature[ShelterProperties]{Type: "Feature", ID: sh.ID, Geometry: geojson.NewGeometry(sh.Geometry), Properties: p}
}

// MaxFeatureBytes is the largest site Feature the decoders read.
const MaxFeatureBytes = 4 << 20

// readOnly are the properties the server computes; a Feature read, edited and sent back
// may carry them, and they are ignored.
var readOnly = map[string]bool{"id": true, "kind_label": true, "region_name": true, "version": true, "updated_at": true,
	"footprint_area_m2": true}

// DecodeTarget reads a protective target from a GeoJSON Feature: the JSON's shape, the
// types of the properties and the geometry, each problem under its field's name. It does
// not validate the target (Service does, with the city's bound).
func DecodeTarget(data []byte) (*riskmap.ProtectiveTarget, error) {
	t := &riskmap.ProtectiveTarget{}
	err := decodeFeature(data, &t.Geometry, map[string]func(json.RawMessage, *riskmap.Problems, string){
		"name":        text(&t.Name),
		"kind":        text(&t.Kind),
		"address":     text(&t.Address),
		"region_code": text(&t.RegionCode),
		"people":      integer(&t.People),
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// DecodeShelter reads a shelter from a GeoJSON Feature, as DecodeTarget.
func DecodeShelter(data []byte) (*riskmap.Shelter, error) {
	sh := &riskmap.Shelter{}
	err := decodeFeature(data, &sh.Geometry, map[string]func(json.RawMessage, *riskmap.Problems, string){
		"name":              text(&sh.Name),
		"kind":              text(&sh.Kind),
		"address":           text(&sh.Address),
		"region_code":       text(&sh.RegionCode),
		"capacity":          integer(&sh.Capacity),
		"effective_area_m2": number(&sh.EffectiveAreaM2),
		"service_radius_m":  number(&sh.ServiceRadiusM),
	})
	if err != nil {
		return nil, err
	}
	return sh, nil
}

// decodeFeature reads a Feature's geometry into g and each of its properties with the
// reader of its name; a property no reader takes is refused unless it is read-only.
func decodeFeature(data []byte, g *orb.Geometry, props map[string]func(json.RawMessage, *riskmap.Problems, string)) error {
	if len(data) > MaxFeatureBytes {
		return riskmap.Errorf(riskmap.ETOOLARGE, "GeoJSON Feature 超过 %d 字节", MaxFeatureBytes)
	}
	var f struct {
		Type       json.RawMessage `json:"type"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties json.RawMessage `json:"properties"`
	}
	d := json.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&f); err != nil {
		return riskmap.Errorf(riskmap.EINVALID, "请求体不是 GeoJSON Feature 对象：%s", jsonText(err))
	}
	if d.More() {
		return riskmap.Errorf(riskmap.EINVALID, "请求体在 GeoJSON Feature 之后还有内容")
	}
	var p riskmap.Problems
	var typ string
	if json.Unmarshal(f.Type, &typ) != nil || typ != "Feature" {
		p.Add("type", `应为 "Feature"`)
	}
	if isNull(f.Geometry) {
		p.Add("geometry", "必填（GeoJSON 的 Point、Polygon 或 MultiPolygon）")
	} else if geom, err := featurejson.DecodeGeometry(f.Geometry); err != nil {
		p.Add("geometry", "%s", riskmap.TextOf(err))
	} else {
		*g = geom
	}
	var m map[string]json.RawMessage
	if isNull(f.Properties) {
		p.Add("properties", "必填（JSON 对象）")
	} else if err := json.Unmarshal(f.Properties, &m); err != nil {
		p.Add("properties", "应为 JSON 对象")
	}
	for k, v := range m {
		if read, ok := props[k]; ok {
			if !isNull(v) {
				read(v, &p, k)
			}
		} else if !readOnly[k] {
			p.Add(clip(k), "不是此接口的字段")
		}
	}
	return p.Err()
}

func isNull(v json.RawMessage) bool { return len(v) == 0 || string(v) == "null" }

func text(dst *string) func(json.RawMessage, *riskmap.Problems, string) {
	return func(v json.RawMessage, p *riskmap.Problems, k string) {
		if json.Unmarshal(v, dst) != nil {
			p.Add(k, "应为文本（字符串）")
		}
	}
}

func integer(dst *int) func(json.RawMessage, *riskmap.Problems, string) {
	return func(v json.RawMessage, p *riskmap.Problems, k string) {
		var f float64
		if json.Unmarshal(v, &f) != nil {
			p.Add(k, "应为整数")
			return
		}
		if f != math.Trunc(f) || math.Abs(f) > 1e15 {
			p.Add(k, "应为整数，收到 %s", clip(string(v)))
			return
		}
		if f > math.MaxInt32 || f < math.MinInt32 {
			p.Add(k, "数值 %s 超出范围", clip(string(v)))
			return
		}
		*dst = int(f)
	}
}

func number(dst *float64) func(json.RawMessage, *riskmap.Problems, string) {
	return func(v json.RawMessage, p *riskmap.Problems, k string) {
		if json.Unmarshal(v, dst) != nil {
			p.Add(k, "应为数值")
		}
	}
}

// jsonText words a JSON decoding error.
func jsonText(err error) riskmap.Text {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return riskmap.Textf("第 %d 字节处 JSON 格式错误", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return riskmap.Textf("应为 JSON 对象")
	}
	return riskmap.Textf("JSON 不完整")
}

func clip(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
