package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
)

// reviewBody is what a review action may send: {"comment": "审核意见"} with approve and
// reject, {"reason": "注销理由"} with a retirement, {"downgrade_reason": "降级理由"} with a
// submission. "reason" is also taken as the comment of a rejection (as the form sent it
// before comments), and every member is optional in the JSON; the register says which
// are required.
type reviewBody struct {
	Comment         *string `json:"comment"`
	Reason          *string `json:"reason"`
	DowngradeReason *string `json:"downgrade_reason"`
}

// parseReviewBody reads the note of a review action from a body that may be empty.
func parseReviewBody(action string, b []byte) (register.Note, error) {
	var n register.Note
	if len(b) == 0 {
		return n, nil
	}
	var rb reviewBody
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rb); err != nil || dec.More() {
		return n, riskmap.Errorf(riskmap.EINVALID, `请求体应为 JSON 对象，如 {"comment": "审核意见"} 或 {"reason": "注销理由"}`)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.TrimSpace(*p)
	}
	n.Comment, n.Reason, n.DowngradeReason = str(rb.Comment), str(rb.Reason), str(rb.DowngradeReason)
	if action == "reject" && n.Comment == "" {
		n.Comment, n.Reason = n.Reason, ""
	}
	return n, nil
}

// transition serves the writes that name a unit and its version and send no unit: submit,
// approve, reject and retire (DELETE, or POST …/retire). The body, when there is one, is
// the action's note (reviewBody). A retirement that is a request for review is answered
// 202 Accepted with the unit as it stands (submitted, its approved revision unchanged);
// every other write 200 with the unit written.
func (s *Server) transition(action string, do func(ctx context.Context, by *riskmap.User, id, version int64, n register.Note, rec register.Recorder) (register.Change, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, version, err := unitWrite(c, action)
		if err != nil {
			return err
		}
		b, err := s.readOptionalBody(c)
		if err != nil {
			return err
		}
		if len(b) > 0 {
			auditOf(c).detail = clip(string(b))
		}
		verb := strings.TrimPrefix(action, "unit.")
		n, err := parseReviewBody(verb, b)
		if err != nil {
			return err
		}
		status := http.StatusOK
		// What happened is known only once the register has decided: a retirement asked for
		// (202, 申请注销) or done, an approval that retires (同意注销) or approves. The audit
		// row records it, and what the client is answered.
		rec := func(ch register.Change) (*riskmap.WriteRecords, error) {
			a := action
			switch {
			case verb == "retire" && ch.After != nil && ch.After.Status != riskmap.StatusRetired:
				status, a = http.StatusAccepted, "unit.retire_request"
			case verb == "approve" && ch.After != nil && ch.After.Status == riskmap.StatusRetired:
				a = "unit.retire_approve"
			}
			return s.recorded(c, a, id, status, nil)(ch)
		}
		ch, err := do(c.Request().Context(), userOf(c), id, version, n, rec)
		if err != nil {
			if notIndexed(c, err) {
				return err
			}
			if riskmap.ErrorCode(err) == riskmap.EPRECONDITION {
				return riskmap.Errorf(riskmap.EPRECONDITION, "风险单元 %d 在第 %d 版之后已被他人修改；请重新加载后再%s", id, version, actionVerbs[verb])
			}
			return s.denyScope(c, id, err)
		}
		written(c)
		return s.writeUnit(c, status, ch.After)
	}
}

// review tells who wrote and reviewed a unit's current revision, what the review desk
// keeps with it (the reviewer's comment, the reason for a lowered grade, the approved
// revision it departs from, a retirement request) and what the requester may do with it.
func (s *Server) review(c echo.Context) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := s.cfg.Store.GetUnit(ctx, id)
	if err != nil {
		return unitNotFound(err, id)
	}
	if err := s.checkRead(c, id, u.Category, u.RegionCode); err != nil {
		return err
	}
	a, err := s.cfg.Store.UnitAuthor(ctx, id)
	if err != nil {
		return err
	}
	if a.ApprovedVersion == 0 && u.Status == riskmap.StatusApproved {
		a.ApprovedVersion = u.Version // approved by a seed or import, which records no author
	}
	approvedGrade := a.ApprovedGrade
	if u.Status == riskmap.StatusApproved {
		approvedGrade = u.Grade
	}
	me := userOf(c)
	canEdit := riskmap.CanEdit(me, u.Category, u.RegionCode) && u.Status != riskmap.StatusRetired
	pending := a.RetirePending() && u.Status == riskmap.StatusSubmitted
	var approved json.RawMessage
	if a.Approved != "" && u.Status != riskmap.StatusApproved && json.Valid([]byte(a.Approved)) {
		approved = json.RawMessage(a.Approved)
	}
	missing := append([]riskmap.FieldError{}, u.CheckComplete()...)
	// A unit never approved is retired at once by its author; any other retirement is a
	// request for another reviewer.
	retireDirect := a.ApprovedVersion == 0 && me != nil && (me.Name == a.CreatedBy || me.Name == a.UpdatedBy) && !pending
	var downgrade string
	if riskmap.Lowered(u.Grade, approvedGrade) {
		downgrade = a.DowngradeReason
	}
	return c.JSON(http.StatusOK, map[string]any{
		"id": id, "status": u.Status, "version": u.Version,
		"created_by": a.CreatedBy, "updated_by": a.UpdatedBy,
		"submitted_by": a.SubmittedBy, "submitted_at": a.SubmittedAt,
		"reviewed_by": a.ReviewedBy, "reviewed_at": a.ReviewedAt,
		"approved_version":    a.ApprovedVersion,
		"approved_grade":      approvedGrade,
		"approved":            approved,
		"comment":             a.Comment,
		"downgrade_reason":    downgrade,
		"retire_pending":      pending,
		"retire_reason":       a.RetireReason,
		"retire_requested_by": a.RetireRequestedBy,
		"retire_requested_at": a.RetireRequestedAt,
		"missing":             missing,
		"can_edit":            canEdit,
		"can_submit":          canEdit && u.Status == riskmap.StatusDraft,
		"can_approve":         u.Status == riskmap.StatusSubmitted && riskmap.CanReview(me, a.UpdatedBy),
		"can_retire":          canEdit && !pending,
		"retire_direct":       canEdit && retireDirect,
	})
}
