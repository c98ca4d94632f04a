package tiles

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// The attribute keys the layers' features carry: the writers (drawDetail, aggregate.encode,
// RenderRegions) and the field lists of TileJSON and metadata.json share them.
const (
	keyID         = "id"
	keyName       = "name"
	keyCategory   = "category"
	keyGrade      = "grade"
	keyCode       = "code"
	keyRegionCode = "region_code"
	keyLevel      = "level"
	keyCluster    = "cluster"
	keyCount      = "count"
	keyRed        = "red"
	keyOrange     = "orange"
	keyYellow     = "yellow"
	keyBlue       = "blue"
	keyStatus     = "status"
	keyInherent   = "inherent_grade"
	keyOpenHaz    = "open_hazards"
)

// UnitFields describes the attributes of the units layer in TileJSON's vector_layers, typed
// the way tippecanoe writes them (GDAL reads "Number", "Boolean" and anything else as a
// string). A unit carries id, category, grade, code and region_code, and its name when it
// has one (on the public map, its public label 公开名称; no internal name ever). Cluster
// points carry cluster, count, red, orange, yellow, blue and grade instead.
func UnitFields() map[string]string {
	return map[string]string{
		keyID: "Number", keyCategory: "String", keyGrade: "String",
		keyCode: "String", keyRegionCode: "String", keyName: "String",
		keyCluster: "Boolean", keyCount: "Number",
		keyRed: "Number", keyOrange: "Number", keyYellow: "Number", keyBlue: "Number",
	}
}

// UnitFields is the package's UnitFields for tiles made with o: with status, inherent_grade
// and open_hazards when o.Status.
func (o Options) UnitFields() map[string]string {
	f := UnitFields()
	if o.Status {
		f[keyStatus] = "String"
		f[keyInherent] = "String"
		f[keyOpenHaz] = "Number"
	}
	return f
}

// RegionFields is the attribute list of the regions layer; see UnitFields.
func RegionFields() map[string]string {
	return map[string]string{
		keyCode: "String", keyName: "String", keyLevel: "String", keyGrade: "String",
		keyRed: "Number", keyOrange: "Number", keyYellow: "Number", keyBlue: "Number",
	}
}

// layerText is the Chinese name and description of a layer.
func layerText(layer string) (name, description string) {
	switch layer {
	case LayerUnits:
		return "城市安全风险辨识单元",
			"城市安全风险四色图：风险辨识单元按重大（红）、较大（橙）、一般（黄）、低（蓝）四级着色；" +
				"单元过密的低缩放级别以聚合点表示，聚合点带各等级单元数量。"
	case LayerRegions:
		return "区域风险等级",
			"区域风险四色图：区县、街道（乡镇）、社区（村）和网格的风险等级及各等级风险单元数量。"
	}
	return layer, layer
}

// worldBound is what a tileset covers when its bounds are not known.
var worldBound = orb.Bound{Min: orb.Point{-180, -maxLat}, Max: orb.Point{180, maxLat}}

// TileJSON is the TileJSON 3.0.0 document of one layer served at
// {base}/tiles/{layer}/{z}/{x}/{y}.pbf (base: the URL prefix before /tiles, "" for the site
// root, "/public" for the public map). fields are the layer's attributes (UnitFields,
// RegionFields); bounds are the data's extent (zero: the world).
func TileJSON(base, layer string, fields map[string]string, bounds orb.Bound, minzoom, maxzoom int) map[string]any {
	name, desc := layerText(layer)
	bounds, center := boundsCenter(bounds, minzoom, maxzoom)
	if fields == nil {
		fields = map[string]string{}
	}
	return map[string]any{
		"tilejson":    "3.0.0",
		"name":        name,
		"description": desc,
		"version":     "1.0.0",
		"scheme":      "xyz",
		"format":      "pbf",
		"tiles":       []string{strings.TrimSuffix(base, "/") + "/tiles/" + layer + "/{z}/{x}/{y}.pbf"},
		"minzoom":     minzoom,
		"maxzoom":     maxzoom,
		"bounds":      []float64{bounds.Min[0], bounds.Min[1], bounds.Max[0], bounds.Max[1]},
		"center":      []float64{center[0], center[1], center[2]},
		"vector_layers": []map[string]any{{
			"id": layer, "description": desc, "fields": fields, "minzoom": minzoom, "maxzoom": maxzoom,
		}},
	}
}

// MetadataJSON is the metadata.json of a tile directory ({root}/metadata.json next to
// {root}/{z}/{x}/{y}.pbf), in the MBTiles metadata form GDAL's MVT driver reads: name,
// format, bounds and center as comma-separated strings, zooms, and a "json" string holding
// vector_layers and tilestats. geometry is the layer's geometry type for tilestats ("Point",
// "LineString", "Polygon"; "" when mixed, as the units layer is).
func MetadataJSON(layer string, fields map[string]string, bounds orb.Bound, minzoom, maxzoom int, geometry string) map[string]any {
	name, desc := layerText(layer)
	bounds, center := boundsCenter(bounds, minzoom, maxzoom)
	if fields == nil {
		fields = map[string]string{}
	}
	stat := map[string]any{"layer": layer, "attributeCount": len(fields)}
	if geometry != "" {
		stat["geometry"] = geometry
	}
	inner, _ := json.Marshal(map[string]any{
		"vector_layers": []map[string]any{{
			"id": layer, "description": desc, "fields": fields, "minzoom": minzoom, "maxzoom": maxzoom,
		}},
		"tilestats": map[string]any{"layerCount": 1, "layers": []any{stat}},
	})
	return map[string]any{
		"name":        name,
		"description": desc,
		"version":     "2",
		"type":        "overlay",
		"format":      "pbf",
		"minzoom":     strconv.Itoa(minzoom),
		"maxzoom":     strconv.Itoa(maxzoom),
		"bounds":      joinFloats(bounds.Min[0], bounds.Min[1], bounds.Max[0], bounds.Max[1]),
		"center":      joinFloats(center[0], center[1], center[2]),
		"json":        string(inner),
	}
}

// boundsCenter checks bounds (the world when zero or not finite) and picks a centre view:
// the middle, at the zoom where the bounds span about two 256-pixel tiles.
func boundsCenter(b orb.Bound, minzoom, maxzoom int) (orb.Bound, [3]float64) {
	ok := !b.IsZero() && b.Min[0] <= b.Max[0] && b.Min[1] <= b.Max[1]
	for _, v := range []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
		ok = ok && !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	if !ok {
		b = worldBound
	}
	b.Min[0], b.Max[0] = math.Max(b.Min[0], -180), math.Min(b.Max[0], 180)
	b.Min[1], b.Max[1] = math.Max(b.Min[1], -maxLat), math.Min(b.Max[1], maxLat)
	span := math.Max(b.Max[0]-b.Min[0], (b.Max[1]-b.Min[1])*1.5)
	z := float64(minzoom)
	if span > 0 {
		z = math.Floor(math.Log2(2 * 360 / span))
	} else {
		z = float64(maxzoom)
	}
	z = math.Max(float64(minzoom), math.Min(float64(maxzoom), z))
	c := b.Center()
	return b, [3]float64{round6(c[0]), round6(c[1]), z}
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func joinFloats(vs ...float64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strings.Join(parts, ",")
}
