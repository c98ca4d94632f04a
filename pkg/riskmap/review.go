package riskmap

import (
	"strings"
	"time"
	"unicode/utf8"
)

// ReviewNotes are what the review desk (审核) keeps with a unit's author record besides who
// wrote and reviewed it: the reviewer's comment, the reason for a lowered grade, the
// approved revision a new one departs from, and a pending retirement request.
type ReviewNotes struct {
	// Comment is the 审核意见 of the last approval or rejection.
	Comment string
	// DowngradeReason is the 降级理由 of the current revision, when its grade is below the
	// approved revision's.
	DowngradeReason string
	// ApprovedGrade is the grade of the approved revision; "" when none is known.
	ApprovedGrade Grade
	// Approved is the approved revision as a GeoJSON Feature, kept when a new revision
	// departs from it, for the reviewer to compare; "" when there is none.
	Approved string
	// RetireReason is the 注销理由 of a retirement request waiting for review ("" none);
	// RetireRequestedBy and RetireRequestedAt say who asked and when.
	RetireReason      string
	RetireRequestedBy string
	RetireRequestedAt *time.Time
}

// RetirePending reports whether a retirement request waits for review.
func (n *ReviewNotes) RetirePending() bool { return n.RetireReason != "" }

// MaxReasonLen is the most characters of a comment or a reason of the review desk.
const MaxReasonLen = 500

// CheckReason adds a problem to p when a comment or reason is not valid text or too long;
// required makes an empty one a problem too, worded with what.
func CheckReason(p *Problems, field, s, what string, required bool) {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		p.Add(field, "不是有效的文本")
		return
	}
	if required && strings.TrimSpace(s) == "" {
		p.Add(field, "请填写%s", what)
		return
	}
	if n := utf8.RuneCountInString(s); n > MaxReasonLen {
		p.Add(field, "%s共 %d 个字，最多 %d 个", what, n, MaxReasonLen)
	}
}

// controlLabels name the five groups of control measures in Chinese, in Controls.Groups
// order.
var controlLabels = map[string]string{
	"engineering": "工程技术", "management": "管理", "training": "培训教育", "ppe": "个体防护", "emergency": "应急处置",
}

// CheckComplete lists what a unit lacks before it may be submitted for review (提交审核):
// at least one measure in each of the five control groups, the responsible unit, the
// contact person and phone, and the assessment date. One problem per missing item.
func (u *Unit) CheckComplete() Problems {
	var p Problems
	for _, g := range u.Controls.Groups() {
		filled := false
		for _, s := range *g.Items {
			if strings.TrimSpace(s) != "" {
				filled = true
			}
		}
		if !filled {
			p.Add("controls."+g.Name, "提交审核前请至少填写一条%s措施", controlLabels[g.Name])
		}
	}
	if strings.TrimSpace(u.ResponsibleUnit) == "" {
		p.Add("responsible_unit", "提交审核前请填写责任单位")
	}
	if strings.TrimSpace(u.ContactPerson) == "" {
		p.Add("contact_person", "提交审核前请填写联系人")
	}
	if strings.TrimSpace(u.ContactPhone) == "" {
		p.Add("contact_phone", "提交审核前请填写联系电话")
	}
	if u.AssessedAt == nil {
		p.Add("assessed_at", "提交审核前请填写评估时间")
	}
	return p
}

// Lowered reports whether grade g is below the approved grade approved (both valid).
func Lowered(g, approved Grade) bool {
	return g.Valid() && approved.Valid() && approved.Higher(g)
}
