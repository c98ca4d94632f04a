package register_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
)

// The review workflow's table: every write the service offers (create, edit, submit,
// approve, reject, retire), by every role, from every state a unit can be in, against both
// stores. A case names its outcome; what it checks is what a user would see afterwards:
// the error code, the unit's status, version and author, and what the approved register
// (the next publication) holds of it. A refused write must change none of these.

// The people in the table. rev approves in the cases' histories and acts in none.
var (
	rvAdmin  = &riskmap.User{Name: "adm", Role: riskmap.RoleAdmin}
	rvAlice  = &riskmap.User{Name: "alice", Role: riskmap.RoleExpert}
	rvBob    = &riskmap.User{Name: "bob", Role: riskmap.RoleExpert}
	rvRev    = &riskmap.User{Name: "rev", Role: riskmap.RoleExpert}
	rvGone   = &riskmap.User{Name: "gone", Role: riskmap.RoleExpert, Disabled: true}
	rvGoneAd = &riskmap.User{Name: "gonead", Role: riskmap.RoleAdmin, Disabled: true}
	// rvDept's scope holds the table's units: hazardous chemicals in 凤麓街道.
	rvDept = &riskmap.User{Name: "yjj", Role: riskmap.RoleDepartment, Department: "应急局",
		Categories: []string{"hazardous_chemicals"}, Regions: []string{"530481001"}}
	// rvDeptCat has the region but not the category, rvDeptReg the category but not the region.
	rvDeptCat = &riskmap.User{Name: "zjj", Role: riskmap.RoleDepartment, Department: "住建局",
		Categories: []string{"construction"}, Regions: []string{"530481"}}
	rvDeptReg = &riskmap.User{Name: "yjj2", Role: riskmap.RoleDepartment, Department: "应急局",
		Categories: []string{"hazardous_chemicals"}, Regions: []string{"530402"}}
	// rvSystem is the command line, seed and import: nil, which the rules do not restrict.
	rvSystem *riskmap.User
)

// rvLocate places points west of 103° in 凤麓街道's community and the rest in another
// district, so that a department's unit can declare one region and lie in another.
func rvLocate(p orb.Point) string {
	if p[0] < 103 {
		return "530481001001"
	}
	return "530402001001"
}

type rvOp int

const (
	rvOpCreate rvOp = iota
	rvOpEdit
	rvOpSubmit
	rvOpApprove
	rvOpReject
	rvOpRetire
)

func (k rvOp) String() string {
	return [...]string{"create", "edit", "submit", "approve", "reject", "retire"}[k]
}

// rvStep is one write: by whom, and for create and edit the status written and what else
// the writer changes.
type rvStep struct {
	op      rvOp
	by      *riskmap.User
	status  riskmap.Status
	change  func(u *riskmap.Unit)
	old     bool // names the version before the current one (a stale If-Match)
	missing bool // names a unit that does not exist
	// note is what the person writes with a review action; a retirement has a reason
	// unless bare.
	note register.Note
	bare bool
}

func rvCreate(by *riskmap.User) rvStep       { return rvStep{op: rvOpCreate, by: by} }
func rvEdit(by *riskmap.User) rvStep         { return rvStep{op: rvOpEdit, by: by} }
func rvSubmit(by *riskmap.User) rvStep       { return rvStep{op: rvOpSubmit, by: by} }
func rvApprove(by *riskmap.User) rvStep      { return rvStep{op: rvOpApprove, by: by} }
func rvReject(by *riskmap.User) rvStep       { return rvStep{op: rvOpReject, by: by} }
func rvRetire(by *riskmap.User) rvStep       { return rvStep{op: rvOpRetire, by: by} }
func (s rvStep) as(st riskmap.Status) rvStep { s.status = st; return s }
func (s rvStep) stale() rvStep               { s.old = true; return s }
func (s rvStep) unknown() rvStep             { s.missing = true; return s }
func (s rvStep) noReason() rvStep            { s.bare = true; return s }
func (s rvStep) noted(n register.Note) rvStep {
	s.note = n
	return s
}
func (s rvStep) with(f func(u *riskmap.Unit)) rvStep {
	s.change = f
	return s
}

// Histories the cases start from. The author writes and submits; rev approves.
func rvDrafted(author *riskmap.User) []rvStep { return []rvStep{rvCreate(author)} }
func rvSubmitted(author *riskmap.User) []rvStep {
	return []rvStep{rvCreate(author), rvSubmit(author)}
}
func rvApproved(author *riskmap.User) []rvStep {
	return []rvStep{rvCreate(author), rvSubmit(author), rvApprove(rvRev)}
}

// rvRedrafted is an approved unit edited since: a draft with an approved revision behind it.
func rvRedrafted(author *riskmap.User) []rvStep { return append(rvApproved(author), rvEdit(author)) }
func rvResubmitted(author *riskmap.User) []rvStep {
	return append(rvApproved(author), rvEdit(author), rvSubmit(author))
}

// rvRetireAsked is an approved unit whose retirement the author asked for.
func rvRetireAsked(author *riskmap.User) []rvStep {
	return append(rvApproved(author), rvRetire(author))
}
func rvRetired(author *riskmap.User) []rvStep {
	return append(rvRetireAsked(author), rvApprove(rvRev))
}

