package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
)

// checkRead refuses a unit outside what the requester may read in full. A unit the public
// can see is refused with 403 (the requester knows it exists); any other with 404.
func (s *Server) checkRead(c echo.Context, id int64, category, region string) error {
	if riskmap.CanReadInternal(userOf(c), category, region) {
		return nil
	}
	auditOf(c).denied = true
	if v := s.pub(); v != nil && v.ix != nil && v.ix.Loaded() {
		if _, ok := v.ix.Snapshot().Get(id); ok {
			return riskmap.Errorf(riskmap.EFORBIDDEN, "风险单元 %d 不在您的管辖范围内；其公开信息见 /public/api/v1/units/%d", id, id)
		}
	}
	return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的风险单元", id)
}

// unitFacts are what a read of a unit's sub-resources (hidden dangers, conflicts,
// monitoring points) needs of the unit: where it is filed and its influence radius.
type unitFacts struct {
	category, region string
	radius           float64
}

// readableUnit returns the facts of unit id, from the index or, for a unit the index does
// not hold (retired), the store, once checkRead lets the caller read it.
func (s *Server) readableUnit(c echo.Context, id int64) (unitFacts, error) {
	var f unitFacts
	if snap, err := s.internal.snapshot(); err == nil {
		if ft, ok := snap.Get(id); ok {
			f = unitFacts{ft.Category, ft.RegionCode, ft.InfluenceRadiusM}
		}
	}
	if f.category == "" {
		u, err := s.cfg.Store.GetUnit(c.Request().Context(), id)
		if err != nil {
			return f, unitNotFound(err, id)
		}
		f = unitFacts{u.Category, u.RegionCode, u.InfluenceRadiusM}
	}
	return f, s.checkRead(c, id, f.category, f.region)
}

// notIndexed reports whether err is from a write that was stored, with its audit row, but
// did not reach the index (the register service brings every write there before it
// returns, so that the client's next tile or list request sees it).
func notIndexed(c echo.Context, err error) bool {
	var ie *register.IndexError
	if errors.As(err, &ie) {
		written(c)
		return true
	}
	return false
}

func (s *Server) writeUnit(c echo.Context, status int, u *riskmap.Unit) error {
	c.Response().Header().Set("ETag", etag(u.Version))
	return c.Blob(status, geoJSON, featurejson.Encode(u))
}

// recordUnit fills the audit row of a unit write.
func recordUnit(c echo.Context, action string, id int64, ch register.Change) {
	recordUnitIn(auditOf(c), action, id, ch)
}

// recordUnitIn is recordUnit on an audit record a.
func recordUnitIn(a *auditRecord, action string, id int64, ch register.Change) {
	a.action, a.targetType = action, "unit"
	if id > 0 {
		a.targetID = strconv.FormatInt(id, 10)
	}
	if ch.Before != nil {
		a.before = featurejson.Encode(ch.Before)
	}
	if ch.After != nil {
		a.after = featurejson.Encode(ch.After)
		a.targetID = strconv.FormatInt(ch.After.ID, 10)
	}
}

// unitNotFound words every "no such unit" alike, whether the unit does not exist or is
// hidden from the requester, so that the answer tells nothing.
func unitNotFound(err error, id int64) error {
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
		return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的风险单元", id)
	}
	return err
}

// denyScope marks refusals of a unit outside the writer's scope: a unit the writer may not
// read at all is not found, as for reads.
func (s *Server) denyScope(c echo.Context, id int64, err error) error {
	if riskmap.ErrorCode(err) != riskmap.EFORBIDDEN {
		if id > 0 {
			return unitNotFound(err, id)
		}
		return err
	}
	auditOf(c).denied = true
	if id > 0 {
		if u, gerr := s.cfg.Store.GetUnit(c.Request().Context(), id); gerr == nil && !riskmap.CanReadInternal(userOf(c), u.Category, u.RegionCode) {
			return s.checkRead(c, id, u.Category, u.RegionCode)
		}
	}
	return err
}

