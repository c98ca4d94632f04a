package workbook

import (
	"archive/zip"
	"context"
	"io"
	"iter"
	"strings"

	"github.com/xuri/excelize/v2"

	"riskmap/pkg/riskmap"
)

// Options configure the reader.
type Options struct {
	// Catalog resolves 行业领域 and 事故类型 (labels or codes); required. With it each row
	// is also checked with riskmap.Unit.CheckFields, the problems named by column.
	Catalog *riskmap.Catalog
	// Regions resolve 行政区划 written as a name (or "code name"); a 6-, 9- or 12-digit code
	// is taken as it is.
	Regions []*riskmap.Region
	// GradeOK, if set, decides whether a grade written in 风险等级 is acceptable for the
	// unit read (as the importer recomputes it); a grade it refuses is the problem
	// "不接受手填等级，由评估输入计算". Nil: the written grade is only parsed (Row.Grade).
	GradeOK func(u *riskmap.Unit, written riskmap.Grade) bool
	// Limits bound the upload; zero fields take DefaultLimits.
	Limits Limits
}

// Problem is one problem of an upload: the sheet, the row as Excel numbers it, the column's
// header and cell reference ("" and 0 for a problem of the whole file or sheet), and the
// message in Chinese (Err.Field is the column's header).
type Problem struct {
	Sheet  string             `json:"sheet"`
	Row    int                `json:"row"`
	Column string             `json:"column"`
	Cell   string             `json:"cell"`
	Err    riskmap.FieldError `json:"-"`
}

// Message is the problem's message in Chinese, without its row and column.
func (p Problem) Message() string { return p.Err.Message }

// Text is the problem as users read it: 第 12 行「风险等级」：不接受手填等级，由评估输入计算.
func (p Problem) Text() string { return p.TextIn(riskmap.Chinese) }

// TextIn is Text in lang.
func (p Problem) TextIn(lang riskmap.Lang) string {
	msg := p.Err.MessageIn(lang)
	switch {
	case p.Row == 0:
		return msg
	case p.Column == "":
		return riskmap.Render(lang, "第 %d 行：%s", p.Row, msg)
	}
	return riskmap.Render(lang, "第 %d 行「%s」：%s", p.Row, p.Column, msg)
}

// Row is one data row of an upload: either a unit read from it (not yet graded: Grade,
// RiskValue, Explanation and NextReviewDue are unset; Status is ""; the geometry is WGS 84)
// or its problems.
type Row struct {
	Sheet  string
	Number int // the row as Excel numbers it
	Unit   *riskmap.Unit
	// Grade is the grade written in 风险等级 ("" if blank or not a grade).
	Grade    riskmap.Grade
	Problems []Problem
}

// Book is an upload opened for reading: its sheets of the register's layout, their
// headers found.
type Book struct {
	f      *excelize.File
	opts   Options
	limits Limits
	sheets []*sheet
	// present are the keys of the layout's columns the upload has.
	present map[string]bool
	zr      *zip.Reader
	sst     []string // the shared strings, read by Rows
	sstRead bool
}

type sheet struct {
	name      string
	headerRow int
	cols      map[string]int // key → 0-based column index
	headers   []string       // the header row's cells
	marks     *sheetMarks
	dimRows   int
	part      string // the worksheet's part in the zip
}

