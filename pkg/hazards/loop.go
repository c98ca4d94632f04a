package hazards

import (
	"context"
	"strings"
	"time"

	"riskmap/pkg/riskmap"
)

// next is the closed loop: the statuses each status may move to.
var next = map[Status][]Status{
	StatusRegistered: {StatusReported},
	StatusReported:   {StatusRectifying},
	StatusRectifying: {StatusAccepted},
	StatusAccepted:   {StatusClosed, StatusRectifying}, // 销号, or a failed acceptance
}

// CanMove reports whether the loop allows from → to.
func CanMove(from, to Status) bool {
	for _, s := range next[from] {
		if s == to {
			return true
		}
	}
	return false
}

// moveError says why from → to is not allowed, naming the current status and what must
// come first.
func moveError(h *Hazard, to Status) error {
	from := h.Status
	switch {
	case !to.Valid():
		return riskmap.Problems{riskmap.FieldErrorf("to", "未知状态 %q：可选 reported、rectifying、accepted、closed", clipText(string(to), 40))}.Err()
	case from == StatusClosed:
		return riskmap.Errorf(riskmap.ECONFLICT, "隐患 %s 已销号，不能再变更状态", h.Code)
	case from == to:
		return riskmap.Errorf(riskmap.ECONFLICT, "隐患 %s 当前已是「%s」", h.Code, from.Label())
	case to == StatusRegistered:
		return riskmap.Errorf(riskmap.ECONFLICT, "隐患 %s 当前为「%s」，不能退回「登记」", h.Code, from.Label())
	}
	// What must come first: the status before to in the loop.
	var first Status
	for i, s := range Statuses {
		if s == to && i > 0 {
			first = Statuses[i-1]
		}
	}
	if to == StatusRectifying && from != StatusReported {
		return riskmap.Errorf(riskmap.ECONFLICT, "隐患 %s 当前为「%s」，不能转为「整改中」：须先「上报」", h.Code, from.Label())
	}
	return riskmap.Errorf(riskmap.ECONFLICT, "隐患 %s 当前为「%s」，不能转为「%s」：须先「%s」", h.Code, from.Label(), to.Label(), first.Label())
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// Transition moves a hidden danger along its loop. Closing (销号) needs a note, the
// re-inspection's opinion (复查意见), and a user other than the one who submitted the
// rectification for acceptance; a failed acceptance (accepted → rectifying) needs the
// reason. A major one leaves "reported" only with all of its 五落实.
func (s *Service) Transition(ctx context.Context, by *riskmap.User, id, version int64, to Status, note string, rec Recorder) (*Hazard, error) {
	h, err := s.writable(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if version > 0 && h.Version != version {
		return nil, s.stale(h, version)
	}
	var p riskmap.Problems
	text(&p, "note", note, MaxNoteLen, false)
	if err := p.Err(); err != nil {
		return nil, err
	}
	if !CanMove(h.Status, to) {
		return nil, moveError(h, to)
	}
	note = strings.TrimSpace(note)
	now := s.now()
	before := *h
	after := *h
	after.Status = to
	switch {
	case to == StatusRectifying && h.Status == StatusReported && h.Level == LevelMajor && !h.Five.Complete():
		var p riskmap.Problems
		checkFive(&p, h.Five)
		return nil, riskmap.Errorf(riskmap.ECONFLICT, "重大隐患 %s 须先落实责任、措施、资金、时限、预案（五落实），才能进入整改", h.Code).WithFields(p)
	case to == StatusAccepted:
		after.AcceptedBy, after.AcceptedAt = userName(by), &now
	case to == StatusRectifying && h.Status == StatusAccepted:
		if note == "" {
			return nil, riskmap.Problems{riskmap.FieldErrorf("note", "验收不通过须写明原因")}.Err()
		}
		after.AcceptedBy, after.AcceptedAt = "", nil
	case to == StatusClosed:
		if note == "" {
			return nil, riskmap.Problems{riskmap.FieldErrorf("note", "销号须填写复查意见")}.Err()
		}
		if h.AcceptedBy == userName(by) {
			return nil, riskmap.Errorf(riskmap.ECONFLICT, "隐患 %s 的整改由您提交验收；销号复查须由另一人进行", h.Code)
		}
		after.ClosedBy, after.ClosedAt = userName(by), &now
		after.Extension = nil
	}
	if to == StatusAccepted {
		after.Extension = nil // a pending extension lapses once the work is done
	}
	ev := &Event{HazardID: id, Kind: EventTransition, From: h.Status, To: to, By: userName(by), At: now, Note: note}
	if err := s.write(ctx, &before, &after, []*Event{ev}, rec); err != nil {
		return nil, err
	}
	return &after, nil
}

// RequestExtension asks for a later deadline (延期申请). It is pending until another user
// decides; one request at a time, and only before the rectification is accepted.
func (s *Service) RequestExtension(ctx context.Context, by *riskmap.User, id int64, deadline time.Time, reason string, rec Recorder) (*Hazard, error) {
	h, err := s.writable(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if !h.Status.Open() || h.Status == StatusAccepted {
		return nil, riskmap.Errorf(riskmap.ECONFLICT, "隐患 %s 当前为「%s」，不能申请延期", h.Code, h.Status.Label())
	}
	if h.Extension != nil {
		return nil, riskmap.Errorf(riskmap.ECONFLICT, "隐患 %s 已有待审批的延期申请", h.Code)
	}
	var p riskmap.Problems
	text(&p, "reason", reason, MaxNoteLen, true)
	switch {
	case deadline.IsZero():
		p.Add("deadline", "必须填写申请的整改期限")
	case riskmap.DayNumber(deadline) <= riskmap.DayNumber(h.Deadline):
		p.Add("deadline", "申请的期限（%s）须晚于现在的整改期限（%s）", day(deadline), day(h.Deadline))
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	before, after := *h, *h
	after.Extension = &Extension{Deadline: deadline, Reason: strings.TrimSpace(reason), RequestedBy: userName(by), RequestedAt: now}
	ev := &Event{HazardID: id, Kind: EventExtension, By: userName(by), At: now, Note: after.Extension.Reason,
		Data: map[string]any{"deadline": day(deadline), "old_deadline": day(h.Deadline)}}
	if err := s.write(ctx, &before, &after, []*Event{ev}, rec); err != nil {
		return nil, err
	}
	return &after, nil
}

// DecideExtension approves or rejects the pending extension request; the requester cannot
// decide its own. Approval moves the deadline.
func (s *Service) DecideExtension(ctx context.Context, by *riskmap.User, id int64, approve bool, note string, rec Recorder) (*Hazard, error) {
	h, err := s.writable(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if h.Extension == nil {
		return nil, riskmap.Errorf(riskmap.ECONFLICT, "隐患 %s 没有待审批的延期申请", h.Code)
	}
	if h.Extension.RequestedBy == userName(by) {
		return nil, riskmap.Errorf(riskmap.ECONFLICT, "延期申请须由申请人以外的人审批")
	}
	var p riskmap.Problems
	text(&p, "note", note, MaxNoteLen, !approve)
	if err := p.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	before, after := *h, *h
	decision := "rejected"
	if approve {
		decision = "approved"
		after.Deadline = h.Extension.Deadline
	}
	after.Extension = nil
	ev := &Event{HazardID: id, Kind: EventExtDecision, By: userName(by), At: now, Note: strings.TrimSpace(note),
		Data: map[string]any{"decision": decision, "deadline": day(h.Extension.Deadline), "old_deadline": day(h.Deadline),
			"requested_by": h.Extension.RequestedBy, "reason": h.Extension.Reason}}
	if err := s.write(ctx, &before, &after, []*Event{ev}, rec); err != nil {
		return nil, err
	}
	return &after, nil
}

// CanSupervise reports whether u may put a hidden danger under supervision at level by:
// the city's (市级) by admins and experts, the district's (区级) also by a department in
// whose scope it lies.
func CanSupervise(u *riskmap.User, h *Hazard, by string) bool {
	if u == nil || u.Disabled {
		return false
	}
	switch u.Role {
	case riskmap.RoleAdmin, riskmap.RoleExpert:
		return by == SupervisionCity || by == SupervisionDistrict
	case riskmap.RoleDepartment:
		return by == SupervisionDistrict && u.InScope(h.Category, h.RegionCode)
	}
	return false
}

// SupervisionLabel names a supervision level.
func SupervisionLabel(by string) string {
	switch by {
	case SupervisionCity:
		return "市级挂牌督办"
	case SupervisionDistrict:
		return "区级挂牌督办"
	}
	return by
}

// Supervise puts an open major hidden danger under supervision (挂牌督办).
func (s *Service) Supervise(ctx context.Context, by *riskmap.User, id int64, level, note string, rec Recorder) (*Hazard, error) {
	h, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if level != SupervisionCity && level != SupervisionDistrict {
		return nil, riskmap.Problems{riskmap.FieldErrorf("by", "督办级别须为 city（市级）或 district（区级）")}.Err()
	}
	if !CanSupervise(by, h, level) {
		return nil, riskmap.Errorf(riskmap.EFORBIDDEN, "您无权对隐患 %s 进行%s", h.Code, SupervisionLabel(level))
	}
	if h.Level != LevelMajor {
		return nil, riskmap.Errorf(riskmap.ECONFLICT, "只有重大隐患可以挂牌督办；隐患 %s 为一般隐患", h.Code)
	}
	if !h.Status.Open() {
		return nil, riskmap.Errorf(riskmap.ECONFLICT, "隐患 %s 已销号，不能挂牌督办", h.Code)
	}
	if h.Supervision != nil && (h.Supervision.By == level || h.Supervision.By == SupervisionCity) {
		return nil, riskmap.Errorf(riskmap.ECONFLICT, "隐患 %s 已在%s", h.Code, SupervisionLabel(h.Supervision.By))
	}
	var p riskmap.Problems
	text(&p, "note", note, MaxNoteLen, false)
	if err := p.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	before, after := *h, *h
	after.Supervision = &Supervision{By: level, At: now, User: userName(by), Note: strings.TrimSpace(note)}
	ev := &Event{HazardID: id, Kind: EventSupervision, By: userName(by), At: now, Note: after.Supervision.Note,
		Data: map[string]any{"by": level}}
	if err := s.write(ctx, &before, &after, []*Event{ev}, rec); err != nil {
		return nil, err
	}
	return &after, nil
}

// Actions lists what u may do with h now: the statuses it may move it to, and
// "extension", "extension_decision", "supervision", "photo", "edit".
func Actions(u *riskmap.User, h *Hazard) []string {
	out := []string{}
	if !riskmap.CanEdit(u, h.Category, h.RegionCode) {
		return out
	}
	for _, to := range next[h.Status] {
		if to == StatusClosed && h.AcceptedBy == u.Name {
			continue
		}
		out = append(out, string(to))
	}
	if h.Status.Open() && h.Status != StatusAccepted && h.Extension == nil {
		out = append(out, "extension")
	}
	if h.Extension != nil && h.Extension.RequestedBy != u.Name {
		out = append(out, "extension_decision")
	}
	if h.Level == LevelMajor && h.Status.Open() && (h.Supervision == nil || h.Supervision.By != SupervisionCity) &&
		(CanSupervise(u, h, SupervisionCity) || (CanSupervise(u, h, SupervisionDistrict) && h.Supervision == nil)) {
		out = append(out, "supervision")
	}
	if h.Status.Open() {
		out = append(out, "photo", "edit")
	}
	return out
}

// OverdueDays is how many days past its deadline an overdue hidden danger is on today (0
// when it is not overdue).
func (h *Hazard) OverdueDays(today time.Time) int {
	if !h.Overdue(today) {
		return 0
	}
	return int(riskmap.DayNumber(today) - riskmap.DayNumber(h.Deadline))
}