// rvLowered lowers the unit's grade from the fixture's yellow to blue.
func rvLowered(u *riskmap.Unit) { u.Assessment.Likelihood, u.Assessment.Severity = 1, 1 }

// rvReg is what the approved register holds of the unit after a successful write.
type rvReg int

const (
	rvRegNone rvReg = iota // nothing
	rvRegKept              // the revision it held before the write
	rvRegThis              // the revision just written
)

type rvCase struct {
	name  string
	given []rvStep // nil: no unit yet (for create)
	do    rvStep
	// want is the error code; "" is success, which must leave the unit in status, with its
	// current revision written by author, and the register holding reg.
	want   string
	fields []string // for EINVALID, the fields named
	status riskmap.Status
	author string
	reg    rvReg
	// bug, when set, says why the case fails today; the case is skipped with it.
	bug string
}

var rvCases = []rvCase{
	// Create.
	{name: "OK", do: rvCreate(rvAlice), status: riskmap.StatusDraft, author: "alice", reg: rvRegNone},
	{name: "OK/Submitted", do: rvCreate(rvAlice).as(riskmap.StatusSubmitted), status: riskmap.StatusSubmitted, author: "alice", reg: rvRegNone},
	{name: "OK/Admin", do: rvCreate(rvAdmin), status: riskmap.StatusDraft, author: "adm", reg: rvRegNone},
	{name: "OK/DepartmentInScope", do: rvCreate(rvDept).as(riskmap.StatusSubmitted), status: riskmap.StatusSubmitted, author: "yjj", reg: rvRegNone},
	{name: "OK/SystemApproved", do: rvCreate(rvSystem).as(riskmap.StatusApproved), status: riskmap.StatusApproved, author: "", reg: rvRegThis},
	{name: "ErrApprovedByWriting/Expert", do: rvCreate(rvAlice).as(riskmap.StatusApproved), want: riskmap.EFORBIDDEN},
	{name: "ErrApprovedByWriting/Admin", do: rvCreate(rvAdmin).as(riskmap.StatusApproved), want: riskmap.EFORBIDDEN},
	{name: "ErrApprovedByWriting/Department", do: rvCreate(rvDept).as(riskmap.StatusApproved), want: riskmap.EFORBIDDEN},
	{name: "ErrRetiredByWriting", do: rvCreate(rvAlice).as(riskmap.StatusRetired), want: riskmap.EINVALID},
	{name: "ErrUnknownStatus", do: rvCreate(rvAlice).as("published"), want: riskmap.EINVALID, fields: []string{"status"}},
	{name: "ErrOutsideScope/Category", do: rvCreate(rvDeptCat), want: riskmap.EFORBIDDEN},
	{name: "ErrOutsideScope/Region", do: rvCreate(rvDeptReg), want: riskmap.EFORBIDDEN},
	{name: "ErrOutsideScope/Placed", do: rvCreate(rvDept).with(func(u *riskmap.Unit) { u.Geometry = orb.Point{103.2, 24.4} }), want: riskmap.EFORBIDDEN},
	{name: "ErrDisabled", do: rvCreate(rvGone), want: riskmap.EFORBIDDEN},
	{name: "ErrInvalid", do: rvCreate(rvAlice).with(func(u *riskmap.Unit) { u.Name, u.Assessment.Severity = " ", 6 }), want: riskmap.EINVALID, fields: []string{"name", "assessment.severity"}},
	{name: "ErrIncompleteSubmitted", do: rvCreate(rvAlice).as(riskmap.StatusSubmitted).with(func(u *riskmap.Unit) { u.ContactPerson, u.Controls.Training = "", nil }), want: riskmap.EINVALID, fields: []string{"contact_person", "controls.training"}},
	{name: "OK/IncompleteDraft", do: rvCreate(rvAlice).with(func(u *riskmap.Unit) { u.ContactPerson = "" }), status: riskmap.StatusDraft, author: "alice", reg: rvRegNone},
	{name: "ErrDuplicateCode", given: []rvStep{rvCreate(rvAlice).with(rvCode("R-DUP"))}, do: rvCreate(rvBob).with(rvCode("R-DUP")), want: riskmap.ECONFLICT},

	// Edit.
	{name: "OK", given: rvDrafted(rvAlice), do: rvEdit(rvAlice), status: riskmap.StatusDraft, author: "alice", reg: rvRegNone},
	{name: "OK/AnotherExpertBecomesAuthor", given: rvDrafted(rvAlice), do: rvEdit(rvBob), status: riskmap.StatusDraft, author: "bob", reg: rvRegNone},
	{name: "OK/Submitted", given: rvDrafted(rvAlice), do: rvEdit(rvAlice).as(riskmap.StatusSubmitted), status: riskmap.StatusSubmitted, author: "alice", reg: rvRegNone},
	{name: "OK/SubmittedBackToDraft", given: rvSubmitted(rvAlice), do: rvEdit(rvAlice), status: riskmap.StatusDraft, author: "alice", reg: rvRegNone},
	{name: "OK/ApprovedMakesDraft", given: rvApproved(rvAlice), do: rvEdit(rvAlice), status: riskmap.StatusDraft, author: "alice", reg: rvRegKept},
	{name: "OK/ApprovedMakesSubmitted", given: rvApproved(rvAlice), do: rvEdit(rvBob).as(riskmap.StatusSubmitted), status: riskmap.StatusSubmitted, author: "bob", reg: rvRegKept},
	{name: "OK/DepartmentInScope", given: rvApproved(rvDept), do: rvEdit(rvDept), status: riskmap.StatusDraft, author: "yjj", reg: rvRegKept},
	{name: "OK/DepartmentEditsExpertsUnit", given: rvDrafted(rvAlice), do: rvEdit(rvDept), status: riskmap.StatusDraft, author: "yjj", reg: rvRegNone},
	{name: "OK/SystemApproved", given: rvRedrafted(rvAlice), do: rvEdit(rvSystem).as(riskmap.StatusApproved), status: riskmap.StatusApproved, author: "alice", reg: rvRegThis},
	{name: "ErrApprovedByWriting/Expert", given: rvSubmitted(rvAlice), do: rvEdit(rvBob).as(riskmap.StatusApproved), want: riskmap.EFORBIDDEN},
	{name: "ErrApprovedByWriting/Admin", given: rvRedrafted(rvAlice), do: rvEdit(rvAdmin).as(riskmap.StatusApproved), want: riskmap.EFORBIDDEN},
	{name: "ErrRetiredByWriting", given: rvApproved(rvAlice), do: rvEdit(rvAlice).as(riskmap.StatusRetired), want: riskmap.EINVALID},
	{name: "ErrStaleVersion", given: rvSubmitted(rvAlice), do: rvEdit(rvBob).stale(), want: riskmap.EPRECONDITION},
	{name: "ErrStaleVersion/Approved", given: rvApproved(rvAlice), do: rvEdit(rvAlice).stale(), want: riskmap.EPRECONDITION},
	{name: "ErrRetired", given: rvRetired(rvAlice), do: rvEdit(rvAlice), want: riskmap.ECONFLICT},
	{name: "ErrRetired/System", given: rvRetired(rvAlice), do: rvEdit(rvSystem), want: riskmap.ECONFLICT},
	{name: "ErrOutsideScope/Category", given: rvDrafted(rvAlice), do: rvEdit(rvDeptCat), want: riskmap.EFORBIDDEN},
	{name: "ErrOutsideScope/Region", given: rvApproved(rvAlice), do: rvEdit(rvDeptReg), want: riskmap.EFORBIDDEN},
	{name: "ErrOutsideScope/MovedOut", given: rvDrafted(rvDept), do: rvEdit(rvDept).with(func(u *riskmap.Unit) { u.RegionCode = "530402001001" }), want: riskmap.EFORBIDDEN},
	{name: "ErrOutsideScope/PlacedOut", given: rvDrafted(rvDept), do: rvEdit(rvDept).with(func(u *riskmap.Unit) { u.Geometry = orb.Point{103.2, 24.4} }), want: riskmap.EFORBIDDEN},
	{name: "ErrDisabled", given: rvDrafted(rvAlice), do: rvEdit(rvGone), want: riskmap.EFORBIDDEN},
	{name: "ErrNotFound", given: rvDrafted(rvAlice), do: rvEdit(rvAlice).unknown(), want: riskmap.ENOTFOUND},
	{name: "ErrInvalid", given: rvApproved(rvAlice), do: rvEdit(rvAlice).with(func(u *riskmap.Unit) { u.Assessment.Likelihood = 0 }), want: riskmap.EINVALID, fields: []string{"assessment.likelihood"}},

	// Submit.
	{name: "OK", given: rvDrafted(rvAlice), do: rvSubmit(rvAlice), status: riskmap.StatusSubmitted, author: "alice", reg: rvRegNone},
	{name: "OK/SomeoneElseKeepsAuthor", given: rvDrafted(rvAlice), do: rvSubmit(rvBob), status: riskmap.StatusSubmitted, author: "alice", reg: rvRegNone},
	{name: "OK/Redraft", given: rvRedrafted(rvAlice), do: rvSubmit(rvAlice), status: riskmap.StatusSubmitted, author: "alice", reg: rvRegKept},
	{name: "OK/DepartmentInScope", given: rvDrafted(rvDept), do: rvSubmit(rvDept), status: riskmap.StatusSubmitted, author: "yjj", reg: rvRegNone},
	{name: "OK/System", given: rvDrafted(rvAlice), do: rvSubmit(rvSystem), status: riskmap.StatusSubmitted, author: "alice", reg: rvRegNone},
	{name: "ErrNotDraft/Submitted", given: rvSubmitted(rvAlice), do: rvSubmit(rvAlice), want: riskmap.ECONFLICT},
	{name: "ErrNotDraft/Approved", given: rvApproved(rvAlice), do: rvSubmit(rvAlice), want: riskmap.ECONFLICT},
	{name: "ErrRetired", given: rvRetired(rvAlice), do: rvSubmit(rvAlice), want: riskmap.ECONFLICT},
	{name: "ErrStaleVersion", given: rvRedrafted(rvAlice), do: rvSubmit(rvAlice).stale(), want: riskmap.EPRECONDITION},
	{name: "ErrOutsideScope/Category", given: rvDrafted(rvAlice), do: rvSubmit(rvDeptCat), want: riskmap.EFORBIDDEN},
	{name: "ErrOutsideScope/Region", given: rvDrafted(rvDept), do: rvSubmit(rvDeptReg), want: riskmap.EFORBIDDEN},
	{name: "ErrDisabled", given: rvDrafted(rvAlice), do: rvSubmit(rvGone), want: riskmap.EFORBIDDEN},
	{name: "ErrNotFound", given: rvDrafted(rvAlice), do: rvSubmit(rvAlice).unknown(), want: riskmap.ENOTFOUND},

	// Approve: by an expert or admin other than the author of the revision.
	{name: "OK/AnotherExpert", given: rvSubmitted(rvAlice), do: rvApprove(rvBob), status: riskmap.StatusApproved, author: "alice", reg: rvRegThis},
	{name: "OK/Admin", given: rvSubmitted(rvAlice), do: rvApprove(rvAdmin), status: riskmap.StatusApproved, author: "alice", reg: rvRegThis},
	{name: "OK/ExpertApprovesAdmin", given: rvSubmitted(rvAdmin), do: rvApprove(rvAlice), status: riskmap.StatusApproved, author: "adm", reg: rvRegThis},
	{name: "OK/DepartmentsRevision", given: rvSubmitted(rvDept), do: rvApprove(rvAlice), status: riskmap.StatusApproved, author: "yjj", reg: rvRegThis},
	{name: "OK/System", given: rvSubmitted(rvAlice), do: rvApprove(rvSystem), status: riskmap.StatusApproved, author: "alice", reg: rvRegThis},
	{name: "OK/SystemWroteIt", given: rvSubmitted(rvSystem), do: rvApprove(rvAlice), status: riskmap.StatusApproved, author: "", reg: rvRegThis},
	{name: "OK/ReplacesApprovedRevision", given: rvResubmitted(rvAlice), do: rvApprove(rvBob), status: riskmap.StatusApproved, author: "alice", reg: rvRegThis},
	{name: "OK/SubmitterIsNotAuthor", given: []rvStep{rvCreate(rvAlice), rvSubmit(rvBob)}, do: rvApprove(rvBob), status: riskmap.StatusApproved, author: "alice", reg: rvRegThis},
	{name: "OK/FirstAuthorOfEditedRevision", given: []rvStep{rvCreate(rvAlice), rvSubmit(rvAlice), rvEdit(rvBob).as(riskmap.StatusSubmitted)}, do: rvApprove(rvAlice), status: riskmap.StatusApproved, author: "bob", reg: rvRegThis},
	{name: "ErrSelfApproval", given: rvSubmitted(rvAlice), do: rvApprove(rvAlice), want: riskmap.EFORBIDDEN},
	{name: "ErrSelfApproval/Admin", given: rvSubmitted(rvAdmin), do: rvApprove(rvAdmin), want: riskmap.EFORBIDDEN},
	{name: "ErrSelfApproval/Resubmitted", given: rvResubmitted(rvAlice), do: rvApprove(rvAlice), want: riskmap.EFORBIDDEN},
	{name: "ErrSelfApproval/EditorOfRevision", given: []rvStep{rvCreate(rvAlice), rvSubmit(rvAlice), rvEdit(rvBob).as(riskmap.StatusSubmitted)}, do: rvApprove(rvBob), want: riskmap.EFORBIDDEN},
	{name: "ErrSelfApproval/SubmittedByAnother", given: []rvStep{rvCreate(rvAlice), rvSubmit(rvBob)}, do: rvApprove(rvAlice), want: riskmap.EFORBIDDEN},
	{name: "ErrDepartmentReviews", given: rvSubmitted(rvAlice), do: rvApprove(rvDept), want: riskmap.EFORBIDDEN},
	{name: "ErrDepartmentReviews/Own", given: rvSubmitted(rvDept), do: rvApprove(rvDept), want: riskmap.EFORBIDDEN},
	{name: "ErrOutsideScope", given: rvSubmitted(rvAlice), do: rvApprove(rvDeptReg), want: riskmap.EFORBIDDEN},
	{name: "ErrDisabled", given: rvSubmitted(rvAlice), do: rvApprove(rvGone), want: riskmap.EFORBIDDEN},
	{name: "ErrDisabled/Admin", given: rvSubmitted(rvAlice), do: rvApprove(rvGoneAd), want: riskmap.EFORBIDDEN},
	{name: "ErrNotSubmitted/Draft", given: rvDrafted(rvAlice), do: rvApprove(rvBob), want: riskmap.ECONFLICT},
	{name: "ErrNotSubmitted/Redraft", given: rvRedrafted(rvAlice), do: rvApprove(rvBob), want: riskmap.ECONFLICT},
	{name: "ErrNotSubmitted/Approved", given: rvApproved(rvAlice), do: rvApprove(rvBob), want: riskmap.ECONFLICT},
	{name: "ErrNotSubmitted/System", given: rvDrafted(rvAlice), do: rvApprove(rvSystem), want: riskmap.ECONFLICT},
	{name: "ErrRetired", given: rvRetired(rvAlice), do: rvApprove(rvBob), want: riskmap.ECONFLICT},
	{name: "ErrStaleVersion", given: rvResubmitted(rvAlice), do: rvApprove(rvBob).stale(), want: riskmap.EPRECONDITION},
	{name: "ErrNotFound", given: rvSubmitted(rvAlice), do: rvApprove(rvBob).unknown(), want: riskmap.ENOTFOUND},

	// Reject: the same reviewers; the revision goes back to draft.
	{name: "OK", given: rvSubmitted(rvAlice), do: rvReject(rvBob), status: riskmap.StatusDraft, author: "alice", reg: rvRegNone},
	{name: "OK/Admin", given: rvSubmitted(rvAlice), do: rvReject(rvAdmin), status: riskmap.StatusDraft, author: "alice", reg: rvRegNone},
	{name: "OK/KeepsApprovedRevision", given: rvResubmitted(rvAlice), do: rvReject(rvBob), status: riskmap.StatusDraft, author: "alice", reg: rvRegKept},
	{name: "ErrSelfRejection", given: rvSubmitted(rvAlice), do: rvReject(rvAlice), want: riskmap.EFORBIDDEN},
	{name: "ErrDepartmentReviews", given: rvSubmitted(rvDept), do: rvReject(rvDept), want: riskmap.EFORBIDDEN},
	{name: "ErrOutsideScope", given: rvSubmitted(rvAlice), do: rvReject(rvDeptCat), want: riskmap.EFORBIDDEN},
	{name: "ErrNotSubmitted", given: rvDrafted(rvAlice), do: rvReject(rvBob), want: riskmap.ECONFLICT},
	{name: "ErrNotSubmitted/Approved", given: rvApproved(rvAlice), do: rvReject(rvBob), want: riskmap.ECONFLICT},
	{name: "ErrRetired", given: rvRetired(rvAlice), do: rvReject(rvBob), want: riskmap.ECONFLICT},
	{name: "ErrStaleVersion", given: rvSubmitted(rvAlice), do: rvReject(rvBob).stale(), want: riskmap.EPRECONDITION},

	// Lowering the grade of an approved unit needs a reason (降级理由); submitting needs a
	// complete unit.
	{name: "ErrLoweredWithoutReason", given: rvApproved(rvAlice), do: rvEdit(rvAlice).with(rvLowered), want: riskmap.EINVALID, fields: []string{"downgrade_reason"}},
	{name: "ErrLoweredWithoutReason/Redraft", given: rvRedrafted(rvAlice), do: rvEdit(rvBob).as(riskmap.StatusSubmitted).with(rvLowered), want: riskmap.EINVALID, fields: []string{"downgrade_reason"}},
	{name: "OK/LoweredWithReason", given: rvApproved(rvAlice), do: rvEdit(rvAlice).with(func(u *riskmap.Unit) { rvLowered(u); u.DowngradeReason = "已整改" }), status: riskmap.StatusDraft, author: "alice", reg: rvRegKept},
	{name: "OK/LoweredNeverApproved", given: rvDrafted(rvAlice), do: rvEdit(rvAlice).with(rvLowered), status: riskmap.StatusDraft, author: "alice", reg: rvRegNone},
	{name: "OK/LoweredBySystem", given: rvApproved(rvAlice), do: rvEdit(rvSystem).with(rvLowered), status: riskmap.StatusDraft, author: "alice", reg: rvRegKept},
	{name: "ErrIncompleteSubmitted", given: rvDrafted(rvAlice), do: rvEdit(rvAlice).as(riskmap.StatusSubmitted).with(func(u *riskmap.Unit) { u.Controls.PPE, u.ContactPhone, u.AssessedAt = nil, "", nil }), want: riskmap.EINVALID, fields: []string{"controls.ppe", "contact_phone", "assessed_at"}},
	{name: "OK/IncompleteDraft", given: rvDrafted(rvAlice), do: rvEdit(rvAlice).with(func(u *riskmap.Unit) { u.ResponsibleUnit = "" }), status: riskmap.StatusDraft, author: "alice", reg: rvRegNone},
	{name: "OK/ReplacesRetireRequest", given: rvRetireAsked(rvAlice), do: rvEdit(rvBob), status: riskmap.StatusDraft, author: "bob", reg: rvRegKept},
	{name: "ErrIncomplete", given: []rvStep{rvCreate(rvAlice).with(func(u *riskmap.Unit) { u.ResponsibleUnit, u.Controls.Emergency = "", nil })}, do: rvSubmit(rvAlice), want: riskmap.EINVALID, fields: []string{"responsible_unit", "controls.emergency"}},
	{name: "ErrLoweredWithoutReason", given: append(rvApproved(rvAlice), rvEdit(rvSystem).with(rvLowered)), do: rvSubmit(rvAlice), want: riskmap.EINVALID, fields: []string{"downgrade_reason"}},
	{name: "OK/LoweredReasonWithSubmit", given: append(rvApproved(rvAlice), rvEdit(rvSystem).with(rvLowered)), do: rvSubmit(rvAlice).noted(register.Note{DowngradeReason: "已整改"}), status: riskmap.StatusSubmitted, author: "alice", reg: rvRegKept},

	// A retirement request: another expert or admin approves it (the unit is retired) or
	// rejects it (the unit stays).
	{name: "OK/RetireRequest", given: rvRetireAsked(rvAlice), do: rvApprove(rvBob), status: riskmap.StatusRetired, author: "alice", reg: rvRegNone},
	{name: "OK/RetireRequestByDepartment", given: append(rvApproved(rvAlice), rvRetire(rvDept)), do: rvApprove(rvAlice), status: riskmap.StatusRetired, author: "yjj", reg: rvRegNone},
	{name: "ErrSelfApproval/RetireRequest", given: rvRetireAsked(rvAlice), do: rvApprove(rvAlice), want: riskmap.EFORBIDDEN},
	{name: "ErrDepartmentReviews/RetireRequest", given: rvRetireAsked(rvAlice), do: rvApprove(rvDept), want: riskmap.EFORBIDDEN},
	{name: "OK/RetireRequestKeepsApproved", given: rvRetireAsked(rvAlice), do: rvReject(rvBob), status: riskmap.StatusApproved, author: "alice", reg: rvRegThis},
	{name: "OK/RetireRequestOnRedraft", given: append(rvRedrafted(rvAlice), rvRetire(rvAlice)), do: rvReject(rvAdmin), status: riskmap.StatusDraft, author: "alice", reg: rvRegKept},
	{name: "ErrSelfRejection/RetireRequest", given: rvRetireAsked(rvAlice), do: rvReject(rvAlice), want: riskmap.EFORBIDDEN},

	// Retire: a unit never approved is retired at once by its author or the system; any
	// other retirement is a request for review, which needs a reason (注销理由).
	{name: "OK/DraftByAuthor", given: rvDrafted(rvAlice), do: rvRetire(rvAlice).noReason(), status: riskmap.StatusRetired, author: "alice", reg: rvRegNone},
	{name: "OK/SubmittedByAuthor", given: rvSubmitted(rvAlice), do: rvRetire(rvAlice), status: riskmap.StatusRetired, author: "alice", reg: rvRegNone},
	{name: "OK/Submitted", given: rvSubmitted(rvAlice), do: rvRetire(rvSystem), status: riskmap.StatusRetired, author: "alice", reg: rvRegNone},
	{name: "OK/ApprovedBySystem", given: rvApproved(rvAlice), do: rvRetire(rvSystem).noReason(), status: riskmap.StatusRetired, author: "alice", reg: rvRegNone},
	{name: "Request/DraftByAnother", given: rvDrafted(rvAlice), do: rvRetire(rvBob), status: riskmap.StatusSubmitted, author: "bob", reg: rvRegNone},
	{name: "Request/Approved", given: rvApproved(rvAlice), do: rvRetire(rvAlice), status: riskmap.StatusSubmitted, author: "alice", reg: rvRegKept},
	{name: "Request/Redraft", given: rvRedrafted(rvAlice), do: rvRetire(rvAdmin), status: riskmap.StatusSubmitted, author: "adm", reg: rvRegKept},
	{name: "Request/DepartmentInScope", given: rvApproved(rvAlice), do: rvRetire(rvDept), status: riskmap.StatusSubmitted, author: "yjj", reg: rvRegKept},
	{name: "ErrNoReason", given: rvApproved(rvAlice), do: rvRetire(rvAlice).noReason(), want: riskmap.EINVALID, fields: []string{"reason"}},
	{name: "ErrNoReason/Department", given: rvApproved(rvAlice), do: rvRetire(rvDept).noReason(), want: riskmap.EINVALID, fields: []string{"reason"}},
	{name: "ErrRequestPending", given: rvRetireAsked(rvAlice), do: rvRetire(rvBob), want: riskmap.ECONFLICT},
	{name: "ErrOutsideScope/Category", given: rvApproved(rvAlice), do: rvRetire(rvDeptCat), want: riskmap.EFORBIDDEN},
	{name: "ErrOutsideScope/Region", given: rvDrafted(rvDept), do: rvRetire(rvDeptReg), want: riskmap.EFORBIDDEN},
	{name: "ErrDisabled", given: rvApproved(rvAlice), do: rvRetire(rvGone), want: riskmap.EFORBIDDEN},
	{name: "ErrStaleVersion", given: rvApproved(rvAlice), do: rvRetire(rvAlice).stale(), want: riskmap.EPRECONDITION},
	{name: "ErrStaleVersion/Draft", given: rvDrafted(rvAlice), do: rvRetire(rvAlice).stale(), want: riskmap.EPRECONDITION},
	{name: "ErrNotFound", given: rvDrafted(rvAlice), do: rvRetire(rvAlice).unknown(), want: riskmap.ENOTFOUND},
	{name: "ErrRetired", given: rvRetired(rvAlice), do: rvRetire(rvAlice), want: riskmap.ECONFLICT},
}

