package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"riskmap/pkg/imports"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
)

// riskmap import FILE.xlsx [--dry-run]: the Excel 风险清单 read, every row checked as
// POST /api/v1/imports checks it, then written all or nothing (unless --dry-run), with a
// progress line on standard error. The command line is the system: no scope applies.

func init() { fileCommands["import"] = true }

// importOptions are the import command's flags.
type importOptions struct {
	DryRun bool
}

func (m *Main) importFlags(fs *flag.FlagSet, env func(k, def string) string) {
	fs.StringVar(&m.ConfigPath, "config", env("RISKMAP_CONFIG", ""), "config file (grading, taxonomy)")
	fs.BoolVar(&m.Import.DryRun, "dry-run", false, "check the file and say what it would change; write nothing")
}

// importFile runs the import command.
func (m *Main) importFile(ctx context.Context) error {
	file := m.Export.File
	if file == "" {
		return fmt.Errorf("请给出要导入的文件，如 riskmap import 风险清单.xlsx")
	}
	st, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("无法读取 %s：%v", file, err)
	}
	if st.Size() > imports.MaxUploadBytes {
		return fmt.Errorf("Excel 文件不能超过 %d MB", imports.MaxUploadBytes>>20)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("无法读取 %s：%v", file, err)
	}
	regions, err := m.store.Regions(ctx, "")
	if err != nil {
		return err
	}
	svc := &imports.Service{Units: m.service(), Catalog: m.cfg.Catalog, Regions: regions}
	v, err := svc.Start(nil, data)
	if err != nil {
		return fmt.Errorf("%s", riskmap.ErrorMessage(err))
	}
	v, err = m.followImport(ctx, svc, v.ID, "检查", imports.Checking)
	if err != nil {
		return err
	}
	if v.Status == imports.Failed {
		return fmt.Errorf("%s", v.Error)
	}
	if v.ProblemCount > 0 {
		for _, p := range v.Problems {
			fmt.Fprintln(m.Stderr, p.Text)
		}
		if v.ProblemCount > len(v.Problems) {
			fmt.Fprintf(m.Stderr, "……另有 %d 处问题\n", v.ProblemCount-len(v.Problems))
		}
		return fmt.Errorf("文件有 %d 处问题，未导入任何数据", v.ProblemCount)
	}
	summary := fmt.Sprintf("新建 %d 个、修订 %d 个（新的草稿修订，待审核）、未变 %d 个风险单元", v.Creates, v.Updates, v.Unchanged)
	if m.Import.DryRun {
		fmt.Fprintf(m.Stdout, "试运行，未写入：%d 行检查通过；导入将%s\n", v.Checked, summary)
		_, _ = svc.Cancel(nil, v.ID)
		return nil
	}
	rec := func(r register.ImportResult) (*riskmap.WriteRecords, error) {
		e := m.cliAudit("import.commit", "import", v.ID, file)
		e.After, _ = json.Marshal(r)
		return &riskmap.WriteRecords{Audit: e}, nil
	}
	if _, err := svc.Commit(nil, v.ID, rec, nil); err != nil {
		return fmt.Errorf("%s", riskmap.ErrorMessage(err))
	}
	v, err = m.followImport(ctx, svc, v.ID, "写入", imports.Committing)
	if err != nil {
		return err
	}
	if v.Status != imports.Done {
		return fmt.Errorf("导入失败，未写入任何数据：%s", v.Error)
	}
	fmt.Fprintf(m.Stdout, "已导入 %s：%s\n", file, summary)
	return nil
}

// followImport prints the job's progress on one line of standard error while it is in status
// busy, and cancels it (nothing written) when ctx ends (Ctrl-C).
func (m *Main) followImport(ctx context.Context, svc *imports.Service, id, what string, busy imports.Status) (imports.View, error) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		v, err := svc.Get(nil, id)
		if err != nil {
			return v, err
		}
		n := v.Checked
		if busy == imports.Committing {
			n = v.Written
		}
		total := v.Rows
		if busy == imports.Committing {
			total = v.Creates + v.Updates
		}
		fmt.Fprintf(m.Stderr, "\r%s：%d/%d 行", what, n, total)
		if v.Status != busy {
			fmt.Fprintln(m.Stderr)
			return v, nil
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(m.Stderr)
			_, _ = svc.Cancel(nil, id)
			return v, fmt.Errorf("已取消，未写入任何数据")
		case <-tick.C:
		}
	}
}
