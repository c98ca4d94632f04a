package httpapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/hazards"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/workbook"
)

// Public hazard reports (随手拍 / 安全隐患举报): anyone sends one from the public map and
// reads back its status by its tracking number; staff list the reports of their scope and
// turn each into a hidden danger or dismiss it. The hazard list's CSV is here too.

// upload is a multipart form read with limits: its text fields and its one file.
type upload struct {
	fields map[string]string
	file   []byte
}

const (
	maxFormParts = 20
	maxFormField = 8 << 10
)

// readUpload reads a multipart form: at most maxFormParts parts, text fields of at most
// maxFormField bytes, and one file (field "photo") of at most hazards.MaxPhotoBytes.
func readUpload(c echo.Context) (*upload, error) {
	r := c.Request()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, riskmap.Errorf(riskmap.EINVALID, "请以 multipart/form-data 上传")
	}
	return parseUpload(r.Body, params["boundary"])
}

// parseUpload reads the parts of a multipart body.
func parseUpload(body io.Reader, boundary string) (*upload, error) {
	mr := newMultipartReader(body, boundary)
	out := &upload{fields: map[string]string{}}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, bodyReadError(err)
			}
			return nil, riskmap.Errorf(riskmap.EINVALID, "表单格式有误：multipart 请求体不完整")
		}
		if n >= maxFormParts {
			return nil, riskmap.Errorf(riskmap.EINVALID, "表单字段过多")
		}
		name := part.FormName()
		limit := int64(maxFormField)
		if name == "photo" {
			limit = hazards.MaxPhotoBytes
		}
		b, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, bodyReadError(err)
			}
			return nil, riskmap.Errorf(riskmap.EINVALID, "表单格式有误：multipart 请求体不完整")
		}
		if int64(len(b)) > limit {
			if name == "photo" {
				return nil, riskmap.Errorf(riskmap.ETOOLARGE, "照片过大：上限 %d MB", hazards.MaxPhotoBytes>>20)
			}
			return nil, riskmap.Problems{riskmap.FieldErrorf(clip(name), "过长")}.Err()
		}
		if name == "photo" {
			if out.file != nil {
				return nil, riskmap.Problems{riskmap.FieldErrorf("photo", "一次只能上传一张照片")}.Err()
			}
			out.file = b
			continue
		}
		out.fields[name] = string(b)
	}
}

// reportView is a report as staff see it.
type reportView struct {
	ID             int64      `json:"id"`
	TrackingNumber string     `json:"tracking_number"`
	Point          [2]float64 `json:"point"`
	Category       string     `json:"category"`
	CategoryLabel  string     `json:"category_label"`
	Description    string     `json:"description"`
	Contact        string     `json:"contact"`
	RegionCode     string     `json:"region_code"`
	RegionName     string     `json:"region_name"`
	Department     string     `json:"department"`
	Status         string     `json:"status"`
	StatusLabel    string     `json:"status_label"`
	HazardID       *int64     `json:"hazard_id"`
	Reason         string     `json:"reason"`
	HandledBy      string     `json:"handled_by"`
	HandledAt      *time.Time `json:"handled_at"`
	Version        int64      `json:"version"`
	CreatedAt      time.Time  `json:"created_at"`
}

func (s *Server) viewReport(r *hazards.Report, names regionNameMap) reportView {
	v := reportView{ID: r.ID, TrackingNumber: r.TrackingNumber, Point: [2]float64{r.Point[0], r.Point[1]}, Category: r.Category,
		CategoryLabel: r.Category, Description: r.Description, Contact: r.Contact, RegionCode: r.RegionCode,
		RegionName: names.short(r.RegionCode), Department: r.Department, Status: r.Status, StatusLabel: hazards.ReportStatusLabel(r.Status),
		Reason: r.Reason, HandledBy: r.HandledBy, HandledAt: r.HandledAt, Version: r.Version, CreatedAt: r.CreatedAt.UTC()}
	if cat, ok := s.cfg.Catalog.Category(r.Category); ok {
		v.CategoryLabel = cat.Label
	}
	if r.HazardID > 0 {
		id := r.HazardID
		v.HazardID = &id
	}
	return v
}

