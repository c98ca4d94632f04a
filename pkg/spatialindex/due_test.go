package spatialindex

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// dueUnit is a unit of category cat in region whose review is due on day rev and whose
// full identification was on day ident (0: none).
func dueUnit(id, version int64, cat, region string, rev, ident int32) *riskmap.Unit {
	u := unit(id, version, riskmap.GradeYellow, orb.Point{102.9, 24.6})
	u.Category, u.RegionCode = cat, region
	date := func(d int32) *time.Time {
		if d == 0 {
			return nil
		}
		t := time.Unix(int64(d-1)*86400, 0).UTC()
		return &t
	}
	u.NextReviewDue, u.IdentifiedAt = date(rev), date(ident)
	return u
}

// pastDueWalk is what PastDue must answer, by a walk over every unit.
func pastDueWalk(s *Snapshot, kind DueKind, day int32, cats []string, keep func(string, string) bool, limit int) ([]int64, int) {
	type hit struct {
		day int32
		id  int64
	}
	var hits []hit
	s.Ascend(0, func(f *Feature) bool {
		d := f.dueDay(kind)
		if d == 0 || d >= day || (cats != nil && !slices.Contains(cats, f.Category)) || (keep != nil && !keep(f.Category, f.RegionCode)) {
			return true
		}
		hits = append(hits, hit{d, f.ID})
		return true
	})
	slices.SortFunc(hits, func(a, b hit) int {
		if a.day != b.day {
			return cmp.Compare(a.day, b.day)
		}
		return cmp.Compare(a.id, b.id)
	})
	var ids []int64
	for _, h := range hits[:min(limit, len(hits))] {
		ids = append(ids, h.id)
	}
	return ids, len(hits)
}

// TestPastDue: the units past a due date, as the supervision view lists them (the longest
// overdue first, at most a limit, and how many in all), for the whole city and within a
// department's scope, stay right through loads, edits that move due dates, new units and
// retirements.
func TestPastDue(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cats := []string{"roads", "hazchem", "lifeline_gas"}
	regions := []string{"530481001001", "530481001002", "530481002001", "530481003001"}
	const today = int32(20000)
	random := func(id, version int64) *riskmap.Unit {
		rev, ident := today-50+r.Int32N(100), today-100+r.Int32N(200)
		if r.IntN(10) == 0 {
			rev = 0 // never reviewed
		}
		if r.IntN(10) == 0 {
			ident = 0
		}
		return dueUnit(id, version, cats[r.IntN(len(cats))], regions[r.IntN(len(regions))], rev, ident-5*365)
	}
	var us []*riskmap.Unit
	for id := int64(1); id <= 3000; id++ {
		us = append(us, random(id, 1))
	}
	ix := New(encode, nil)
	if _, err := ix.Load(context.Background(), seq(us...)); err != nil {
		t.Fatal(err)
	}
	dept := &riskmap.User{Role: riskmap.RoleDepartment, Categories: []string{"roads", "hazchem"}, Regions: []string{"530481001"}}
	check := func(t *testing.T) {
		t.Helper()
		s := ix.Snapshot()
		for _, kind := range []DueKind{DueReview, DueReidentify} {
			for _, day := range []int32{0, 1, today - 60, today, today + 60} {
				for _, limit := range []int{0, 1, 7, 200, 5000} {
					for name, q := range map[string]struct {
						cats []string
						keep func(string, string) bool
					}{
						"City":       {nil, nil},
						"Categories": {[]string{"roads", "roads", "nosuch"}, nil},
						"Department": {dept.Categories, dept.InScope},
						"NoCategory": {[]string{}, nil},
						"Region": {nil, func(_, region string) bool {
							return strings.HasPrefix(region, "530481002")
						}},
					} {
						got, n := s.PastDue(kind, day, q.cats, q.keep, limit)
						wantIDs, wantN := pastDueWalk(s, kind, day, q.cats, q.keep, limit)
						var ids []int64
						for _, f := range got {
							ids = append(ids, f.ID)
						}
						if n != wantN || !slices.Equal(ids, wantIDs) {
							t.Fatalf("%s kind %d day %d limit %d: want %d %v, got %d %v", name, kind, day, limit, wantN, wantIDs, n, ids)
						}
					}
				}
			}
		}
	}
	t.Run("OKLoaded", check)
	t.Run("OKAfterWrites", func(t *testing.T) {
		for i := 0; i < 2000; i++ {
			id := int64(1 + r.IntN(3500))
			u := random(id, ix.Version(id)+1)
			if r.IntN(5) == 0 {
				u.Status = riskmap.StatusRetired
			}
			if _, err := ix.Apply(u); err != nil {
				t.Fatal(err)
			}
		}
		ix.Remove(7)
		check(t)
	})
	t.Run("OKRedated", func(t *testing.T) {
		ix.SetRedater(func(b []byte, _, _ int32, _ time.Time) ([]byte, bool) { return append(b[:len(b):len(b)], ' '), true },
			func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) })
		if ix.Redate() == 0 {
			t.Fatal("nothing redated")
		}
		check(t)
	})
}

// BenchmarkPastDue: the supervision view's units past review and re-identification at a
// million units (city-wide and a department's scope), against the walk over every unit it
// replaces.
func BenchmarkPastDue(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	cats := []string{"roads", "bridges", "crowded_places", "lifeline_gas", "lifeline_water", "hazchem", "construction", "fire_high_rise"}
	const today = int32(20000)
	ix := New(nil, nil)
	ix.Load(context.Background(), func(yield func(*riskmap.Unit, error) bool) {
		for id := int64(1); id <= 1_000_000; id++ {
			u := dueUnit(id, 1, cats[r.IntN(len(cats))], fmt.Sprintf("530481%03d%03d", r.IntN(7), r.IntN(5)),
				today-200+r.Int32N(1200), today-5*365-100+r.Int32N(1900))
			if !yield(u, nil) {
				return
			}
		}
	})
	s := ix.Snapshot()
	dept := &riskmap.User{Role: riskmap.RoleDepartment, Categories: []string{"roads", "hazchem"}, Regions: []string{"530481001", "530481003"}}
	b.Run("IndexCity", func(b *testing.B) {
		for b.Loop() {
			s.PastDue(DueReview, today, nil, nil, 200)
			s.PastDue(DueReidentify, today, nil, nil, 200)
		}
	})
	b.Run("IndexDepartment", func(b *testing.B) {
		for b.Loop() {
			s.PastDue(DueReview, today, dept.Categories, dept.InScope, 200)
			s.PastDue(DueReidentify, today, dept.Categories, dept.InScope, 200)
		}
	})
	b.Run("WalkCity", func(b *testing.B) {
		for b.Loop() {
			n := 0
			s.Ascend(0, func(f *Feature) bool {
				if f.ReviewDue > 0 && f.ReviewDue < today {
					n++
				}
				if f.ReidentifyDue > 0 && f.ReidentifyDue < today {
					n++
				}
				return true
			})
		}
	})
}
