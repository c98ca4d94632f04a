package httpapi

import (
	"math"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/riskmap"
)

// FuzzConflictQuery: any query string of the conflict table (and its CSV) is a filter
// within bounds or an EINVALID naming a field, never a panic.
func FuzzConflictQuery(f *testing.F) {
	for _, q := range []string{"", "region=530481&grade=red,orange&kind=school", "department=应急局,住建局&bbox=102.8,24.5,103.1,24.9",
		"limit=1000&offset=2147483647", "limit=0", "offset=-1", "f=geojson", "region=1&region=2", "grade=purple", "limit=99999",
		"offset=9223372036854775807", "bbox=NaN,1,2,3", "%zz", "kind=,,", "q=x"} {
		f.Add(q)
	}
	s := &Server{}
	e := echo.New()
	f.Fuzz(func(t *testing.T, raw string) {
		req := httptest.NewRequest("GET", "/api/v1/conflicts", nil)
		req.URL.RawQuery = raw
		c := e.NewContext(req, httptest.NewRecorder())
		fl, err := s.parseConflictQuery(c, conflictParams, DefaultLimit)
		if err != nil {
			if riskmap.ErrorCode(err) != riskmap.EINVALID || len(riskmap.ErrorFields(err)) == 0 {
				t.Fatalf("%q: want EINVALID with fields, got %v", raw, err)
			}
			return
		}
		if fl.Limit < 1 || fl.Limit > MaxLimit || fl.Offset < 0 || fl.Offset > math.MaxInt32 {
			t.Fatalf("%q: limit %d offset %d out of bounds", raw, fl.Limit, fl.Offset)
		}
		if b := fl.BBox; b != nil && (b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1]) {
			t.Fatalf("%q: impossible bbox %v", raw, b)
		}
		q, _ := url.ParseQuery(raw)
		for k, vs := range q {
			if len(vs) > 1 {
				t.Fatalf("%q: %s given twice was accepted", raw, k)
			}
		}
	})
}

// FuzzSiteQuery: any query string of a site list (internal, public, OGC) is a filter within
// bounds or an EINVALID naming a field.
func FuzzSiteQuery(f *testing.F) {
	for _, q := range []string{"", "kind=school,hospital&region=530481&q=中学&limit=10&offset=5", "bbox=102.8,24.5,103.1,24.9",
		"offset=9223372036854775807", "cursor=3", "kind=zoo", "limit=-1", "region=53x", "q=%ff", "kind=a&kind=b"} {
		f.Add(q)
	}
	k := &siteKind[*riskmap.ProtectiveTarget]{label: "防护目标", validKnd: func(s string) bool { return riskmap.TargetKindLabel(s) != "" }}
	allowed := map[string]bool{"bbox": true, "kind": true, "region": true, "q": true, "limit": true, "offset": true, "cursor": true}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // the server never sees such a query: echo answers from what it parses
		}
		fl, err := k.parseFilter(q, allowed)
		if err != nil {
			if riskmap.ErrorCode(err) != riskmap.EINVALID || len(riskmap.ErrorFields(err)) == 0 {
				t.Fatalf("%q: want EINVALID with fields, got %v", raw, err)
			}
			return
		}
		if fl.limit < 1 || fl.limit > MaxLimit || fl.offset < 0 || fl.offset > math.MaxInt32 {
			t.Fatalf("%q: limit %d offset %d out of bounds", raw, fl.limit, fl.offset)
		}
		for _, kd := range fl.kinds {
			if !k.validKnd(kd) {
				t.Fatalf("%q: kind %q accepted", raw, kd)
			}
		}
	})
}
