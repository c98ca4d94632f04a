package register

import (
	"context"
	"errors"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

// Imports (Excel 导入) check many rows and then write them all in one transaction. Each row
// goes through the checks of CreateBy (a code the register does not have) or UpdateBy (the
// unit with that code): the writer's scope and place, the fields, the grade computed anew,
// the downgrade reason; an approved unit's change becomes a new draft revision, the
// approved one staying in the approved register. A row that changes nothing is not written.

// ImportRow is one row of an import: the unit read from it (not graded; Status, ID and
// Version are not read) and the grade written in it ("" if none).
type ImportRow struct {
	// Line is where the row is (its row in the workbook), for a duplicate code's problem.
	Line  int
	Unit  *riskmap.Unit
	Grade riskmap.Grade
}

// KeepFunc completes a row's unit u from before, the stored unit with its code: what the
// upload does not carry (columns it lacks) is taken from before, and what it carries at a
// coarser grain than the store (a day for a time) is before's when it agrees. nil keeps
// nothing.
type KeepFunc func(u, before *riskmap.Unit)

// ImportResult counts what an import does.
type ImportResult struct {
	Creates   int `json:"creates"`
	Updates   int `json:"updates"`
	Unchanged int `json:"unchanged"`
}

// ImportRecorder builds the records of an import's commit (its audit row) from its result;
// nil records nothing.
type ImportRecorder func(r ImportResult) (*riskmap.WriteRecords, error)

// Import is an import being checked, then committed once.
type Import struct {
	s      *Service
	by     *riskmap.User
	keep   KeepFunc
	seen   map[string]int // code → the line of the row that has it
	rows   int
	writes []riskmap.ImportWrite
	res    ImportResult
}

// ImportBy starts an import written by by (nil: the system, as for CreateBy). The store
// must be a riskmap.UnitImportStore.
func (s *Service) ImportBy(by *riskmap.User, keep KeepFunc) *Import {
	return &Import{s: s, by: by, keep: keep, seen: map[string]int{}}
}

// Result is what the rows checked so far would do.
func (im *Import) Result() ImportResult { return im.res }

func (im *Import) store() (riskmap.UnitImportStore, error) {
	st, ok := im.s.Store.(riskmap.UnitImportStore)
	if !ok {
		return nil, riskmap.Errorf(riskmap.EUNAVAILABLE, "此存储不支持批量导入")
	}
	return st, nil
}

// Check checks a batch of rows (at most 1000), after those checked before. It returns each
// row's problem (nil for a good row): field problems (riskmap.Problems, named by the
// unit's fields), or the refusal of the writer's scope (EFORBIDDEN). The error is the
// store's or ctx's.
func (im *Import) Check(ctx context.Context, rows []ImportRow) ([]error, error) {
	st, err := im.store()
	if err != nil {
		return nil, err
	}
	codes := make([]string, 0, len(rows))
	for _, r := range rows {
		if r.Unit != nil && r.Unit.Code != "" {
			codes = append(codes, r.Unit.Code)
		}
	}
	stored, err := st.UnitsByCode(ctx, codes)
	if err != nil {
		return nil, err
	}
	byCode := make(map[string]*riskmap.Unit, len(stored))
	for _, u := range stored {
		byCode[u.Code] = u
	}
	out := make([]error, len(rows))
	for i, r := range rows {
		im.rows++
		if r.Unit == nil {
			continue
		}
		if n, dup := im.seen[r.Unit.Code]; dup && r.Unit.Code != "" {
			out[i] = riskmap.Problems{riskmap.FieldErrorf("code", "风险编号 %s 与第 %d 行重复", r.Unit.Code, n)}.Err()
			continue
		}
		im.seen[r.Unit.Code] = r.Line
		var w *riskmap.ImportWrite
		if before := byCode[r.Unit.Code]; before != nil {
			w, err = im.update(ctx, r, before)
		} else {
			w, err = im.create(ctx, r)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var re *riskmap.Error
			if !errors.As(err, &re) {
				return nil, err
			}
			out[i] = err
			continue
		}
		if w != nil {
			im.writes = append(im.writes, *w)
		}
	}
	return out, nil
}

// gradeCheck refuses a grade written in the row that is not the grade computed.
func gradeCheck(r ImportRow, u *riskmap.Unit) error {
	if r.Grade != "" && r.Grade != u.Grade {
		return riskmap.Problems{riskmap.FieldErrorf("grade", "不接受手填等级，由评估输入计算：请留空")}.Err()
	}
	return nil
}

// create is CreateBy's checks of a new unit.
func (im *Import) create(ctx context.Context, r ImportRow) (*riskmap.ImportWrite, error) {
	s, by, u := im.s, im.by, r.Unit
	u.ID, u.Version, u.Status = 0, 0, riskmap.StatusDraft
	if err := s.prepare(ctx, u, nil, func() error {
		if by != nil && !riskmap.CanEdit(by, u.Category, u.RegionCode) {
			return forbidden("类别 %s、区域 %s 的风险单元不在你的权限范围内", u.Category, u.RegionCode)
		}
		return s.checkPlace(by, u)
	}); err != nil {
		return nil, err
	}
	if err := gradeCheck(r, u); err != nil {
		return nil, err
	}
	u.Author = name(by)
	im.res.Creates++
	return &riskmap.ImportWrite{Unit: u}, nil
}

// update is UpdateBy's checks of a new revision of before; nil when it changes nothing.
func (im *Import) update(ctx context.Context, r ImportRow, before *riskmap.Unit) (*riskmap.ImportWrite, error) {
	s, by, u := im.s, im.by, r.Unit
	if by != nil {
		if !riskmap.CanReadInternal(by, before.Category, before.RegionCode) {
			return nil, forbidden("风险编号 %s 的风险单元不在你的权限范围内", before.Code)
		}
		if !riskmap.CanEdit(by, before.Category, before.RegionCode) {
			return nil, forbidden("你的角色不能修改风险单元 %d", before.ID)
		}
	}
	if im.keep != nil {
		im.keep(u, before)
	}
	u.ID, u.Version, u.Status = before.ID, before.Version, before.Status
	if err := s.prepare(ctx, u, before, func() error {
		if by != nil && !riskmap.CanEdit(by, u.Category, u.RegionCode) {
			return forbidden("把风险单元 %d 改为类别 %s、区域 %s 会使它超出你的权限范围", u.ID, u.Category, u.RegionCode)
		}
		return s.checkPlace(by, u)
	}); err != nil {
		return nil, err
	}
	if err := gradeCheck(r, u); err != nil {
		return nil, err
	}
	if unchanged(before, u) {
		im.res.Unchanged++
		return nil, nil
	}
	// A changed row is a new draft revision, to be submitted for review.
	u.Status = riskmap.StatusDraft
	a, err := s.author(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	approvedGrade := a.ApprovedGrade
	if before.Status == riskmap.StatusApproved {
		approvedGrade = before.Grade
	}
	if by != nil {
		if err := s.checkRevision(u, approvedGrade, false); err != nil {
			return nil, err
		}
	}
	// The author record as UpdateBy keeps it.
	a.UnitID, a.UpdatedBy = u.ID, name(by)
	if before.Status == riskmap.StatusApproved {
		a.ApprovedVersion = before.Version
		a.ApprovedGrade, a.Approved = before.Grade, string(featurejson.Encode(before))
	}
	a.SubmittedBy, a.SubmittedAt, a.ReviewedBy, a.ReviewedAt = "", nil, "", nil
	a.RetireReason, a.RetireRequestedBy, a.RetireRequestedAt = "", "", nil
	if !riskmap.Lowered(u.Grade, approvedGrade) {
		a.DowngradeReason = ""
	}
	u.Author = name(by)
	im.res.Updates++
	return &riskmap.ImportWrite{Unit: u, Author: a}, nil
}

// Commit writes every unit the rows checked create or change, in one transaction with
// what rec records: all of them or, when any fails (a unit changed since it was checked is
// EPRECONDITION) or ctx ends, none. progress hears the count written so far. The written
// units then reach the index. An import commits once.
func (im *Import) Commit(ctx context.Context, progress func(written int), rec ImportRecorder) (ImportResult, error) {
	st, err := im.store()
	if err != nil {
		return ImportResult{}, err
	}
	imp := &riskmap.UnitImport{Writes: im.writes, Progress: progress}
	if rec != nil {
		imp.Record = func() (*riskmap.WriteRecords, error) { return rec(im.res) }
	}
	if err := st.ImportUnits(ctx, imp); err != nil {
		return ImportResult{}, err
	}
	writes := im.writes
	im.writes = nil
	for _, w := range writes {
		if err := im.s.index(w.Unit); err != nil {
			return im.res, err
		}
	}
	return im.res, nil
}
