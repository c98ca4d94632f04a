package workbook

import (
	"strconv"
	"time"

	"riskmap/pkg/hazards"
	"riskmap/pkg/riskmap"
)

// HazardHeader is the header of the hidden-danger list (隐患清单, 隐患台账): the columns of
// GET /api/v1/hazards.csv and of the 隐患清单 sheet.
var HazardHeader = []string{"隐患编号", "风险单元编号", "风险单元名称", "行业领域", "所属区域", "监管部门", "隐患级别", "隐患描述", "发现部位",
	"发现时间", "发现人", "来源", "整改责任单位", "整改责任人", "整改措施", "整改期限", "状态", "是否逾期", "逾期天数", "挂牌督办", "验收时间", "销号时间"}

// Names name a unit's category and region for a list (labels, not codes).
type Names struct {
	Category func(code string) string
	Region   func(code string) string
}

func (n Names) category(code string) string {
	if n.Category == nil {
		return code
	}
	return n.Category(code)
}

func (n Names) region(code string) string {
	if n.Region == nil {
		return code
	}
	return n.Region(code)
}

// beijingTime is a time in Beijing time to the minute, "" for none.
func beijingTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.In(riskmap.ChinaTime).Format("2006-01-02 15:04")
}

// HazardRecord is a hidden danger's row of HazardHeader on the day today, as text.
func HazardRecord(h *hazards.Hazard, today time.Time, n Names) []string {
	overdue, sup := "否", ""
	if h.Overdue(today) {
		overdue = "是"
	}
	if h.Supervision != nil {
		sup = hazards.SupervisionLabel(h.Supervision.By)
	}
	deadline := ""
	if !h.Deadline.IsZero() {
		deadline = h.Deadline.UTC().Format(time.DateOnly)
	}
	return []string{h.Code, h.UnitCode, h.UnitName, n.category(h.Category), n.region(h.RegionCode),
		h.Department, h.Level.Label(), h.Description, h.Location, beijingTime(&h.FoundAt),
		h.FoundBy, h.Source.Label(), h.ResponsibleUnit, h.ResponsiblePerson, h.Measures,
		deadline, h.Status.Label(), overdue, strconv.Itoa(h.OverdueDays(today)), sup, beijingTime(h.AcceptedAt), beijingTime(h.ClosedAt)}
}