// submitReport answers POST /public/api/v1/reports: a citizen's report, as a form with an
// optional photo or as JSON. Only its tracking number and status come back.
func (s *Server) submitReport(c echo.Context) error {
	a := auditOf(c)
	a.action, a.targetType = "report.create", "report"
	if err := s.hz().Admit(c.RealIP()); err != nil {
		var tm *hazards.TooManyReports
		if errors.As(err, &tm) {
			retryAfter(c, tm.Wait)
			return &httpError{status: http.StatusTooManyRequests, code: "too_many_requests", message: hazards.TooManyReportsMessage, args: []any{tm.Minutes()}}
		}
		return err
	}
	var in *hazards.ReportInput
	var photo []byte
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		form, err := readUpload(c)
		if err != nil {
			return err
		}
		if in, err = hazards.ReportForm(func(k string) string { return form.fields[k] }); err != nil {
			return err
		}
		photo = form.file
	} else {
		body, err := s.readBody(c)
		if err != nil {
			return err
		}
		if in, err = hazards.DecodeReportJSON(body); err != nil {
			return err
		}
	}
	r, err := s.hz().Submit(c.Request().Context(), c.RealIP(), in, photo, func(ch hazards.Change) (*riskmap.WriteRecords, error) {
		a := *a // the request's own row names no report until this one is written
		a.targetID = strconv.FormatInt(ch.Report.ID, 10)
		a.after = map[string]any{"tracking_number": ch.Report.TrackingNumber, "category": ch.Report.Category,
			"region_code": ch.Report.RegionCode, "photo": ch.Photo != nil}
		return s.auditRecords(c, &a, http.StatusCreated), nil
	})
	if err != nil {
		return err
	}
	written(c)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]any{"tracking_number": r.TrackingNumber, "status": r.Status,
		"status_label": hazards.ReportStatusLabel(r.Status), "created_at": r.CreatedAt.UTC()})
}

// trackReport answers GET /public/api/v1/reports/{tracking_number}: the status of one
// report and what became of it; never its text, contact or place.
func (s *Server) trackReport(c echo.Context) error {
	r, result, err := s.hz().Track(c.Request().Context(), c.Param("tracking"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"tracking_number": r.TrackingNumber, "status": r.Status,
		"status_label": hazards.ReportStatusLabel(r.Status), "created_at": r.CreatedAt.UTC(), "handled_at": r.HandledAt, "result": result})
}

func reportID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %s 的举报", clip(c.Param("id")))
	}
	return id, nil
}

func (s *Server) listReports(c echo.Context) error {
	q := c.QueryParams()
	var p riskmap.Problems
	f := hazards.ReportFilter{Limit: DefaultLimit}
	for k := range q {
		switch k {
		case "status", "region", "department", "limit", "after":
		default:
			p.Add(k, "不是这里的查询参数；可用：%s", "after, department, limit, region, status")
		}
	}
	if v := q.Get("status"); v != "" {
		f.Statuses = []string{}
		for _, st := range SplitList(v) {
			switch st {
			case hazards.ReportReceived, hazards.ReportConverted, hazards.ReportDismissed:
			default:
				p.Add("status", "未知的举报状态 %q；可选 received（已受理）、converted（已转为隐患）、dismissed（不予立案）", clip(st))
			}
			f.Statuses = append(f.Statuses, st)
		}
	}
	f.RegionPrefix = regionParam(q, &p)
	if v := q.Get("department"); v != "" {
		f.Departments = SplitList(v)
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			p.Add("limit", "应为 1 至 %d 的整数，收到 %q", MaxLimit, clip(v))
		}
		f.Limit = min(n, MaxLimit)
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			p.Add("after", "不是本服务器给出的游标（请使用上一页的 next 链接）")
		}
		f.AfterID = n
	}
	if err := p.Err(); err != nil {
		return err
	}
	rs, total, err := s.hz().Reports(c.Request().Context(), userOf(c), f)
	if err != nil {
		return err
	}
	names := s.regionNames()
	items := make([]reportView, len(rs))
	for i, r := range rs {
		items[i] = s.viewReport(r, names)
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, map[string]any{"items": items, "total": total})
}

func (s *Server) getReport(c echo.Context) error {
	id, err := reportID(c)
	if err != nil {
		return err
	}
	r, err := s.hz().GetReport(c.Request().Context(), userOf(c), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(r.Version))
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, s.viewReport(r, s.regionNames()))
}

