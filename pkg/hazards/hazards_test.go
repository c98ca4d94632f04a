package hazards

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"

	"riskmap/pkg/riskmap"
)

func picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 100, 255})
		}
	}
	return img
}

// withEXIF puts an APP1 EXIF segment naming a GPS position and a camera serial right
// after the JPEG's start.
func withEXIF(t *testing.T, j []byte) []byte {
	payload := []byte("Exif\x00\x00GPSLatitude 25.0389 GPSLongitude 102.7183 BodySerialNumber CAM-123456")
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, j[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, j[2:]...)
}

// withText adds a tEXt chunk to a PNG after its header chunk.
func withText(p []byte) []byte {
	data := []byte("Comment\x00GPSLatitude 25.0389 BodySerialNumber CAM-123456")
	chunk := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(chunk, uint32(len(data)))
	copy(chunk[4:], "tEXt")
	chunk = append(chunk, data...)
	crc := crc32.ChecksumIEEE(chunk[4:])
	chunk = binary.BigEndian.AppendUint32(chunk, crc)
	at := 8 + 25 // signature, IHDR
	out := append([]byte{}, p[:at]...)
	out = append(out, chunk...)
	return append(out, p[at:]...)
}

func TestCleanPhoto(t *testing.T) {
	var j bytes.Buffer
	if err := jpeg.Encode(&j, picture(300, 200), nil); err != nil {
		t.Fatal(err)
	}
	var p bytes.Buffer
	if err := png.Encode(&p, picture(120, 90)); err != nil {
		t.Fatal(err)
	}
	t.Run("a JPEG loses its EXIF, GPS and serial", func(t *testing.T) {
		in := withEXIF(t, j.Bytes())
		if _, _, err := image.Decode(bytes.NewReader(in)); err != nil {
			t.Fatalf("test JPEG does not decode: %v", err)
		}
		out, ct, w, h, err := CleanPhoto(in)
		if err != nil {
			t.Fatal(err)
		}
		if ct != "image/jpeg" || w != 300 || h != 200 {
			t.Errorf("got %s %dx%d", ct, w, h)
		}
		for _, s := range []string{"Exif", "GPS", "CAM-123456"} {
			if bytes.Contains(out, []byte(s)) {
				t.Errorf("the stored JPEG still holds %q", s)
			}
		}
	})
	t.Run("a PNG loses its text chunks", func(t *testing.T) {
		in := withText(p.Bytes())
		out, ct, w, h, err := CleanPhoto(in)
		if err != nil {
			t.Fatal(err)
		}
		if ct != "image/png" || w != 120 || h != 90 {
			t.Errorf("got %s %dx%d", ct, w, h)
		}
		if bytes.Contains(out, []byte("GPS")) || bytes.Contains(out, []byte("tEXt")) {
			t.Error("the stored PNG still holds its text")
		}
	})
	t.Run("a large picture is scaled to 2048 on its longest side", func(t *testing.T) {
		var b bytes.Buffer
		_ = jpeg.Encode(&b, picture(3000, 1500), nil)
		_, _, w, h, err := CleanPhoto(b.Bytes())
		if err != nil || w != 2048 || h != 1024 {
			t.Errorf("got %dx%d, %v", w, h, err)
		}
	})
	t.Run("HTML, a zip, GIF and nothing are refused", func(t *testing.T) {
		for name, in := range map[string][]byte{
			"html":  []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"),
			"zip":   append([]byte("PK\x03\x04"), make([]byte, 100)...),
			"gif":   []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
			"empty": nil,
			"cut":   j.Bytes()[:200],
		} {
			if _, _, _, _, err := CleanPhoto(in); riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Errorf("%s: got %v, want EINVALID", name, err)
			}
		}
	})
	t.Run("more than 10 MB is too large", func(t *testing.T) {
		big := append(append([]byte{}, j.Bytes()...), make([]byte, MaxPhotoBytes)...)
		if _, _, _, _, err := CleanPhoto(big); riskmap.ErrorCode(err) != riskmap.ETOOLARGE {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a header claiming 50000x50000 pixels is refused before decoding", func(t *testing.T) {
		var b bytes.Buffer
		_ = png.Encode(&b, picture(1, 1))
		in := b.Bytes()
		binary.BigEndian.PutUint32(in[16:], 50000)
		binary.BigEndian.PutUint32(in[20:], 50000)
		binary.BigEndian.PutUint32(in[29:], crc32.ChecksumIEEE(in[12:29]))
		_, _, _, _, err := CleanPhoto(in)
		if riskmap.ErrorCode(err) != riskmap.EINVALID || !strings.Contains(err.Error(), "像素") {
			t.Errorf("got %v", err)
		}
	})
}

