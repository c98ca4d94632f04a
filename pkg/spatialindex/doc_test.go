package spatialindex

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// docOf is a document like the register's: repeated keys and Chinese text, and something
// of each unit's own.
func docOf(dst []byte, u *riskmap.Unit) ([]byte, error) {
	return fmt.Appendf(dst, `{"type":"Feature","id":%d,"properties":{"code":%q,"name":"%s加油站","version":%d,"controls":["每日巡查","安装可燃气体报警装置","制定应急预案"]}}`,
		u.ID, u.Code, strings.Repeat("昆明", int(u.ID%7)), u.Version), nil
}

// Every document comes back as it was encoded, whether it made the dictionary, came after it,
// entered by a write or by a fork's Replace, and smaller than it was; kept with its head, or
// without it (SetHead) when it begins with what the head writer writes, as most do here.
func TestDocumentsComeBackWhole(t *testing.T) {
	var us []*riskmap.Unit
	for i := int64(1); i <= 3000; i++ {
		us = append(us, unit(i, 1, riskmap.GradeBlue, orb.Point{102.9 + float64(i)*1e-5, 24.6}))
	}
	write := func(dst []byte, id int64, f *riskmap.UnitFacts) []byte {
		return fmt.Appendf(dst, `{"type":"Feature","id":%d,"properties":{"code":%q`, id, f.Code)
	}
	head := Head{Write: write, Len: func(doc []byte, id int64, f *riskmap.UnitFacts) int {
		if id%10 == 3 {
			return 0 // not found: the document is kept whole
		}
		if h := write(nil, id, f); bytes.HasPrefix(doc, h) {
			return len(h)
		}
		return 0
	}}
	keptWith := map[bool]int{}
	for _, withHead := range []bool{false, true} {
		ix := New(docOf, nil)
		if withHead {
			ix.SetHead(head)
		}
		if _, err := ix.Load(context.Background(), seq(us...)); err != nil {
			t.Fatal(err)
		}
		if _, err := ix.Apply(unit(1, 2, riskmap.GradeRed, orb.Point{102.9, 24.6})); err != nil {
			t.Fatal(err)
		}
		fork := ix.Fork()
		if err := fork.Replace(nil, []*riskmap.Unit{unit(5000, 1, riskmap.GradeRed, orb.Point{102.9, 24.6})}); err != nil {
			t.Fatal(err)
		}
		for _, x := range []*Index{ix, fork} {
			kept, raw := 0, 0
			x.Snapshot().Ascend(0, func(f *Feature) bool {
				want, _ := docOf(nil, &riskmap.Unit{ID: f.ID, Code: f.Code, Version: f.Version})
				if got := f.JSON(); !bytes.Equal(got, want) {
					t.Fatalf("head %v, unit %d: got %s, want %s", withHead, f.ID, got, want)
				}
				// Appended after what a list has written already.
				if got := f.AppendJSON([]byte("[1,")); string(got) != "[1,"+string(want) {
					t.Fatalf("head %v, unit %d appended: %s", withHead, f.ID, got)
				}
				kept += f.KeptBytes()
				raw += len(want)
				return true
			})
			if kept*3 > raw {
				t.Errorf("head %v: kept %d bytes of %d: not compressed", withHead, kept, raw)
			}
			keptWith[withHead] = kept
		}
	}
	if keptWith[true] >= keptWith[false] {
		t.Errorf("kept %d bytes without the heads, %d with them", keptWith[true], keptWith[false])
	}
	// A load of too few units for a dictionary keeps them as they are.
	small := New(docOf, nil)
	small.SetHead(head)
	if _, err := small.Load(context.Background(), seq(unit(7, 1, riskmap.GradeBlue, orb.Point{102.9, 24.6}))); err != nil {
		t.Fatal(err)
	}
	f, _ := small.Snapshot().Get(7)
	if want, _ := docOf(nil, &riskmap.Unit{ID: 7, Code: "U7", Version: 1}); !bytes.Equal(f.JSON(), want) {
		t.Fatalf("got %s", f.JSON())
	}
}