func (s *Server) reportPhotos(c echo.Context) error {
	id, err := reportID(c)
	if err != nil {
		return err
	}
	ps, err := s.hz().ReportPhotos(c.Request().Context(), userOf(c), id)
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return listJSON(c, "items", ps, err, viewPhoto)
}

// reportWrite starts the audit row of a staff write of report id.
func reportWrite(c echo.Context, action string, id int64) *auditRecord {
	a := auditOf(c)
	a.action, a.targetType, a.targetID = action, "report", strconv.FormatInt(id, 10)
	return a
}

func (s *Server) convertReport(c echo.Context) error {
	id, err := reportID(c)
	if err != nil {
		return err
	}
	a := reportWrite(c, "report.convert", id)
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	idem, err := s.idempotencyOf(c, body)
	if err != nil {
		return err
	}
	if done, err := s.replay(c, idem); done {
		return err
	}
	in, err := hazards.DecodeInput(body)
	if err != nil {
		return hazardDecodeError(err)
	}
	names := s.regionNames()
	h, _, err := s.hz().Convert(c.Request().Context(), userOf(c), id, in, func(ch hazards.Change) (*riskmap.WriteRecords, error) {
		today := s.hz().Today()
		a := *a
		a.before = map[string]any{"status": hazards.ReportReceived}
		a.after = map[string]any{"report": s.viewReport(ch.Report, names), "hazard": s.viewHazard(ch.After, nil, today)}
		r := &riskmap.WriteRecords{Audit: s.auditEntry(c, &a, http.StatusCreated)}
		if idem != nil {
			b, _ := jsonMarshal(s.viewHazard(ch.After, userOf(c), today))
			r.Response = idem.answer(http.StatusCreated, "application/json", hazardLocation(ch.After.ID), etag(ch.After.Version), b, s.now())
		}
		return r, nil
	})
	if err != nil {
		if notIndexed(c, err) {
			return err
		}
		if riskmap.ErrorCode(err) == riskmap.EFORBIDDEN {
			return s.denyScope(c, in.UnitID, err)
		}
		return err
	}
	written(c)
	c.Response().Header().Set("Location", hazardLocation(h.ID))
	c.Response().Header().Set("ETag", etag(h.Version))
	return c.JSON(http.StatusCreated, s.viewHazard(h, userOf(c), s.hz().Today()))
}

func (s *Server) dismissReport(c echo.Context) error {
	id, err := reportID(c)
	if err != nil {
		return err
	}
	a := reportWrite(c, "report.dismiss", id)
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	names := s.regionNames()
	r, err := s.hz().Dismiss(c.Request().Context(), userOf(c), id, req.Reason, func(ch hazards.Change) (*riskmap.WriteRecords, error) {
		a := *a
		a.before = map[string]any{"status": hazards.ReportReceived}
		a.after = s.viewReport(ch.Report, names)
		return s.auditRecords(c, &a, http.StatusOK), nil
	})
	if err != nil {
		return err
	}
	written(c)
	return c.JSON(http.StatusOK, s.viewReport(r, names))
}

// hazardsCSV exports the hidden dangers a list query selects within the caller's scope,
// all of them unless limit is given, as UTF-8 CSV with Chinese columns (隐患台账).
func (s *Server) hazardsCSV(c echo.Context) error {
	q := c.QueryParams()
	f, err := s.parseHazardQuery(q, hazardParams)
	if err != nil {
		return err
	}
	limit := 1 << 30
	if q.Get("limit") != "" {
		limit = f.Limit
	}
	today := s.hz().Today()
	names := workbook.Names{Category: s.categoryLabelOf, Region: s.regionNames().short}
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	_ = w.Write(workbook.HazardHeader)
	var listErr error
	for h := range s.allHazards(c.Request().Context(), userOf(c), f, limit, &listErr) {
		rec := workbook.HazardRecord(h, today, names)
		for i := range rec {
			rec[i] = csvCell(rec[i])
		}
		_ = w.Write(rec)
	}
	if listErr != nil {
		return listErr
	}
	w.Flush()
	h := c.Response().Header()
	// 隐患台账.csv, with an ASCII name for clients that do not read RFC 5987.
	h.Set("Content-Disposition", `attachment; filename="hazards.csv"; filename*=UTF-8''%E9%9A%90%E6%82%A3%E5%8F%B0%E8%B4%A6.csv`)
	h.Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func newMultipartReader(r io.Reader, boundary string) *multipart.Reader {
	return multipart.NewReader(r, boundary)
}
