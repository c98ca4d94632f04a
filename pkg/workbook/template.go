package workbook

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"riskmap/pkg/riskmap"
)

// Template writes the import template to w: the 风险清单 sheet with the layout's header
// (required columns in red), dropdowns (data validation) for 行业领域, 行政区划, 事故类型,
// 重大危险源, 评估方法 and 坐标系 over the rows an import may have, the instructions sheet
// 说明 (every column: required or not, what to write), and the hidden sheet of the
// dropdowns' lists.
func Template(w io.Writer, o Export) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f, o.Colours)
	if err != nil {
		return err
	}
	required, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "C00000"}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}})
	if err != nil {
		return err
	}
	if err := f.SetSheetName("Sheet1", UnitsSheet); err != nil {
		return err
	}
	s := UnitsSheet
	last, _ := excelize.ColumnNumberToName(len(Columns))
	title := o.Title
	if title == "" {
		title = "风险清单"
	}
	_ = f.SetCellValue(s, "A1", title+"（导入模板）")
	_ = f.SetCellStyle(s, "A1", "A1", st.title)
	_ = f.MergeCell(s, "A1", last+"1")
	_ = f.SetCellValue(s, "A2", "从第 4 行起每行填写一个风险单元；红字列必填；风险值、风险等级、管控层级、下次复核日期由系统计算，可留空。填写说明见「说明」工作表。")
	_ = f.SetCellStyle(s, "A2", "A2", st.sub)
	_ = f.MergeCell(s, "A2", last+"2")
	_ = f.SetRowHeight(s, 1, 30)
	_ = f.SetRowHeight(s, 3, 32)
	for i, c := range Columns {
		cell, _ := excelize.CoordinatesToCellName(i+1, headRows)
		_ = f.SetCellValue(s, cell, c.Header)
		style := st.header
		if c.Required {
			style = required
		}
		_ = f.SetCellStyle(s, cell, cell, style)
		name, _ := excelize.ColumnNumberToName(i + 1)
		_ = f.SetColWidth(s, name, name, c.Width)
	}
	if err := f.SetPanes(s, &excelize.Panes{Freeze: true, XSplit: 3, YSplit: headRows, TopLeftCell: "D4", ActivePane: "bottomRight"}); err != nil {
		return err
	}

	// The lists of the dropdowns, on a hidden sheet.
	if _, err := f.NewSheet(ListsSheet); err != nil {
		return err
	}
	lists := [][]string{{}, {}, {}}
	for _, c := range o.Catalog.Categories {
		lists[0] = append(lists[0], c.Label)
	}
	for _, r := range o.Regions {
		lists[1] = append(lists[1], r.Code+" "+r.Name)
	}
	for _, a := range o.Catalog.AccidentTypes {
		lists[2] = append(lists[2], a.Label)
	}
	for i, l := range lists {
		col, _ := excelize.ColumnNumberToName(i + 1)
		for j, v := range l {
			_ = f.SetCellStr(ListsSheet, fmt.Sprintf("%s%d", col, j+1), v)
		}
	}
	if err := f.SetSheetVisible(ListsSheet, false); err != nil {
		return err
	}
	rows := headRows + DefaultLimits.MaxRows
	listRef := func(i int) string {
		col, _ := excelize.ColumnNumberToName(i + 1)
		return fmt.Sprintf("'%s'!$%s$1:$%s$%d", ListsSheet, col, col, max(len(lists[i]), 1))
	}
	for _, v := range []struct {
		key    string
		ref    string
		values []string
		strict bool
		prompt string
	}{
		{ColCategory, listRef(0), nil, true, "从列表选择行业领域"},
		{ColRegion, listRef(1), nil, false, "从列表选择，或填写区划代码"},
		{ColAccidentTypes, listRef(2), nil, false, "可选一项；多个类型用顿号“、”分隔"},
		{ColMajorHazard, "", []string{"否", "一级", "二级", "三级", "四级"}, true, "否，或重大危险源的级别"},
		{ColMethod, "", []string{riskmap.MethodLS, riskmap.MethodLEC}, true, "LS（风险矩阵法）或 LEC（作业条件危险性分析法）"},
		{ColCRS, "", []string{string(riskmap.WGS84), string(riskmap.GCJ02), string(riskmap.BD09)}, true, "WGS84（GPS、天地图）、GCJ-02（高德、腾讯）或 BD-09（百度）"},
	} {
		idx := colIndex(v.key)
		col, _ := excelize.ColumnNumberToName(idx + 1)
		dv := excelize.NewDataValidation(true)
		dv.SetSqref(fmt.Sprintf("%s%d:%s%d", col, headRows+1, col, rows))
		if v.ref != "" {
			dv.SetSqrefDropList(v.ref)
		} else if err := dv.SetDropList(v.values); err != nil {
			return err
		}
		dv.ShowErrorMessage = v.strict
		if v.strict {
			dv.SetError(excelize.DataValidationErrorStyleStop, "输入有误", "请从下拉列表中选择")
		}
		dv.SetInput(column(v.key).Header, v.prompt)
		if err := f.AddDataValidation(s, dv); err != nil {
			return err
		}
	}

	// 说明: every column.
	if _, err := f.NewSheet(NotesSheet); err != nil {
		return err
	}
	notes := [][]any{
		{"风险清单导入说明"},
		{"1. 在「风险清单」工作表第 4 行起，每行填写一个风险单元；表头不要改动。"},
		{"2. 风险编号已存在的行更新该风险单元（生成新修订，经审核后生效）；新编号新建为草稿。"},
		{"3. 风险等级由评估输入计算，不接受手填；风险值、管控层级、下次复核日期同样由系统计算。"},
		{"4. 位置填写经度、纬度（默认 WGS84；高德、腾讯为 GCJ-02，百度为 BD-09，请在「坐标系」列注明），面、线请填 WKT。"},
		{"5. 日期可写作 2026-12-06、2026/12/6 或 2026年12月6日；不接受公式和合并单元格。"},
		{fmt.Sprintf("6. 一次最多导入 %d 行；上传后先全部检查，列出每个问题（第几行、哪一列），确认后一次性导入，要么全部成功，要么什么也不写。", DefaultLimits.MaxRows)},
		{},
		{"列名", "必填", "说明"},
	}
	for _, c := range Columns {
		req := ""
		if c.Required {
			req = "是"
		}
		notes = append(notes, []any{c.Header, req, c.Note})
	}
	for i, r := range notes {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(NotesSheet, cell, &r); err != nil {
			return err
		}
	}
	_ = f.SetColWidth(NotesSheet, "A", "A", 28)
	_ = f.SetColWidth(NotesSheet, "B", "B", 6)
	_ = f.SetColWidth(NotesSheet, "C", "C", 80)
	_ = f.SetCellStyle(NotesSheet, "A1", "A1", st.title)
	_ = f.SetCellStyle(NotesSheet, "A9", "C9", st.header)
	f.SetActiveSheet(0)
	_, err = f.WriteTo(w)
	return err
}

func colIndex(key string) int {
	for i, c := range Columns {
		if c.Key == key {
			return i
		}
	}
	panic("workbook: no column " + key)
}
