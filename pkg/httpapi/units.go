package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

const geoJSON = "application/geo+json"

// unitListParams are the query parameters of GET /api/v1/units (and the public list): those
// of listParams, and properties.
var unitListParams = listParamsAnd("properties")

// propertySelection reads properties=: the property names a list's features keep
// (comma-separated; empty keeps none), as OGC API – Features Part 6 selects them. nil
// (no parameter) keeps every property. A name the view's features do not have is refused.
func (v *view) propertySelection(q url.Values) (map[string]bool, error) {
	vs, ok := q["properties"]
	if !ok {
		return nil, nil
	}
	names := featurejson.PropertyNames
	if v.public {
		names = featurejson.PublicPropertyNames
	}
	var p riskmap.Problems
	if len(vs) > 1 {
		p.Add("properties", "只能给出一次；多个属性以逗号分隔，如 properties=code,name,grade")
		return nil, p.Err()
	}
	keep := map[string]bool{}
	for _, n := range SplitList(vs[0]) {
		if !slices.Contains(names, n) {
			p.Add("properties", "没有属性 %q；可选：%s", clip(n), strings.Join(names, ", "))
			break
		}
		keep[n] = true
	}
	return keep, p.Err()
}

// writeFeatures writes the features of a page, separated by commas, each with only the
// properties keep names (nil: all of them). A selection of what the index keeps of each unit
// (code, name, grade …) is written from that, without reading the units' documents.
func (v *view) writeFeatures(buf *bytes.Buffer, fs []*spatialindex.Feature, keep map[string]bool) {
	var b, doc []byte
	var facts featurejson.FactSelection
	if keep != nil && !v.public {
		facts, _ = featurejson.SelectFacts(keep)
	}
	spatialindex.Warm(fs) // the page's features, names and geometry, read ahead
	for i, f := range fs {
		if i > 0 {
			buf.WriteByte(',')
		}
		if facts != nil {
			// Written into the buffer's free space: Write then copies nothing.
			buf.Write(facts.Append(buf.AvailableBuffer(), f.ID, f.Version, &f.UnitFacts))
			continue
		}
		doc = f.AppendJSON(doc[:0])
		if keep == nil {
			buf.Write(doc)
			continue
		}
		b = featurejson.AppendSelected(b[:0], doc, keep)
		buf.Write(b)
	}
}

// pageBuffers hold list answers while they are written. A page of 1,000 units is up to a
// megabyte; growing (and zeroing) that anew for each request cost as much as finding the
// units of a small box.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// pageBuffer returns an empty buffer and how to give it back once the answer has been
// written (c.Blob copies it out); one grown past 8 MB (an export-sized page) is dropped.
func pageBuffer() (*bytes.Buffer, func()) {
	b := pageBuffers.Get().(*bytes.Buffer)
	b.Reset()
	return b, func() {
		if b.Cap() <= 8<<20 {
			pageBuffers.Put(b)
		}
	}
}

// nextURL is the request URL with its cursor moved on.
func (s *Server) nextURL(c echo.Context, cursor int64) string {
	q := c.Request().URL.Query()
	q.Set("cursor", strconv.FormatInt(cursor, 10))
	return s.baseURL(c) + c.Request().URL.Path + "?" + q.Encode()
}

func (v *view) snapshot() (*spatialindex.Snapshot, error) {
	if v.ix == nil || !v.ix.Loaded() {
		return nil, riskmap.Errorf(riskmap.EUNAVAILABLE, "空间索引仍在载入，请稍后再试")
	}
	return v.ix.Snapshot(), nil
}

