package hazards

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// crockford is Crockford's base32 alphabet: no I, L, O or U to misread.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewTrackingNumber is a report's tracking number: "JB", the date, and 8 random
// characters (40 bits), which no one can guess.
func NewTrackingNumber(now time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	out := []byte("JB" + now.UTC().Format("20060102"))
	for _, c := range b {
		out = append(out, crockford[c&31])
	}
	return string(out)
}

// NormalizeTracking reads a tracking number as a citizen may type it (lower case, spaces,
// O for 0, I or L for 1); ok is false when it cannot be one.
func NormalizeTracking(s string) (string, bool) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if len(s) != 18 || !strings.HasPrefix(s, "JB") {
		return "", false
	}
	out := []byte(s)
	for i := 2; i < 10; i++ {
		if out[i] < '0' || out[i] > '9' {
			return "", false
		}
	}
	for i := 10; i < 18; i++ {
		switch out[i] {
		case 'O':
			out[i] = '0'
		case 'I', 'L':
			out[i] = '1'
		}
		if !strings.ContainsRune(crockford, rune(out[i])) {
			return "", false
		}
	}
	return string(out), true
}

// ReportInput is what a citizen sends: a place, a category, a description and, optionally,
// a contact (the photo comes beside it).
type ReportInput struct {
	Lon         float64 `json:"lon"`
	Lat         float64 `json:"lat"`
	Category    string  `json:"category"`
	Description string  `json:"description"`
	Contact     string  `json:"contact"`
}

// DecodeReportJSON reads a report sent as JSON.
func DecodeReportJSON(b []byte) (*ReportInput, error) {
	var in ReportInput
	if err := strict(b, &in); err != nil {
		return nil, riskmap.Errorf(riskmap.EINVALID, `请发送 {"lon": 经度, "lat": 纬度, "category": "类别代码", "description": "描述", "contact": "联系方式（可选）"}`)
	}
	return &in, nil
}

// ReportForm reads a report sent as a form (multipart): its text fields by name.
func ReportForm(value func(string) string) (*ReportInput, error) {
	var in ReportInput
	var p riskmap.Problems
	num := func(name string) float64 {
		s := strings.TrimSpace(value(name))
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			p.Add(name, "须为数字")
			return math.NaN()
		}
		return v
	}
	in.Lon, in.Lat = num("lon"), num("lat")
	in.Category, in.Description, in.Contact = value("category"), value("description"), value("contact")
	if err := p.Err(); err != nil {
		return nil, err
	}
	return &in, nil
}

// check names every problem with a report; region is where its point lies ("" outside the
// city).
func (in *ReportInput) check(cat *riskmap.Catalog, region string) riskmap.Problems {
	var p riskmap.Problems
	if !validLonLat(in.Lon, in.Lat) || (in.Lon == 0 && in.Lat == 0) {
		p.Add("lon", "请在地图上选择位置")
	} else if region == "" {
		p.Add("lon", "所选位置不在本市范围内")
	}
	if cat != nil {
		if _, ok := cat.Category(in.Category); !ok {
			p.Add("category", "请选择类别")
		}
	} else if strings.TrimSpace(in.Category) == "" {
		p.Add("category", "请选择类别")
	}
	text(&p, "description", in.Description, MaxReportDescriptionLen, true)
	text(&p, "contact", in.Contact, MaxContactLen, false)
	return p
}

// CheckReport checks a report as Submit would, without the region lookup.
func CheckReport(cat *riskmap.Catalog, in *ReportInput) error {
	return in.check(cat, "-").Err()
}

var defaultLimiter struct {
	once sync.Once
	l    *Limiter
}

func (s *Service) limiter() *Limiter {
	if s.Limiter != nil {
		return s.Limiter
	}
	defaultLimiter.once.Do(func() { defaultLimiter.l = NewLimiter(ReportsPerMinute, ReportsPerDay) })
	return defaultLimiter.l
}

// TooManyReports is the refusal of a client over the report limits: wait Wait.
type TooManyReports struct{ Wait time.Duration }

