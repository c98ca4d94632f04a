package sites

import (
	"github.com/paulmach/orb"
	"github.com/tidwall/btree"
	"github.com/tidwall/rtree"

	"riskmap/pkg/riskmap"
)

// Item is what a layer holds: a protective target or a shelter.
type Item interface {
	riskmap.Site
	SiteID() int64
}

// Layer is an immutable snapshot of the sites of one kind, by id and in an R-tree. A
// write makes a new layer that shares what did not change with the old one (both trees
// copy on write), so readers never wait and never see a half-made change. The sites it
// holds are never changed: do not change them.
type Layer[T Item] struct {
	byID *btree.Map[int64, T]
	tree *rtree.RTreeG[int64]
}

func newLayer[T Item](items []T) *Layer[T] {
	l := &Layer[T]{byID: new(btree.Map[int64, T]), tree: new(rtree.RTreeG[int64])}
	for _, x := range items {
		l.byID.Set(x.SiteID(), x)
		l.insert(x)
	}
	return l
}

func (l *Layer[T]) insert(x T) {
	if g, ok := x.SiteGeometry(); ok {
		b := g.Bound()
		l.tree.Insert(b.Min, b.Max, x.SiteID())
	}
}

func (l *Layer[T]) remove(x T) {
	if g, ok := x.SiteGeometry(); ok {
		b := g.Bound()
		l.tree.Delete(b.Min, b.Max, x.SiteID())
	}
}

// with is the layer with id holding x (a zero x: without id).
func (l *Layer[T]) with(id int64, x T, present bool) *Layer[T] {
	n := &Layer[T]{byID: l.byID.Copy(), tree: l.tree.Copy()}
	if old, ok := n.byID.Get(id); ok {
		n.remove(old)
		n.byID.Delete(id)
	}
	if present {
		n.byID.Set(id, x)
		n.insert(x)
	}
	return n
}

// Get returns the site of an id.
func (l *Layer[T]) Get(id int64) (T, bool) { return l.byID.Get(id) }

// Len counts the sites.
func (l *Layer[T]) Len() int { return l.byID.Len() }

// All returns every site, ordered by id.
func (l *Layer[T]) All() []T {
	out := make([]T, 0, l.byID.Len())
	l.byID.Scan(func(_ int64, x T) bool {
		out = append(out, x)
		return true
	})
	return out
}

// Search calls fn with each site whose bounding box meets b, in no particular order,
// until fn returns false.
func (l *Layer[T]) Search(b orb.Bound, fn func(T) bool) {
	l.tree.Search(b.Min, b.Max, func(_, _ [2]float64, id int64) bool {
		x, ok := l.byID.Get(id)
		if !ok {
			return true
		}
		return fn(x)
	})
}

// Bound is the bounding box of every site; false when there is none.
func (l *Layer[T]) Bound() (orb.Bound, bool) {
	if l.tree.Len() == 0 {
		return orb.Bound{}, false
	}
	min, max := l.tree.Bounds()
	return orb.Bound{Min: min, Max: max}, true
}