func rvCode(code string) func(u *riskmap.Unit) {
	return func(u *riskmap.Unit) { u.Code = code }
}

// TestReviewTable runs the table against the GeoPackage file and PostGIS.
func TestReviewTable(t *testing.T) {
	t.Run("GeoPackage", func(t *testing.T) {
		ctx := context.Background()
		store, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "x.gpkg"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		runReviewTable(t, store)
	})
	t.Run("PostGIS", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		store, err := postgis.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		runReviewTable(t, store)
	})
}

func runReviewTable(t *testing.T, store riskmap.Store) {
	ctx := context.Background()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	svc := register.New(store, cfg.Grader, cfg.Catalog)
	svc.Locate = rvLocate
	f := &rvFixture{svc: svc, store: store}
	for _, tc := range rvCases {
		t.Run(tc.do.op.String()+"/"+tc.name, func(t *testing.T) {
			if tc.bug != "" {
				t.Skip("bug: " + tc.bug)
			}
			f.check(t, tc)
		})
	}
}

type rvFixture struct {
	svc   *register.Service
	store riskmap.Store
	n     int
}

// rvSnapshot is what a user sees of a unit: itself, its author record and what the
// approved register holds of it.
type rvSnapshot struct {
	unit     *riskmap.Unit
	author   *riskmap.UnitAuthor
	approved *riskmap.ApprovedUnit
}

