// Package imports runs Excel imports (Excel 导入) of the risk register as jobs: an upload is
// checked in full in the background (progress: rows checked), its problems listed by row
// and column in Chinese with a marked copy of the workbook to download; the user then
// commits it, and every unit is written in one transaction (progress: rows written), or
// cancels it at any time and nothing is written. Jobs live in memory for an hour, each
// owned by the user who uploaded it. The rules each row goes through are the register's
// (register.Import): those of CreateBy and UpdateBy.
package imports

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/workbook"
)

// Defaults of a Service.
const (
	DefaultTTL        = time.Hour
	DefaultMaxPerUser = 3
	// MaxUploadBytes is the largest workbook taken.
	MaxUploadBytes = 64 << 20
	// MaxProblemsShown is how many problems a job's view lists (all are in errors.xlsx).
	MaxProblemsShown = 500
	// batch is how many rows are checked against the store at a time.
	batch = 500
)

// Status is where a job is.
type Status string

const (
	Checking   Status = "checking"
	Checked    Status = "checked"
	Committing Status = "committing"
	Done       Status = "done"
	Failed     Status = "failed"
	Cancelled  Status = "cancelled"
)

// Service keeps the jobs.
type Service struct {
	Units   *register.Service
	Catalog *riskmap.Catalog
	Regions []*riskmap.Region
	// TTL is how long a job is kept after it was last touched (default DefaultTTL);
	// MaxPerUser how many unfinished jobs one user may have (DefaultMaxPerUser).
	TTL        time.Duration
	MaxPerUser int
	// MaxBytes is the largest upload (default MaxUploadBytes).
	MaxBytes int
	Now      func() time.Time

	mu   sync.Mutex
	jobs map[string]*Job
}

// Job is one import.
type Job struct {
	ID    string
	Owner string // the user's name

	by     *riskmap.User
	data   []byte
	cancel context.CancelFunc
	done   chan struct{} // closed when the background work (check or commit) ends

	mu        sync.Mutex
	status    Status
	rows      int // about how many rows (for a progress bar)
	checked   int
	written   int
	problems  []workbook.Problem
	count     int // problems in all
	result    register.ImportResult
	failure   error
	imp       *register.Import
	touchedAt time.Time
}

// Problem is a problem as the API shows it.
type Problem struct {
	Sheet   string `json:"sheet,omitempty"`
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Message string `json:"message"`
	Text    string `json:"text"`
}

// View is a job as the API shows it.
type View struct {
	ID           string    `json:"id"`
	Status       Status    `json:"status"`
	Rows         int       `json:"rows"`
	Checked      int       `json:"checked"`
	Written      int       `json:"written"`
	Creates      int       `json:"creates"`
	Updates      int       `json:"updates"`
	Unchanged    int       `json:"unchanged"`
	Problems     []Problem `json:"problems"`
	ProblemCount int       `json:"problem_count"`
	// Error is why a job failed ("" otherwise).
	Error string `json:"error,omitempty"`
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return DefaultTTL
}

func (s *Service) options() workbook.Options {
	return workbook.Options{Catalog: s.Catalog, Regions: s.Regions}
}

func userName(by *riskmap.User) string {
	if by == nil {
		return ""
	}
	return by.Name
}

// sweep forgets the jobs not touched within the TTL, cancelling their work. s.mu is held.
func (s *Service) sweep() {
	cut := s.now().Add(-s.ttl())
	for id, j := range s.jobs {
		j.mu.Lock()
		old := j.touchedAt.Before(cut)
		j.mu.Unlock()
		if old {
			j.cancel()
			delete(s.jobs, id)
		}
	}
}

