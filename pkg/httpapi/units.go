package httpapi

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

const geoJSON = "application/geo+json"

var unitListParams = map[string]bool{"bbox": true, "category": true, "grade": true, "region": true, "q": true, "limit": true, "cursor": true}

// page is the result of a list query over the index.
type page struct {
	features []*spatialindex.Feature
	matched  int
	more     bool
}

// query runs a list query over one snapshot. With a bbox the R-tree finds the candidates
// and a bounded heap keeps the lowest ids after the cursor; without one the id-ordered tree
// is walked from the cursor.
func query(snap *spatialindex.Snapshot, p *listParams) page {
	var pg page
	if p.bbox != nil {
		h := &idHeap{}
		snap.Search(*p.bbox, func(f *spatialindex.Feature) bool {
			if !p.matches(f) {
				return true
			}
			pg.matched++
			if f.ID <= p.after {
				return true
			}
			if h.Len() <= p.limit {
				heap.Push(h, f)
			} else if f.ID < (*h)[0].ID {
				(*h)[0] = f
				heap.Fix(h, 0)
			}
			return true
		})
		pg.more = h.Len() > p.limit
		if pg.more {
			heap.Pop(h) // the largest is the (limit+1)th: it only tells that more remain
		}
		pg.features = make([]*spatialindex.Feature, h.Len())
		for i := len(pg.features) - 1; i >= 0; i-- {
			pg.features[i] = heap.Pop(h).(*spatialindex.Feature)
		}
		return pg
	}
	if !p.filtered() {
		pg.matched = snap.Len()
		snap.Ascend(p.after, func(f *spatialindex.Feature) bool {
			if len(pg.features) == p.limit {
				pg.more = true
				return false
			}
			pg.features = append(pg.features, f)
			return true
		})
		return pg
	}
	snap.Ascend(0, func(f *spatialindex.Feature) bool {
		if !p.matches(f) {
			return true
		}
		pg.matched++
		if f.ID > p.after {
			if len(pg.features) < p.limit {
				pg.features = append(pg.features, f)
			} else {
				pg.more = true
			}
		}
		return true
	})
	return pg
}

// idHeap is a max-heap by id.
type idHeap []*spatialindex.Feature

