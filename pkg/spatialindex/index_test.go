package spatialindex

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

func unit(id, version int64, g riskmap.Grade, geom orb.Geometry) *riskmap.Unit {
	return &riskmap.Unit{ID: id, Version: version, Code: fmt.Sprint("U", id), Name: "单元", Category: "roads",
		RegionCode: "530481001001", Grade: g, Status: riskmap.StatusApproved, Geometry: geom}
}

func seq(us ...*riskmap.Unit) func(func(*riskmap.Unit, error) bool) {
	return func(yield func(*riskmap.Unit, error) bool) {
		for _, u := range us {
			if !yield(u, nil) {
				return
			}
		}
	}
}

func encode(dst []byte, u *riskmap.Unit) ([]byte, error) {
	return fmt.Appendf(dst, `{"id":%d,"v":%d}`, u.ID, u.Version), nil
}

func TestApplyVersions(t *testing.T) {
	ix := New(encode, nil)
	p := orb.Point{102.9, 24.6}
	if _, err := ix.Load(context.Background(), seq(unit(1, 1, riskmap.GradeRed, p))); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		u       *riskmap.Unit
		changed bool
		version int64
	}{
		{"OKNewer", unit(1, 2, riskmap.GradeBlue, p), true, 2},
		{"IgnoredOlder", unit(1, 1, riskmap.GradeRed, p), false, 2},
		{"IgnoredSame", unit(1, 2, riskmap.GradeRed, p), false, 2},
		{"OKRetire", func() *riskmap.Unit { u := unit(1, 3, riskmap.GradeRed, p); u.Status = riskmap.StatusRetired; return u }(), true, 0},
		{"IgnoredOlderAfterRetire", unit(1, 2, riskmap.GradeBlue, p), false, 0},
		{"OKNew", unit(2, 1, riskmap.GradeYellow, p), true, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			changed, err := ix.Apply(tc.u)
			if err != nil || changed != tc.changed {
				t.Fatalf("changed: want %v, got %v (%v)", tc.changed, changed, err)
			}
			if v := ix.Version(tc.u.ID); v != tc.version {
				t.Fatalf("indexed version: want %d, got %d", tc.version, v)
			}
		})
	}
}

func TestSearchIsExact(t *testing.T) {
	ix := New(nil, nil)
	line := orb.LineString{{0, 0}, {10, 10}}
	poly := orb.Polygon{{{20, 0}, {30, 0}, {30, 10}, {20, 10}, {20, 0}}}
	ix.Load(context.Background(), seq(unit(1, 1, riskmap.GradeRed, line), unit(2, 1, riskmap.GradeRed, poly), unit(3, 1, riskmap.GradeRed, orb.Point{5, 5})))
	find := func(b orb.Bound) []int64 {
		var ids []int64
		ix.Snapshot().Search(b, func(f *Feature) bool { ids = append(ids, f.ID); return true })
		slices.Sort(ids)
		return ids
	}
	cases := []struct {
		name string
		b    orb.Bound
		want []int64
	}{
		{"BoxOverLineBoundButOffTheLine", orb.Bound{Min: orb.Point{7, 1}, Max: orb.Point{9, 3}}, nil},
		{"BoxOnTheLine", orb.Bound{Min: orb.Point{4, 4}, Max: orb.Point{6, 6}}, []int64{1, 3}},
		{"BoxInsidePolygon", orb.Bound{Min: orb.Point{24, 4}, Max: orb.Point{25, 5}}, []int64{2}},
		{"Everything", orb.Bound{Min: orb.Point{-1, -1}, Max: orb.Point{40, 40}}, []int64{1, 2, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := find(tc.b); !slices.Equal(got, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, got)
			}
		})
	}
}

// model is the obvious map the index must agree with.
type model map[int64]*riskmap.Unit

