package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/riskmap"
)

// The API definition of /ogc (OGC API – Features Part 1, requirement class "OpenAPI 3.0"),
// generated from the routes the server has: every GET route under /ogc must be described in
// ogcOps, or the document cannot be made (and the tests fail). QGIS needs the document: its
// OAPIF provider refuses a landing page without a service-desc link, and reads the limit
// parameter's maximum and default from it to size its pages.

const openAPIType = "application/vnd.oai.openapi+json;version=3.0"

// ogcOp describes one GET route under /ogc.
type ogcOp struct {
	id, summary string
	// content is the media type of the 200 response.
	content string
	// params are names in the document's components/parameters, for routes that are not per
	// collection.
	params []string
	// perCollection routes (those with :cid) are written once for each collection, with the
	// collection's own parameters when items is set.
	perCollection, items bool
	// feature routes take the path parameter featureId (:fid).
	feature bool
}

var ogcOps = map[string]ogcOp{
	"/ogc":             {id: "getLandingPage", summary: "首页：本服务的链接", content: "application/json", params: []string{"f"}},
	"/ogc/":            {id: "getLandingPageSlash", summary: "首页（同 /ogc）", content: "application/json", params: []string{"f"}},
	"/ogc/api":         {id: "getAPI", summary: "本 API 的 OpenAPI 3.0 定义（本文档）", content: openAPIType},
	"/ogc/conformance": {id: "getConformance", summary: "符合的 OGC API – Features 要求类", content: "application/json", params: []string{"f"}},
	"/ogc/collections": {id: "getCollections", summary: "数据集合列表", content: "application/json", params: []string{"f"}},
	"/ogc/collections/:cid": {id: "describeCollection", summary: "数据集合的说明", content: "application/json",
		params: []string{"f"}, perCollection: true},
	"/ogc/collections/:cid/items": {id: "getFeatures", summary: "数据集合的要素（GeoJSON，按 next 链接翻页）", content: geoJSON,
		perCollection: true, items: true},
	"/ogc/collections/:cid/items/:fid": {id: "getFeature", summary: "单个要素（GeoJSON）", content: geoJSON,
		params: []string{"f"}, perCollection: true, feature: true},
}

// ogcRoutePaths lists the GET routes under /ogc, sorted.
func (s *Server) ogcRoutePaths() []string {
	var out []string
	for _, r := range s.echo.Routes() {
		if r.Method == http.MethodGet && (r.Path == "/ogc" || strings.HasPrefix(r.Path, "/ogc/")) {
			out = append(out, r.Path)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// openAPI makes the API definition for a server reached at base; an /ogc route without a
// description in ogcOps is an error.
func (s *Server) openAPI(base string) (map[string]any, error) {
	paths := map[string]any{}
	for _, rp := range s.ogcRoutePaths() {
		op, ok := ogcOps[rp]
		if !ok {
			return nil, fmt.Errorf("OGC route %s has no description in ogcOps", rp)
		}
		if !op.perCollection {
			paths[openAPIPath(rp, "")] = map[string]any{"get": s.openAPIOperation(op, op.id, op.params, "")}
			continue
		}
		for _, d := range s.ogcDefs(nil) {
			params := op.params
			if op.items {
				params = d.params
			}
			paths[openAPIPath(rp, d.id)] = map[string]any{"get": s.openAPIOperation(op, op.id+"_"+d.id, params, d.title)}
		}
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "riskmap 城市安全风险清单 OGC API – Features",
			"description": "风险辨识单元与区域总体风险等级，只读。不带令牌时提供最新一次发布的公开字段；带 Authorization: Bearer 令牌时按该用户的权限提供风险清单。",
			"version":     "1.0.0",
		},
		"servers": []map[string]any{{"url": base}},
		"paths":   paths,
		"components": map[string]any{
			"parameters": s.openAPIParameters(),
			"schemas": map[string]any{
				"error": map[string]any{"type": "object", "required": []string{"error"}, "properties": map[string]any{
					"error": map[string]any{"type": "object", "required": []string{"code", "message"}, "properties": map[string]any{
						"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"},
						"fields": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
							"field": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}}}},
					}}}},
				"featureCollectionGeoJSON": map[string]any{"type": "object", "required": []string{"type", "features"}, "properties": map[string]any{
					"type":           map[string]any{"type": "string", "enum": []string{"FeatureCollection"}},
					"features":       map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/featureGeoJSON"}},
					"links":          map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/link"}},
					"numberMatched":  map[string]any{"type": "integer", "minimum": 0},
					"numberReturned": map[string]any{"type": "integer", "minimum": 0},
				}},
				"featureGeoJSON": map[string]any{"type": "object", "required": []string{"type", "geometry", "properties"}, "properties": map[string]any{
					"type":       map[string]any{"type": "string", "enum": []string{"Feature"}},
					"id":         map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}},
					"geometry":   map[string]any{"type": "object"},
					"properties": map[string]any{"type": "object", "nullable": true},
				}},
				"link": map[string]any{"type": "object", "required": []string{"href", "rel"}, "properties": map[string]any{
					"href": map[string]any{"type": "string"}, "rel": map[string]any{"type": "string"},
					"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"},
				}},
			},
		},
	}, nil
}

