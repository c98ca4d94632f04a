package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"riskmap/pkg/config"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/workbook"
)

// TestExportCommand: "riskmap export FILE.xlsx" writes the demo city's register, which the
// workbook reader reads back unit for unit; filters narrow it.
func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	db := demoGPKG(t, "e.gpkg")
	file := filepath.Join(dir, "风险清单.xlsx")
	out, _, err := run(t, "", "export", file, "--db", db)
	if err != nil || !strings.Contains(out, "已导出") {
		t.Fatalf("export: %v %s", err, out)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gpkg.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	regions, _ := s.Regions(context.Background(), "")
	stored := map[string]*riskmap.Unit{}
	n := 0
	for u, err := range s.Units(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if u.Status != riskmap.StatusRetired {
			stored[u.Code] = u
		}
		n++
	}
	book, err := workbook.Open(bytes.NewReader(b), int64(len(b)), workbook.Options{Catalog: config.Default().Catalog, Regions: regions})
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	read := 0
	for r, err := range book.Rows(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Problems) > 0 {
			t.Fatalf("row %d: %s", r.Number, r.Problems[0].Text())
		}
		u := stored[r.Unit.Code]
		if u == nil {
			t.Fatalf("row %d: %s is not in the store", r.Number, r.Unit.Code)
		}
		// what an import of the file unchanged would compare: nothing differs
		if !workbook.Same(u, r.Unit) {
			t.Fatalf("row %d: %s reads back different from the stored unit:\n%+v\n%+v", r.Number, u.Code, r.Unit, u)
		}
		if r.Grade != u.Grade {
			t.Errorf("row %d: grade %q, stored %q", r.Number, r.Grade, u.Grade)
		}
		read++
	}
	if read != len(stored) || read > n {
		t.Fatalf("%d rows read, %d units stored", read, n)
	}
	out, _, err = run(t, "", "export", file, "--db", db, "--grade", "red", "--sheets", "category")
	if err != nil || !strings.Contains(out, "已导出") {
		t.Fatalf("export --grade red: %v %s", err, out)
	}
	if _, _, err := run(t, "", "export", file, "--db", db, "--grade", "purple"); err == nil || !strings.Contains(err.Error(), "未知的等级") {
		t.Errorf("--grade purple: %v", err)
	}
	if _, _, err := run(t, "", "export", "--db", db); err == nil || !strings.Contains(err.Error(), "请给出要写入的文件") {
		t.Errorf("no file: %v", err)
	}
}