func checkEqual(t *testing.T, ix *Index, m model) {
	t.Helper()
	s := ix.Snapshot()
	if s.Len() != len(m) {
		t.Fatalf("index has %d units, model %d", s.Len(), len(m))
	}
	var cells [4]int
	counts := map[CountKey][4]int{}
	for id, u := range m {
		f, ok := s.Get(id)
		if !ok || f.Version != u.Version || f.Grade != u.Grade || !orb.Equal(f.Geometry, u.Geometry) {
			t.Fatalf("unit %d: index %+v, model %+v", id, f, u)
		}
		found := false
		s.SearchBounds(u.Geometry.Bound(), func(g *Feature) bool { found = found || g == f; return !found })
		if !found {
			t.Fatalf("unit %d is not in the R-tree at its bound", id)
		}
		cells[u.Grade.Rank()-1]++
		k := CountKey{u.RegionCode, u.Category}
		v := counts[k]
		v[u.Grade.Rank()-1]++
		counts[k] = v
	}
	n := 0
	s.tree.Scan(func(_, _ [2]float64, _ *Feature) bool { n++; return true })
	if n != len(m) {
		t.Fatalf("R-tree holds %d items, want %d", n, len(m))
	}
	var got [4]int
	s.Cells(0, 0, 1<<CellZoom-1, 1<<CellZoom-1, func(_, _ uint32, c Cell) bool {
		for i := range got {
			got[i] += int(c.Counts[i])
		}
		return true
	})
	if got != cells {
		t.Fatalf("aggregate cells count %v, want %v", got, cells)
	}
	if fmt.Sprint(s.Counts()) != fmt.Sprint(counts) {
		t.Fatalf("counts %v, want %v", s.Counts(), counts)
	}
}

func TestInvariantRandomWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ix := New(encode, nil)
	m := model{}
	randGeom := func() orb.Geometry {
		x, y := 102.8+r.Float64()*0.3, 24.5+r.Float64()*0.4
		switch r.IntN(3) {
		case 0:
			return orb.Point{x, y}
		case 1:
			return orb.LineString{{x, y}, {x + 0.01, y + 0.02}}
		}
		return orb.Polygon{{{x, y}, {x + 0.01, y}, {x + 0.01, y + 0.01}, {x, y}}}
	}
	regions := []string{"530481001001", "530481002001", "530481101003"}
	last := map[int64]int64{} // ids are never reused: versions go on after a retirement
	writes := func(steps int) {
		for step := 0; step < steps; step++ {
			id := int64(r.IntN(200) + 1)
			cur, exists := m[id]
			v := last[id] + 1
			u := unit(id, v, riskmap.Grades[r.IntN(4)], randGeom())
			u.RegionCode = regions[r.IntN(3)]
			switch op := r.IntN(10); {
			case op < 6: // create or update
				m[id] = u
			case op < 8 && exists: // retire
				u.Status = riskmap.StatusRetired
				delete(m, id)
			case op < 9 && exists: // a stale event arrives late
				u.Version = cur.Version - 1
			default: // a duplicate of the current version
				if exists {
					u = cur
				} else {
					m[id] = u
				}
			}
			if _, err := ix.Apply(u); err != nil {
				t.Fatal(err)
			}
			if u.Version > last[id] {
				last[id] = u.Version
			}
			if step%250 == 0 {
				checkEqual(t, ix, m)
			}
		}
	}
	writes(3000)
	checkEqual(t, ix, m)
	// A reload from the same state gives the same index.
	var all []*riskmap.Unit
	for _, u := range m {
		all = append(all, u)
	}
	if _, err := ix.Load(context.Background(), seq(all...)); err != nil {
		t.Fatal(err)
	}
	checkEqual(t, ix, m)
	// The load packed the R-tree (endBulk): writes go on in it.
	writes(3000)
	checkEqual(t, ix, m)
}