func (v *view) listUnits(c echo.Context) error {
	p, err := v.parseList(c, c.QueryParams(), unitListParams)
	if err != nil {
		return err
	}
	keep, err := v.propertySelection(c.QueryParams())
	if err != nil {
		return err
	}
	snap, err := v.snapshot()
	if err != nil {
		return err
	}
	pg := snap.Find(p)
	buf, release := pageBuffer()
	defer release()
	buf.WriteString(`{"type":"FeatureCollection","numberMatched":`)
	buf.WriteString(strconv.Itoa(pg.Matched))
	buf.WriteString(`,"numberReturned":`)
	buf.WriteString(strconv.Itoa(len(pg.Features)))
	buf.WriteString(`,"features":[`)
	v.writeFeatures(buf, pg.Features, keep)
	buf.WriteString(`],"links":[`)
	self, _ := json.Marshal(v.s.baseURL(c) + c.Request().URL.RequestURI())
	buf.WriteString(`{"rel":"self","type":"application/geo+json","href":`)
	buf.Write(self)
	buf.WriteString(`}`)
	if pg.More {
		next, _ := json.Marshal(v.s.nextURL(c, pg.Features[len(pg.Features)-1].ID))
		buf.WriteString(`,{"rel":"next","type":"application/geo+json","href":`)
		buf.Write(next)
		buf.WriteString(`}],"next":`)
		buf.Write(next)
	} else {
		buf.WriteString(`]`)
	}
	buf.WriteString(`}`)
	return c.Blob(http.StatusOK, geoJSON, buf.Bytes())
}

func parseID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, riskmap.Errorf(riskmap.ENOTFOUND, "没有风险单元 %q：编号为正整数", clip(c.Param("id")))
	}
	return id, nil
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads the version a write is conditioned on. A write without one is refused with
// 428: it could silently overwrite someone else's change.
func ifMatch(c echo.Context) (int64, error) {
	h := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if h == "" {
		return 0, &httpError{status: http.StatusPreconditionRequired, code: "precondition_required",
			message: `须带 If-Match 请求头：发送你所编辑版本的 ETag，例如 If-Match: "3"`}
	}
	// If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches. A list or
	// "*" does not name one version either.
	if strings.HasPrefix(h, "W/") {
		return 0, riskmap.Errorf(riskmap.EPRECONDITION, "If-Match 不接受弱校验标签 %s：请发送所编辑对象的 ETag，例如 If-Match: \"3\"", clip(h))
	}
	// An entity tag is the ETag exactly: "3", quotes included, as this server wrote it.
	inner, quoted := strings.CutPrefix(h, `"`)
	inner, closed := strings.CutSuffix(inner, `"`)
	v, err := strconv.ParseInt(inner, 10, 64)
	if err != nil || v < 1 || !quoted || !closed || strconv.FormatInt(v, 10) != inner {
		return 0, riskmap.Errorf(riskmap.EPRECONDITION, "If-Match %q 不是有效的版本标签：请发送所编辑对象的 ETag，例如 If-Match: \"3\"", clip(h))
	}
	return v, nil
}

func (v *view) getUnit(c echo.Context) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	var body []byte
	var version int64
	var category, region string
	if snap, err := v.snapshot(); err == nil {
		if f, ok := snap.Get(id); ok {
			body, version, category, region = f.JSON(), f.Version, f.Category, f.RegionCode
		}
	}
	if body == nil && v.public {
		return riskmap.Errorf(riskmap.ENOTFOUND, "没有已发布的风险单元 %d", id)
	}
	if body == nil {
		// Retired units are not in the index; the store keeps them.
		u, err := v.s.cfg.Store.GetUnit(c.Request().Context(), id)
		if err != nil {
			return unitNotFound(err, id)
		}
		body, version, category, region = featurejson.Encode(u), u.Version, u.Category, u.RegionCode
	}
	if !v.public {
		if err := v.s.checkRead(c, id, category, region); err != nil {
			return err
		}
	}
	tag := etag(version)
	c.Response().Header().Set("ETag", tag)
	c.Response().Header().Set("Cache-Control", "no-cache")
	if c.Request().Header.Get("If-None-Match") == tag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, geoJSON, body)
}

// readBody reads a request body up to the limit; a larger one is ETOOLARGE.
func (s *Server) readBody(c echo.Context) ([]byte, error) {
	b, err := s.readOptionalBody(c)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, riskmap.Errorf(riskmap.EINVALID, "请求体为空；请发送 GeoJSON Feature")
	}
	return b, nil
}
