package gpkg

import (
	"database/sql"
	"testing"

	"github.com/paulmach/orb"
)

// FuzzStoredHazard decodes what a desktop GIS user might leave in a hidden danger's row
// (any text in its JSON, date and time columns, any blob as its point): the store must
// read the hidden danger or say what it cannot read, never panic.
func FuzzStoredHazard(f *testing.F) {
	point, _ := EncodeGeometry(orb.Point{102.91, 24.67}, SRSID)
	f.Add(`{"responsibility":"厂长"}`, `{"by":"city","at":"2026-06-01T00:00:00Z"}`, ``, "2026-07-01",
		"2026-06-01T00:00:00.000Z", "2026-06-03T08:00:00Z", point)
	f.Add(`[1,2]`, `{"at":5}`, `{`, "昨天", "", "2026-13-45T99:00:00Z", []byte("GP\x00\x01"))
	f.Add(`null`, `null`, `{"deadline":"2026-08-01T00:00:00Z","decided_at":null}`, "", "2026-06-01T00:00:00+08:00", "", []byte{})
	f.Fuzz(func(t *testing.T, five, sup, ext, deadline, found, accepted string, geom []byte) {
		r := hazardRow{geom: geom, found: found, deadline: deadline, created: found, updated: found,
			level: "major", source: "inspection", status: "accepted",
			five: sql.NullString{String: five, Valid: five != ""}, sup: sql.NullString{String: sup, Valid: sup != ""},
			ext: sql.NullString{String: ext, Valid: ext != ""}, acceptedAt: sql.NullString{String: accepted, Valid: accepted != ""}}
		h, err := r.decode()
		if err != nil {
			return
		}
		if h.FoundAt.Location().String() != "UTC" || (h.AcceptedAt != nil && h.AcceptedAt.Location().String() != "UTC") {
			t.Fatalf("times must come back in UTC: %v %v", h.FoundAt, h.AcceptedAt)
		}
		if _, err := EncodeGeometry(h.Point, SRSID); err != nil {
			t.Fatalf("a point read back must be writable again: %v", err)
		}
	})
}
