package workbook

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/xuri/excelize/v2"
)

// sheetMarks are what excelize's row iterator does not tell: the cells that hold formulas
// and the merged ranges of a worksheet, found by streaming its XML once (and a second
// time, token by token, only if a formula may be there).
type sheetMarks struct {
	formulas map[int][]int // row → columns (1-based) of cells with formulas
	merges   []mergeRange
}

type mergeRange struct {
	ref                    string
	col1, row1, col2, row2 int
}

const maxMarks = 10000

var mergeRE = regexp.MustCompile(`<(?:\w+:)?mergeCell\s+ref="([A-Za-z]{1,3}[0-9]{1,7}(?::[A-Za-z]{1,3}[0-9]{1,7})?)"`)

// scanSheet reads the worksheet part name of zr.
func scanSheet(zr *zip.Reader, name string) (*sheetMarks, error) {
	var zf *zip.File
	for _, f := range zr.File {
		if strings.EqualFold(path.Clean(f.Name), name) {
			zf = f
		}
	}
	m := &sheetMarks{formulas: map[int][]int{}}
	if zf == nil {
		return m, nil
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, notXLSX()
	}
	maybeFormula := false
	seen := map[string]bool{}
	buf := make([]byte, 1<<20)
	var carry []byte
	for {
		n, err := io.ReadFull(rc, buf)
		chunk := append(carry, buf[:n]...)
		if !maybeFormula && hasFormulaTag(chunk) {
			maybeFormula = true
		}
		var found [][][]byte
		if bytes.Contains(chunk, []byte("mergeCell")) {
			found = mergeRE.FindAllSubmatch(chunk, -1)
		}
		for _, mm := range found {
			ref := strings.ToUpper(string(mm[1]))
			if seen[ref] || len(m.merges) >= maxMarks {
				continue
			}
			seen[ref] = true
			if r, ok := parseRange(ref); ok {
				m.merges = append(m.merges, r)
			}
		}
		if len(chunk) > 256 {
			carry = append([]byte(nil), chunk[len(chunk)-256:]...)
		} else {
			carry = append([]byte(nil), chunk...)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			rc.Close()
			return nil, notXLSX()
		}
	}
	rc.Close()
	if !maybeFormula {
		return m, nil
	}
	rc, err = zf.Open()
	if err != nil {
		return nil, notXLSX()
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	cell, count := "", 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "c":
				cell = ""
				for _, a := range t.Attr {
					if a.Name.Local == "r" {
						cell = a.Value
					}
				}
			case "f":
				if cell != "" && count < maxMarks {
					if col, row, err := excelize.CellNameToCoordinates(cell); err == nil {
						m.formulas[row] = append(m.formulas[row], col)
						count++
					}
				}
			}
		}
	}
	return m, nil
}

// hasFormulaTag reports whether b may hold an <f> element (with or without a namespace
// prefix).
func hasFormulaTag(b []byte) bool {
	for _, p := range [][]byte{[]byte("<f>"), []byte("<f "), []byte("<f/>"), []byte(":f>"), []byte(":f "), []byte(":f/>")} {
		if bytes.Contains(b, p) {
			return true
		}
	}
	return false
}

func parseRange(ref string) (mergeRange, bool) {
	a, b, ok := strings.Cut(ref, ":")
	if !ok {
		b = a
	}
	c1, r1, err1 := excelize.CellNameToCoordinates(a)
	c2, r2, err2 := excelize.CellNameToCoordinates(b)
	if err1 != nil || err2 != nil {
		return mergeRange{}, false
	}
	return mergeRange{ref: ref, col1: min(c1, c2), row1: min(r1, r2), col2: max(c1, c2), row2: max(r1, r2)}, true
}