// recorded is the Recorder of a unit write answered with status: the request's audit row
// and the answer kept for its Idempotency-Key (idem, may be nil) are written in the
// write's own transaction. Call written after the write succeeds.
//
// The row kept in the transaction is a copy: the request's own record keeps only what was
// known before the write. A write whose commit lands but whose answer is lost (the database
// goes away just then) is answered 503, and the audit middleware writes that refusal's row;
// it must not name the unit the transaction wrote, or the log would show that unit created
// twice, once with 201 and once with 503.
func (s *Server) recorded(c echo.Context, action string, id int64, status int, idem *idempotency) register.Recorder {
	return func(ch register.Change) (*riskmap.WriteRecords, error) {
		a := *auditOf(c)
		recordUnitIn(&a, action, id, ch)
		r := &riskmap.WriteRecords{Audit: s.auditEntry(c, &a, status)}
		if idem != nil {
			r.Response = idem.answer(status, geoJSON, unitLocation(ch.After.ID), etag(ch.After.Version), featurejson.Encode(ch.After), s.now())
		}
		return r, nil
	}
}

// written notes that the request's audit row was written with its write.
func written(c echo.Context) { auditOf(c).written = true }

func unitLocation(id int64) string { return "/api/v1/units/" + strconv.FormatInt(id, 10) }

func (s *Server) createUnit(c echo.Context) error {
	recordUnit(c, "unit.create", 0, register.Change{})
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	idem, err := s.idempotencyOf(c, body)
	if err != nil {
		return err
	}
	if done, err := s.replay(c, idem); done {
		return err
	}
	u, err := featurejson.DecodeUnitDeferBoundaries(body)
	if err != nil {
		return err
	}
	if err := s.cfg.Units.CreateBy(c.Request().Context(), userOf(c), u, s.recorded(c, "unit.create", 0, http.StatusCreated, idem)); err != nil {
		if notIndexed(c, err) {
			return err
		}
		if riskmap.ErrorCode(err) == riskmap.ECONFLICT {
			// A request with the same key may have written first: answer as it was answered.
			if done, err := s.replay(c, idem); done {
				return err
			}
		}
		return s.denyScope(c, 0, err)
	}
	written(c)
	c.Response().Header().Set("Location", unitLocation(u.ID))
	return s.writeUnit(c, http.StatusCreated, u)
}

// unitWrite reads what a write of an existing unit names, the unit's id in the path and
// its version in If-Match, and starts the write's audit row (action on the unit).
func unitWrite(c echo.Context, action string) (id, version int64, err error) {
	if id, err = parseID(c); err != nil {
		return 0, 0, err
	}
	recordUnit(c, action, id, register.Change{})
	version, err = ifMatch(c)
	return id, version, err
}

func (s *Server) updateUnit(c echo.Context) error {
	id, version, err := unitWrite(c, "unit.update")
	if err != nil {
		return err
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	u, err := featurejson.DecodeUnitDeferBoundaries(body)
	if err != nil {
		return err
	}
	u.ID, u.Version = id, version
	_, err = s.cfg.Units.UpdateBy(c.Request().Context(), userOf(c), u, s.recorded(c, "unit.update", id, http.StatusOK, nil))
	if err != nil {
		if notIndexed(c, err) {
			return err
		}
		if riskmap.ErrorCode(err) == riskmap.EPRECONDITION {
			return riskmap.Errorf(riskmap.EPRECONDITION, "风险单元 %d 在第 %d 版之后已被他人修改；请重新加载后再修改", id, version)
		}
		return s.denyScope(c, id, err)
	}
	written(c)
	return s.writeUnit(c, http.StatusOK, u)
}

// readOptionalBody reads a body that may be empty. limitBody has bounded it by the route's
// size and time, so reading fails with what went wrong (413, 408, 400).
func (s *Server) readOptionalBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, bodyReadError(err)
	}
	return bytes.TrimSpace(b), nil
}

// actionVerbs say a review action in a sentence: "请重新加载后再提交审核".
var actionVerbs = map[string]string{"submit": "提交审核", "approve": "审核", "reject": "退回", "retire": "注销", "update": "修改"}
