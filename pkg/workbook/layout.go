// Package workbook is the Excel 风险清单 (risk register workbook): one column layout shared by
// the export (Export), the import template (Template) and the reader of uploads (Open). A
// unit is one row; the columns are Columns, in order. Computed columns (风险值, 风险等级,
// 管控层级, 下次复核日期, 状态, 序号) are written by the export and not taken from an upload
// (风险等级 may be left as exported: a different grade is refused, the grade is computed
// from the assessment inputs).
package workbook

import (
	"strings"

	"riskmap/pkg/riskmap"
)

// Column is one column of the layout.
type Column struct {
	// Key names the column in code; Header is its Chinese header, how the reader finds it.
	Key, Header string
	// Field is the riskmap.Unit property the column holds, as riskmap.Problems name it
	// ("" for columns of no single property).
	Field string
	// Required columns must be in an upload's header row (their cells may still be blank
	// where the method does not use them).
	Required bool
	// Computed columns are written by the export and not read back as data.
	Computed bool
	// Number columns are numbers; text in them is a problem.
	Number bool
	// Width is the column width in characters.
	Width float64
	// Note explains the column in the template's instructions sheet (说明).
	Note string
}

// Column keys.
const (
	ColSeq           = "seq"
	ColCode          = "code"
	ColName          = "name"
	ColPublicLabel   = "public_label"
	ColAddress       = "address"
	ColRegion        = "region"
	ColCategory      = "category"
	ColSubCategory   = "sub_category"
	ColAccidentTypes = "accident_types"
	ColMajorHazard   = "major_hazard_source"
	ColRiskFactors   = "major_risk_factors"
	ColMethod        = "method"
	ColLSL           = "ls_l"
	ColLSS           = "ls_s"
	ColLECL          = "lec_l"
	ColLECE          = "lec_e"
	ColLECC          = "lec_c"
	ColRiskValue     = "risk_value"
	ColGrade         = "grade"
	ColDirectReason  = "direct_major_reason"
	ColEngineering   = "engineering"
	ColManagement    = "management"
	ColTraining      = "training"
	ColPPE           = "ppe"
	ColEmergency     = "emergency"
	ColControlLevel  = "control_level"
	ColDepartment    = "responsible_department"
	ColRespUnit      = "responsible_unit"
	ColPerson        = "contact_person"
	ColPhone         = "contact_phone"
	ColAssessedBy    = "assessed_by"
	ColAssessedAt    = "assessed_at"
	ColNextReview    = "next_review_due"
	ColRadius        = "influence_radius_m"
	ColLon           = "lon"
	ColLat           = "lat"
	ColCRS           = "crs"
	ColWKT           = "wkt"
	ColStatus        = "status"
)