func date(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

func validHazard() *Hazard {
	return &Hazard{UnitID: 1, Level: LevelGeneral, Description: "消防通道堵塞", Location: "东门", Source: SourceInspection,
		FoundAt: date("2026-12-01"), ResponsibleUnit: "某公司", ResponsiblePerson: "张三", Measures: "清理通道",
		Deadline: date("2026-12-10"), Status: StatusRegistered}
}

func fieldsOf(err error) []string {
	var out []string
	for _, f := range riskmap.ErrorFields(err) {
		out = append(out, f.Field)
	}
	return out
}

func TestValidate(t *testing.T) {
	t.Run("a complete hidden danger passes", func(t *testing.T) {
		if err := validHazard().Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a deadline before the found date is refused by its field", func(t *testing.T) {
		h := validHazard()
		h.Deadline = date("2026-11-30")
		err := h.Validate()
		if got := fieldsOf(err); len(got) != 1 || got[0] != "deadline" {
			t.Errorf("got %v (%v)", got, err)
		}
	})
	t.Run("every missing field is named", func(t *testing.T) {
		err := (&Hazard{Status: StatusRegistered}).Validate()
		got := strings.Join(fieldsOf(err), ",")
		for _, f := range []string{"unit_id", "level", "description", "responsible_unit", "responsible_person", "measures", "source", "found_at", "deadline"} {
			if !strings.Contains(got, f) {
				t.Errorf("%s not named: %s", f, got)
			}
		}
	})
	t.Run("a description over 4000 characters is too long", func(t *testing.T) {
		h := validHazard()
		h.Description = strings.Repeat("隐", 4001)
		if got := fieldsOf(h.Validate()); len(got) != 1 || got[0] != "description" {
			t.Errorf("got %v", got)
		}
	})
	t.Run("a major one past reported needs its five", func(t *testing.T) {
		h := validHazard()
		h.Level, h.Status = LevelMajor, StatusRectifying
		h.Five = &FiveImplementations{Responsibility: "张三", Measures: "加固"}
		got := strings.Join(fieldsOf(h.Validate()), ",")
		if got != "five.funds,five.time_limit,five.plan" {
			t.Errorf("got %s", got)
		}
	})
}

func TestLoop(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusRegistered, StatusReported}: true, {StatusReported, StatusRectifying}: true,
		{StatusRectifying, StatusAccepted}: true, {StatusAccepted, StatusClosed}: true, {StatusAccepted, StatusRectifying}: true,
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			if CanMove(from, to) != allowed[[2]Status{from, to}] {
				t.Errorf("%s → %s: CanMove %v", from, to, CanMove(from, to))
			}
			if !CanMove(from, to) {
				err := moveError(&Hazard{Code: "YH-2026-000001", Status: from}, to)
				if riskmap.ErrorCode(err) != riskmap.ECONFLICT || !strings.Contains(err.Error(), "YH-2026-000001") {
					t.Errorf("%s → %s: %v", from, to, err)
				}
			}
		}
	}
	err := moveError(&Hazard{Code: "YH-2026-000001", Status: StatusRectifying}, StatusClosed)
	if !strings.Contains(err.Error(), "整改中") || !strings.Contains(err.Error(), "须先「验收」") {
		t.Errorf("closing a rectifying one: %v", err)
	}
}

func TestActions(t *testing.T) {
	expert := &riskmap.User{Name: "e", Role: riskmap.RoleExpert}
	dept := &riskmap.User{Name: "d", Role: riskmap.RoleDepartment, Categories: []string{"gas"}, Regions: []string{"5301"}}
	h := &Hazard{Category: "gas", RegionCode: "530102", Level: LevelMajor, Status: StatusAccepted, AcceptedBy: "e"}
	if got := strings.Join(Actions(expert, h), ","); got != "rectifying,supervision,photo,edit" {
		t.Errorf("the rectifier: %s", got)
	}
	if got := strings.Join(Actions(dept, h), ","); got != "closed,rectifying,supervision,photo,edit" {
		t.Errorf("another user: %s", got)
	}
	h.RegionCode = "530201"
	if got := Actions(dept, h); len(got) != 0 {
		t.Errorf("outside the scope: %v", got)
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(5, 30)
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	ok := 0
	for i := 0; i < 100; i++ {
		if a, wait := l.Allow("10.0.0.1", now.Add(time.Duration(i)*600*time.Millisecond)); a {
			ok++
		} else if wait <= 0 || wait > time.Minute {
			t.Fatalf("wait %v", wait)
		}
	}
	if ok != 5 {
		t.Errorf("100 in a minute: %d allowed, want 5", ok)
	}
	if a, _ := l.Allow("10.0.0.2", now); !a {
		t.Error("another address is throttled too")
	}
	// 30 a day: one every 5 minutes passes the minute limit.
	ok = 0
	for i := 0; i < 40; i++ {
		if a, _ := l.Allow("10.0.0.3", now.Add(time.Duration(i)*5*time.Minute)); a {
			ok++
		}
	}
	if ok != 30 {
		t.Errorf("40 in a day: %d allowed, want 30", ok)
	}
	if a, _ := l.Allow("10.0.0.3", now.Add(25*time.Hour)); !a {
		t.Error("the next day is still throttled")
	}
}

func TestTracking(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	a, b := NewTrackingNumber(now), NewTrackingNumber(now)
	if a == b || !strings.HasPrefix(a, "JB20261206") || len(a) != 18 {
		t.Errorf("%s %s", a, b)
	}
	if n, ok := NormalizeTracking(" " + strings.ToLower(a) + " "); !ok || n != a {
		t.Errorf("normalize %s: %s %v", a, n, ok)
	}
	for _, bad := range []string{"", "JB", "JB2026120612345678X", "XX20261206ABCDEFGH", "JB2026120U!BCDEFGH"} {
		if _, ok := NormalizeTracking(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDecodePatch(t *testing.T) {
	_, refused, err := DecodePatch([]byte(`{"deadline":"2027-01-01","status":"closed","description":"x"}`))
	if err != nil || len(refused) != 2 {
		t.Errorf("refused %v, %v", refused, err)
	}
	p, refused, err := DecodePatch([]byte(`{"description":"新的描述","code":"YH-1","found_at":"2026-12-01"}`))
	if err != nil || refused != nil || p.Description == nil || *p.Description != "新的描述" || p.FoundAt.Year() != 2026 {
		t.Errorf("%+v %v %v", p, refused, err)
	}
	if _, _, err := DecodePatch([]byte(`{"colour":"red"}`)); err == nil {
		t.Error("an unknown field passes")
	}
}