// Open checks an upload (bounded: see Limits) and finds its sheets of the register's
// layout: each sheet but 说明, 隐患清单 and 下拉选项 whose first 10 rows hold a header
// row with 风险编号 and 风险点名称. It refuses (EINVALID, in Chinese) a file that is not
// an xlsx workbook, one past the limits, one without such a sheet (a wrong template), and
// one whose header lacks a required column (each named). Close the Book when done.
func Open(r io.ReaderAt, size int64, opts Options) (*Book, error) {
	if opts.Catalog == nil {
		panic("workbook: Options.Catalog is required")
	}
	l := opts.Limits.withDefaults()
	zr, err := inspect(r, size, l)
	if err != nil {
		return nil, err
	}
	paths := sheetPaths(zr)
	f, err := excelize.OpenReader(io.NewSectionReader(r, 0, size), excelize.Options{
		RawCellValue: true, UnzipSizeLimit: l.MaxUncompressed, UnzipXMLSizeLimit: 16 << 20})
	if err != nil {
		return nil, notXLSX()
	}
	b := &Book{f: f, opts: opts, limits: l, present: map[string]bool{}, zr: zr}
	var wrong []string
	for _, name := range f.GetSheetList() {
		if name == NotesSheet || name == HazardsSheet || name == ListsSheet {
			continue
		}
		s, missing, err := b.findHeader(name)
		if err != nil {
			f.Close()
			return nil, err
		}
		if s == nil {
			wrong = append(wrong, name)
			continue
		}
		if len(missing) > 0 {
			f.Close()
			return nil, riskmap.Errorf(riskmap.EINVALID, "工作表「%s」缺少必填列：%s；请使用风险清单模板（/api/v1/templates/units.xlsx）", clip(name), strings.Join(missing, "、"))
		}
		s.part = paths[name]
		if s.marks, err = scanSheet(zr, s.part); err != nil {
			f.Close()
			return nil, err
		}
		b.sheets = append(b.sheets, s)
	}
	if len(b.sheets) == 0 {
		f.Close()
		return nil, riskmap.Errorf(riskmap.EINVALID, "不是风险清单：没有一张工作表在前 10 行中有「风险编号」「风险点名称」等表头；请下载风险清单模板（/api/v1/templates/units.xlsx）填写")
	}
	return b, nil
}

// Close releases the workbook's temporary files.
func (b *Book) Close() error { return b.f.Close() }

// Has reports whether the upload has the layout's column key (Column.Key): a column it
// lacks leaves that property of an existing unit as it is.
func (b *Book) Has(key string) bool { return b.present[key] }

// Sheets names the sheets read, in order.
func (b *Book) Sheets() []string {
	var out []string
	for _, s := range b.sheets {
		out = append(out, s.name)
	}
	return out
}

// RowsHint is about how many data rows the sheets hold (from their dimensions; 0 if
// unknown), for a progress bar.
func (b *Book) RowsHint() int {
	n := 0
	for _, s := range b.sheets {
		if s.dimRows > s.headerRow {
			n += s.dimRows - s.headerRow
		}
	}
	return n
}

// normHeader makes a header cell comparable: no blanks, no "*", full-width brackets.
func normHeader(s string) string {
	s = strings.NewReplacer(" ", "", "\u3000", "", "\n", "", "\r", "", "\t", "", "*", "", "(", "（", ")", "）").Replace(s)
	return s
}

var headerKeys = func() map[string]string {
	m := map[string]string{}
	for _, c := range Columns {
		m[normHeader(c.Header)] = c.Key
	}
	// Common variants of a register's headers.
	m["序号"] = ColSeq
	m["风险点编号"] = ColCode
	m["风险单元名称"] = ColName
	m["所在位置"] = ColAddress
	m["地址"] = ColAddress
	m["事故类型"] = ColAccidentTypes
	m["可能导致的事故类型"] = ColAccidentTypes
	m["联系电话"] = ColPhone
	return m
}()

// findHeader looks for the header row in the first 10 rows of the sheet; nil if none. It
// returns the required columns missing.
func (b *Book) findHeader(name string) (*sheet, []string, error) {
	rows, err := b.f.Rows(name)
	if err != nil {
		return nil, nil, notXLSX()
	}
	defer rows.Close()
	for n := 1; n <= 10 && rows.Next(); n++ {
		cells, err := rows.Columns()
		if err != nil {
			return nil, nil, notXLSX()
		}
		cols := map[string]int{}
		for i, c := range cells {
			if k, ok := headerKeys[normHeader(c)]; ok {
				if _, dup := cols[k]; dup {
					return nil, nil, riskmap.Errorf(riskmap.EINVALID, "工作表「%s」第 %d 行：列「%s」出现两次", clip(name), n, strings.TrimSpace(c))
				}
				cols[k] = i
			}
		}
		if _, ok := cols[ColCode]; !ok {
			continue
		}
		if _, ok := cols[ColName]; !ok {
			continue
		}
		var missing []string
		for _, c := range Columns {
			if _, ok := cols[c.Key]; c.Required && !ok {
				missing = append(missing, "「"+c.Header+"」")
			}
		}
		s := &sheet{name: name, headerRow: n, cols: cols, headers: cells}
		if dim, err := b.f.GetSheetDimension(name); err == nil {
			if _, last, ok := strings.Cut(dim, ":"); ok {
				if _, r, err := excelize.CellNameToCoordinates(last); err == nil {
					s.dimRows = r
				}
			}
		}
		for k := range cols {
			b.present[k] = true
		}
		return s, missing, nil
	}
	return nil, nil, nil
}