func (h idHeap) Len() int           { return len(h) }
func (h idHeap) Less(i, j int) bool { return h[i].ID > h[j].ID }
func (h idHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *idHeap) Push(x any)        { *h = append(*h, x.(*spatialindex.Feature)) }
func (h *idHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func baseURL(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host
}

// nextURL is the request URL with its cursor moved on.
func nextURL(c echo.Context, cursor int64) string {
	q := c.Request().URL.Query()
	q.Set("cursor", strconv.FormatInt(cursor, 10))
	return baseURL(c) + c.Request().URL.Path + "?" + q.Encode()
}

func (v *view) snapshot() (*spatialindex.Snapshot, error) {
	if v.ix == nil || !v.ix.Loaded() {
		return nil, riskmap.Errorf(riskmap.EUNAVAILABLE, "the spatial index is still loading; try again shortly")
	}
	return v.ix.Snapshot(), nil
}

func (v *view) listUnits(c echo.Context) error {
	p, err := v.s.parseList(c.QueryParams(), nil)
	if err != nil {
		return err
	}
	snap, err := v.snapshot()
	if err != nil {
		return err
	}
	pg := query(snap, p)
	var buf bytes.Buffer
	buf.Grow(64 + len(pg.features)*1024)
	buf.WriteString(`{"type":"FeatureCollection","numberMatched":`)
	buf.WriteString(strconv.Itoa(pg.matched))
	buf.WriteString(`,"numberReturned":`)
	buf.WriteString(strconv.Itoa(len(pg.features)))
	buf.WriteString(`,"features":[`)
	for i, f := range pg.features {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(f.JSON)
	}
	buf.WriteString(`],"links":[`)
	self, _ := json.Marshal(baseURL(c) + c.Request().URL.RequestURI())
	buf.WriteString(`{"rel":"self","type":"application/geo+json","href":`)
	buf.Write(self)
	buf.WriteString(`}`)
	if pg.more {
		next, _ := json.Marshal(nextURL(c, pg.features[len(pg.features)-1].ID))
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
		return 0, riskmap.Errorf(riskmap.ENOTFOUND, "no unit %q: ids are positive whole numbers", clip(c.Param("id")))
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
			message: `If-Match is required: send the ETag of the version you edited, e.g. If-Match: "3"`}
	}
	h = strings.TrimPrefix(h, "W/")
	v, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || v < 1 {
		return 0, riskmap.Errorf(riskmap.EPRECONDITION, "If-Match %q names no version of this unit", clip(h))
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
	if snap, err := v.snapshot(); err == nil {
		if f, ok := snap.Get(id); ok {
			body, version = f.JSON, f.Version
		}
	}
	if body == nil && v.public {
		return riskmap.Errorf(riskmap.ENOTFOUND, "no published unit %d", id)
	}
	if body == nil {
		// Retired units are not in the index; the store keeps them.
		u, err := v.s.cfg.Store.GetUnit(c.Request().Context(), id)
		if err != nil {
			return err
		}
		body, version = featurejson.Encode(u), u.Version
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
	r := io.LimitReader(c.Request().Body, s.cfg.MaxBodyBytes+1)
	b, err := io.ReadAll(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, riskmap.Errorf(riskmap.ETOOLARGE, "the request body is larger than %d bytes", s.cfg.MaxBodyBytes)
		}
		return nil, riskmap.Errorf(riskmap.EINVALID, "the request body could not be read")
	}
	if int64(len(b)) > s.cfg.MaxBodyBytes {
		return nil, riskmap.Errorf(riskmap.ETOOLARGE, "the request body is larger than %d bytes", s.cfg.MaxBodyBytes)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, riskmap.Errorf(riskmap.EINVALID, "the request body is empty; send a GeoJSON Feature")
	}
	return b, nil
}

// index brings a written unit into the index before the response goes out, so that the
// client's next tile or list request sees its change.
func (s *Server) index(u *riskmap.Unit) error {
	if s.cfg.Index == nil {
		return nil
	}
	_, err := s.cfg.Index.Apply(u)
	if err == nil && s.cfg.Public != nil {
		_, err = s.cfg.Public.Apply(PublicVersion(u))
	}
	return err
}

func (s *Server) writeUnit(c echo.Context, status int, u *riskmap.Unit) error {
	c.Response().Header().Set("ETag", etag(u.Version))
	return c.Blob(status, geoJSON, featurejson.Encode(u))
}

func (s *Server) createUnit(c echo.Context) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	u, err := featurejson.DecodeUnit(body)
	if err != nil {
		return err
	}
	if err := s.cfg.Units.Create(c.Request().Context(), u); err != nil {
		return err
	}
	if err := s.index(u); err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/units/"+strconv.FormatInt(u.ID, 10))
	return s.writeUnit(c, http.StatusCreated, u)
}

func (s *Server) updateUnit(c echo.Context) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	u, err := featurejson.DecodeUnit(body)
	if err != nil {
		return err
	}
	u.ID, u.Version = id, version
	if err := s.cfg.Units.Update(c.Request().Context(), u); err != nil {
		if riskmap.ErrorCode(err) == riskmap.EPRECONDITION {
			return riskmap.Errorf(riskmap.EPRECONDITION, "unit %d was changed by someone else since version %d; reload it and apply your edit again", id, version)
		}
		return err
	}
	if err := s.index(u); err != nil {
		return err
	}
	return s.writeUnit(c, http.StatusOK, u)
}

func (s *Server) retireUnit(c echo.Context) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	u, err := s.cfg.Store.RetireUnit(c.Request().Context(), id, version)
	if err != nil {
		if riskmap.ErrorCode(err) == riskmap.EPRECONDITION {
			return riskmap.Errorf(riskmap.EPRECONDITION, "unit %d was changed by someone else since version %d; reload it before retiring", id, version)
		}
		return err
	}
	if err := s.index(u); err != nil {
		return err
	}
	return s.writeUnit(c, http.StatusOK, u)
}

// PublicVersion is what the public index gets of a written unit: the unit itself while it
// is approved, otherwise a retirement at the same version, which takes it off the public map.
// Replicas that follow other replicas' writes apply the same rule.
func PublicVersion(u *riskmap.Unit) *riskmap.Unit {
	if u.Status == riskmap.StatusApproved || u.Status == riskmap.StatusRetired {
		return u
	}
	c := *u
	c.Status = riskmap.StatusRetired
	return &c
}