// openAPIPath turns an Echo route into an OpenAPI path: ":cid" becomes the collection's id,
// ":fid" the path parameter {featureId}.
func openAPIPath(route, collection string) string {
	segs := strings.Split(route, "/")
	for i, seg := range segs {
		switch {
		case seg == ":cid":
			segs[i] = collection
		case seg == ":fid":
			segs[i] = "{featureId}"
		case strings.HasPrefix(seg, ":"):
			segs[i] = "{" + seg[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

func (s *Server) openAPIOperation(op ogcOp, id string, params []string, collection string) map[string]any {
	summary := op.summary
	if collection != "" {
		summary = collection + "：" + summary
	}
	var ps []any
	if op.feature {
		ps = append(ps, map[string]any{"$ref": "#/components/parameters/featureId"})
	}
	for _, p := range params {
		name := p
		if p == "f" && op.items {
			name = "fItems"
		}
		ps = append(ps, map[string]any{"$ref": "#/components/parameters/" + name})
	}
	var schema map[string]any
	switch {
	case op.items:
		schema = map[string]any{"$ref": "#/components/schemas/featureCollectionGeoJSON"}
	case op.content == geoJSON:
		schema = map[string]any{"$ref": "#/components/schemas/featureGeoJSON"}
	default:
		schema = map[string]any{"type": "object"}
	}
	errResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{
			"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/error"}}}}
	}
	out := map[string]any{
		"operationId": id,
		"summary":     summary,
		"responses": map[string]any{
			"200": map[string]any{"description": "成功", "content": map[string]any{op.content: map[string]any{"schema": schema}}},
			"400": errResp("请求参数有误（未知参数或取值不对）"),
			"404": errResp("没有这个数据集合或要素"),
		},
	}
	if len(ps) > 0 {
		out["parameters"] = ps
	}
	return out
}

// openAPIParameters describes the query parameters the handlers read, with the limits they
// enforce (QGIS reads limit's maximum and default).
func (s *Server) openAPIParameters() map[string]any {
	q := func(name, desc string, schema map[string]any) map[string]any {
		return map[string]any{"name": name, "in": "query", "required": false, "description": desc, "schema": schema,
			"style": "form", "explode": false}
	}
	var cats []string
	if s.cfg.Catalog != nil {
		for _, c := range s.cfg.Catalog.Categories {
			cats = append(cats, c.Code)
		}
	}
	grades := make([]string, 0, len(riskmap.Grades))
	for _, g := range riskmap.Grades {
		grades = append(grades, string(g))
	}
	categorySchema := map[string]any{"type": "string"}
	if len(cats) > 0 {
		categorySchema["enum"] = cats
	}
	return map[string]any{
		"limit": q("limit", fmt.Sprintf("每页要素数，1 到 %d（更大的值按 %d 处理），默认 %d", MaxLimit, MaxLimit, DefaultLimit),
			map[string]any{"type": "integer", "minimum": 1, "maximum": MaxLimit, "default": DefaultLimit}),
		"bbox": q("bbox", "范围 minLon,minLat,maxLon,maxLat（WGS 84 经纬度，CRS84）；与范围相交的要素",
			map[string]any{"type": "array", "minItems": 4, "maxItems": 4, "items": map[string]any{"type": "number"}}),
		"bbox-crs": q("bbox-crs", "bbox 的坐标参照系，只支持 CRS84",
			map[string]any{"type": "string", "format": "uri", "enum": []string{crs84}}),
		"cursor": q("cursor", "翻页位置；请使用响应中 next 链接给出的值",
			map[string]any{"type": "integer", "minimum": 0}),
		"category": q("category", "风险类别代码，逗号分隔（见 /api/v1/categories）",
			map[string]any{"type": "array", "items": categorySchema}),
		"grade": q("grade", "风险等级，逗号分隔：red 重大、orange 较大、yellow 一般、blue 低",
			map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": grades}}),
		"region": q("region", "行政区划代码前缀（如 530481001）",
			map[string]any{"type": "string", "pattern": "^[0-9]{1,15}$"}),
		"q": q("q", "名称或编号包含的文字", map[string]any{"type": "string", "maxLength": maxQLen}),
		"properties": q("properties", "要素只带这些属性（属性名逗号分隔，如 code,name,grade；空值不带任何属性；不给则带全部）",
			map[string]any{"type": "array", "items": map[string]any{"type": "string"}}),
		"kind": q("kind", "防护目标或避难场所的类型代码，逗号分隔（如 school、hospital；emergency、fixed、central）",
			map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": siteKindCodes()}}),
		"level": q("level", "区域层级", map[string]any{"type": "string",
			"enum": []string{riskmap.LevelDistrict, riskmap.LevelStreet, riskmap.LevelCommunity, riskmap.LevelGrid}}),
		"f":      q("f", "格式，只有 json", map[string]any{"type": "string", "enum": []string{"json"}}),
		"fItems": q("f", "格式，只有 GeoJSON（json 或 geojson）", map[string]any{"type": "string", "enum": []string{"json", "geojson"}}),
		"featureId": map[string]any{"name": "featureId", "in": "path", "required": true,
			"description": "要素编号：单元的 id，或区域的行政区划代码", "schema": map[string]any{"type": "string"}},
	}
}

func (s *Server) ogcAPI(c echo.Context) error {
	if err := ogcNoParams(c); err != nil {
		return err
	}
	doc, err := s.openAPI(s.baseURL(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, openAPIType)
	c.Response().WriteHeader(http.StatusOK)
	return json.NewEncoder(c.Response()).Encode(doc)
}
