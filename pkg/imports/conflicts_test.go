package imports_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"riskmap/pkg/imports"
	"riskmap/pkg/riskmap"
)

// nearSchool is a register.Service.Conflicts for the test: a school 100 m from every
// unit whose id is even.
func nearSchool(u *riskmap.Unit) []riskmap.Condition {
	if u.Geometry == nil || u.ID%2 != 0 {
		return nil
	}
	return []riskmap.Condition{riskmap.ConflictCondition(riskmap.TargetSchool, "澄江一中", 100)}
}

// TestImportKeepsConflicts: with conflicts computed on every write, the register exported
// and imported unchanged still writes nothing (a conflict that stays is no change).
func TestImportKeepsConflicts(t *testing.T) {
	e := newEnv(t, stores(t)["GeoPackage"], true)
	ctx := context.Background()
	units := e.svc.Units
	units.Conflicts = nearSchool
	all := versions(t, e.store)
	want := map[int64][]riskmap.Condition{}
	for _, u := range all {
		if cs := nearSchool(u); cs != nil {
			want[u.ID] = cs
		}
	}
	if _, err := units.ReconcileConditions(ctx, riskmap.ConditionConflict, want); err != nil {
		t.Fatal(err)
	}
	data, us := e.export(t)
	before := versions(t, e.store)
	raised := 0
	for _, u := range before {
		if u.Grade != u.InherentGrade && len(u.Conditions) > 0 {
			raised++
		}
	}
	if len(want) == 0 || raised == 0 {
		t.Fatalf("the test needs conflicts (%d) and units they raise (%d)", len(want), raised)
	}
	v := e.check(t, admin, data)
	if v.Status != imports.Checked || v.ProblemCount != 0 || v.Unchanged != len(us) {
		t.Fatalf("the export imported unchanged: %+v, want %d unchanged", v, len(us))
	}
	e.commit(t, admin, v.ID)
	for code, u := range versions(t, e.store) {
		if u.Version != before[code].Version || len(u.Conditions) != len(before[code].Conditions) {
			t.Errorf("%s: v%d → v%d; an unchanged import writes nothing", code, before[code].Version, u.Version)
		}
	}
}

// TestImportRadiusProblems: an influence radius out of range is a problem of its row,
// with the field's message.
func TestImportRadiusProblems(t *testing.T) {
	e := newEnv(t, stores(t)["GeoPackage"], true)
	data, _ := e.export(t)
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sheet := f.GetSheetName(0)
	rows, _ := f.GetRows(sheet)
	col := ""
	for i, h := range rows[2] {
		if h == "影响半径（米）" {
			col, _ = excelize.ColumnNumberToName(i + 1)
		}
	}
	if col == "" {
		t.Fatal("no 影响半径（米） column")
	}
	_ = f.SetCellValue(sheet, col+"5", 60000)
	_ = f.SetCellValue(sheet, col+"6", -5)
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	v := e.check(t, admin, buf.Bytes())
	if v.ProblemCount != 2 {
		t.Fatalf("problems: %+v", v.Problems)
	}
	for i, row := range []int{5, 6} {
		want := "第 " + strconv.Itoa(row) + " 行「影响半径（米）」：影响半径应在 0 到 50000 米之间"
		if !strings.Contains(v.Problems[i].Text, want) {
			t.Errorf("problem %q lacks %q", v.Problems[i].Text, want)
		}
	}
}
