package workbook

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// The rows of a worksheet read straight from its XML with encoding/xml's RawToken: a cell's
// raw value (a shared string resolved, an inline string, or the text of <v>), as excelize's
// Rows.Columns gives it with RawCellValue, some five times faster (excelize decodes each
// cell by reflection). TestFastRowsAsExcelize holds the two to the same cells.

// openPart opens the zip part name (case-insensitive), nil if there is none.
func openPart(zr *zip.Reader, name string) (io.ReadCloser, error) {
	for _, f := range zr.File {
		if strings.EqualFold(path.Clean(f.Name), name) {
			return f.Open()
		}
	}
	return nil, nil
}

// readSharedStrings reads the shared strings table (its size is bounded by inspect).
func readSharedStrings(zr *zip.Reader) ([]string, error) {
	rc, err := openPart(zr, "xl/sharedStrings.xml")
	if err != nil || rc == nil {
		return nil, err
	}
	defer rc.Close()
	d := xml.NewDecoder(bufio.NewReaderSize(rc, 64<<10))
	var out []string
	var cur strings.Builder
	inSI, inT, phonetic := false, false, 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI = true
				cur.Reset()
			case "t":
				inT = true
			case "rPh":
				phonetic++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				out = append(out, cur.String())
				inSI = false
			case "t":
				inT = false
			case "rPh":
				phonetic--
			}
		case xml.CharData:
			if inSI && inT && phonetic == 0 {
				cur.Write(t)
			}
		}
	}
}

// fastRows calls fn with each row's number and its cells' raw values (the slice is reused),
// every row number from 1 to the last row, as excelize's Rows.Next does; it stops when fn
// returns false.
func fastRows(zr *zip.Reader, part string, sst []string, fn func(n int, cells []string) bool) error {
	rc, err := openPart(zr, part)
	if err != nil {
		return notXLSX()
	}
	if rc == nil {
		return nil
	}
	defer rc.Close()
	d := xml.NewDecoder(bufio.NewReaderSize(rc, 256<<10))
	var (
		cells          []string
		row, next      int // the current row; the next row number expected
		col            int // 1-based column of the current cell
		typ            string
		inRow, inC     bool
		inV, inT, inIS bool
		phonetic       int
		val            strings.Builder
		hasV           bool
	)
	emitEmpty := func(upTo int) bool {
		for next < upTo {
			if !fn(next, nil) {
				return false
			}
			next++
		}
		return true
	}
	next = 1
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return notXLSX()
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				r := next
				for _, a := range t.Attr {
					if a.Name.Local == "r" {
						if v, err := strconv.Atoi(a.Value); err == nil && v >= next {
							r = v
						}
					}
				}
				if r > excelize.TotalRows {
					return excelize.ErrMaxRows
				}
				if !emitEmpty(r) {
					return nil
				}
				row, inRow, cells, col = r, true, cells[:0], 0
			case "c":
				if !inRow {
					continue
				}
				inC, typ, hasV = true, "", false
				val.Reset()
				c := col + 1
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "r":
						if cc, _, err := excelize.CellNameToCoordinates(a.Value); err == nil {
							c = cc
						}
					case "t":
						typ = a.Value
					}
				}
				col = c
			case "v":
				inV = inC
			case "is":
				inIS = inC
			case "t":
				inT = inIS
			case "rPh":
				phonetic++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				inV = false
				hasV = true
			case "t":
				inT = false
			case "is":
				inIS = false
				hasV = true
			case "rPh":
				phonetic--
			case "c":
				if !inC {
					continue
				}
				inC = false
				s := val.String()
				if typ == "s" && hasV {
					i, err := strconv.Atoi(strings.TrimSpace(s))
					if err != nil || i < 0 || i >= len(sst) {
						return notXLSX()
					}
					s = sst[i]
				}
				if col > excelize.MaxColumns {
					return notXLSX()
				}
				for len(cells) < col {
					cells = append(cells, "")
				}
				cells[col-1] = s
			case "row":
				if inRow {
					// trailing empty cells are dropped, as excelize does
					end := len(cells)
					for end > 0 && cells[end-1] == "" {
						end--
					}
					if !fn(row, cells[:end]) {
						return nil
					}
					next, inRow = row+1, false
				}
			case "sheetData":
				return nil
			}
		case xml.CharData:
			if (inV || (inT && phonetic == 0)) && inC {
				val.Write(t)
			}
		}
	}
}
