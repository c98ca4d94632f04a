package tiles_test

import (
	"testing"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/tiles"
)

// TestRenderUnitsStatus: the internal map's tiles (Options.Status) carry each unit's review
// status, so that drafts, submissions and approved units are drawn apart; tiles without it
// (the public's) carry no status at all.
func TestRenderUnitsStatus(t *testing.T) {
	us := fixtureUnits()
	us[0].Status, us[1].Status, us[2].Status = riskmap.StatusDraft, riskmap.StatusSubmitted, riskmap.StatusApproved
	ix := mustIndex(t, us...)
	raw, _ := mustRender(t, ix.Snapshot(), demoTile, tiles.Options{Status: true})
	fs := byID(decode(t, raw))
	for id, want := range map[int64]string{1: "draft", 2: "submitted", 3: "approved"} {
		if got := fs[id].Properties["status"]; got != want {
			t.Errorf("unit %d: status %v, want %s", id, got, want)
		}
	}
	if f := (tiles.Options{Status: true}).UnitFields(); f["status"] != "String" {
		t.Errorf("the internal TileJSON lists status: %v", f)
	}
	raw, _ = mustRender(t, ix.Snapshot(), demoTile, tiles.Options{})
	for id, f := range byID(decode(t, raw)) {
		if _, ok := f.Properties["status"]; ok {
			t.Errorf("unit %d: a tile without Options.Status carries a status", id)
		}
	}
	if _, ok := (tiles.Options{}).UnitFields()["status"]; ok {
		t.Error("the public TileJSON lists no status")
	}
}
