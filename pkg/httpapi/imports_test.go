package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// upload posts a file as the multipart field "file".
func (e *env) upload(user string, data []byte) resp {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "风险清单.xlsx")
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/imports", &body)
	req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

// waitJob polls a job until its status is not one of busy.
func (e *env) waitJob(user, id string, busy ...string) map[string]any {
	e.t.Helper()
	for range 600 {
		r := e.do(http.MethodGet, "/api/v1/imports/"+id, "", e.as(user)...)
		if r.code != http.StatusOK {
			e.t.Fatalf("GET job: %d %s", r.code, r.body)
		}
		m := r.json(e.t)
		st, _ := m["status"].(string)
		if !strings.Contains(strings.Join(busy, ","), st) {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatal("the job never finished")
	return nil
}

func TestImports(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			if r := e.do(http.MethodPost, "/api/v1/units", feature("IMP-1", "液氨储罐区", 102.91, 24.67, 2, 3)); r.code != http.StatusCreated {
				t.Fatalf("create: %d %s", r.code, r.body)
			}
			gas := strings.Replace(feature("IMP-2", "燃气调压站", 102.92, 24.68, 2, 3), "hazardous_chemicals", "lifeline_gas", 1)
			if r := e.do(http.MethodPost, "/api/v1/units", gas); r.code != http.StatusCreated {
				t.Fatalf("create: %d %s", r.code, r.body)
			}
			x := e.do(http.MethodGet, "/api/v1/units.xlsx", "")
			if x.code != http.StatusOK {
				t.Fatalf("export: %d %s", x.code, x.body)
			}

			t.Run("UnchangedCommitsNothing", func(t *testing.T) {
				r := e.upload("admin", x.body)
				if r.code != http.StatusAccepted {
					t.Fatalf("upload: %d %s", r.code, r.body)
				}
				id := r.json(t)["id"].(string)
				m := e.waitJob("admin", id, "checking")
				if m["status"] != "checked" || m["unchanged"] != float64(2) || m["problem_count"] != float64(0) {
					t.Fatalf("checked: %v", m)
				}
				// Another user does not see the job.
				if r := e.do(http.MethodGet, "/api/v1/imports/"+id, "", e.as("expert1")...); r.code != http.StatusNotFound {
					t.Errorf("another user's job: %d, want 404", r.code)
				}
				c := e.do(http.MethodPost, "/api/v1/imports/"+id+"/commit", "", "Idempotency-Key", "imp-"+name)
				if c.code != http.StatusAccepted {
					t.Fatalf("commit: %d %s", c.code, c.body)
				}
				m = e.waitJob("admin", id, "committing")
				if m["status"] != "done" {
					t.Fatalf("done: %v", m)
				}
				again := e.do(http.MethodPost, "/api/v1/imports/"+id+"/commit", "", "Idempotency-Key", "imp-"+name)
				if again.code != http.StatusAccepted || again.header.Get("Idempotent-Replayed") != "true" {
					t.Errorf("the commit retried with its key: %d %v %s", again.code, again.header, again.body)
				}
				a := e.do(http.MethodGet, "/api/v1/audit?action=import.commit", "")
				if !strings.Contains(string(a.body), `\"unchanged\":2`) && !strings.Contains(string(a.body), `"unchanged":2`) {
					t.Errorf("the audit row of the commit with its counts: %s", a.body)
				}
			})

			t.Run("DepartmentOutsideScopeIsAProblem", func(t *testing.T) {
				r := e.upload("yjj", x.body)
				if r.code != http.StatusAccepted {
					t.Fatalf("upload: %d %s", r.code, r.body)
				}
				id := r.json(t)["id"].(string)
				m := e.waitJob("yjj", id, "checking")
				if m["problem_count"] != float64(1) || !strings.Contains(fmt.Sprint(m["problems"]), "权限范围") {
					t.Fatalf("a unit outside the department's scope: %v", m)
				}
				if c := e.do(http.MethodPost, "/api/v1/imports/"+id+"/commit", "", e.as("yjj")...); c.code != http.StatusConflict {
					t.Errorf("commit with problems: %d %s", c.code, c.body)
				}
				ex := e.do(http.MethodGet, "/api/v1/imports/"+id+"/errors.xlsx", "", e.as("yjj")...)
				if ex.code != http.StatusOK || !bytes.HasPrefix(ex.body, []byte("PK")) {
					t.Errorf("errors.xlsx: %d", ex.code)
				}
				if d := e.do(http.MethodDelete, "/api/v1/imports/"+id, "", e.as("yjj")...); d.code != http.StatusOK || d.json(t)["status"] != "cancelled" {
					t.Errorf("cancel: %d %s", d.code, d.body)
				}
			})

			t.Run("BadUploads", func(t *testing.T) {
				r := e.upload("admin", []byte("not a workbook at all, just some text"))
				if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), "不是 Excel 工作簿") {
					t.Errorf("not xlsx: %d %s", r.code, r.body)
				}
				big := make([]byte, 65<<20)
				r = e.upload("admin", big)
				if r.code != http.StatusRequestEntityTooLarge || !strings.Contains(string(r.body), "过大") && !strings.Contains(string(r.body), "不能超过") {
					t.Errorf("65 MB: %d %s", r.code, r.body)
				}
				if r := e.upload("expert1", x.body); r.code != http.StatusAccepted {
					t.Errorf("an expert may import: %d", r.code)
				}
			})
		})
	}
}
