package httpapi

import (
	"bytes"
	"mime/multipart"
	"testing"

	"riskmap/pkg/riskmap"
)

// FuzzUpload: no multipart body makes the upload reader panic; every refusal is a client
// error.
func FuzzUpload(f *testing.F) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.SetBoundary("xyz")
	_ = w.WriteField("stage", "before")
	p, _ := w.CreateFormFile("photo", "a.jpg")
	_, _ = p.Write([]byte("\xff\xd8\xff\xe0 not really"))
	_ = w.Close()
	f.Add(b.Bytes())
	f.Add([]byte("--xyz\r\nContent-Disposition: form-data; name=\"photo\"\r\n\r\n<html>\r\n--xyz--"))
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := parseUpload(bytes.NewReader(body), "xyz")
		if err != nil {
			if c := riskmap.ErrorCode(err); c != riskmap.EINVALID && c != riskmap.ETOOLARGE {
				t.Fatalf("code %q: %v", c, err)
			}
			return
		}
		if len(u.file) > 10<<20 || len(u.fields) > maxFormParts {
			t.Fatal("limits not kept")
		}
	})
}
