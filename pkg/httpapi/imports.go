package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/imports"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
)

// importRoutes are the Excel import's jobs (issue 15, pkg/imports): an upload is checked
// in the background, then committed all or nothing, or cancelled. Every route is for
// editors, and each job for the user who uploaded it; a department imports only units in
// its scope (each row outside is a problem of that row).
func (s *Server) importRoutes() {
	if _, ok := s.cfg.Store.(riskmap.UnitImportStore); !ok || s.cfg.Units == nil {
		return
	}
	svc := &imports.Service{Units: s.cfg.Units, Catalog: s.cfg.Catalog, Regions: s.cfg.Regions, Now: s.cfg.Now}
	h := &importHandlers{s: s, svc: svc}
	const api = "/api/v1"
	s.route(http.MethodPost, api+"/imports", editor, h.start)
	s.route(http.MethodGet, api+"/imports/:id", editor, h.get)
	s.route(http.MethodGet, api+"/imports/:id/errors.xlsx", editor, h.errorsXLSX)
	s.route(http.MethodPost, api+"/imports/:id/commit", editor, h.commit)
	s.route(http.MethodDelete, api+"/imports/:id", editor, h.cancel)
	// JSON passes the door too, so that a caller without the right is told so first.
	s.bodyRules["POST "+api+"/imports"] = bodyRule{types: []string{"multipart/form-data", "application/json"},
		maxBytes: imports.MaxUploadBytes + 64<<10, read: 5 * time.Minute, write: s.cfg.Timeouts.Write}
}

type importHandlers struct {
	s   *Server
	svc *imports.Service
}

func importAudit(c echo.Context, action string) *auditRecord {
	a := auditOf(c)
	a.action, a.targetType, a.targetID = action, "import", clip(c.Param("id"))
	return a
}

// readWorkbook reads the multipart form's "file" (at most imports.MaxUploadBytes).
func readWorkbook(c echo.Context) ([]byte, error) {
	r := c.Request()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, riskmap.Errorf(riskmap.EINVALID, "请以 multipart/form-data 上传 Excel 文件（字段 file）")
	}
	mr := newMultipartReader(r.Body, params["boundary"])
	for n := 0; n < maxFormParts; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, importTooLarge()
			}
			return nil, riskmap.Errorf(riskmap.EINVALID, "表单格式有误：multipart 请求体不完整")
		}
		if part.FormName() != "file" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, imports.MaxUploadBytes+1))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, importTooLarge()
			}
			return nil, riskmap.Errorf(riskmap.EINVALID, "表单格式有误：multipart 请求体不完整")
		}
		if len(b) > imports.MaxUploadBytes {
			return nil, importTooLarge()
		}
		return b, nil
	}
	return nil, riskmap.Problems{riskmap.FieldErrorf("file", "请选择要导入的 Excel 文件（.xlsx）")}.Err()
}

func importTooLarge() error {
	return riskmap.Errorf(riskmap.ETOOLARGE, "Excel 文件不能超过 %d MB", imports.MaxUploadBytes>>20)
}

func (h *importHandlers) start(c echo.Context) error {
	importAudit(c, "import.upload")
	data, err := readWorkbook(c)
	if err != nil {
		return err
	}
	v, err := h.svc.Start(userOf(c), data)
	if err != nil {
		return err
	}
	auditOf(c).targetID = v.ID
	c.Response().Header().Set("Location", "/api/v1/imports/"+v.ID)
	return c.JSON(http.StatusAccepted, v)
}

func (h *importHandlers) get(c echo.Context) error {
	v, err := h.svc.Get(userOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, v)
}

func (h *importHandlers) errorsXLSX(c echo.Context) error {
	var buf bytes.Buffer
	if err := h.svc.ErrorsXLSX(&buf, userOf(c), c.Param("id")); err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Content-Disposition", `attachment; filename="errors.xlsx"; filename*=UTF-8''%E5%AF%BC%E5%85%A5%E9%97%AE%E9%A2%98.xlsx`)
	hd.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
}

// commitCounts is what the audit row of a commit keeps.
type commitCounts struct {
	Creates   int `json:"creates"`
	Updates   int `json:"updates"`
	Unchanged int `json:"unchanged"`
}

// commit starts writing a checked job (202 with the job); its audit row import.commit,
// with the counts, is written in the import's own transaction. With an Idempotency-Key
// the answer is kept with it.
func (h *importHandlers) commit(c echo.Context) error {
	s := h.s
	id := c.Param("id")
	a := importAudit(c, "import.commit")
	idem, err := s.idempotencyOf(c, []byte(id))
	if err != nil {
		return err
	}
	if done, err := s.replay(c, idem); done {
		return err
	}
	by := userOf(c)
	entry := s.auditEntry(c, a, http.StatusAccepted)
	now := s.now()
	// The answer kept for the key is the first answer, known once Commit returns.
	var answer []byte
	ready := make(chan struct{})
	defer func() {
		select {
		case <-ready:
		default:
			close(ready)
		}
	}()
	rec := func(r register.ImportResult) (*riskmap.WriteRecords, error) {
		<-ready
		out := &riskmap.WriteRecords{}
		if entry != nil {
			e := *entry
			e.After, _ = json.Marshal(commitCounts(r))
			out.Audit = &e
		}
		if idem != nil && answer != nil {
			out.Response = idem.answer(http.StatusAccepted, "application/json", "/api/v1/imports/"+id, "", answer, now)
		}
		return out, nil
	}
	after := func(v imports.View, err error) {
		if err == nil || entry == nil || errors.Is(err, context.Canceled) {
			return
		}
		// A commit that failed leaves its own row.
		e := *entry
		e.Outcome, e.Detail = riskmap.OutcomeFailed, clip(riskmap.ErrorMessage(err))
		ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
		defer cancel()
		if err := s.cfg.Store.AppendAudit(ctx, &e); err != nil {
			s.cfg.Logger.Error("import: audit row of a failed commit", "err", err)
		}
	}
	v, err := h.svc.Commit(by, id, rec, after)
	if err != nil {
		return err
	}
	answer, _ = json.Marshal(v)
	close(ready)
	written(c) // the row is written with the import, or by after
	return c.JSON(http.StatusAccepted, v)
}

func (h *importHandlers) cancel(c echo.Context) error {
	importAudit(c, "import.cancel")
	v, err := h.svc.Cancel(userOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}