func (f *rvFixture) snapshot(t *testing.T, id int64) rvSnapshot {
	t.Helper()
	ctx := context.Background()
	u, err := f.store.GetUnit(ctx, id)
	if err != nil {
		t.Fatalf("get unit %d: %v", id, err)
	}
	a, err := f.store.UnitAuthor(ctx, id)
	if err != nil {
		t.Fatalf("author of unit %d: %v", id, err)
	}
	var ap *riskmap.ApprovedUnit
	for x, err := range f.store.ApprovedUnits(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if x.UnitID == id {
			ap = x
		}
	}
	return rvSnapshot{unit: u, author: a, approved: ap}
}

// run does one write on the unit cur (nil for a create) and returns the unit the service
// returned.
func (f *rvFixture) run(t *testing.T, s rvStep, cur *riskmap.Unit) (*riskmap.Unit, error) {
	t.Helper()
	ctx := context.Background()
	var id, version int64
	if cur != nil {
		id, version = cur.ID, cur.Version
	}
	if s.old {
		version--
	}
	if s.missing {
		id = 1 << 40
	}
	switch s.op {
	case rvOpCreate:
		f.n++
		u := &riskmap.Unit{Code: fmt.Sprintf("R-%d", f.n), Name: "储罐区", Category: "hazardous_chemicals",
			RegionCode: "530481001001", Status: s.status,
			Assessment: riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: 2, Severity: 3},
			Geometry:   orb.Point{102.915, 24.675}}
		complete(u)
		if s.change != nil {
			s.change(u)
		}
		err := f.svc.CreateBy(ctx, s.by, u, nil)
		return u, err
	case rvOpEdit:
		u, err := f.store.GetUnit(ctx, cur.ID) // what the writer loaded
		if err != nil {
			t.Fatal(err)
		}
		u.ID, u.Version, u.Status = id, version, s.status
		u.Name += "（修订）"
		if s.change != nil {
			s.change(u)
		}
		ch, err := f.svc.UpdateBy(ctx, s.by, u, nil)
		if err != nil {
			return nil, err
		}
		if ch.Before == nil || ch.Before.Version != cur.Version {
			t.Errorf("edit: the change's before is %+v, want version %d", ch.Before, cur.Version)
		}
		return ch.After, nil
	}
	do := map[rvOp]func(context.Context, *riskmap.User, int64, int64, register.Note, register.Recorder) (register.Change, error){
		rvOpSubmit: f.svc.Submit, rvOpApprove: f.svc.Approve, rvOpReject: f.svc.Reject, rvOpRetire: f.svc.Retire,
	}[s.op]
	note := s.note
	if s.op == rvOpRetire && !s.bare && note.Reason == "" {
		note.Reason = "已搬迁"
	}
	ch, err := do(ctx, s.by, id, version, note, nil)
	if err != nil {
		return nil, err
	}
	if ch.Before == nil || ch.Before.Version != cur.Version {
		t.Errorf("%s: the change's before is %+v, want version %d", s.op, ch.Before, cur.Version)
	}
	return ch.After, nil
}

