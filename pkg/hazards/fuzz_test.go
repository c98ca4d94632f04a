package hazards

import (
	"bytes"
	"image/jpeg"
	"image/png"
	"testing"

	"riskmap/pkg/riskmap"
)

// FuzzCleanPhoto: no upload makes the photo cleaner panic, and what it accepts is a JPEG or
// PNG of at most MaxPhotoSide on its longest side.
func FuzzCleanPhoto(f *testing.F) {
	var j, p bytes.Buffer
	_ = jpeg.Encode(&j, picture(40, 30), nil)
	_ = png.Encode(&p, picture(30, 40))
	f.Add(j.Bytes())
	f.Add(p.Bytes())
	f.Add([]byte("<html>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, ct, w, h, err := CleanPhoto(b)
		if err != nil {
			if c := riskmap.ErrorCode(err); c != riskmap.EINVALID && c != riskmap.ETOOLARGE {
				t.Fatalf("code %s", c)
			}
			return
		}
		if (ct != "image/jpeg" && ct != "image/png") || w > MaxPhotoSide || h > MaxPhotoSide || len(out) == 0 {
			t.Fatalf("%s %dx%d", ct, w, h)
		}
	})
}

// FuzzReportBody: a citizen's report body, as JSON or as form fields, is read and checked
// without panicking; every refusal is EINVALID.
func FuzzReportBody(f *testing.F) {
	f.Add([]byte(`{"lon":102.7,"lat":25.0,"category":"gas","description":"<script>alert(1)</script>","contact":"138"}`), "102.7", "x")
	f.Add([]byte(`[]`), "NaN", "")
	f.Fuzz(func(t *testing.T, b []byte, lon, desc string) {
		if in, err := DecodeReportJSON(b); err == nil {
			if err := CheckReport(nil, in); err != nil && riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatal(err)
			}
		} else if riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatal(err)
		}
		in, err := ReportForm(func(k string) string {
			switch k {
			case "lon", "lat":
				return lon
			case "description":
				return desc
			}
			return ""
		})
		if err == nil {
			_ = CheckReport(nil, in)
		} else if riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatal(err)
		}
	})
}

// FuzzHazardJSON: the JSON of a new hidden danger and of a PATCH is read and validated
// without panicking.
func FuzzHazardJSON(f *testing.F) {
	f.Add([]byte(`{"unit_id":1,"level":"major","description":"d","found_at":"2026-12-01","deadline":"2026-11-01","five":{"funds":"1"},"point":[102.7,25]}`))
	f.Add([]byte(`{"deadline":"x","status":"closed"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if in, err := DecodeInput(b); err == nil {
			h := in.Hazard()
			h.Status = StatusRectifying
			if err := h.Validate(); err != nil && riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatal(err)
			}
		}
		if p, refused, err := DecodePatch(b); err == nil && refused == nil {
			h := validHazard()
			p.apply(h)
			_ = h.Validate()
		}
	})
}
