package gpkg_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// TestValidateGPKGAccessTables fills the access, audit, review and publication tables and
// asks GDAL whether the file is still a valid GeoPackage, and whether it reads the approved
// register as a layer.
func TestValidateGPKGAccessTables(t *testing.T) {
	python, validator, ogrinfo := gdalTools(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "审核与发布.gpkg")
	s, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Migrate(ctx))
	u := &riskmap.User{Name: "专家甲", Role: riskmap.RoleExpert, PasswordHash: "x"}
	must(s.CreateUserRecorded(ctx, u, nil))
	now := time.Now()
	must(s.CreateSession(ctx, &riskmap.Session{TokenHash: "h", UserID: u.ID, CSRF: "c", ExpiresAt: now.Add(time.Hour)}))
	must(s.CreateAPIToken(ctx, &riskmap.APIToken{Name: "t", UserID: u.ID, TokenHash: "th", LastUsedAt: &now}))
	must(s.AppendAudit(ctx, &riskmap.AuditEntry{Actor: "专家甲", Action: "unit.update", Outcome: riskmap.OutcomeOK,
		Before: json.RawMessage(`{"grade":"red"}`)}))
	a := storetest.NewUnit("VA-1", orb.Point{102.91, 24.67})
	b := storetest.NewUnit("VA-2", orb.Polygon{{{102.90, 24.60}, {102.95, 24.60}, {102.95, 24.65}, {102.90, 24.60}}})
	b.Status = riskmap.StatusDraft
	must(s.CreateUnit(ctx, a))
	must(s.CreateUnit(ctx, b))
	must(s.SetUnitAuthor(ctx, &riskmap.UnitAuthor{UnitID: a.ID, CreatedBy: "专家甲", SubmittedAt: &now, ApprovedVersion: 1}))
	_, err = s.Publish(ctx, &riskmap.Publication{CreatedBy: "admin"}, func(*riskmap.PublicationChange) (*riskmap.PublicationSummary, error) {
		return &riskmap.PublicationSummary{Regions: json.RawMessage(`[{"code":"530481","grade":"red"}]`)}, nil
	})
	must(err)
	b.Status = riskmap.StatusApproved
	must(s.UpdateUnit(ctx, b))
	must(s.Close())

	run := func(t *testing.T, name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Run("ValidatorOK", func(t *testing.T) {
		out := run(t, python, validator, "-k", "--extra", "--warning-as-error", path)
		if strings.TrimSpace(out) != "" {
			t.Fatalf("validate_gpkg.py printed:\n%s", out)
		}
	})
	t.Run("OgrinfoApprovedLayerOK", func(t *testing.T) {
		out := run(t, ogrinfo, "-al", "-so", path, "approved_units")
		for _, want := range []string{"Geometry: Unknown (any)", "Feature Count: 2", "FID Column = unit_id",
			"approved_at: DateTime", "Extent: (102.900000, 24.600000) - (102.950000, 24.670000)"} {
			if !strings.Contains(out, want) {
				t.Errorf("ogrinfo summary of approved_units lacks %q:\n%s", want, out)
			}
		}
	})
}
