package gpkg_test

import (
	"context"
	"database/sql"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	_ "modernc.org/sqlite"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/hazards"
	"riskmap/pkg/storetest"
)

// hazardFile writes a GeoPackage with a unit and hidden dangers (one with a supervision,
// a photo and a history) and closes it.
func hazardFile(t *testing.T) (string, *hazards.Hazard) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "隐患.gpkg")
	s, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u := storetest.NewUnit("HZ-V", orb.Point{102.91, 24.67})
	if err := s.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	first := &hazards.Hazard{UnitID: u.ID, Level: hazards.LevelMajor, Description: "储罐区报警器失效", Location: "东侧",
		Point: orb.Point{102.912, 24.671}, FoundAt: at, Source: hazards.SourceInspection,
		Deadline: at.AddDate(0, 1, 0), Status: hazards.StatusRegistered,
		Five:        &hazards.FiveImplementations{Responsibility: "厂长"},
		Supervision: &hazards.Supervision{By: hazards.SupervisionCity, At: at, User: "专家"}}
	if _, err := s.CreateHazard(ctx, first, &hazards.Event{Kind: hazards.EventCreated, By: "甲"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	second := &hazards.Hazard{UnitID: u.ID, Level: hazards.LevelGeneral, FoundAt: at, Source: hazards.SourceSelfInspection,
		Deadline: at.AddDate(0, 0, 10), Status: hazards.StatusRegistered}
	if _, err := s.CreateHazard(ctx, second, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	second.Status = hazards.StatusReported
	if _, err := s.UpdateHazard(ctx, second, []*hazards.Event{{Kind: hazards.EventTransition, To: hazards.StatusReported, By: "甲"}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPhoto(ctx, &hazards.Photo{Owner: "hazard", OwnerID: first.ID, Stage: hazards.PhotoBefore, ContentType: "image/png", Bytes: []byte{1, 2, 3}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateReport(ctx, &hazards.Report{TrackingNumber: "JB20260601AAAAAAAA", Point: orb.Point{102.9, 24.6}, Category: "gas", Description: "气味"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, first
}

// TestValidateHazardsGPKG asks GDAL whether a file with hidden dangers is still a valid
// GeoPackage and reads them as a point layer where they are.
func TestValidateHazardsGPKG(t *testing.T) {
	python, validator, ogrinfo := gdalTools(t)
	path, first := hazardFile(t)
	out, err := exec.Command(python, validator, "-k", "--extra", "--warning-as-error", path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("validate_gpkg.py: %v\n%s", err, out)
	}
	out, err = exec.Command(ogrinfo, "-q", path, "hazards", "-spat", "102.911", "24.670", "102.913", "24.672").CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	for _, want := range []string{first.Code, "储罐区报警器失效", "POINT (102.912 24.671)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ogrinfo lacks %q:\n%s", want, out)
		}
	}
	out, err = exec.Command(ogrinfo, "-q", path, "-sql", "SELECT rtreecheck('rtree_hazards_geom') AS r").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "r (String) = ok") {
		t.Errorf("rtreecheck: %v\n%s", err, out)
	}
}

// TestHazardEventsAppendOnly checks that a hidden danger's history refuses UPDATE and
// DELETE, whoever writes the file.
func TestHazardEventsAppendOnly(t *testing.T) {
	path, first := hazardFile(t)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"UPDATE hazard_events SET note = 'x'", "DELETE FROM hazard_events"} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s must be refused, got %v", q, err)
		}
	}
	s, err := gpkg.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := s.HazardEvents(context.Background(), first.ID)
	if err != nil || len(evs) != 1 {
		t.Fatalf("the history must be intact: %v %v", evs, err)
	}
}
