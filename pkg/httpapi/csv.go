package httpapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// csvCell keeps a spreadsheet from reading a cell as a formula (CSV injection).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvParams are the query parameters of the CSV export: those of the list, and lang.
var csvParams = listParamsAnd("lang")

// csvLang is the language of a CSV export: ?lang=en or ?lang=zh-CN if given, else the
// request's Accept-Language (Chinese unless it prefers English).
func csvLang(c echo.Context) (riskmap.Lang, error) {
	switch l := c.QueryParam("lang"); strings.ToLower(l) {
	case "":
		return langOf(c), nil
	case "zh", "zh-cn":
		return riskmap.Chinese, nil
	case "en":
		return riskmap.English, nil
	default:
		var p riskmap.Problems
		p.Add("lang", "应为 zh-CN（中文，默认）或 en（英文机器列），收到 %q", clip(l))
		return "", p.Err()
	}
}

// csvUnitProps are the properties of a unit's Feature the Chinese export needs beyond
// what the index keeps apart.
type csvUnitProps struct {
	Properties struct {
		RiskValue       json.Number `json:"risk_value"`
		ResponsibleUnit string      `json:"responsible_unit"`
		NextReviewDue   *string     `json:"next_review_due"`
		Address         string      `json:"address"`
		PublicLabel     string      `json:"public_label"`
	} `json:"properties"`
}

// unitsCSV exports the units a list query selects, all of them unless limit is given, as
// UTF-8 CSV with a byte-order mark (so that spreadsheet programs read the Chinese right).
//
// In Chinese (the default) it has the columns of the register table's own export, with
// Chinese headers and labels: 编号, 名称, 行业领域, 风险等级, 风险值, 所属区域, 监管部门,
// 责任单位, 状态, 下次复核, 地址 (the public view: 编号, 名称, 行业领域, 风险等级, 所属区域).
// In English (?lang=en, or Accept-Language preferring English) it has the machine columns
// existing clients read, unchanged: id, code, category, category_label, region_code, grade,
// grade_label and, internally, name, status, responsible_department, version.
func (v *view) unitsCSV(c echo.Context) error {
	q := c.QueryParams()
	p, err := v.parseList(c, q, csvParams)
	if err != nil {
		return err
	}
	lang, err := csvLang(c)
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
	if lang == riskmap.English {
		v.writeMachineCSV(w, pg.Features)
	} else {
		w.UseCRLF = true // as the table's own export, and as Excel writes
		v.writeChineseCSV(w, pg.Features)
	}
	w.Flush()
	h := c.Response().Header()
	vary(h, "Accept-Language")
	h.Set("Content-Language", string(lang))
	if lang == riskmap.English {
		h.Set("Content-Disposition", `attachment; filename="units.csv"`)
	} else {
		// 风险清单.csv, with an ASCII name for clients that do not read RFC 5987.
		h.Set("Content-Disposition", `attachment; filename="units.csv"; filename*=UTF-8''%E9%A3%8E%E9%99%A9%E6%B8%85%E5%8D%95.csv`)
	}
	if !v.public {
		h.Set("Cache-Control", "private, no-store")
	}
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func (v *view) categoryLabel(code string) string {
	if cat, ok := v.s.cfg.Catalog.Category(code); ok {
		return cat.Label
	}
	return code
}

// writeMachineCSV writes the English machine columns (kept as they were for existing
// clients).
func (v *view) writeMachineCSV(w *csv.Writer, features []*spatialindex.Feature) {
	head := []string{"id", "code", "category", "category_label", "region_code", "grade", "grade_label"}
	if !v.public {
		head = append(head, "name", "status", "responsible_department", "version")
	}
	_ = w.Write(head)
	for _, f := range features {
		row := []string{strconv.FormatInt(f.ID, 10), csvCell(f.Code), f.Category, v.categoryLabel(f.Category), f.RegionCode, string(f.Grade), f.Grade.Label()}
		if !v.public {
			row = append(row, csvCell(f.Name), string(f.Status), csvCell(f.Department), strconv.FormatInt(f.Version, 10))
		}
		_ = w.Write(row)
	}
}

// writeChineseCSV writes the columns of the register table's export, in Chinese.
func (v *view) writeChineseCSV(w *csv.Writer, features []*spatialindex.Feature) {
	if v.public {
		_ = w.Write([]string{"编号", "名称", "行业领域", "风险等级", "所属区域"})
	} else {
		_ = w.Write([]string{"编号", "名称", "行业领域", "风险等级", "风险值", "所属区域", "监管部门", "责任单位", "状态", "下次复核", "地址"})
	}
	names := v.s.regionNames()
	var doc []byte // each document read into the one buffer: json.Unmarshal keeps none of it
	for _, f := range features {
		var props csvUnitProps
		doc = f.AppendJSON(doc[:0])
		_ = json.Unmarshal(doc, &props)
		pr := props.Properties
		if v.public {
			_ = w.Write([]string{csvCell(f.Code), csvCell(pr.PublicLabel), v.categoryLabel(f.Category), f.Grade.Label(), csvCell(names.short(f.RegionCode))})
			continue
		}
		due := ""
		if pr.NextReviewDue != nil {
			due = *pr.NextReviewDue
		}
		_ = w.Write([]string{csvCell(f.Code), csvCell(f.Name), v.categoryLabel(f.Category), f.Grade.Label(), pr.RiskValue.String(),
			csvCell(names.short(f.RegionCode)), csvCell(f.Department), csvCell(pr.ResponsibleUnit), f.Status.Label(), csvCell(due), csvCell(pr.Address)})
	}
}

// regionNameMap names regions by code.
type regionNameMap map[string]string

// short is the name of the finest region of the 6-, 9- and 12-digit prefixes of code that
// has one (as the register table shows it), or the code.
func (m regionNameMap) short(code string) string {
	for _, n := range []int{12, 9, 6} {
		if len(code) >= n {
			if name, ok := m[code[:n]]; ok {
				return name
			}
		}
	}
	return code
}

func (s *Server) regionNames() regionNameMap {
	m := make(regionNameMap, len(s.cfg.Regions))
	for _, r := range s.cfg.Regions {
		m[r.Code] = r.Name
	}
	return m
}
