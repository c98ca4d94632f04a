package register

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

// The review workflow (审核与发布): a unit goes draft → submitted → approved, approved by an
// expert or admin other than the author of the revision. Editing an approved unit makes a
// new draft revision; the store keeps the approved one in the approved register, which is
// what the next publication carries, until the new revision is approved in turn.
//
// The methods here take the person asking (by); a nil by is the system itself (seed,
// import, the command line), which the rules do not restrict. Every refusal is EFORBIDDEN
// (or ENOTFOUND, for a unit the person may not know of) and changes nothing. A write that
// is stored reaches the service's Index before the method returns; if it does not, the
// error is an *IndexError (and the Change is still returned).

// Change is what a write did: the unit before (nil for a new one) and after.
type Change struct {
	Before *riskmap.Unit
	After  *riskmap.Unit
}

// Recorder builds what a write keeps with it besides the unit and its author record (the
// audit row, the answer for an Idempotency-Key) from the change as written. The store calls
// it inside the write's transaction; an error rolls the write back. nil records nothing more.
type Recorder func(ch Change) (*riskmap.WriteRecords, error)

// records is the store's RecordFunc of a write: the author record a, built from the unit as
// written, and what rec adds, all in the write's transaction.
func records(before *riskmap.Unit, a func(u *riskmap.Unit) *riskmap.UnitAuthor, rec Recorder) riskmap.RecordFunc {
	return func(u *riskmap.Unit) (*riskmap.WriteRecords, error) {
		r := &riskmap.WriteRecords{}
		if rec != nil {
			got, err := rec(Change{Before: before, After: u})
			if err != nil {
				return nil, err
			}
			if got != nil {
				r = got
			}
		}
		if a != nil {
			r.Author = a(u)
		}
		return r, nil
	}
}

func forbidden(format string, args ...any) error {
	return riskmap.Errorf(riskmap.EFORBIDDEN, format, args...)
}

func name(by *riskmap.User) string {
	if by == nil {
		return ""
	}
	return by.Name
}

// checkStatus refuses statuses a writer may not set directly.
func checkStatus(by *riskmap.User, st riskmap.Status) error {
	if by != nil && st == riskmap.StatusApproved {
		return forbidden("status：风险单元只能经审核成为已通过（由作者以外的专家或管理员 POST /api/v1/units/{id}/approve）")
	}
	if st == riskmap.StatusRetired {
		return riskmap.Errorf(riskmap.EINVALID, "status：注销单元请用 DELETE，不要直接设置状态")
	}
	return nil
}

// load returns a unit the person may work on: ENOTFOUND if it does not exist or lies
// outside what they may read, EFORBIDDEN if they may read but not edit it.
func (s *Service) load(ctx context.Context, by *riskmap.User, id int64) (*riskmap.Unit, error) {
	u, err := s.Store.GetUnit(ctx, id)
	if err != nil {
		return nil, err
	}
	if by != nil {
		if !riskmap.CanReadInternal(by, u.Category, u.RegionCode) {
			return nil, forbidden("风险单元 %d 不在你的权限范围内（类别 %v，区域 %v）", id, by.Categories, by.Regions)
		}
		if !riskmap.CanEdit(by, u.Category, u.RegionCode) {
			return nil, forbidden("你的角色不能修改风险单元 %d", id)
		}
	}
	return u, nil
}