// Columns is the layout, in order.
var Columns = []Column{
	{Key: ColSeq, Header: "序号", Computed: true, Width: 6, Note: "导出时的行号，导入时不读"},
	{Key: ColCode, Header: "风险编号", Field: "code", Required: true, Width: 16, Note: "必填；已有的编号更新该风险单元（生成新修订，经审核），新编号新建草稿"},
	{Key: ColName, Header: "风险点名称", Field: "name", Required: true, Width: 28, Note: "必填"},
	{Key: ColPublicLabel, Header: "公开名称", Field: "public_label", Width: 20, Note: "公众地图显示的名称，可不填"},
	{Key: ColAddress, Header: "所在位置/地址", Field: "address", Width: 28},
	{Key: ColRegion, Header: "行政区划", Field: "region_code", Required: true, Width: 22, Note: "必填；从下拉列表选择，或填写 6、9、12 位区划代码"},
	{Key: ColCategory, Header: "行业领域", Field: "category", Required: true, Width: 16, Note: "必填；从下拉列表选择"},
	{Key: ColSubCategory, Header: "行业小类", Field: "sub_category", Width: 14},
	{Key: ColAccidentTypes, Header: "风险类别/可能导致的事故类型", Field: "accident_types", Width: 24, Note: "多个类型用顿号“、”分隔；下拉列表可选一项"},
	{Key: ColMajorHazard, Header: "重大危险源", Field: "major_hazard_source.level", Width: 10, Note: "否，或 一级、二级、三级、四级"},
	{Key: ColRiskFactors, Header: "主要风险因素", Field: "major_risk_factors", Width: 24},
	{Key: ColMethod, Header: "评估方法", Field: "assessment.method", Required: true, Width: 10, Note: "必填；LS（风险矩阵法）或 LEC（作业条件危险性分析法）"},
	{Key: ColLSL, Header: "可能性L（LS）", Field: "assessment.likelihood", Required: true, Number: true, Width: 10, Note: "LS 法：1 至 5 的整数"},
	{Key: ColLSS, Header: "严重性S（LS）", Field: "assessment.severity", Required: true, Number: true, Width: 10, Note: "LS 法：1 至 5 的整数"},
	{Key: ColLECL, Header: "可能性L（LEC）", Field: "assessment.l", Required: true, Number: true, Width: 10, Note: "LEC 法：0.1、0.2、0.5、1、3、6、10 之一"},
	{Key: ColLECE, Header: "暴露频率E（LEC）", Field: "assessment.e", Required: true, Number: true, Width: 10, Note: "LEC 法：0.5、1、2、3、6、10 之一"},
	{Key: ColLECC, Header: "后果C（LEC）", Field: "assessment.c", Required: true, Number: true, Width: 10, Note: "LEC 法：1、3、7、15、40、100 之一"},
	{Key: ColRiskValue, Header: "风险值", Computed: true, Number: true, Width: 8, Note: "由评估输入计算，导入时不读"},
	{Key: ColGrade, Header: "风险等级", Computed: true, Width: 10, Note: "由评估输入计算；导入时可留空，填写的等级须与计算结果一致"},
	{Key: ColDirectReason, Header: "直接判定重大风险理由", Field: "direct_major_reason", Width: 20, Note: "填写即直接判定为重大风险"},
	{Key: ColEngineering, Header: "工程技术措施", Field: "controls.engineering", Width: 30, Note: "多条措施用换行或“；”分隔"},
	{Key: ColManagement, Header: "管理措施", Field: "controls.management", Width: 30, Note: "多条措施用换行或“；”分隔"},
	{Key: ColTraining, Header: "培训教育措施", Field: "controls.training", Width: 30, Note: "多条措施用换行或“；”分隔"},
	{Key: ColPPE, Header: "个体防护措施", Field: "controls.ppe", Width: 30, Note: "多条措施用换行或“；”分隔"},
	{Key: ColEmergency, Header: "应急处置措施", Field: "controls.emergency", Width: 30, Note: "多条措施用换行或“；”分隔"},
	{Key: ColControlLevel, Header: "管控层级", Computed: true, Width: 12, Note: "按风险等级确定，导入时不读"},
	{Key: ColDepartment, Header: "责任部门", Field: "responsible_department", Width: 16},
	{Key: ColRespUnit, Header: "责任单位", Field: "responsible_unit", Width: 20},
	{Key: ColPerson, Header: "责任人", Field: "contact_person", Width: 10},
	{Key: ColPhone, Header: "联系方式", Field: "contact_phone", Width: 14},
	{Key: ColAssessedBy, Header: "评估人", Field: "assessed_by", Width: 10},
	{Key: ColAssessedAt, Header: "评估日期", Field: "assessed_at", Width: 12, Note: "日期：2026-12-06、2026/12/6 或 2026年12月6日"},
	{Key: ColNextReview, Header: "下次复核日期", Computed: true, Width: 12, Note: "按评估日期和风险等级计算，导入时不读"},
	{Key: ColRadius, Header: "影响半径（米）", Field: "influence_radius_m", Number: true, Width: 10},
	{Key: ColLon, Header: "经度", Field: "geometry", Required: true, Number: true, Width: 13, Note: "点位的经度；面、线请填 WKT"},
	{Key: ColLat, Header: "纬度", Field: "geometry", Required: true, Number: true, Width: 12, Note: "点位的纬度"},
	{Key: ColCRS, Header: "坐标系", Width: 10, Note: "WGS84（默认，GPS、天地图）、GCJ-02（高德、腾讯）或 BD-09（百度）"},
	{Key: ColWKT, Header: "WKT", Field: "geometry", Width: 30, Note: "面、线等图形的 WKT，如 POLYGON((…))；与经度、纬度只填一种"},
	{Key: ColStatus, Header: "状态", Computed: true, Width: 8, Note: "导出时的审核状态，导入时不读"},
}

// column returns the column with the key.
func column(key string) *Column {
	for i := range Columns {
		if Columns[i].Key == key {
			return &Columns[i]
		}
	}
	panic("workbook: no column " + key)
}

// ColumnOf is the header of the column that holds a unit property as riskmap.Problems
// names it ("assessment.likelihood" → 可能性L（LS）), "" if none does.
func ColumnOf(field string) string {
	switch {
	case field == "major_hazard_source":
		field = "major_hazard_source.level"
	case strings.HasPrefix(field, "controls.") || field == "assessment":
	}
	for _, c := range Columns {
		if c.Field == field {
			return c.Header
		}
	}
	if field == "assessment" {
		return column(ColMethod).Header
	}
	return ""
}

// ControlLevel is the 管控层级 of a grade: 重大 → 市级, 较大 → 县（区）级, 一般 →
// 乡镇（街道）级, 低 → 责任单位.
func ControlLevel(g riskmap.Grade) string {
	switch g {
	case riskmap.GradeRed:
		return "市级"
	case riskmap.GradeOrange:
		return "县（区）级"
	case riskmap.GradeYellow:
		return "乡镇（街道）级"
	case riskmap.GradeBlue:
		return "责任单位"
	}
	return ""
}

// UnitsSheet is the name of the register's sheet; HazardsSheet that of the hidden-danger
// list; NotesSheet the template's instructions; ListsSheet the hidden sheet of the
// template's dropdown lists.
const (
	UnitsSheet   = "风险清单"
	HazardsSheet = "隐患清单"
	NotesSheet   = "说明"
	ListsSheet   = "下拉选项"
)
