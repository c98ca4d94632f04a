package httpapi

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// csvCell keeps a spreadsheet from reading a cell as a formula (CSV injection).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// unitsCSV exports the units a list query selects, all of them unless limit is given, as
// UTF-8 CSV with a byte-order mark (so that spreadsheet programs read the Chinese right).
// The internal view writes the register's columns for what the requester may read; the
// public one only the public fields.
func (v *view) unitsCSV(c echo.Context) error {
	q := c.QueryParams()
	p, err := v.parseList(c, q, listParams)
	if err != nil {
		return err
	}
	if q.Get("limit") == "" {
		p.Limit = 1 << 30
	}
	snap, err := v.snapshot()
	if err != nil {
		return err
	}
	pg := snap.Find(p)
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	head := []string{"id", "code", "category", "category_label", "region_code", "grade", "grade_label"}
	if !v.public {
		head = append(head, "name", "status", "responsible_department", "version")
	}
	_ = w.Write(head)
	for _, f := range pg.Features {
		label := f.Category
		if cat, ok := v.s.cfg.Catalog.Category(f.Category); ok {
			label = cat.Label
		}
		row := []string{strconv.FormatInt(f.ID, 10), csvCell(f.Code), f.Category, label, f.RegionCode, string(f.Grade), f.Grade.Label()}
		if !v.public {
			row = append(row, csvCell(f.Name), string(f.Status), csvCell(f.Department), strconv.FormatInt(f.Version, 10))
		}
		_ = w.Write(row)
	}
	w.Flush()
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="units.csv"`)
	if !v.public {
		h.Set("Cache-Control", "private, no-store")
	}
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