// Start opens an upload and checks it in the background. A file that is not a register
// workbook (not xlsx, too large when inflated, a wrong template, a missing column) is
// refused at once (EINVALID); a user with MaxPerUser unfinished jobs is refused
// (ECONFLICT).
func (s *Service) Start(by *riskmap.User, data []byte) (View, error) {
	limit := s.MaxBytes
	if limit <= 0 {
		limit = MaxUploadBytes
	}
	if len(data) > limit {
		return View{}, riskmap.Errorf(riskmap.ETOOLARGE, "Excel 文件不能超过 %d MB", limit>>20)
	}
	s.mu.Lock()
	if s.jobs == nil {
		s.jobs = map[string]*Job{}
	}
	s.sweep()
	limit = s.MaxPerUser
	if limit <= 0 {
		limit = DefaultMaxPerUser
	}
	n := 0
	for _, j := range s.jobs {
		if j.Owner == userName(by) && j.unfinished() {
			n++
		}
	}
	s.mu.Unlock()
	if n >= limit {
		return View{}, riskmap.Errorf(riskmap.ECONFLICT, "你已有 %d 个未完成的导入，请先确认或取消（DELETE /api/v1/imports/{id}）", n)
	}
	book, err := workbook.Open(bytes.NewReader(data), int64(len(data)), s.options())
	if err != nil {
		return View{}, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	j := &Job{ID: newID(), Owner: userName(by), by: by, data: data, cancel: cancel, done: make(chan struct{}),
		status: Checking, rows: book.RowsHint(), touchedAt: s.now()}
	imp := s.Units.ImportBy(by, keeper(book))
	j.imp = imp
	s.mu.Lock()
	s.jobs[j.ID] = j
	s.mu.Unlock()
	go func() {
		defer close(j.done)
		defer book.Close()
		err := check(ctx, imp, book, func(checked int, ps []workbook.Problem, count int) {
			res := imp.Result()
			j.mu.Lock()
			j.checked, j.count, j.result = checked, count, res
			j.problems = append(j.problems, ps...)
			j.mu.Unlock()
		})
		j.mu.Lock()
		defer j.mu.Unlock()
		switch {
		case j.status == Cancelled:
		case err != nil:
			j.status, j.failure = Failed, err
			j.imp = nil
		default:
			j.status, j.result = Checked, imp.Result()
			if j.count > 0 {
				j.imp = nil // nothing of it can be written
			}
		}
	}()
	return j.View(), nil
}

func (j *Job) unfinished() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status == Checking || j.status == Checked || j.status == Committing
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// check reads every row of book and checks it, batch by batch, telling progress the rows
// checked and the problems found (their count in all).
func check(ctx context.Context, imp *register.Import, book *workbook.Book, progress func(checked int, ps []workbook.Problem, count int)) error {
	var (
		rows    []register.ImportRow
		where   []workbook.Row
		checked int
		count   int
		maxKept = workbook.DefaultLimits.MaxProblems
		kept    int
	)
	flush := func() error {
		errs, err := imp.Check(ctx, rows)
		if err != nil {
			return err
		}
		var ps []workbook.Problem
		keep := func(p workbook.Problem) {
			count++
			if kept < maxKept {
				kept++
				ps = append(ps, p)
			}
		}
		for i, r := range where {
			for _, p := range r.Problems {
				keep(p)
			}
			if errs[i] != nil {
				for _, p := range problemsOf(r, errs[i]) {
					keep(p)
				}
			}
		}
		checked += len(rows)
		progress(checked, ps, count)
		rows, where = rows[:0], where[:0]
		return nil
	}
	for r, err := range book.Rows(ctx) {
		if err != nil {
			return err
		}
		rows = append(rows, register.ImportRow{Line: r.Number, Unit: r.Unit, Grade: r.Grade})
		where = append(where, workbook.Row{Sheet: r.Sheet, Number: r.Number, Problems: r.Problems})
		if len(rows) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if checked == 0 {
		return riskmap.Errorf(riskmap.EINVALID, "风险清单没有数据行")
	}
	return ctx.Err()
}

// problemsOf names the columns of a row's problem err (a riskmap error from the register).
func problemsOf(r workbook.Row, err error) []workbook.Problem {
	fields := riskmap.ErrorFields(err)
	if len(fields) == 0 {
		return []workbook.Problem{{Sheet: r.Sheet, Row: r.Number, Err: riskmap.FieldErrorf("", "%s", riskmap.MessageOf(err))}}
	}
	out := make([]workbook.Problem, 0, len(fields))
	for _, f := range fields {
		col := workbook.ColumnOf(f.Field)
		if col == "" && f.Field == "grade" {
			col = "风险等级"
		}
		f.Field = col
		out = append(out, workbook.Problem{Sheet: r.Sheet, Row: r.Number, Column: col, Err: f})
	}
	return out
}

// keeper completes a row's unit from the stored one: the columns the upload lacks keep
// the stored values; a day of assessment equal to the stored one's keeps its time, and an
// equal geometry the stored one.
func keeper(book *workbook.Book) register.KeepFunc {
	type keep struct {
		key  string
		copy func(u, b *riskmap.Unit)
	}
	all := []keep{
		{workbook.ColPublicLabel, func(u, b *riskmap.Unit) { u.PublicTexts = b.PublicTexts }},
		{workbook.ColAddress, func(u, b *riskmap.Unit) { u.Address = b.Address }},
		{workbook.ColSubCategory, func(u, b *riskmap.Unit) { u.SubCategory = b.SubCategory }},
		{workbook.ColAccidentTypes, func(u, b *riskmap.Unit) { u.AccidentTypes = b.AccidentTypes }},
		{workbook.ColMajorHazard, func(u, b *riskmap.Unit) { u.MajorHazardSource = b.MajorHazardSource }},
		{workbook.ColRiskFactors, func(u, b *riskmap.Unit) { u.MajorRiskFactors = b.MajorRiskFactors }},
		{workbook.ColDirectReason, func(u, b *riskmap.Unit) { u.DirectMajorReason = b.DirectMajorReason }},
		{workbook.ColEngineering, func(u, b *riskmap.Unit) { u.Controls.Engineering = b.Controls.Engineering }},
		{workbook.ColManagement, func(u, b *riskmap.Unit) { u.Controls.Management = b.Controls.Management }},
		{workbook.ColTraining, func(u, b *riskmap.Unit) { u.Controls.Training = b.Controls.Training }},
		{workbook.ColPPE, func(u, b *riskmap.Unit) { u.Controls.PPE = b.Controls.PPE }},
		{workbook.ColEmergency, func(u, b *riskmap.Unit) { u.Controls.Emergency = b.Controls.Emergency }},
		{workbook.ColDepartment, func(u, b *riskmap.Unit) { u.ResponsibleDepartment = b.ResponsibleDepartment }},
		{workbook.ColRespUnit, func(u, b *riskmap.Unit) { u.ResponsibleUnit = b.ResponsibleUnit }},
		{workbook.ColPerson, func(u, b *riskmap.Unit) { u.ContactPerson = b.ContactPerson }},
		{workbook.ColPhone, func(u, b *riskmap.Unit) { u.ContactPhone = b.ContactPhone }},
		{workbook.ColAssessedBy, func(u, b *riskmap.Unit) { u.AssessedBy = b.AssessedBy }},
		{workbook.ColAssessedAt, func(u, b *riskmap.Unit) { u.AssessedAt = b.AssessedAt }},
		{workbook.ColRadius, func(u, b *riskmap.Unit) { u.InfluenceRadiusM = b.InfluenceRadiusM }},
	}
	var missing []keep
	for _, k := range all {
		if !book.Has(k.key) {
			missing = append(missing, k)
		}
	}
	return func(u, b *riskmap.Unit) {
		for _, k := range missing {
			k.copy(u, b)
		}
		if u.AssessedAt != nil && b.AssessedAt != nil && riskmap.ChinaDay(*u.AssessedAt).Equal(riskmap.ChinaDay(*b.AssessedAt)) {
			u.AssessedAt = b.AssessedAt
		}
		if u.Geometry != nil && b.Geometry != nil && orb.Equal(u.Geometry, b.Geometry) {
			u.Geometry = b.Geometry
		}
		// Empty and absent lists are the same to a workbook.
		if len(u.AccidentTypes) == 0 && len(b.AccidentTypes) == 0 {
			u.AccidentTypes = b.AccidentTypes
		}
		for i, g := range u.Controls.Groups() {
			bg := b.Controls.Groups()[i]
			if len(*g.Items) == 0 && len(*bg.Items) == 0 {
				*g.Items = *bg.Items
			}
		}
		u.IdentifiedAt = b.IdentifiedAt
	}
}

// get returns the job id of by; ENOTFOUND for another user's or a forgotten job.
func (s *Service) get(by *riskmap.User, id string) (*Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	j := s.jobs[id]
	if j == nil || j.Owner != userName(by) {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "没有这个导入任务（已过期或不属于你）")
	}
	j.mu.Lock()
	j.touchedAt = s.now()
	j.mu.Unlock()
	return j, nil
}

// Get returns the view of a job of by.
func (s *Service) Get(by *riskmap.User, id string) (View, error) {
	j, err := s.get(by, id)
	if err != nil {
		return View{}, err
	}
	return j.View(), nil
}

// View is the job as the API shows it.
func (j *Job) View() View {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.view()
}

// view is View with j.mu held.
func (j *Job) view() View {
	v := View{ID: j.ID, Status: j.status, Rows: max(j.rows, j.checked), Checked: j.checked, Written: j.written,
		Creates: j.result.Creates, Updates: j.result.Updates, Unchanged: j.result.Unchanged,
		ProblemCount: j.count, Problems: []Problem{}}
	for _, p := range j.problems[:min(len(j.problems), MaxProblemsShown)] {
		v.Problems = append(v.Problems, Problem{Sheet: p.Sheet, Row: p.Row, Column: p.Column, Message: p.Err.Message, Text: p.Text()})
	}
	if j.failure != nil {
		v.Error = riskmap.Render(riskmap.Chinese, "%s", riskmap.MessageOf(j.failure))
	}
	return v
}

// Wait waits until the job's background work ends, or ctx does.
func (s *Service) Wait(ctx context.Context, by *riskmap.User, id string) (View, error) {
	j, err := s.get(by, id)
	if err != nil {
		return View{}, err
	}
	for {
		j.mu.Lock()
		done := j.done
		j.mu.Unlock()
		select {
		case <-done:
			j.mu.Lock()
			again := j.done != done
			j.mu.Unlock()
			if again {
				continue
			}
			return j.View(), nil
		case <-ctx.Done():
			return View{}, ctx.Err()
		}
	}
}

// Commit writes a checked job without problems in the background, all or nothing, with
// what rec records in the same transaction; after is called when it ends (its error nil
// when written). A job already committing or done answers as it is. A job still checking,
// with problems, failed or cancelled is ECONFLICT.
func (s *Service) Commit(by *riskmap.User, id string, rec register.ImportRecorder, after func(View, error)) (View, error) {
	j, err := s.get(by, id)
	if err != nil {
		return View{}, err
	}
	j.mu.Lock()
	switch {
	case j.status == Committing || j.status == Done:
		j.mu.Unlock()
		return j.View(), nil
	case j.status == Checking:
		j.mu.Unlock()
		return View{}, riskmap.Errorf(riskmap.ECONFLICT, "导入文件尚未检查完毕，请稍候再确认")
	case j.status == Checked && j.count > 0:
		n := j.count
		j.mu.Unlock()
		return View{}, riskmap.Errorf(riskmap.ECONFLICT, "文件有 %d 处问题，不能导入：请下载标注了问题的副本，修改后重新上传", n)
	case j.status != Checked:
		st := j.status
		j.mu.Unlock()
		return View{}, riskmap.Errorf(riskmap.ECONFLICT, "导入任务已%s，不能再确认", statusLabel(st))
	}
	ctx, cancel := context.WithCancel(context.Background())
	j.cancel = cancel
	j.status = Committing
	j.done = make(chan struct{})
	imp := j.imp
	done := j.done
	first := j.view()
	j.mu.Unlock()
	go func() {
		defer close(done)
		res, err := imp.Commit(ctx, func(n int) {
			j.mu.Lock()
			j.written = n
			j.mu.Unlock()
		}, rec)
		j.mu.Lock()
		var ie *register.IndexError
		switch {
		case j.status == Cancelled:
			err = context.Canceled
		case err != nil && !errors.As(err, &ie):
			j.status, j.failure, j.written = Failed, err, 0
		default:
			j.status, j.result = Done, res
			err = nil
		}
		j.imp, j.data = nil, nil
		j.mu.Unlock()
		if after != nil {
			after(j.View(), err)
		}
	}()
	return first, nil
}

func statusLabel(s Status) string {
	switch s {
	case Done:
		return "完成"
	case Failed:
		return "失败"
	case Cancelled:
		return "取消"
	}
	return string(s)
}

// Cancel stops a job at any time: nothing of it is written (a commit under way rolls
// back). A job already done cannot be cancelled (ECONFLICT).
func (s *Service) Cancel(by *riskmap.User, id string) (View, error) {
	j, err := s.get(by, id)
	if err != nil {
		return View{}, err
	}
	j.mu.Lock()
	if j.status == Done {
		j.mu.Unlock()
		return View{}, riskmap.Errorf(riskmap.ECONFLICT, "导入已完成，不能取消")
	}
	j.status = Cancelled
	j.cancel()
	done := j.done
	j.mu.Unlock()
	<-done // the rollback is over when Cancel answers
	j.mu.Lock()
	if j.status == Done { // the commit won the race
		j.mu.Unlock()
		return View{}, riskmap.Errorf(riskmap.ECONFLICT, "导入已完成，不能取消")
	}
	j.status, j.written, j.imp, j.data, j.problems = Cancelled, 0, nil, nil, nil
	j.mu.Unlock()
	return j.View(), nil
}

// ErrorsXLSX writes the marked copy of a job's upload (workbook.Mark): each bad cell red
// with a comment, each row's problems in a last column. ECONFLICT while it is still being
// checked or once its upload is let go (committed or cancelled).
func (s *Service) ErrorsXLSX(w io.Writer, by *riskmap.User, id string) error {
	j, err := s.get(by, id)
	if err != nil {
		return err
	}
	j.mu.Lock()
	data, st := j.data, j.status
	ps := slices.Clone(j.problems)
	j.mu.Unlock()
	if st == Checking {
		return riskmap.Errorf(riskmap.ECONFLICT, "导入文件尚未检查完毕，请稍候再下载")
	}
	if data == nil {
		return riskmap.Errorf(riskmap.ECONFLICT, "导入任务已%s，上传的文件已不保留", statusLabel(st))
	}
	return workbook.Mark(w, bytes.NewReader(data), int64(len(data)), ps, s.options())
}
