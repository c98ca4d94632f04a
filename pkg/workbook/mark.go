package workbook

import (
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// maxComments is the most cells given a comment in a marked copy; beyond it bad cells are
// only filled red (the row's 问题说明 still lists every problem).
const maxComments = 2000

// Mark writes to w a copy of an upload's register sheets with the bad cells marked: each
// cell a problem names filled red with a comment saying what is wrong, and a last column
// 问题说明 listing the row's problems, so that the user can fix the file and upload it
// again. Rows are copied as values (streamed, so a large upload stays in bounded memory);
// dates are written as 2026-12-06. opts are the reader's (the upload is checked the same
// way); problems are those the reader gave.
func Mark(w io.Writer, r io.ReaderAt, size int64, problems []Problem, opts Options) error {
	b, err := Open(r, size, opts)
	if err != nil {
		return err
	}
	defer b.Close()
	out := excelize.NewFile()
	defer out.Close()
	bad, err := out.NewStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FF0000"}}, Font: &excelize.Font{Color: "FFFFFF", Bold: true}})
	if err != nil {
		return err
	}
	headStyle, _ := out.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}}})
	noteStyle, _ := out.NewStyle(&excelize.Style{Font: &excelize.Font{Color: "C00000"}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	comments := 0
	for i, s := range b.sheets {
		if i == 0 {
			if err := out.SetSheetName("Sheet1", s.name); err != nil {
				return err
			}
		} else if _, err := out.NewSheet(s.name); err != nil {
			return err
		}
		byRow := map[int][]Problem{}
		cells := map[string][]string{}
		for _, p := range problems {
			if p.Sheet != s.name {
				continue
			}
			byRow[p.Row] = append(byRow[p.Row], p)
			if p.Cell != "" {
				cells[p.Cell] = append(cells[p.Cell], p.Err.Message)
			}
		}
		for ref, msgs := range cells {
			if comments >= maxComments {
				break
			}
			comments++
			text := strings.Join(msgs, "\n")
			if err := out.AddComment(s.name, excelize.Comment{Cell: ref, Author: "风险地图", Paragraph: []excelize.RichTextRun{{Text: text}}}); err != nil {
				return err
			}
		}
		sw, err := out.NewStreamWriter(s.name)
		if err != nil {
			return err
		}
		noteCol := len(s.headers) + 1
		for k, c := range s.cols {
			if c+1 >= noteCol {
				noteCol = c + 2
			}
			_ = k
		}
		_ = sw.SetColWidth(noteCol, noteCol, 60)
		_ = sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: s.headerRow, TopLeftCell: "A" + strconv.Itoa(s.headerRow+1), ActivePane: "bottomLeft"})
		dateCol, hasDate := s.cols[ColAssessedAt]
		number := map[int]bool{}
		for k, c := range s.cols {
			number[c] = column(k).Number
		}
		rows, err := b.f.Rows(s.name)
		if err != nil {
			return notXLSX()
		}
		n := 0
		for rows.Next() {
			n++
			vals, err := rows.Columns(excelize.Options{RawCellValue: true})
			if err != nil {
				rows.Close()
				return notXLSX()
			}
			ps := byRow[n]
			if len(vals) == 0 && len(ps) == 0 {
				continue
			}
			row := make([]any, max(len(vals), noteCol))
			for j, v := range vals {
				var val any = v
				switch {
				case n > s.headerRow && hasDate && j == dateCol && v != "":
					if t, ok := ParseDate(strings.TrimSpace(v)); ok {
						val = t.Format("2006-01-02")
					}
				case n > s.headerRow && number[j]:
					if f, err := strconv.ParseFloat(v, 64); err == nil {
						val = f
					}
				}
				ref, _ := excelize.CoordinatesToCellName(j+1, n)
				if _, isBad := cells[ref]; isBad {
					row[j] = excelize.Cell{StyleID: bad, Value: val}
				} else if n == s.headerRow {
					row[j] = excelize.Cell{StyleID: headStyle, Value: val}
				} else {
					row[j] = val
				}
			}
			for ref := range cells {
				c, rr, _ := excelize.CellNameToCoordinates(ref)
				if rr == n && c > len(vals) && c <= len(row) {
					row[c-1] = excelize.Cell{StyleID: bad}
				}
			}
			switch {
			case n == s.headerRow:
				row[noteCol-1] = excelize.Cell{StyleID: headStyle, Value: "问题说明"}
			case len(ps) > 0:
				texts := make([]string, len(ps))
				for k, p := range ps {
					texts[k] = p.Text()
				}
				row[noteCol-1] = excelize.Cell{StyleID: noteStyle, Value: strings.Join(texts, "\n")}
			}
			cell, _ := excelize.CoordinatesToCellName(1, n)
			if err := sw.SetRow(cell, row); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	out.SetActiveSheet(0)
	_, err = out.WriteTo(w)
	return err
}
