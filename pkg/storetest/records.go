package storetest

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// testRecords runs the contract of the recorded unit writes (a write, its author record,
// its audit row and its Idempotency-Key answer in one transaction) and of the audit log's
// folded rows.
func testRecords(t *testing.T, open Opener) {
	s := open(t)
	now := time.Now().UTC()
	auditOf := func(t *testing.T, action, id string) []*riskmap.AuditEntry {
		t.Helper()
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Action: action, TargetType: "unit", TargetID: id, Limit: 10})
		must(t, err)
		return es
	}
	unitsCoded := func(t *testing.T, code string) int {
		t.Helper()
		us, _, err := s.FindUnits(ctx(), riskmap.UnitFilter{Q: code, IncludeRetired: true})
		must(t, err)
		return len(us)
	}
	record := func(action, key string, calls *int) riskmap.RecordFunc {
		return func(u *riskmap.Unit) (*riskmap.WriteRecords, error) {
			if calls != nil {
				*calls++
			}
			if u.ID == 0 || u.Version == 0 || u.UpdatedAt.IsZero() {
				return nil, errors.New("the record function must see the unit as written")
			}
			at := now
			r := &riskmap.WriteRecords{
				Author: &riskmap.UnitAuthor{CreatedBy: "专家甲", UpdatedBy: "专家甲", SubmittedBy: "专家甲", SubmittedAt: &at},
				Audit: &riskmap.AuditEntry{Actor: "专家甲", Role: riskmap.RoleExpert, Action: action, Outcome: riskmap.OutcomeOK,
					Status: 201, Method: "POST", Path: "/api/v1/units", TargetType: "unit", TargetID: strconv.FormatInt(u.ID, 10),
					After: []byte(`{"version":` + strconv.FormatInt(u.Version, 10) + `}`)},
			}
			if key != "" {
				r.Response = &riskmap.IdempotentResponse{Scope: "专家甲", Key: key, RequestHash: "h-" + key, Status: 201,
					ContentType: "application/geo+json", Location: "/api/v1/units/" + strconv.FormatInt(u.ID, 10), ETag: `"1"`,
					Body: []byte(`{"id":` + strconv.FormatInt(u.ID, 10) + `}`), CreatedAt: now, ExpiresAt: now.Add(riskmap.IdempotencyTTL)}
			}
			return r, nil
		}
	}

	t.Run("CreateRecordedOK", func(t *testing.T) {
		u := NewUnit("REC-001", orb.Point{102.91, 24.67})
		u.Status, u.Author = riskmap.StatusSubmitted, "专家甲"
		must(t, s.CreateUnitRecorded(ctx(), u, record("unit.create", "key-1", nil)))
		a, err := s.UnitAuthor(ctx(), u.ID)
		must(t, err)
		if a.CreatedBy != "专家甲" || a.SubmittedBy != "专家甲" || a.SubmittedAt == nil {
			t.Fatalf("the author record is written with the unit: %+v", a)
		}
		es := auditOf(t, "unit.create", strconv.FormatInt(u.ID, 10))
		if len(es) != 1 || es[0].Count != 1 || string(es[0].After) != `{"version":1}` {
			t.Fatalf("the audit row is written with the unit: %+v", es)
		}
		r, err := s.IdempotentResponse(ctx(), "专家甲", "key-1", now)
		must(t, err)
		if r.Status != 201 || r.RequestHash != "h-key-1" || r.ETag != `"1"` || r.ContentType != "application/geo+json" ||
			r.Location != "/api/v1/units/"+strconv.FormatInt(u.ID, 10) || !bytes.Equal(r.Body, []byte(`{"id":`+strconv.FormatInt(u.ID, 10)+`}`)) {
			t.Fatalf("the kept answer: %+v", r)
		}
		wantTime(t, "created_at", now.Truncate(time.Millisecond), r.CreatedAt.Truncate(time.Millisecond))
	})

	t.Run("ErrRecordRollsTheWriteBack", func(t *testing.T) {
		u := NewUnit("REC-002", orb.Point{102.91, 24.67})
		bad := errors.New("refused by the record function")
		err := s.CreateUnitRecorded(ctx(), u, func(u *riskmap.Unit) (*riskmap.WriteRecords, error) {
			return &riskmap.WriteRecords{Audit: &riskmap.AuditEntry{Action: "unit.create", Outcome: riskmap.OutcomeOK,
				TargetType: "unit", TargetID: strconv.FormatInt(u.ID, 10)}}, bad
		})
		if !errors.Is(err, bad) {
			t.Fatalf("want the record function's error, got %v", err)
		}
		if u.ID != 0 || unitsCoded(t, "REC-002") != 0 {
			t.Fatalf("a write whose records fail must not be stored (id %d)", u.ID)
		}
	})

	t.Run("ErrTakenKeyRollsTheWriteBack", func(t *testing.T) {
		u := NewUnit("REC-003", orb.Point{102.91, 24.67})
		err := s.CreateUnitRecorded(ctx(), u, record("unit.create", "key-1", nil))
		wantCode(t, err, riskmap.ECONFLICT)
		if unitsCoded(t, "REC-003") != 0 {
			t.Fatal("a write whose Idempotency-Key is taken must not be stored")
		}
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Action: "unit.create", Limit: 100})
		must(t, err)
		if len(es) != 1 {
			t.Fatalf("the refused write must leave no audit row: %d rows", len(es))
		}
	})

	t.Run("SameKeyOtherScopeOK", func(t *testing.T) {
		u := NewUnit("REC-004", orb.Point{102.91, 24.67})
		must(t, s.CreateUnitRecorded(ctx(), u, func(u *riskmap.Unit) (*riskmap.WriteRecords, error) {
			return &riskmap.WriteRecords{Response: &riskmap.IdempotentResponse{Scope: "专家乙", Key: "key-1", Status: 201, Body: []byte("{}")}}, nil
		}))
		r, err := s.IdempotentResponse(ctx(), "专家乙", "key-1", now)
		must(t, err)
		if r.ExpiresAt.Before(now.Add(riskmap.IdempotencyTTL - time.Minute)) {
			t.Fatalf("a zero ExpiresAt is CreatedAt + IdempotencyTTL, got %v", r.ExpiresAt)
		}
		_, err = s.IdempotentResponse(ctx(), "专家丙", "key-1", now)
		wantCode(t, err, riskmap.ENOTFOUND)
	})

	t.Run("ExpiredKeyAnswersNothingOK", func(t *testing.T) {
		u := NewUnit("REC-005", orb.Point{102.91, 24.67})
		must(t, s.CreateUnitRecorded(ctx(), u, func(u *riskmap.Unit) (*riskmap.WriteRecords, error) {
			return &riskmap.WriteRecords{Response: &riskmap.IdempotentResponse{Scope: "专家甲", Key: "old", Status: 201, Body: []byte("{}"),
				CreatedAt: now.Add(-25 * time.Hour), ExpiresAt: now.Add(-time.Hour)}}, nil
		}))
		_, err := s.IdempotentResponse(ctx(), "专家甲", "old", now)
		wantCode(t, err, riskmap.ENOTFOUND)
		// The expired key is free again.
		v := NewUnit("REC-006", orb.Point{102.91, 24.67})
		must(t, s.CreateUnitRecorded(ctx(), v, func(u *riskmap.Unit) (*riskmap.WriteRecords, error) {
			return &riskmap.WriteRecords{Response: &riskmap.IdempotentResponse{Scope: "专家甲", Key: "old", Status: 201, Body: []byte("{}")}}, nil
		}))
	})

	t.Run("UpdateRecordedOK", func(t *testing.T) {
		u := NewUnit("REC-007", orb.Point{102.91, 24.67})
		must(t, s.CreateUnit(ctx(), u))
		u.Name = "改名后的单元"
		calls := 0
		must(t, s.UpdateUnitRecorded(ctx(), u, record("unit.update", "", &calls)))
		if calls != 1 || u.Version != 2 {
			t.Fatalf("record calls %d, version %d", calls, u.Version)
		}
		es := auditOf(t, "unit.update", strconv.FormatInt(u.ID, 10))
		if len(es) != 1 || string(es[0].After) != `{"version":2}` {
			t.Fatalf("the audit row of the update: %+v", es)
		}
	})

	t.Run("ErrStaleUpdateRecordsNothing", func(t *testing.T) {
		u := NewUnit("REC-008", orb.Point{102.91, 24.67})
		must(t, s.CreateUnit(ctx(), u))
		stale := *u
		u.Name = "新名"
		must(t, s.UpdateUnit(ctx(), u))
		calls := 0
		wantCode(t, s.UpdateUnitRecorded(ctx(), &stale, record("unit.update", "", &calls)), riskmap.EPRECONDITION)
		if calls != 0 || stale.Version != 1 || len(auditOf(t, "unit.update", strconv.FormatInt(u.ID, 10))) != 0 {
			t.Fatalf("a stale update records nothing and keeps the caller's version: calls %d, version %d", calls, stale.Version)
		}
	})

	t.Run("ErrUpdateRecordRollsBack", func(t *testing.T) {
		u := NewUnit("REC-009", orb.Point{102.91, 24.67})
		must(t, s.CreateUnit(ctx(), u))
		u.Name = "不会写入"
		bad := errors.New("no")
		if err := s.UpdateUnitRecorded(ctx(), u, func(*riskmap.Unit) (*riskmap.WriteRecords, error) { return nil, bad }); !errors.Is(err, bad) {
			t.Fatalf("want the record function's error, got %v", err)
		}
		got, err := s.GetUnit(ctx(), u.ID)
		must(t, err)
		if got.Version != 1 || got.Name == "不会写入" || u.Version != 1 {
			t.Fatalf("the update must be rolled back: stored version %d name %q, caller's version %d", got.Version, got.Name, u.Version)
		}
	})

	t.Run("RetireRecordedOK", func(t *testing.T) {
		u := NewUnit("REC-010", orb.Point{102.91, 24.67})
		must(t, s.CreateUnit(ctx(), u))
		got, err := s.RetireUnitRecorded(ctx(), u.ID, 1, record("unit.retire", "", nil))
		must(t, err)
		if got.Status != riskmap.StatusRetired || len(auditOf(t, "unit.retire", strconv.FormatInt(u.ID, 10))) != 1 {
			t.Fatalf("retired %v with its audit row", got.Status)
		}
		v := NewUnit("REC-011", orb.Point{102.91, 24.67})
		must(t, s.CreateUnit(ctx(), v))
		_, err = s.RetireUnitRecorded(ctx(), v.ID, 1, func(*riskmap.Unit) (*riskmap.WriteRecords, error) { return nil, errors.New("no") })
		if err == nil {
			t.Fatal("want the record function's error")
		}
		if got, _ := s.GetUnit(ctx(), v.ID); got.Status == riskmap.StatusRetired {
			t.Fatal("the retirement must be rolled back")
		}
	})

	t.Run("PublishRecordedOK", func(t *testing.T) {
		var seen int64
		p := &riskmap.Publication{CreatedBy: "管理员", Note: "记录测试"}
		must(t, s.PublishRecorded(ctx(), p, nil, func(q *riskmap.Publication) (*riskmap.WriteRecords, error) {
			seen = q.Number
			return &riskmap.WriteRecords{
				Audit: &riskmap.AuditEntry{Actor: "管理员", Action: "publication.create", Outcome: riskmap.OutcomeOK, Status: 201,
					TargetType: "publication", TargetID: strconv.FormatInt(q.Number, 10)},
				Response: &riskmap.IdempotentResponse{Scope: "管理员", Key: "pub-1", Status: 201, Body: []byte("{}")},
			}, nil
		}))
		if seen == 0 || seen != p.Number {
			t.Fatalf("the record function sees the publication numbered: %d, published %d", seen, p.Number)
		}
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Action: "publication.create", TargetID: strconv.FormatInt(p.Number, 10)})
		must(t, err)
		if len(es) != 1 {
			t.Fatalf("want the publication's audit row, got %d", len(es))
		}
		_, err = s.IdempotentResponse(ctx(), "管理员", "pub-1", now)
		must(t, err)
	})

	t.Run("ErrPublishRecordRollsBack", func(t *testing.T) {
		before, err := s.Publications(ctx())
		must(t, err)
		p := &riskmap.Publication{CreatedBy: "管理员"}
		// The key is taken: the publication must not be made.
		err = s.PublishRecorded(ctx(), p, nil, func(q *riskmap.Publication) (*riskmap.WriteRecords, error) {
			return &riskmap.WriteRecords{Response: &riskmap.IdempotentResponse{Scope: "管理员", Key: "pub-1", Status: 201, Body: []byte("{}")}}, nil
		})
		wantCode(t, err, riskmap.ECONFLICT)
		after, err := s.Publications(ctx())
		must(t, err)
		if len(after) != len(before) {
			t.Fatalf("a publication whose records fail must not be made: %d then %d", len(before), len(after))
		}
	})

	t.Run("AuditCountOK", func(t *testing.T) {
		last := base.Add(59 * time.Second)
		folded := &riskmap.AuditEntry{At: base, Action: "get /api/v1/units", Outcome: riskmap.OutcomeDenied, Status: 401,
			ClientAddr: "192.0.2.7", Count: 999, LastAt: last}
		one := &riskmap.AuditEntry{At: base, Action: "get /api/v1/units", Outcome: riskmap.OutcomeDenied, Status: 401, ClientAddr: "192.0.2.8"}
		must(t, s.AppendAudit(ctx(), folded))
		must(t, s.AppendAudit(ctx(), one))
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Outcome: riskmap.OutcomeDenied, Limit: 2})
		must(t, err)
		if len(es) != 2 || es[1].Count != 999 || es[0].Count != 1 || !es[0].LastAt.IsZero() {
			t.Fatalf("counts: %+v", es)
		}
		wantTime(t, "last_at", last, es[1].LastAt)
	})
}
