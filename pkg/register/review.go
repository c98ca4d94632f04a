package register

import (
	"context"
	"strings"
	"time"

	"github.com/paulmach/orb"

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

func (s *Service) now() time.Time { return s.Now().UTC() }

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
// rec records, in one transaction.
func (s *Service) CreateBy(ctx context.Context, by *riskmap.User, u *riskmap.Unit, rec Recorder) error {
	if err := checkStatus(by, u.Status); err != nil {
		return err
	}
	if err := s.prepare(ctx, u, func() error {
		if by != nil && !riskmap.CanEdit(by, u.Category, u.RegionCode) {
			return forbidden("类别 %s、区域 %s 的风险单元不在你的权限范围内", u.Category, u.RegionCode)
		}
		return s.checkPlace(by, u)
	}); err != nil {
		return err
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
func (s *Service) UpdateBy(ctx context.Context, by *riskmap.User, u *riskmap.Unit, rec Recorder) (Change, error) {
	if err := checkStatus(by, u.Status); err != nil {
		return Change{}, err
	}
	before, err := s.load(ctx, by, u.ID)
	if err != nil {
		return Change{}, err
	}
	if before.Status == riskmap.StatusRetired {
		return Change{}, riskmap.Errorf(riskmap.ECONFLICT, "风险单元 %d 已注销，不能再修改", u.ID)
	}
	if err := s.prepare(ctx, u, func() error {
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
	u.Author = name(by) // recorded with the revision: a reviewer never sees it without
	err = s.Store.UpdateUnitRecorded(ctx, u, records(before, func(u *riskmap.Unit) *riskmap.UnitAuthor {
		a.UnitID, a.UpdatedBy = u.ID, name(by)
		if before.Status == riskmap.StatusApproved {
			a.ApprovedVersion = before.Version // also for units approved by a seed, which has no record
		}
		a.SubmittedBy, a.SubmittedAt, a.ReviewedBy, a.ReviewedAt = "", nil, "", nil
		if u.Status == riskmap.StatusSubmitted {
			at := s.now()
			a.SubmittedBy, a.SubmittedAt = name(by), &at
		}
		if u.Status == riskmap.StatusApproved {
			a.ApprovedVersion = u.Version // the system's own approval (a seed, an import)
		}
		return a
	}, rec))
	if err != nil {
		return Change{}, err
	}
	return Change{Before: before, After: u}, s.index(u)
}

// transition moves a unit at version to status to after check approves.
func (s *Service) transition(ctx context.Context, by *riskmap.User, id, version int64, check func(u *riskmap.Unit, a *riskmap.UnitAuthor) error, to riskmap.Status, record func(a *riskmap.UnitAuthor, u *riskmap.Unit), rec Recorder) (Change, error) {
	before, err := s.load(ctx, by, id)
	if err != nil {
		return Change{}, err
	}
	if before.Version != version {
		return Change{}, riskmap.Errorf(riskmap.EPRECONDITION, "风险单元 %d 在第 %d 版之后已被他人修改；请重新加载", id, version)
	}
	a, err := s.author(ctx, id)
	if err != nil {
		return Change{}, err
	}
	a.UnitID = id
	if err := check(before, a); err != nil {
		return Change{}, err
	}
	after := *before
	after.Status = to
	after.Author = "" // a review transition changes the status, not who wrote the revision
	err = s.Store.UpdateUnitRecorded(ctx, &after, records(before, func(u *riskmap.Unit) *riskmap.UnitAuthor {
		record(a, u)
		return a
	}, rec))
	if err != nil {
		return Change{}, err
	}
	return Change{Before: before, After: &after}, s.index(&after)
}

// Submit sends a draft for review.
func (s *Service) Submit(ctx context.Context, by *riskmap.User, id, version int64, rec Recorder) (Change, error) {
	return s.transition(ctx, by, id, version, func(u *riskmap.Unit, _ *riskmap.UnitAuthor) error {
		if u.Status != riskmap.StatusDraft {
			return riskmap.Errorf(riskmap.ECONFLICT, "只有草稿可以提交审核；风险单元 %d 现为%s", id, u.Status.Label())
		}
		return nil
	}, riskmap.StatusSubmitted, func(a *riskmap.UnitAuthor, _ *riskmap.Unit) {
		at := s.now()
		a.SubmittedBy, a.SubmittedAt = name(by), &at
	}, rec)
}

func (s *Service) reviewCheck(by *riskmap.User, id int64) func(u *riskmap.Unit, a *riskmap.UnitAuthor) error {
	return func(u *riskmap.Unit, a *riskmap.UnitAuthor) error {
		if u.Status != riskmap.StatusSubmitted {
			return riskmap.Errorf(riskmap.ECONFLICT, "只有待审核的单元可以审核；风险单元 %d 现为%s", id, u.Status.Label())
		}
		if by != nil && !riskmap.CanReview(by, a.UpdatedBy) {
			if by.Role == riskmap.RoleDepartment {
				return forbidden("只有专家和管理员可以审核")
			}
			return forbidden("风险单元 %d 的这一版由你填写，须由另一位专家或管理员审核", id)
		}
		return nil
	}
}

// Approve approves a submitted revision: it enters the approved register, and the next
// publication carries it.
func (s *Service) Approve(ctx context.Context, by *riskmap.User, id, version int64, rec Recorder) (Change, error) {
	return s.transition(ctx, by, id, version, s.reviewCheck(by, id), riskmap.StatusApproved, func(a *riskmap.UnitAuthor, u *riskmap.Unit) {
		at := s.now()
		a.ReviewedBy, a.ReviewedAt, a.ApprovedVersion = name(by), &at, u.Version
	}, rec)
}

// Reject sends a submitted revision back to draft.
func (s *Service) Reject(ctx context.Context, by *riskmap.User, id, version int64, rec Recorder) (Change, error) {
	return s.transition(ctx, by, id, version, s.reviewCheck(by, id), riskmap.StatusDraft, func(a *riskmap.UnitAuthor, _ *riskmap.Unit) {
		at := s.now()
		a.ReviewedBy, a.ReviewedAt = name(by), &at
	}, rec)
}

// Retire retires a unit at version: it leaves the register's active set and the approved
// register. Nothing is erased.
func (s *Service) Retire(ctx context.Context, by *riskmap.User, id, version int64, rec Recorder) (Change, error) {
	before, err := s.load(ctx, by, id)
	if err != nil {
		return Change{}, err
	}
	if before.Status == riskmap.StatusRetired {
		return Change{}, riskmap.Errorf(riskmap.ECONFLICT, "单元 %d 已退役，不能再次退役", id)
	}
	after, err := s.Store.RetireUnitRecorded(ctx, id, version, records(before, nil, rec))
	if err != nil {
		return Change{}, err
	}
	return Change{Before: before, After: after}, s.index(after)
}
