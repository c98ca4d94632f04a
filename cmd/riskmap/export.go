package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/workbook"
)

// riskmap export FILE.xlsx [--sheets category] [--status s1,s2] [--category c1,c2]
// [--grade g1,g2] [--region PREFIX]: the register as the Excel 风险清单 (pkg/workbook), as
// GET /api/v1/units.xlsx writes it for an admin.

// fileCommands take one file argument (riskmap export FILE.xlsx).
var fileCommands = map[string]bool{"export": true}

// exportOptions are the export command's flags.
type exportOptions struct {
	File                                 string
	Sheets, Statuses, Categories, Grades string
	Region                               string
}

func (m *Main) exportFlags(fs *flag.FlagSet, env func(k, def string) string) {
	fs.StringVar(&m.ConfigPath, "config", env("RISKMAP_CONFIG", ""), "config file (colours, taxonomy)")
	fs.StringVar(&m.Export.Sheets, "sheets", "", "category: one sheet per 行业大类")
	fs.StringVar(&m.Export.Statuses, "status", "", "comma-separated statuses (draft, submitted, approved); default all but retired")
	fs.StringVar(&m.Export.Categories, "category", "", "comma-separated category codes")
	fs.StringVar(&m.Export.Grades, "grade", "", "comma-separated grades (red, orange, yellow, blue)")
	fs.StringVar(&m.Export.Region, "region", "", "region-code prefix")
}

// parseFileArg takes the command's file argument, and the flags after it.
func (m *Main) parseFileArg(fs *flag.FlagSet) error {
	if !fileCommands[m.Command] || fs.NArg() == 0 {
		return nil
	}
	file, rest := fs.Arg(0), fs.Args()[1:]
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("多余的参数 %q", fs.Arg(0))
	}
	m.Export.File = file
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// export writes the register to the file.
func (m *Main) export(ctx context.Context) error {
	o := m.Export
	if o.File == "" {
		return fmt.Errorf("请给出要写入的文件，如 riskmap export 风险清单.xlsx")
	}
	if o.Sheets != "" && o.Sheets != "category" {
		return fmt.Errorf("--sheets 应为 category（每个行业大类一张工作表）")
	}
	f := riskmap.UnitFilter{Categories: splitList(o.Categories), RegionPrefix: o.Region}
	for _, s := range splitList(o.Statuses) {
		if !riskmap.Status(s).Valid() {
			return fmt.Errorf("--status：未知的状态 %q", s)
		}
		f.Statuses = append(f.Statuses, riskmap.Status(s))
	}
	for _, g := range splitList(o.Grades) {
		if !riskmap.Grade(g).Valid() {
			return fmt.Errorf("--grade：未知的等级 %q", g)
		}
		f.Grades = append(f.Grades, riskmap.Grade(g))
	}
	match := f.Matcher()
	regions, err := m.store.Regions(ctx, "")
	if err != nil {
		return err
	}
	var units []*riskmap.Unit
	p := newProgress(m.Stderr, "读取风险单元", 0)
	for u, err := range m.store.Units(ctx) {
		if err != nil {
			return err
		}
		facts := riskmap.FactsOf(u)
		if match.Match(&facts) {
			units = append(units, u)
		}
		p.report(len(units))
	}
	slices.SortFunc(units, func(a, b *riskmap.Unit) int { return strings.Compare(a.Code, b.Code) })
	colours := map[riskmap.Grade]string{}
	for g, c := range m.cfg.Grader.Config().Colours {
		colours[g] = c.Fill
	}
	scope := "范围：全部"
	if f.Categories != nil || f.Grades != nil || f.Statuses != nil || f.RegionPrefix != "" {
		scope += "　筛选：" + strings.Join(slices.DeleteFunc([]string{o.Categories, o.Grades, o.Statuses, o.Region}, func(s string) bool { return s == "" }), "；")
	}
	ex := workbook.Export{Title: topRegionName(regions) + "城市安全风险清单", Date: time.Now(), Scope: scope, Colours: colours,
		Catalog: m.cfg.Catalog, Regions: regions, ByGroup: o.Sheets == "category"}
	tmp, err := os.CreateTemp(filepath.Dir(o.File), ".riskmap-export-*.xlsx")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := workbook.WriteUnits(tmp, units, ex); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), o.File); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "已导出 %d 个风险单元到 %s\n", len(units), o.File)
	return nil
}

// topRegionName is the name of the region with the shortest code (the city).
func topRegionName(regions []*riskmap.Region) string {
	var top *riskmap.Region
	for _, r := range regions {
		if top == nil || len(r.Code) < len(top.Code) {
			top = r
		}
	}
	if top == nil {
		return ""
	}
	return top.Name
}