// Rows iterates over the data rows of the sheets read, in order, skipping blank rows. The
// error is that of the file (EINVALID past Limits.MaxRows, in Chinese), or ctx's; after
// one the iteration stops.
func (b *Book) Rows(ctx context.Context) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		if !b.sstRead {
			sst, err := readSharedStrings(b.zr)
			if err != nil {
				yield(Row{}, notXLSX())
				return
			}
			b.sst, b.sstRead = sst, true
		}
		count := 0
		for _, s := range b.sheets {
			var stop error
			stopped := false
			err := b.sheetCells(s, func(n int, cells []string) bool {
				if n <= s.headerRow {
					return true
				}
				if n%256 == 0 && ctx.Err() != nil {
					stop = ctx.Err()
					return false
				}
				if blank(cells) && len(s.marks.formulas[n]) == 0 {
					return true
				}
				count++
				if count > b.limits.MaxRows {
					stop = riskmap.Errorf(riskmap.EINVALID, "数据超过 %d 行：请分成多个文件导入", b.limits.MaxRows)
					return false
				}
				if !yield(b.parseRow(s, n, cells), nil) {
					stopped = true
					return false
				}
				return true
			})
			if stopped {
				return
			}
			if stop == nil && err != nil {
				stop = err
				if err == excelize.ErrMaxRows {
					stop = riskmap.Errorf(riskmap.EINVALID, "数据超过 %d 行：请分成多个文件导入", b.limits.MaxRows)
				}
			}
			if stop != nil {
				yield(Row{}, stop)
				return
			}
		}
	}
}

// sheetCells calls fn with each row of the sheet (fastRows; excelize's iterator when the
// sheet's part is not known).
func (b *Book) sheetCells(s *sheet, fn func(n int, cells []string) bool) error {
	if s.part != "" {
		return fastRows(b.zr, s.part, b.sst, fn)
	}
	return b.excelizeCells(s, fn)
}

// excelizeCells is sheetCells by excelize's row iterator.
func (b *Book) excelizeCells(s *sheet, fn func(n int, cells []string) bool) error {
	rows, err := b.f.Rows(s.name)
	if err != nil {
		return notXLSX()
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return riskmap.Errorf(riskmap.EINVALID, "工作表「%s」第 %d 行无法读取：文件已损坏", clip(s.name), n)
		}
		if !fn(n, cells) {
			return nil
		}
	}
	if err := rows.Error(); err != nil {
		if err == excelize.ErrMaxRows {
			return err
		}
		return notXLSX()
	}
	return nil
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// cellName is the reference of the 0-based column i in row n.
func cellName(i, n int) string {
	name, _ := excelize.CoordinatesToCellName(i+1, n)
	return name
}

// Read opens an upload and iterates over its rows: Open, then Book.Rows, the Book closed
// when the iteration ends (the Book is returned for Has, Sheets and RowsHint; do not Close
// it yourself unless the iteration never runs). The error is Open's.
func Read(ctx context.Context, r io.ReaderAt, size int64, opts Options) (iter.Seq2[Row, error], *Book, error) {
	b, err := Open(r, size, opts)
	if err != nil {
		return nil, nil, err
	}
	return func(yield func(Row, error) bool) {
		defer b.Close()
		for row, err := range b.Rows(ctx) {
			if !yield(row, err) || err != nil {
				return
			}
		}
	}, b, nil
}