func (s *Service) author(ctx context.Context, id int64) (*riskmap.UnitAuthor, error) {
	if s.Reviews == nil {
		return &riskmap.UnitAuthor{UnitID: id}, nil
	}
	return s.Reviews.UnitAuthor(ctx, id)
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// checkPlace refuses a department user's unit whose location on the map lies outside the
// user's regions, whatever region code it declares.
func (s *Service) checkPlace(by *riskmap.User, u *riskmap.Unit) error {
	if by == nil || by.Role != riskmap.RoleDepartment || s.Locate == nil || u.Geometry == nil {
		return nil
	}
	p := u.Geometry.Bound().Center()
	if pt, ok := u.Geometry.(orb.Point); ok {
		p = pt
	}
	if code := s.Locate(p); code == "" || !by.InScope(u.Category, code) {
		return forbidden("位置：单元位于（%.5f, %.5f），不在您管辖的区域（%s）之内", p[0], p[1], strings.Join(by.Regions, "、"))
	}
	return nil
}

// CreateBy prepares and stores a new unit written by by, with its author record and what
// rec records, in one transaction. A person's unit created as submitted must be complete
// (riskmap.Unit.CheckComplete).
func (s *Service) CreateBy(ctx context.Context, by *riskmap.User, u *riskmap.Unit, rec Recorder) error {
	if err := checkStatus(by, u.Status); err != nil {
		return err
	}
	if err := s.prepare(ctx, u, nil, func() error {
		if by != nil && !riskmap.CanEdit(by, u.Category, u.RegionCode) {
			return forbidden("类别 %s、区域 %s 的风险单元不在你的权限范围内", u.Category, u.RegionCode)
		}
		return s.checkPlace(by, u)
	}); err != nil {
		return err
	}
	if by != nil && u.Status == riskmap.StatusSubmitted {
		if err := s.checkRevision(u, "", true); err != nil {
			return err
		}
	}
	u.Author = name(by) // recorded with the revision, in the same transaction
	err := s.Store.CreateUnitRecorded(ctx, u, records(nil, func(u *riskmap.Unit) *riskmap.UnitAuthor {
		a := &riskmap.UnitAuthor{UnitID: u.ID, CreatedBy: name(by), UpdatedBy: name(by)}
		if u.Status == riskmap.StatusSubmitted {
			at := s.now()
			a.SubmittedBy, a.SubmittedAt = name(by), &at
		}
		if u.Status == riskmap.StatusApproved {
			a.ApprovedVersion = u.Version
		}
		return a
	}, rec))
	if err != nil {
		return err
	}
	return s.index(u)
}

// UpdateBy prepares and stores a new revision of unit u.ID written by by; u.Version is the
// version the writer last saw. Editing an approved unit leaves its approved revision in
// the approved register until the new one is approved.
//
// A revision that changes nothing (the same fields and status as the stored one, or an
// unchanged approved unit saved as a draft) is not written, whoever sends it: the Change's After is the
// stored unit, at its version, and u is set to it. A writer's revision whose grade is below
// the approved revision's needs u.DowngradeReason; one written as submitted must be
// complete (riskmap.Unit.CheckComplete).
func (s *Service) UpdateBy(ctx context.Context, by *riskmap.User, u *riskmap.Unit, rec Recorder) (Change, error) {
	// A writer may send an approved unit back as it is (its status approved): that writes
	// nothing. Any other revision marked approved is refused below, once it is known.
	keptApproved := by != nil && u.Status == riskmap.StatusApproved
	if !keptApproved {
		if err := checkStatus(by, u.Status); err != nil {
			return Change{}, err
		}
	}
	before, err := s.load(ctx, by, u.ID)
	if err != nil {
		return Change{}, err
	}
	if before.Status == riskmap.StatusRetired {
		return Change{}, riskmap.Errorf(riskmap.ECONFLICT, "风险单元 %d 已注销，不能再修改", u.ID)
	}
	if err := s.prepare(ctx, u, before, func() error {
		if by != nil && !riskmap.CanEdit(by, u.Category, u.RegionCode) {
			return forbidden("把风险单元 %d 改为类别 %s、区域 %s 会使它超出你的权限范围", u.ID, u.Category, u.RegionCode)
		}
		return s.checkPlace(by, u)
	}); err != nil {
		return Change{}, err
	}
	a, err := s.author(ctx, u.ID)
	if err != nil {
		return Change{}, err
	}
	if before.Version == u.Version && unchanged(before, u) {
		*u = *before
		return Change{Before: before, After: before}, nil
	}
	if keptApproved {
		return Change{}, checkStatus(by, u.Status)
	}
	approvedGrade := a.ApprovedGrade
	if before.Status == riskmap.StatusApproved {
		approvedGrade = before.Grade
	}
	if by != nil {
		if err := s.checkRevision(u, approvedGrade, u.Status == riskmap.StatusSubmitted); err != nil {
			return Change{}, err
		}
	}
	lowered := riskmap.Lowered(u.Grade, approvedGrade)
	var approvedFeature string
	if before.Status == riskmap.StatusApproved {
		approvedFeature = string(featurejson.Encode(before))
	}
	u.Author = name(by) // recorded with the revision: a reviewer never sees it without
	err = s.Store.UpdateUnitRecorded(ctx, u, records(before, func(u *riskmap.Unit) *riskmap.UnitAuthor {
		a.UnitID, a.UpdatedBy = u.ID, name(by)
		if before.Status == riskmap.StatusApproved {
			a.ApprovedVersion = before.Version // also for units approved by a seed, which has no record
			a.ApprovedGrade, a.Approved = before.Grade, approvedFeature
		}
		a.SubmittedBy, a.SubmittedAt, a.ReviewedBy, a.ReviewedAt = "", nil, "", nil
		// A new revision replaces a retirement request.
		a.RetireReason, a.RetireRequestedBy, a.RetireRequestedAt = "", "", nil
		switch {
		case !lowered:
			a.DowngradeReason = ""
		case u.DowngradeReason != "":
			a.DowngradeReason = u.DowngradeReason
		}
		if u.Status == riskmap.StatusSubmitted {
			at := s.now()
			a.SubmittedBy, a.SubmittedAt = name(by), &at
		}
		if u.Status == riskmap.StatusApproved {
			a.ApprovedVersion = u.Version // the system's own approval (a seed, an import)
			a.ApprovedGrade, a.Approved, a.DowngradeReason = u.Grade, "", ""
		}
		return a
	}, rec))
	if err != nil {
		return Change{}, err
	}
	return Change{Before: before, After: u}, s.index(u)
}

// unchanged reports whether revision u, prepared, holds what the stored before holds: the
// same fields and status, or before approved and u an unchanged draft of it.
func unchanged(before, u *riskmap.Unit) bool {
	if u.Status != before.Status && (before.Status != riskmap.StatusApproved || u.Status != riskmap.StatusDraft) {
		return false
	}
	x := *u
	x.ID, x.Version, x.Status, x.CreatedAt, x.UpdatedAt = before.ID, before.Version, before.Status, before.CreatedAt, before.UpdatedAt
	return bytes.Equal(featurejson.Encode(&x), featurejson.Encode(before))
}

// checkRevision refuses a writer's revision whose grade is below approvedGrade without a
// reason, and, when it goes to review, one that is not complete. It lists every problem.
func (s *Service) checkRevision(u *riskmap.Unit, approvedGrade riskmap.Grade, submitting bool) error {
	var p riskmap.Problems
	if submitting {
		p = u.CheckComplete()
	}
	if riskmap.Lowered(u.Grade, approvedGrade) && u.DowngradeReason == "" {
		p.Add("downgrade_reason", "等级由已审核版本的%s降为%s，请填写降级理由", approvedGrade.Label(), u.Grade.Label())
	}
	return p.Err()
}

// Note is what a person writes with a review action: the reviewer's comment (审核意见) on
// approve and reject, the reason (注销理由) of a retirement, and the reason (降级理由) a
// submitted revision's grade is below the approved one's.
type Note struct {
	Comment         string
	Reason          string
	DowngradeReason string
}

func (n Note) check(reasonRequired bool) error {
	var p riskmap.Problems
	riskmap.CheckReason(&p, "comment", n.Comment, "审核意见", false)
	riskmap.CheckReason(&p, "reason", n.Reason, "注销理由", reasonRequired)
	riskmap.CheckReason(&p, "downgrade_reason", n.DowngradeReason, "降级理由", false)
	return p.Err()
}

// loadAt returns the unit by may work on at version, with its author record.
func (s *Service) loadAt(ctx context.Context, by *riskmap.User, id, version int64) (*riskmap.Unit, *riskmap.UnitAuthor, error) {
	before, err := s.load(ctx, by, id)
	if err != nil {
		return nil, nil, err
	}
	if before.Version != version {
		return nil, nil, riskmap.Errorf(riskmap.EPRECONDITION, "风险单元 %d 在第 %d 版之后已被他人修改；请重新加载", id, version)
	}
	a, err := s.author(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	a.UnitID = id
	if a.ApprovedVersion == 0 && before.Status == riskmap.StatusApproved {
		a.ApprovedVersion, a.ApprovedGrade = before.Version, before.Grade // approved by a seed or import
	}
	return before, a, nil
}

// move writes before again with status to, as a new version. author is who the revision
// is written by ("" keeps its author); record fills the author record a.
func (s *Service) move(ctx context.Context, before *riskmap.Unit, a *riskmap.UnitAuthor, to riskmap.Status, author string, record func(a *riskmap.UnitAuthor, u *riskmap.Unit), rec Recorder) (Change, error) {
	after := *before
	after.Status = to
	after.Author = author
	err := s.Store.UpdateUnitRecorded(ctx, &after, records(before, func(u *riskmap.Unit) *riskmap.UnitAuthor {
		record(a, u)
		return a
	}, rec))
	if err != nil {
		return Change{}, err
	}
	return Change{Before: before, After: &after}, s.index(&after)
}

// Submit sends a draft for review. A person's draft must be complete, and one whose
// grade is below the approved revision's needs a reason: recorded when it was saved, or
// n.DowngradeReason.
func (s *Service) Submit(ctx context.Context, by *riskmap.User, id, version int64, n Note, rec Recorder) (Change, error) {
	if err := n.check(false); err != nil {
		return Change{}, err
	}
	before, a, err := s.loadAt(ctx, by, id, version)
	if err != nil {
		return Change{}, err
	}
	if before.Status != riskmap.StatusDraft {
		return Change{}, riskmap.Errorf(riskmap.ECONFLICT, "只有草稿可以提交审核；风险单元 %d 现为%s", id, before.Status.Label())
	}
	reason := strings.TrimSpace(n.DowngradeReason)
	if reason == "" {
		reason = a.DowngradeReason
	}
	if by != nil {
		check := *before
		check.DowngradeReason = reason
		if err := s.checkRevision(&check, a.ApprovedGrade, true); err != nil {
			return Change{}, err
		}
	}
	return s.move(ctx, before, a, riskmap.StatusSubmitted, "", func(a *riskmap.UnitAuthor, _ *riskmap.Unit) {
		at := s.now()
		a.SubmittedBy, a.SubmittedAt = name(by), &at
		if riskmap.Lowered(before.Grade, a.ApprovedGrade) {
			a.DowngradeReason = reason
		}
	}, rec)
}

func (s *Service) reviewCheck(by *riskmap.User, id int64, u *riskmap.Unit, a *riskmap.UnitAuthor) error {
	if u.Status != riskmap.StatusSubmitted {
		return riskmap.Errorf(riskmap.ECONFLICT, "只有待审核的单元可以审核；风险单元 %d 现为%s", id, u.Status.Label())
	}
	if by != nil && !riskmap.CanReview(by, a.UpdatedBy) {
		if by.Role == riskmap.RoleDepartment {
			return forbidden("只有专家和管理员可以审核")
		}
		if a.RetirePending() {
			return forbidden("您申请注销风险单元 %d；须由另一位评估专家或管理员审核", id)
		}
		return forbidden("风险单元 %d 的这一版由你填写，须由另一位专家或管理员审核", id)
	}
	return nil
}

// reviewing loads the submitted revision id at version that by decides on with the note n
// (a comment, no reason), and checks that by may review it.
func (s *Service) reviewing(ctx context.Context, by *riskmap.User, id, version int64, n Note) (*riskmap.Unit, *riskmap.UnitAuthor, error) {
	if err := n.check(false); err != nil {
		return nil, nil, err
	}
	before, a, err := s.loadAt(ctx, by, id, version)
	if err != nil {
		return nil, nil, err
	}
	if err := s.reviewCheck(by, id, before, a); err != nil {
		return nil, nil, err
	}
	return before, a, nil
}

// Approve approves a submitted revision with the reviewer's comment n.Comment. When
// the revision is a retirement request, approving it retires the unit: it leaves the
// active and the approved register.
func (s *Service) Approve(ctx context.Context, by *riskmap.User, id, version int64, n Note, rec Recorder) (Change, error) {
	before, a, err := s.reviewing(ctx, by, id, version, n)
	if err != nil {
		return Change{}, err
	}
	if a.RetirePending() {
		at := s.now()
		a.ReviewedBy, a.ReviewedAt, a.Comment = name(by), &at, strings.TrimSpace(n.Comment)
		after, err := s.Store.RetireUnitRecorded(ctx, id, version, records(before, func(*riskmap.Unit) *riskmap.UnitAuthor { return a }, rec))
		if err != nil {
			return Change{}, err
		}
		return Change{Before: before, After: after}, s.index(after)
	}
	return s.move(ctx, before, a, riskmap.StatusApproved, "", func(a *riskmap.UnitAuthor, u *riskmap.Unit) {
		at := s.now()
		a.ReviewedBy, a.ReviewedAt, a.ApprovedVersion = name(by), &at, u.Version
		a.Comment, a.ApprovedGrade, a.Approved = strings.TrimSpace(n.Comment), u.Grade, ""
	}, rec)
}

// Reject sends a submitted revision back to draft, with the reviewer's comment
// n.Comment. Rejecting a retirement request keeps the unit: it goes back to approved when
// the request was made on its approved revision, to draft otherwise.
func (s *Service) Reject(ctx context.Context, by *riskmap.User, id, version int64, n Note, rec Recorder) (Change, error) {
	before, a, err := s.reviewing(ctx, by, id, version, n)
	if err != nil {
		return Change{}, err
	}
	to := riskmap.StatusDraft
	if a.RetirePending() && a.ApprovedVersion == before.Version-1 {
		to = riskmap.StatusApproved
	}
	return s.move(ctx, before, a, to, "", func(a *riskmap.UnitAuthor, u *riskmap.Unit) {
		at := s.now()
		a.ReviewedBy, a.ReviewedAt, a.Comment = name(by), &at, strings.TrimSpace(n.Comment)
		a.RetireReason, a.RetireRequestedBy, a.RetireRequestedAt = "", "", nil
		if to == riskmap.StatusApproved {
			a.ApprovedVersion, a.ApprovedGrade, a.Approved = u.Version, u.Grade, ""
		}
	}, rec)
}

// Retire retires a unit at version, or asks for its retirement.
//
// The system (a nil by) and the author of a unit that was never approved retire it at
// once: it leaves the register's active set. Nothing is erased. Anyone else, and everyone
// for a unit with an approved revision, makes a retirement request with a reason
// (n.Reason, 注销理由): a new submitted revision of the unit, written by the requester,
// which another expert or admin approves (the unit is retired) or rejects (it stays). The
// approved revision stays in the approved register meanwhile. The Change's After tells
// which happened: retired, or submitted.
func (s *Service) Retire(ctx context.Context, by *riskmap.User, id, version int64, n Note, rec Recorder) (Change, error) {
	before, err := s.load(ctx, by, id)
	if err != nil {
		return Change{}, err
	}
	if before.Status == riskmap.StatusRetired {
		return Change{}, riskmap.Errorf(riskmap.ECONFLICT, "风险单元 %d 已注销，不能再次注销", id)
	}
	a, err := s.author(ctx, id)
	if err != nil {
		return Change{}, err
	}
	a.UnitID = id
	if a.ApprovedVersion == 0 && before.Status == riskmap.StatusApproved {
		a.ApprovedVersion, a.ApprovedGrade = before.Version, before.Grade
	}
	direct := by == nil || (a.ApprovedVersion == 0 && !a.RetirePending() && (by.Name == a.CreatedBy || by.Name == a.UpdatedBy))
	if direct {
		if err := n.check(false); err != nil {
			return Change{}, err
		}
		after, err := s.Store.RetireUnitRecorded(ctx, id, version, records(before, nil, rec))
		if err != nil {
			return Change{}, err
		}
		return Change{Before: before, After: after}, s.index(after)
	}
	if err := n.check(true); err != nil {
		return Change{}, err
	}
	if before.Version != version {
		return Change{}, riskmap.Errorf(riskmap.EPRECONDITION, "风险单元 %d 在第 %d 版之后已被他人修改；请重新加载", id, version)
	}
	if a.RetirePending() {
		return Change{}, riskmap.Errorf(riskmap.ECONFLICT, "风险单元 %d 已有注销申请待审核", id)
	}
	return s.move(ctx, before, a, riskmap.StatusSubmitted, name(by), func(a *riskmap.UnitAuthor, _ *riskmap.Unit) {
		at := s.now()
		a.UpdatedBy = name(by)
		a.SubmittedBy, a.SubmittedAt, a.ReviewedBy, a.ReviewedAt = name(by), &at, "", nil
		a.RetireReason, a.RetireRequestedBy, a.RetireRequestedAt = strings.TrimSpace(n.Reason), name(by), &at
	}, rec)
}