func (e *TooManyReports) Error() string { return "too many reports" }

// TooManyReportsMessage is the refusal's message (its argument: minutes to wait).
const TooManyReportsMessage = "举报过于频繁，请 %d 分钟后再试"

// Minutes is the wait in whole minutes, at least 1.
func (e *TooManyReports) Minutes() int { return max(1, int(math.Ceil(e.Wait.Minutes()))) }

// Admit counts a report of client (its address) if the limits allow it; otherwise it is
// *TooManyReports. Every Submit follows an Admit, which comes before the report is read.
func (s *Service) Admit(client string) error {
	if ok, wait := s.limiter().Allow(client, s.now()); !ok {
		return &TooManyReports{Wait: wait}
	}
	return nil
}

// Submit receives a citizen's report from client (its address), once Admit let it in: it
// checks the report, cleans its photo (nil: none), finds its region and department and
// stores it with a new tracking number.
func (s *Service) Submit(ctx context.Context, client string, in *ReportInput, photo []byte, rec Recorder) (*Report, error) {
	now := s.now()
	region := ""
	if validLonLat(in.Lon, in.Lat) && s.Locate != nil {
		region = s.Locate(orb.Point{in.Lon, in.Lat})
	}
	if err := in.check(s.Catalog, region).Err(); err != nil {
		return nil, err
	}
	r := &Report{Point: orb.Point{in.Lon, in.Lat}, Category: in.Category, Description: strings.TrimSpace(in.Description),
		Contact: strings.TrimSpace(in.Contact), RegionCode: region, Status: ReportReceived, ClientHash: s.clientHash(client)}
	if s.Catalog != nil {
		if c, ok := s.Catalog.Category(in.Category); ok {
			r.Department = c.Department
		}
	}
	var p *Photo
	if len(photo) > 0 {
		b, ct, w, h, err := CleanPhoto(photo)
		if err != nil {
			return nil, err
		}
		p = &Photo{Owner: "report", Stage: PhotoReport, ContentType: ct, Width: w, Height: h, Bytes: b, At: now}
	}
	var err error
	for range 3 { // a taken tracking number (1 in 2^40) draws another
		r.TrackingNumber = NewTrackingNumber(now)
		err = s.Store.CreateReport(ctx, r, p, record(rec, Change{Report: r, Photo: p}))
		if riskmap.ErrorCode(err) != riskmap.ECONFLICT {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Service) clientHash(client string) string {
	m := hmac.New(sha256.New, s.ClientKey)
	m.Write([]byte(client))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// ReportStatusLabel names a report's status.
func ReportStatusLabel(st string) string {
	switch st {
	case ReportReceived:
		return "已受理"
	case ReportConverted:
		return "已转为隐患"
	case ReportDismissed:
		return "不予立案"
	}
	return st
}

// Track returns the report of a tracking number and what became of it, in words for the
// citizen. A number that is not one is not found, as one that is unknown.
func (s *Service) Track(ctx context.Context, tracking string) (*Report, string, error) {
	n, ok := NormalizeTracking(tracking)
	notFound := riskmap.Errorf(riskmap.ENOTFOUND, "没有查询编号为 %s 的举报", clipText(tracking, 30))
	if !ok {
		return nil, "", notFound
	}
	r, err := s.Store.ReportByTracking(ctx, n)
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
		return nil, "", notFound
	}
	if err != nil {
		return nil, "", err
	}
	result := ""
	switch r.Status {
	case ReportConverted:
		if h, err := s.Store.GetHazard(ctx, r.HazardID); err == nil {
			if h.Status == StatusClosed {
				result = riskmap.Render(riskmap.Chinese, "已转为隐患 %s，已整改销号", h.Code)
			} else {
				result = riskmap.Render(riskmap.Chinese, "已转为隐患 %s，正在整改", h.Code)
			}
		} else {
			result = "已转为隐患，正在整改"
		}
	case ReportDismissed:
		result = riskmap.Render(riskmap.Chinese, "不予立案：%s", r.Reason)
	}
	return r, result, nil
}

func reportNotFound(id int64) error {
	return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的举报", id)
}

// Reports lists the reports within the user's scope.
func (s *Service) Reports(ctx context.Context, by *riskmap.User, f ReportFilter) ([]*Report, int, error) {
	f.Scope = scopeOf(by)
	return s.Store.FindReports(ctx, f)
}

// GetReport returns a report within the user's scope.
func (s *Service) GetReport(ctx context.Context, by *riskmap.User, id int64) (*Report, error) {
	r, err := s.Store.GetReport(ctx, id)
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
		return nil, reportNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if !riskmap.CanReadInternal(by, r.Category, r.RegionCode) {
		return nil, &Hidden{reportNotFound(id)}
	}
	return r, nil
}

func (s *Service) pendingReport(ctx context.Context, by *riskmap.User, id int64) (*Report, error) {
	r, err := s.GetReport(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if r.Status != ReportReceived {
		return nil, riskmap.Errorf(riskmap.ECONFLICT, "举报 %s 已处理（%s）", r.TrackingNumber, ReportStatusLabel(r.Status))
	}
	return r, nil
}

// Dismiss closes a report without a hidden danger, with the reason the citizen reads.
func (s *Service) Dismiss(ctx context.Context, by *riskmap.User, id int64, reason string, rec Recorder) (*Report, error) {
	r, err := s.pendingReport(ctx, by, id)
	if err != nil {
		return nil, err
	}
	var p riskmap.Problems
	text(&p, "reason", reason, MaxReportDescriptionLen, true)
	if err := p.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	r.Status, r.Reason, r.HandledBy, r.HandledAt = ReportDismissed, strings.TrimSpace(reason), userName(by), &now
	if err := s.Store.UpdateReport(ctx, r, record(rec, Change{Report: r})); err != nil {
		if riskmap.ErrorCode(err) == riskmap.EPRECONDITION {
			return nil, riskmap.Errorf(riskmap.ECONFLICT, "举报 %s 刚被他人处理；请重新加载", r.TrackingNumber)
		}
		return nil, err
	}
	return r, nil
}

// Convert turns a report into a hidden danger of a unit in the user's scope: the report's
// place, time and (unless in says otherwise) description become the hidden danger's.
func (s *Service) Convert(ctx context.Context, by *riskmap.User, id int64, in *Input, rec Recorder) (*Hazard, *Report, error) {
	r, err := s.pendingReport(ctx, by, id)
	if err != nil {
		return nil, nil, err
	}
	h := in.Hazard()
	h.Source, h.ReportID = SourcePublicReport, r.ID
	if h.FoundAt.IsZero() {
		h.FoundAt = r.CreatedAt
	}
	if strings.TrimSpace(h.Description) == "" {
		h.Description = r.Description
	}
	if h.Point == (orb.Point{}) {
		h.Point = r.Point
	}
	if strings.TrimSpace(h.FoundBy) == "" {
		h.FoundBy = "群众举报 " + r.TrackingNumber
	}
	now := s.now()
	h.Status, h.CreatedBy = StatusRegistered, userName(by)
	if h.Level == LevelGeneral {
		h.Five = nil
	}
	if err := h.Validate(); err != nil {
		return nil, nil, err
	}
	if _, err := s.unitOf(ctx, by, h); err != nil {
		return nil, nil, err
	}
	r.Status, r.HandledBy, r.HandledAt = ReportConverted, userName(by), &now
	ev := &Event{Kind: EventCreated, To: StatusRegistered, By: userName(by), At: now, Note: "由群众举报 " + r.TrackingNumber + " 转入"}
	u, err := s.Store.ConvertReport(ctx, r, h, ev, s.Dynamics, record(rec, Change{After: h, Report: r, Events: []*Event{ev}}))
	if riskmap.ErrorCode(err) == riskmap.EPRECONDITION {
		return nil, nil, riskmap.Errorf(riskmap.ECONFLICT, "举报 %s 刚被他人处理；请重新加载", r.TrackingNumber)
	}
	if err := s.applied(u, err); err != nil {
		return nil, nil, err
	}
	return h, r, nil
}