func TestReadersNeverSeeHalfWrites(t *testing.T) {
	ix := New(encode, nil)
	ix.Load(context.Background(), seq())
	done := readWhile(4, func() bool {
		s := ix.Snapshot()
		n := 0
		s.SearchBounds(orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, func(*Feature) bool { n++; return true })
		if n != s.Len() {
			t.Errorf("a snapshot must be consistent: tree %d, ids %d", n, s.Len())
			return false
		}
		return true
	})
	for i := int64(1); i <= 2000; i++ {
		ix.Apply(unit(i, 1, riskmap.GradeRed, orb.Point{102.9, 24.6}))
		if i%3 == 0 {
			u := unit(i-1, 2, riskmap.GradeBlue, orb.Point{0, 0})
			u.Status = riskmap.StatusRetired
			ix.Apply(u)
		}
	}
	done()
}

// readWhile runs read in n goroutines, again and again until read returns false or the
// returned function is called, which waits for them.
func readWhile(n int, read func() bool) (done func()) {
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if !read() {
					return
				}
			}
		}()
	}
	return func() {
		close(stop)
		wg.Wait()
	}
}

func TestLoadKeepsWritesMadeWhileLoading(t *testing.T) {
	ix := New(encode, nil)
	p := orb.Point{102.9, 24.6}
	loading := func(yield func(*riskmap.Unit, error) bool) {
		if !yield(unit(1, 1, riskmap.GradeRed, p), nil) {
			return
		}
		// A write lands while the store is being read: unit 1 moves on to version 2 and unit
		// 2 is created and retired.
		ix.Apply(unit(1, 2, riskmap.GradeBlue, p))
		ix.Apply(unit(3, 1, riskmap.GradeBlue, p))
		yield(unit(2, 1, riskmap.GradeRed, p), nil)
		r := unit(2, 2, riskmap.GradeRed, p)
		r.Status = riskmap.StatusRetired
		ix.Apply(r)
	}
	if _, err := ix.Load(context.Background(), loading); err != nil {
		t.Fatal(err)
	}
	checkEqual(t, ix, model{1: unit(1, 2, riskmap.GradeBlue, p), 3: unit(3, 1, riskmap.GradeBlue, p)})
}

func BenchmarkSearchTile(b *testing.B) {
	ix := New(nil, nil)
	r := rand.New(rand.NewPCG(3, 4))
	var us []*riskmap.Unit
	for i := int64(1); i <= 200000; i++ {
		us = append(us, unit(i, 1, riskmap.Grades[i%4], orb.Point{102.8 + r.Float64()*0.3, 24.5 + r.Float64()*0.4}))
	}
	ix.Load(context.Background(), seq(us...))
	s := ix.Snapshot()
	box := orb.Bound{Min: orb.Point{102.9, 24.6}, Max: orb.Point{102.92, 24.62}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		s.Search(box, func(*Feature) bool { n++; return true })
	}
}