// A public index keeps no document: each is written from the facts when read, through a
// load, an Apply and a fork's Replace, with the public label as the name.
func TestPublicDocumentsWrittenFromFacts(t *testing.T) {
	write := func(dst []byte, id int64, f *riskmap.UnitFacts) []byte {
		return fmt.Appendf(dst, `{"id":%d,"label":%q,"grade":%q,"department":%q}`, id, f.Name, f.Grade, f.Department)
	}
	u := func(id, version int64, g riskmap.Grade) *riskmap.Unit {
		x := unit(id, version, g, orb.Point{102.9, 24.6})
		x.Name, x.ResponsibleDepartment, x.PublicLabel = "某某化工有限公司", "应急局", fmt.Sprintf("标牌%d", id)
		return x
	}
	var us []*riskmap.Unit
	for i := int64(1); i <= 2000; i++ {
		us = append(us, u(i, 1, riskmap.GradeBlue))
	}
	ix := NewPublic(write, nil)
	if _, err := ix.Load(context.Background(), seq(us...)); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Apply(u(1, 2, riskmap.GradeRed)); err != nil {
		t.Fatal(err)
	}
	fork := ix.Fork()
	if err := fork.Replace(nil, []*riskmap.Unit{u(2, 2, riskmap.GradeOrange)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		x     *Index
		id    int64
		grade riskmap.Grade
	}{{ix, 1, riskmap.GradeRed}, {ix, 2, riskmap.GradeBlue}, {fork, 2, riskmap.GradeOrange}, {fork, 1999, riskmap.GradeBlue}} {
		f, _ := tc.x.Snapshot().Get(tc.id)
		want := fmt.Sprintf(`{"id":%d,"label":"标牌%d","grade":%q,"department":""}`, tc.id, tc.id, tc.grade)
		if got := string(f.AppendJSON([]byte("["))); got != "["+want || string(f.JSON()) != want || !f.HasJSON() || f.KeptBytes() != 0 {
			t.Fatalf("unit %d: got %s, kept %d bytes, want %s written from the facts", tc.id, got, f.KeptBytes(), want)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	var us []*riskmap.Unit
	for i := int64(1); i <= 2000; i++ {
		us = append(us, unit(i, 1, riskmap.GradeBlue, orb.Point{102.9, 24.6}))
	}
	ix := New(docOf, nil)
	if _, err := ix.Load(context.Background(), seq(us...)); err != nil {
		b.Fatal(err)
	}
	f, _ := ix.Snapshot().Get(1500)
	var buf []byte
	for b.Loop() {
		buf = f.AppendJSON(buf[:0])
	}
}

// A million features are kept: each must stay within the allocator's 256-byte size class
// (the next is 288).
func TestFeatureFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Feature{}); n > 256 {
		t.Fatalf("a Feature takes %d bytes: past 256, each one costs 288", n)
	}
}

// A public index sharing with the register's keeps one copy of what a unit unchanged since
// its publication holds (geometry, code, category, region), and its own for a unit the
// register has moved on from; the public label stays the public's name either way.
func TestPublicSharesWithTheRegister(t *testing.T) {
	mk := func(id, version int64, x float64) *riskmap.Unit {
		u := unit(id, version, riskmap.GradeRed, orb.LineString{{x, 24.6}, {x + 0.001, 24.601}})
		u.Code, u.Category, u.RegionCode = fmt.Sprintf("GX-%d", id), "pipeline", "530481001001"
		u.Name, u.ResponsibleDepartment, u.PublicLabel = "某燃气公司管线", "住建局", fmt.Sprintf("燃气管线%d", id)
		return u
	}
	reg := New(docOf, nil)
	if _, err := reg.Load(context.Background(), seq(mk(1, 1, 102.9), mk(2, 2, 102.95))); err != nil {
		t.Fatal(err)
	}
	pub := NewPublic(nil, nil)
	pub.ShareWith(reg)
	// Published: unit 1 as the register holds it, unit 2 at the version before, elsewhere.
	if _, err := pub.Load(context.Background(), seq(mk(1, 1, 102.9), mk(2, 1, 102.8))); err != nil {
		t.Fatal(err)
	}
	same := func(a, b *Feature) bool {
		return &a.Geometry.(orb.LineString)[0] == &b.Geometry.(orb.LineString)[0] && unsafe.StringData(a.Code) == unsafe.StringData(b.Code)
	}
	r1, _ := reg.Snapshot().Get(1)
	p1, _ := pub.Snapshot().Get(1)
	if !same(r1, p1) {
		t.Error("unit 1, unchanged since its publication, is kept twice")
	}
	if p1.Name != "燃气管线1" || p1.Department != "" {
		t.Errorf("unit 1 for the public: name %q, department %q", p1.Name, p1.Department)
	}
	r2, _ := reg.Snapshot().Get(2)
	p2, _ := pub.Snapshot().Get(2)
	if same(r2, p2) || p2.Version != 1 || p2.Geometry.(orb.LineString)[0][0] != 102.8 {
		t.Errorf("unit 2 for the public: version %d at %v, want the published version 1 at 102.8", p2.Version, p2.Geometry)
	}
	// A fork applying the next publication shares too.
	fork := pub.Fork()
	if err := fork.Replace(nil, []*riskmap.Unit{mk(2, 2, 102.95)}); err != nil {
		t.Fatal(err)
	}
	if f2, _ := fork.Snapshot().Get(2); !same(r2, f2) {
		t.Error("unit 2, published again as the register holds it, is kept twice")
	}
}