func (f *rvFixture) check(t *testing.T, tc rvCase) {
	ctx := context.Background()
	var cur *riskmap.Unit
	for i, s := range tc.given {
		u, err := f.run(t, s, cur)
		if err != nil {
			t.Fatalf("history rvStep %d (%s by %s): %v", i+1, s.op, rvName(s.by), err)
		}
		cur = u
	}
	var before rvSnapshot
	if cur != nil {
		before = f.snapshot(t, cur.ID)
	}
	count, err := f.store.CountUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}

	got, err := f.run(t, tc.do, cur)

	if code := riskmap.ErrorCode(err); code != tc.want {
		t.Fatalf("%s by %q: want %q, got %q (%v)", tc.do.op, rvName(tc.do.by), tc.want, code, err)
	}
	if tc.want != "" {
		for _, fl := range tc.fields {
			if !slices.ContainsFunc(riskmap.ErrorFields(err), func(e riskmap.FieldError) bool { return e.Field == fl }) {
				t.Errorf("want the error to name %s, got %v", fl, riskmap.ErrorFields(err))
			}
		}
		// A refusal changes nothing.
		if n, err := f.store.CountUnits(ctx); err != nil || n != count {
			t.Errorf("a refused %s changed the number of units from %d to %d (%v)", tc.do.op, count, n, err)
		}
		if cur != nil {
			after := f.snapshot(t, cur.ID)
			if after.unit.Version != before.unit.Version || after.unit.Status != before.unit.Status || after.unit.Name != before.unit.Name {
				t.Errorf("a refused %s changed the unit: v%d %s %q → v%d %s %q", tc.do.op,
					before.unit.Version, before.unit.Status, before.unit.Name, after.unit.Version, after.unit.Status, after.unit.Name)
			}
			if b, a := before.author, after.author; a.UpdatedBy != b.UpdatedBy || a.SubmittedBy != b.SubmittedBy || a.ReviewedBy != b.ReviewedBy || a.ApprovedVersion != b.ApprovedVersion {
				t.Errorf("a refused %s changed the author record: %+v → %+v", tc.do.op, *b, *a)
			}
			if !rvSameApproved(before.approved, after.approved) {
				t.Errorf("a refused %s changed the approved register: %s → %s", tc.do.op, rvHeld(before.approved), rvHeld(after.approved))
			}
		}
		return
	}

	after := f.snapshot(t, got.ID)
	wantVersion := int64(1)
	if cur != nil {
		wantVersion = before.unit.Version + 1
	}
	if after.unit.Version != wantVersion || got.Version != wantVersion {
		t.Errorf("want version %d, stored %d, returned %d", wantVersion, after.unit.Version, got.Version)
	}
	if after.unit.Status != tc.status || got.Status != tc.status {
		t.Errorf("want status %s, stored %s, returned %s", tc.status, after.unit.Status, got.Status)
	}
	if after.author.UpdatedBy != tc.author {
		t.Errorf("want the revision's author %q, got %q", tc.author, after.author.UpdatedBy)
	}
	if tc.status == riskmap.StatusSubmitted && tc.do.op != rvOpApprove && after.author.SubmittedBy != rvName(tc.do.by) {
		t.Errorf("want submitted by %q, got %q", rvName(tc.do.by), after.author.SubmittedBy)
	}
	if (tc.do.op == rvOpApprove || tc.do.op == rvOpReject) && after.author.ReviewedBy != rvName(tc.do.by) {
		t.Errorf("want reviewed by %q, got %q", rvName(tc.do.by), after.author.ReviewedBy)
	}
	if tc.do.op == rvOpEdit && after.unit.Name != got.Name {
		t.Errorf("the edit was not stored: name %q, sent %q", after.unit.Name, got.Name)
	}
	switch tc.reg {
	case rvRegNone:
		if after.approved != nil {
			t.Errorf("want nothing in the approved register, got %s", rvHeld(after.approved))
		}
	case rvRegKept:
		if before.approved == nil {
			t.Fatal("the case's history has no approved revision to keep")
		}
		if !rvSameApproved(before.approved, after.approved) {
			t.Errorf("want the approved register to keep %s, got %s", rvHeld(before.approved), rvHeld(after.approved))
		}
		if after.author.ApprovedVersion != before.approved.Version {
			t.Errorf("want the approved version %d in the author record, got %d", before.approved.Version, after.author.ApprovedVersion)
		}
	case rvRegThis:
		if after.approved == nil || after.approved.Version != after.unit.Version || after.approved.Name != after.unit.Name {
			t.Errorf("want the approved register to hold v%d %q, got %s", after.unit.Version, after.unit.Name, rvHeld(after.approved))
		}
		if after.author.ApprovedVersion != after.unit.Version {
			t.Errorf("want the approved version %d in the author record, got %d", after.unit.Version, after.author.ApprovedVersion)
		}
		if tc.do.op == rvOpApprove && after.approved != nil && after.approved.ApprovedBy != rvName(tc.do.by) {
			t.Errorf("want the approved register to say approved by %q, got %q", rvName(tc.do.by), after.approved.ApprovedBy)
		}
	}
}

func rvSameApproved(a, b *riskmap.ApprovedUnit) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Version == b.Version && a.Name == b.Name && a.Grade == b.Grade && a.ApprovedBy == b.ApprovedBy
}

func rvHeld(a *riskmap.ApprovedUnit) string {
	if a == nil {
		return "nothing"
	}
	return fmt.Sprintf("v%d %q approved by %q", a.Version, a.Name, a.ApprovedBy)
}

// rvName is the name a store records for u: "" for the system.
func rvName(u *riskmap.User) string {
	if u == nil {
		return ""
	}
	return u.Name
}