func TestLoadErrors(t *testing.T) {
	p := orb.Point{102.9, 24.6}
	many := func(yield func(*riskmap.Unit, error) bool) {
		for i := int64(1); i <= 5000; i++ {
			if !yield(unit(i, 1, riskmap.GradeRed, p), nil) {
				return
			}
		}
	}
	t.Run("ErrFromStore", func(t *testing.T) {
		ix := New(encode, nil)
		boom := fmt.Errorf("connection lost")
		_, err := ix.Load(context.Background(), func(yield func(*riskmap.Unit, error) bool) {
			many(func(u *riskmap.Unit, _ error) bool { return u.ID < 3000 && yield(u, nil) })
			yield(nil, boom)
		})
		if err != boom || ix.Loaded() || ix.Snapshot().Len() != 0 {
			t.Fatalf("a failed load must report the error and publish nothing: %v, %d", err, ix.Snapshot().Len())
		}
	})
	t.Run("ErrCancelled", func(t *testing.T) {
		ix := New(encode, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := ix.Load(ctx, many); err == nil {
			t.Fatal("a cancelled load must fail")
		}
	})
	t.Run("ErrEncoder", func(t *testing.T) {
		ix := New(func(_ []byte, u *riskmap.Unit) ([]byte, error) {
			if u.ID == 4000 {
				return nil, fmt.Errorf("cannot encode")
			}
			return nil, nil
		}, nil)
		if _, err := ix.Load(context.Background(), many); err == nil || ix.Loaded() {
			t.Fatal("an encoder error must fail the load")
		}
	})
	t.Run("OK", func(t *testing.T) {
		ix := New(encode, nil)
		n, err := ix.Load(context.Background(), many)
		if err != nil || n != 5000 || ix.Snapshot().Len() != 5000 {
			t.Fatalf("load: %d %v", n, err)
		}
	})
}

// TestForkLeavesTheOriginal: a fork changed by Replace (as a publication's change is
// applied) shares nothing visible with the index it came from: readers of the original go
// on seeing exactly what it held, while the fork holds the change, counts and cells
// included.
func TestForkLeavesTheOriginal(t *testing.T) {
	ctx := context.Background()
	var us []*riskmap.Unit
	for i := int64(1); i <= 500; i++ {
		us = append(us, unit(i, 1, riskmap.GradeRed, orb.Point{102.9 + float64(i%50)*0.001, 24.6 + float64(i/50)*0.001}))
	}
	orig := NewPublic(nil, nil)
	if _, err := orig.Load(ctx, seq(us...)); err != nil {
		t.Fatal(err)
	}
	want := orig.Snapshot().RegionTotals()
	done := readWhile(2, func() bool {
		s := orig.Snapshot()
		n := 0
		s.SearchBounds(orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, func(f *Feature) bool {
			if f.Version != 1 {
				t.Errorf("the original shows unit %d at version %d", f.ID, f.Version)
			}
			n++
			return true
		})
		if n != 500 || s.Len() != 500 {
			t.Errorf("the original holds %d units (tree %d), want 500", s.Len(), n)
			return false
		}
		return true
	})
	fork := orig.Fork()
	for round := int64(0); round < 20; round++ {
		var remove []int64
		var put []*riskmap.Unit
		for i := int64(1); i <= 500; i += 7 {
			if i%2 == 0 {
				remove = append(remove, i)
			} else {
				put = append(put, unit(i, 2+round, riskmap.GradeBlue, orb.Point{103, 25}))
			}
		}
		if err := fork.Replace(remove, put); err != nil {
			t.Fatal(err)
		}
	}
	done()
	if got := orig.Snapshot().RegionTotals(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the original's counts changed: %v, want %v", got, want)
	}
	fs := fork.Snapshot()
	removed, moved := 0, 0
	for i := int64(1); i <= 500; i += 7 {
		f, ok := fs.Get(i)
		switch {
		case i%2 == 0 && ok:
			t.Fatalf("unit %d was removed from the fork", i)
		case i%2 == 0:
			removed++
		case !ok || f.Version != 21 || f.Grade != riskmap.GradeBlue:
			t.Fatalf("unit %d in the fork: %+v", i, f)
		default:
			moved++
		}
	}
	c := fs.RegionTotals()["530481001001"]
	if fs.Len() != 500-removed || c[0] != 500-removed-moved || c[3] != moved || !fork.Loaded() {
		t.Fatalf("the fork: %d units, counts %v (removed %d, regraded %d)", fs.Len(), c, removed, moved)
	}
}

// TestApplyAll: a batch applied together ends where the same units applied one by one end,
// with one new snapshot for the batch, every change heard once with that snapshot's seq, the
// snapshot before it untouched, and a unit whose document cannot be made left out with its
// error while the rest go in.
func TestApplyAll(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	one, all := New(encode, nil), New(encode, nil)
	var heard []Change
	var oneStream, allStream []string // what each index's listeners heard, change by change
	describe := func(c Change) string {
		d := func(f *Feature) string {
			if f == nil {
				return "-"
			}
			return fmt.Sprintf("%d@%d", f.ID, f.Version)
		}
		return d(c.Before) + "→" + d(c.After)
	}
	one.OnChange(func(c Change) { oneStream = append(oneStream, describe(c)) })
	all.OnChange(func(c Change) { heard = append(heard, c); allStream = append(allStream, describe(c)) })
	m := model{}
	last := map[int64]int64{}
	var us []*riskmap.Unit
	for range 2000 {
		id := int64(r.IntN(300) + 1)
		if cur, ok := m[id]; ok && r.IntN(8) == 0 { // a stale copy arrives late
			stale := *cur
			stale.Version--
			us = append(us, &stale)
			continue
		}
		last[id]++
		x, y := 102.8+r.Float64()*0.3, 24.5+r.Float64()*0.4
		var g orb.Geometry = orb.Point{x, y}
		if r.IntN(2) == 0 {
			g = orb.Polygon{{{x, y}, {x + 0.01, y}, {x + 0.01, y + 0.01}, {x, y}}}
		}
		u := unit(id, last[id], riskmap.Grades[r.IntN(4)], g)
		u.Category = []string{"roads", "gas", "schools"}[r.IntN(3)]
		if r.IntN(8) == 0 {
			u.Status = riskmap.StatusRetired
			delete(m, id)
		} else {
			m[id] = u
		}
		us = append(us, u)
	}
	for _, u := range us {
		if _, err := one.Apply(u); err != nil {
			t.Fatal(err)
		}
	}
	for rest := us; len(rest) > 0; {
		k := min(len(rest), 1+r.IntN(400))
		batch := rest[:k]
		rest = rest[k:]
		before := all.Snapshot()
		beforeLen, beforeCounts := before.Len(), fmt.Sprint(before.Counts())
		heard = heard[:0]
		n, err := all.ApplyAll(batch)
		if err != nil {
			t.Fatal(err)
		}
		after := all.Snapshot()
		switch {
		case n == 0 && after != before:
			t.Fatal("a batch that changes nothing makes no snapshot")
		case n > 0 && after.Seq() != before.Seq()+1:
			t.Fatalf("one snapshot a batch: seq %d → %d", before.Seq(), after.Seq())
		case len(heard) != n:
			t.Fatalf("%d changes heard, %d made", len(heard), n)
		case before.Len() != beforeLen || fmt.Sprint(before.Counts()) != beforeCounts:
			t.Fatal("the snapshot before the batch changed")
		}
		for _, c := range heard {
			if c.Seq != after.Seq() || c.Before == nil && c.After == nil {
				t.Fatalf("change %+v heard with seq %d, snapshot %d", c, c.Seq, after.Seq())
			}
		}
	}
	checkEqual(t, one, m)
	checkEqual(t, all, m)
	if fmt.Sprint(oneStream) != fmt.Sprint(allStream) {
		t.Fatalf("the listeners heard other changes in batches than one by one:\n%v\n%v", oneStream, allStream)
	}

	t.Run("ErrDocument", func(t *testing.T) {
		bad := errors.New("编码失败")
		ix := New(func(dst []byte, u *riskmap.Unit) ([]byte, error) {
			if u.ID == 2 {
				return nil, bad
			}
			return encode(dst, u)
		}, nil)
		p := orb.Point{102.9, 24.6}
		n, err := ix.ApplyAll([]*riskmap.Unit{unit(1, 1, riskmap.GradeRed, p), unit(2, 1, riskmap.GradeRed, p), unit(3, 1, riskmap.GradeBlue, p)})
		if n != 2 || !errors.Is(err, bad) || ix.Version(1) != 1 || ix.Version(2) != 0 || ix.Version(3) != 1 {
			t.Fatalf("want units 1 and 3 in and unit 2's error: %d changed, %v", n, err)
		}
	})
}
